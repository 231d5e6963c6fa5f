/**
 * First-apply order: AWS validates some resources against another resource's policy when they are
 * created. Terraform creates a resource only after everything it references or depends on (transitively),
 * so for each such resource this walks the synthesized graph and asserts the grant comes first:
 *   S3 logging            -> the target bucket's policy granting logging.s3.amazonaws.com
 *   CloudTrail            -> the bucket policy granting cloudtrail.amazonaws.com, and the KMS key (its policy)
 *   Config delivery       -> the bucket policy granting config.amazonaws.com
 *   EventBridge target DLQ-> the queue's policy
 *   SNS subscriptions     -> the queue policy (sqs) / the Lambda permission for sns.amazonaws.com (lambda)
 * A grant in another stack is satisfied by stack order when that stack is one this stack reads from.
 */
import { PINNED_PROD_LIKE, platformOf, TfJson } from '../../test-support/config-fixture';
import { allReferences, elements, Stacks } from '../../scripts/verify/stacks';
import { Json } from '../../test-support/terraform-json';

// The dev platform and its production shape (the same cached synths production.test.ts reads).
const variants = {
  dev: platformOf('dev'),
  'prod-like': platformOf('dev', PINNED_PROD_LIKE),
};

/** address -> every address it waits for (references and depends_on, transitively, within the stack). */
function waitsFor(tf: TfJson): Map<string, Set<string>> {
  const direct = new Map<string, Set<string>>();
  for (const [address, , config] of elements(tf as never)) {
    const deps = new Set<string>((config.depends_on as string[] | undefined) ?? []);
    direct.set(address, deps);
  }
  for (const { from, ref } of allReferences(tf as never)) {
    if (ref.kind === 'resource') direct.get(from)?.add(`${ref.type}.${ref.name}`);
  }
  const closure = new Map<string, Set<string>>();
  const visit = (a: string): Set<string> => {
    if (closure.has(a)) return closure.get(a)!;
    const out = new Set<string>();
    closure.set(a, out);
    for (const d of direct.get(a) ?? []) {
      out.add(d);
      for (const x of visit(d)) out.add(x);
    }
    return out;
  };
  for (const a of direct.keys()) visit(a);
  return closure;
}

