/**
 * Each guardrail rule fires on a deliberately bad construct in a tiny stack (and stays quiet on the
 * good twin), and the real platform synthesizes with zero guardrail errors.
 */
import { Aspects, TerraformStack, Testing } from 'cdktf';
import { Construct } from 'constructs';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketAcl } from '@cdktf/provider-aws/lib/s3-bucket-acl';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { LambdaFunction, LambdaFunctionConfig } from '@cdktf/provider-aws/lib/lambda-function';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { GuardrailAspect } from '../../stacks/aspects/guardrails';
import { renderPolicy } from '../../stacks/constructs/policy';
import { STACK_IDS } from '../../main';
import { platformOf, synthPlatform, testConfig } from '../../test-support/config-fixture';
import { checkTerraform } from '../../stacks/aspects/guardrails';

const TAGS = { Environment: 'dev', Owner: 'o', Project: 'p', ManagedBy: 'cdktf', CostCenter: 'c' };
const OPTS = { minLogRetentionDays: 365, requiredTags: Object.keys(TAGS) };

/** Synthesizes a one-stack app with the guardrail; returns the guardrail error lines ([] if synth passed). */
function guardrailErrors(build: (s: Construct) => void, tags: Record<string, string> = TAGS): string[] {
  const app = Testing.app();
  const stack = new TerraformStack(app, 'tiny');
  new AwsProvider(stack, 'aws', { region: 'eu-west-1', defaultTags: [{ tags }] });
  Aspects.of(stack).add(new GuardrailAspect(OPTS));
  build(stack);
  try {
    app.synth();
    return [];
  } catch (e) {
    const lines = String((e as Error).message).split('\n').filter((l) => l.includes('[guardrail'));
    if (!lines.length) throw e;
    return lines;
  }
}

const tls = (bucketArn: string) => renderPolicy([{
  Sid: 'DenyInsecureTransport', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [bucketArn, `${bucketArn}/*`],
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
}]);

interface BucketOpts { sse?: 'aws:kms' | 'AES256' | null; pab?: boolean; policy?: 'tls' | 'none'; acl?: string; name?: string }
function bucket(s: Construct, o: BucketOpts = {}): S3Bucket {
  const b = new S3Bucket(s, 'b', { bucket: o.name ?? 'fbp-dev-input-123456789012' });
  if (o.sse !== null) {
    new S3BucketServerSideEncryptionConfigurationA(s, 'sse', {
      bucket: b.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: o.sse ?? 'aws:kms', kmsMasterKeyId: o.sse === 'AES256' ? undefined : 'arn:aws:kms:eu-west-1:123456789012:key/x' } }],
    });
  }
  new S3BucketPublicAccessBlock(s, 'pab', {
    bucket: b.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: o.pab ?? true,
  });
  if ((o.policy ?? 'tls') === 'tls') new S3BucketPolicy(s, 'pol', { bucket: b.id, policy: tls(b.arn) });
  if (o.acl) new S3BucketAcl(s, 'acl', { bucket: b.id, acl: o.acl });
  return b;
}

const goodFn = (extra: Partial<LambdaFunctionConfig> = {}): LambdaFunctionConfig => ({
  functionName: 'fbp-dev-orchestrator', role: 'arn:aws:iam::123456789012:role/r', runtime: 'nodejs22.x', handler: 'index.handler',
  filename: 'x.zip', tracingConfig: { mode: 'Active' },
  vpcConfig: { subnetIds: ['subnet-0123456789abcdef0'], securityGroupIds: ['sg-0123456789abcdef0'] },
  deadLetterConfig: { targetArn: 'arn:aws:sqs:eu-west-1:123456789012:dlq' }, ...extra,
});

const identityPolicy = (s: Construct, action: string | string[], resource: string) => new IamRolePolicy(s, 'p', {
  role: 'r', policy: renderPolicy([{ Effect: 'Allow', Action: action, Resource: resource }]),
});

