/**
 * One construct synthesized alone, cdktf's way (`Testing.synthScope`): the JSON string for cdktf's
 * matchers (`expect(json).toHaveResourceWithProperties(Type, {...})`) and the parsed document for what
 * a matcher cannot say (policy documents, counts: test-support/terraform-json.ts).
 */
import { Testing } from 'cdktf';
import { IConstruct } from 'constructs';
import { TfJson } from './config-fixture';

export function synthConstruct(build: (scope: IConstruct) => void): { json: string; tf: TfJson } {
  const json = Testing.synthScope(build);
  return { json, tf: JSON.parse(json) };
}

