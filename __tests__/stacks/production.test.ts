/**
 * The production shape of the platform, synthesized in-process: VPC-endpoint pinning with the writers it
 * must still admit, a trail that does not log its own log deliveries, ARNs in the configured partition
 * (GovCloud).
 */
import { govCloudConfig, PINNED_PROD_LIKE, PINNED_PRODUCER, platformOf, synthPlatform, TfJson } from '../../test-support/config-fixture';
import { asArray, Json, Statement, statementsOf as statements } from '../../test-support/terraform-json';

const PRODUCER = PINNED_PRODUCER;
const pinned = platformOf('dev', PINNED_PROD_LIKE);
const dev = platformOf('dev');

/** The bucket policy of the data bucket whose name contains `-<purpose>-`. */
function bucketPolicy(tf: TfJson, purpose: string): Statement[] {
  const [id] = Object.entries(tf.resource!.aws_s3_bucket).find(([, b]) => String(b.bucket).includes(`-${purpose}-`))!;
  const policy = Object.values(tf.resource!.aws_s3_bucket_policy).find((p) => p.bucket === `\${aws_s3_bucket.${id}.id}`)!;
  return statements(policy.policy as string);
}

/**
 * Whether the bucket policy denies `action` for a principal outside the VPC endpoint (no
 * aws:sourceVpce, not an AWS service, not via a service): evaluates the Deny statements' conditions.
 */
function deniedOutsideVpce(policy: Statement[], action: string, principalArn: string): boolean {
  return policy.filter((s) => s.Effect === 'Deny' && asArray(s.Action).includes(action) && s.Condition?.StringNotEquals?.['aws:sourceVpce'])
    .some((s) => !asArray(s.Condition!.ArnNotEquals?.['aws:PrincipalArn']).includes(principalArn));
}

describe('VPC-endpoint pinning admits the writers that are not in the VPC', () => {
  const data = pinned.tf.data;
  const workflowRole = Object.values(pinned.tf.reporting.resource!.aws_iam_role).find((r) => /reporting-workflow-role$/.test(String(r.name)))!;
  const resultWriter = `arn:\${data.aws_partition.partition.partition}:iam::\${data.aws_caller_identity.caller.account_id}:role/${workflowRole.name}`;

  it.each(['input', 'payment-files'])('%s: the configured producer roles may upload from outside the VPC; nobody else', (purpose) => {
    const policy = bucketPolicy(data, purpose);
    expect(deniedOutsideVpce(policy, 's3:PutObject', PRODUCER)).toBe(false);
    expect(deniedOutsideVpce(policy, 's3:PutObject', 'arn:aws:iam::111111111111:role/someone-else')).toBe(true);
    // Reads and deletes stay pinned for the producer too.
    expect(deniedOutsideVpce(policy, 's3:GetObject', PRODUCER)).toBe(true);
    expect(deniedOutsideVpce(policy, 's3:DeleteObject', PRODUCER)).toBe(true);
  });

  it('reports: the workflow execution role (Distributed Map ResultWriter) may write from outside the VPC; producers may not', () => {
    const policy = bucketPolicy(data, 'reports');
    expect(deniedOutsideVpce(policy, 's3:PutObject', resultWriter)).toBe(false);
    expect(deniedOutsideVpce(policy, 's3:PutObject', PRODUCER)).toBe(true);
    expect(deniedOutsideVpce(policy, 's3:GetObject', resultWriter)).toBe(true);
  });

  it('the ResultWriter writes where its role policy allows: the reports bucket, under the results prefix', () => {
    const def = JSON.parse(String(Object.values(pinned.tf.reporting.resource!.aws_sfn_state_machine)[0].definition));
    const writer = def.States.GenerateReports.ResultWriter;
    expect(writer.Parameters.Bucket).toMatch(/reports/);
    const rolePolicy = Object.values(pinned.tf.reporting.resource!.aws_iam_role_policy).find((p) => /reporting-workflow-policy$/.test(String(p.name)))!;
    const write = statements(String(rolePolicy.policy)).find((s) => s.Sid === 'RunResultsWrite')!;
    expect(asArray(write.Resource)[0]).toMatch(new RegExp(`/${writer.Parameters.Prefix}\\*$`));
  });

  it('processed: no writer is exempt', () => {
    expect(bucketPolicy(data, 'processed').some((s) => s.Condition?.ArnNotEquals)).toBe(false);
  });
});

describe('the trail does not log its own log deliveries', () => {
  it('S3 data events exclude the audit-trail and access-log buckets', () => {
    const trail = Object.values(dev.tf['security-baseline'].resource!.aws_cloudtrail)[0];
    const s3 = asArray(trail.advanced_event_selector as Json[]).find((s) => s.name === 'Platform S3 objects')!;
    const arn = (s3.field_selector as Json[]).find((f) => f.field === 'resources.ARN')!;
    const buckets = Object.entries(dev.tf['security-baseline'].resource!.aws_s3_bucket);
    const logBuckets = buckets.filter(([, b]) => /-(audit-trail|access-logs)-/.test(String(b.bucket)));
    expect(logBuckets).toHaveLength(2);
    expect([...arn.not_starts_with].sort()).toEqual(logBuckets.map(([id]) => `arn:\${data.aws_partition.partition.partition}:s3:::\${aws_s3_bucket.${id}.bucket}/`).sort());
    // The platform's data buckets (same name prefix) are still selected.
    expect(arn.starts_with).toEqual(['arn:${data.aws_partition.partition.partition}:s3:::finbatch-dev-']);
  });
});

describe('ARNs follow the partition', () => {
  it('a GovCloud (us-gov-west-1) synth has no literal arn:aws: in any stack', () => {
    const gov = synthPlatform(govCloudConfig({ security: { pinBucketsToVpcEndpoint: true } }));
    for (const [id, json] of Object.entries(gov.json)) {
      const literal = json.match(/arn:aws:[^"]{0,60}/g) ?? [];
      expect({ stack: id, literal }).toEqual({ stack: id, literal: [] });
      expect(gov.tf[id].data?.aws_partition).toBeDefined();
    }
  });
});

// `npm run verify`'s event-pattern and IAM checks on this synth: __tests__/verify/production-synth.test.ts (tooling).