describe('guardrail rules fire on bad constructs', () => {
  test('a compliant bucket, table, topic, queue, log group and Lambda pass', () => {
    expect(guardrailErrors((s) => {
      bucket(s);
      new DynamodbTable(s, 't', { name: 't', hashKey: 'k', attribute: [{ name: 'k', type: 'S' }], billingMode: 'PAY_PER_REQUEST', serverSideEncryption: { enabled: true, kmsKeyArn: 'arn:aws:kms:eu-west-1:1:key/x' } });
      new SnsTopic(s, 'topic', { name: 't', kmsMasterKeyId: 'alias/x' });
      new SqsQueue(s, 'q', { name: 'q', kmsMasterKeyId: 'alias/x' });
      new CloudwatchLogGroup(s, 'lg', { name: '/x', retentionInDays: 365, kmsKeyId: 'arn:aws:kms:eu-west-1:1:key/x' });
      new LambdaFunction(s, 'fn', goodFn());
      identityPolicy(s, ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], '*');
    })).toEqual([]);
  });

  test.each([
    ['no default encryption', { sse: null }, /guardrail encryption\] aws_s3_bucket\.b: no default encryption/],
    ['SSE-S3 on a data bucket', { sse: 'AES256' }, /guardrail encryption\].*SSE-S3/],
    ['public-access block with a flag off', { pab: false }, /guardrail public-access\] aws_s3_bucket\.b: needs an aws_s3_bucket_public_access_block/],
    ['public-read ACL', { acl: 'public-read' }, /guardrail public-access\].*public ACL/],
    ['no TLS-only policy', { policy: 'none' }, /guardrail tls-only\] aws_s3_bucket\.b/],
  ] as [string, BucketOpts, RegExp][])('S3: %s', (_n, opts, expected) => {
    const errors = guardrailErrors((s) => { bucket(s, opts); });
    expect(errors.some((l) => expected.test(l))).toBe(true);
  });

  test('S3: SSE-S3 is accepted only on the allow-listed access-log bucket', () => {
    expect(guardrailErrors((s) => { bucket(s, { sse: 'AES256', name: 'fbp-dev-access-logs-123456789012' }); })).toEqual([]);
  });

  test('unencrypted DynamoDB, SNS, SQS and log group', () => {
    const errors = guardrailErrors((s) => {
      new DynamodbTable(s, 't', { name: 't', hashKey: 'k', attribute: [{ name: 'k', type: 'S' }], billingMode: 'PAY_PER_REQUEST' });
      new SnsTopic(s, 'topic', { name: 't' });
      new SqsQueue(s, 'q', { name: 'q' });
      new CloudwatchLogGroup(s, 'lg', { name: '/x', retentionInDays: 365 });
    });
    expect(errors.join('\n')).toMatch(/encryption\] aws_dynamodb_table\.t/);
    expect(errors.join('\n')).toMatch(/encryption\] aws_sns_topic\.topic/);
    expect(errors.join('\n')).toMatch(/encryption\] aws_sqs_queue\.q/);
    expect(errors.join('\n')).toMatch(/encryption\] aws_cloudwatch_log_group\.lg: kms_key_id/);
  });

  test.each([[30], [0], [undefined]])('log retention %p is below config', (days) => {
    const errors = guardrailErrors((s) => {
      new CloudwatchLogGroup(s, 'lg', { name: '/x', retentionInDays: days, kmsKeyId: 'k' });
    });
    expect(errors.join('\n')).toMatch(/log-retention\] aws_cloudwatch_log_group\.lg: retention_in_days .* below the configured minimum 365/);
  });

  test.each([
    ['Action "*"', '*', 'arn:aws:s3:::b/*', /iam-wildcard\].*Allow of \*/],
    ['service-wide action', 's3:*', 'arn:aws:s3:::b/*', /iam-wildcard\].*Allow of s3:\*/],
    ['Resource "*" for a scoped action', 's3:GetObject', '*', /iam-wildcard\].*Resource "\*" for s3:GetObject/],
  ])('IAM: %s', (_n, action, resource, expected) => {
    expect(guardrailErrors((s) => { identityPolicy(s, action, resource); }).join('\n')).toMatch(expected);
  });

  test('IAM: Deny with "*" is fine; key policies may use Resource "*" and kms:* only for the account root', () => {
    expect(guardrailErrors((s) => {
      new IamRolePolicy(s, 'p', { role: 'r', policy: renderPolicy([{ Effect: 'Deny', Action: '*', Resource: '*' }]) });
      new KmsKey(s, 'k', { policy: renderPolicy([{ Sid: 'Root', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'kms:*', Resource: '*' }]) });
    })).toEqual([]);
    expect(guardrailErrors((s) => {
      new KmsKey(s, 'k', { policy: renderPolicy([{ Effect: 'Allow', Principal: { Service: 'logs.amazonaws.com' }, Action: 'kms:*', Resource: '*' }]) });
    }).join('\n')).toMatch(/iam-wildcard\] aws_kms_key\.k.*kms:\*/);
  });

  test('IAM: a resource policy open to Principal "*" is public', () => {
    expect(guardrailErrors((s) => {
      const b = bucket(s, { policy: 'none' });
      new S3BucketPolicy(s, 'pol', { bucket: b.id, policy: renderPolicy([{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `${b.arn}/*` }]) });
    }).join('\n')).toMatch(/public-access\] aws_s3_bucket_policy\.pol/);
  });

  test('IAM: a policy built with string templates cannot be inspected', () => {
    expect(guardrailErrors((s) => { new IamRolePolicy(s, 'p', { role: 'r', policy: '{"Statement": [' }); }).join('\n'))
      .toMatch(/policy-format\] aws_iam_role_policy\.p/);
  });

  test('security groups and rules open to 0.0.0.0/0 or ::/0', () => {
    const errors = guardrailErrors((s) => {
      new SecurityGroup(s, 'sg', { name: 'sg', egress: [{ fromPort: 443, toPort: 443, protocol: 'tcp', cidrBlocks: ['0.0.0.0/0'] }] });
      new VpcSecurityGroupIngressRule(s, 'in', { securityGroupId: 'sg-1', ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv6: '::/0' });
    }).join('\n');
    expect(errors).toMatch(/open-security-group\] aws_security_group\.sg: egress rule open to 0\.0\.0\.0\/0/);
    expect(errors).toMatch(/open-security-group\] aws_vpc_security_group_ingress_rule\.in: open to ::\/0/);
  });

  test('Lambda without X-Ray, outside the VPC, without DLQ', () => {
    const errors = guardrailErrors((s) => {
      new LambdaFunction(s, 'fn', goodFn({ tracingConfig: { mode: 'PassThrough' }, vpcConfig: undefined, deadLetterConfig: undefined }));
    }).join('\n');
    expect(errors).toMatch(/lambda-xray\] aws_lambda_function\.fn/);
    expect(errors).toMatch(/lambda-vpc\] aws_lambda_function\.fn/);
    expect(errors).toMatch(/lambda-dlq\] aws_lambda_function\.fn/);
  });

  test('Lambda allow-lists: report-deliver may run outside the VPC; synchronous functions need no DLQ', () => {
    expect(guardrailErrors((s) => {
      new LambdaFunction(s, 'fn', goodFn({ functionName: 'fbp-dev-report-deliver', vpcConfig: undefined, deadLetterConfig: undefined }));
    })).toEqual([]);
  });

  test('Lambda: a "synchronous" function with an asynchronous trigger still needs a DLQ', () => {
    const errors = guardrailErrors((s) => {
      const fn = new LambdaFunction(s, 'fn', goodFn({ functionName: 'fbp-dev-report-generate', deadLetterConfig: undefined }));
      new LambdaPermission(s, 'perm', { action: 'lambda:InvokeFunction', functionName: fn.functionName, principal: 'events.amazonaws.com' });
    }).join('\n');
    expect(errors).toMatch(/lambda-dlq\] aws_lambda_function\.fn: is invoked asynchronously by events\.amazonaws\.com/);
  });

  test('provider default_tags must carry every required tag', () => {
    const { CostCenter: _omit, ...partial } = TAGS;
    void _omit;
    expect(guardrailErrors(() => undefined, partial).join('\n')).toMatch(/tags\] provider\.aws: default_tags lack required tag\(s\) CostCenter/);
  });
});

describe('the real platform', () => {
  test('every stack registers the guardrail Aspect', () => {
    const { platform } = platformOf('dev');
    for (const id of STACK_IDS) {
      const stack = platform[id === 'security-baseline' ? 'security' : id];
      expect(Aspects.of(stack).all.some((a) => a instanceof GuardrailAspect)).toBe(true);
    }
  });

  test.each(['dev', 'prod'])('%s synthesizes with zero guardrail violations', (env) => {
    const cfg = testConfig({}, env);
    // app.synth() runs the Aspect: a violation throws with one "[guardrail rule] address: fix" line each.
    // A failure here is a finding for the stack's owner: fix the stack, never the rule.
    const { tf } = synthPlatform(cfg);
    const found: string[] = [];
    for (const id of STACK_IDS) {
      for (const v of checkTerraform(tf[id] as never, { minLogRetentionDays: cfg.retention.logDays, requiredTags: Object.keys(cfg.tags) })) {
        found.push(`${id}: [${v.rule}] ${v.address}: ${v.message}`);
      }
    }
    expect(found).toEqual([]);
    expect(Object.keys(tf)).toHaveLength(STACK_IDS.length);
  });
});