const resourceRef = (value: unknown): string | undefined => /^\$\{((aws_[a-z0-9_]+)\.([^.}]+))\.[a-z_]+\}$/.exec(String(value))?.[1];
const remoteRef = (value: unknown): string | undefined => /^\$\{data\.terraform_remote_state\.cross-stack-reference-input-([a-z-]+)\./.exec(String(value))?.[1];

/** The aws_s3_bucket_policy of bucket `bucketAddress` in `tf`, if it grants `service`. */
function bucketGrant(tf: TfJson, bucketAddress: string, service: string): string | undefined {
  const [, name] = bucketAddress.split('.');
  const hit = Object.entries(tf.resource?.aws_s3_bucket_policy ?? {}).find(([, p]) => String(p.bucket).startsWith(`\${aws_s3_bucket.${name}.`)
    && JSON.stringify(JSON.parse(String(p.policy)).Statement.filter((s: Json) => s.Effect === 'Allow').map((s: Json) => s.Principal)).includes(service));
  return hit && `aws_s3_bucket_policy.${hit[0]}`;
}

function bucketOfName(value: unknown): string | undefined {
  const ref = resourceRef(value);
  return ref?.startsWith('aws_s3_bucket.') ? ref : undefined;
}

describe.each(Object.entries(variants))('%s: every resource AWS validates against a grant is created after it', (_variant, { tf: stacks }) => {
  const checked: string[] = [];
  const problems: string[] = [];
  for (const [stack, tf] of Object.entries(stacks)) {
    const waits = waitsFor(tf);
    const need = (address: string, grant: string | undefined, what: string) => {
      checked.push(`${stack}:${address}`);
      if (!grant) problems.push(`${stack}:${address}: no ${what} found`);
      else if (!waits.get(address)?.has(grant)) problems.push(`${stack}:${address} does not wait for ${grant} (${what})`);
    };
    /** A grant in the producer stack of a remote-state value: that stack is applied first. */
    const remoteGrant = (address: string, value: unknown, service: string) => {
      checked.push(`${stack}:${address}`);
      const producer = remoteRef(value)!;
      const ptf = (stacks as unknown as Stacks)[producer] as TfJson;
      const bucket = Object.entries(ptf.resource?.aws_s3_bucket ?? {}).find(([id]) => String(value).includes(`aws_s3_bucket${id}`) || String(value).includes(id));
      if (!bucket || !bucketGrant(ptf, `aws_s3_bucket.${bucket[0]}`, service)) problems.push(`${stack}:${address}: target in ${producer} has no policy granting ${service}`);
    };
    for (const [name, c] of Object.entries(tf.resource?.aws_s3_bucket_logging ?? {})) {
      const address = `aws_s3_bucket_logging.${name}`;
      const target = bucketOfName(c.target_bucket);
      if (target) need(address, bucketGrant(tf, target, 'logging.s3.amazonaws.com'), 'target bucket policy granting logging.s3.amazonaws.com');
      else if (remoteRef(c.target_bucket)) remoteGrant(address, c.target_bucket, 'logging.s3.amazonaws.com');
      else problems.push(`${stack}:${address}: target bucket ${String(c.target_bucket)} not found`);
    }
    for (const [name, c] of Object.entries(tf.resource?.aws_cloudtrail ?? {})) {
      const address = `aws_cloudtrail.${name}`;
      need(address, bucketGrant(tf, bucketOfName(c.s3_bucket_name) ?? '', 'cloudtrail.amazonaws.com'), 'bucket policy granting cloudtrail.amazonaws.com');
      need(address, resourceRef(c.kms_key_id), 'KMS key (key policy)');
    }
    for (const [name, c] of Object.entries(tf.resource?.aws_config_delivery_channel ?? {})) {
      need(`aws_config_delivery_channel.${name}`, bucketGrant(tf, bucketOfName(c.s3_bucket_name) ?? '', 'config.amazonaws.com'), 'bucket policy granting config.amazonaws.com');
    }
    const queuePolicyOf = (queueArn: unknown): string | undefined => {
      const queue = resourceRef(queueArn);
      if (!queue) return undefined;
      const hit = Object.entries(tf.resource?.aws_sqs_queue_policy ?? {}).find(([, p]) => String(p.queue_url) === `\${${queue}.url}`);
      return hit && `aws_sqs_queue_policy.${hit[0]}`;
    };
    for (const [name, c] of Object.entries(tf.resource?.aws_cloudwatch_event_target ?? {})) {
      const dlq = (c.dead_letter_config as Json | undefined)?.arn;
      if (dlq) need(`aws_cloudwatch_event_target.${name}`, queuePolicyOf(dlq), 'dead-letter queue policy');
    }
    for (const [name, c] of Object.entries(tf.resource?.aws_sns_topic_subscription ?? {})) {
      const address = `aws_sns_topic_subscription.${name}`;
      if (c.protocol === 'sqs') need(address, queuePolicyOf(c.endpoint), 'queue policy');
      if (c.protocol === 'lambda') {
        const fn = resourceRef(c.endpoint)!.split('.')[1];
        const hit = Object.entries(tf.resource?.aws_lambda_permission ?? {})
          .find(([, p]) => p.principal === 'sns.amazonaws.com' && String(p.function_name).startsWith(`\${aws_lambda_function.${fn}.`));
        need(address, hit && `aws_lambda_permission.${hit[0]}`, 'Lambda permission for sns.amazonaws.com');
      }
    }
  }

  it('walks every logging configuration, trail, delivery channel, DLQ target and subscription', () => {
    expect(checked.filter((c) => c.includes('aws_s3_bucket_logging')).length).toBeGreaterThanOrEqual(5);
    expect(checked.some((c) => c.includes('aws_cloudwatch_event_target'))).toBe(true);
  });

  it('finds no resource that could be created before its grant', () => {
    expect(problems).toEqual([]);
  });
});
