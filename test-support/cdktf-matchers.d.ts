// Brings cdktf's jest matcher types (toHaveResource, toHaveResourceWithProperties, ...) into scope for tsc.
import 'cdktf/lib/testing/adapters/jest';
