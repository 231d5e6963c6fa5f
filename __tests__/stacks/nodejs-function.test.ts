import { Testing, TerraformStack } from 'cdktf';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { bundleHandler } from '../../stacks/lib/bundle';
import { createZip, crc32 } from '../../stacks/lib/deterministic-zip';
import { NodejsFunction } from '../../stacks/constructs/nodejs-function';

describe('deterministic zip', () => {
  it('crc32 matches the standard check value', () => {
    expect(crc32(Buffer.from('123456789')).toString(16)).toBe('cbf43926');
  });

  // external-tools.test.ts has a standard unzip (Python's zipfile) read it.
  it('is byte-identical for the same entries in any order', () => {
    const a = createZip([{ name: 'b.txt', data: Buffer.from('bee') }, { name: 'index.js', data: Buffer.from('exports.handler=1') }]);
    const b = createZip([{ name: 'index.js', data: Buffer.from('exports.handler=1') }, { name: 'b.txt', data: Buffer.from('bee') }]);
    expect(a.equals(b)).toBe(true);
  });
});

describe('NodejsFunction', () => {
  // Two independent esbuild builds give the same bytes: external-tools.test.ts.
  it('fails clearly for a missing entry', () => {
    expect(() => bundleHandler('no-such-handler')).toThrow('lambda entry not found: lambda-src/no-such-handler/index.ts');
  });

  const synthFn = (overrides: Record<string, unknown> = {}) => {
    const app = Testing.app();
    const stack = new TerraformStack(app, 'fn-test');
    new NodejsFunction(stack, 'orchestrator', {
      entry: 'orchestrator',
      functionName: 'finbatch-dev-orchestrator',
      timeoutSeconds: 300,
      memoryMb: 512,
      reservedConcurrency: 5,
      statements: [{ Sid: 'ReadInput', Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::input/*' }],
      vpc: { subnetIds: ['subnet-1', 'subnet-2'], securityGroupIds: ['sg-1'] },
      deadLetterQueueArn: 'arn:aws:sqs:us-east-1:111111111111:dlq',
      kmsKeyArn: 'arn:aws:kms:us-east-1:111111111111:key/env',
      logRetentionDays: 365,
      logKmsKeyArn: 'arn:aws:kms:us-east-1:111111111111:key/logs',
      accountId: '111111111111',
      region: 'us-east-1',
      ...overrides,
    });
    return Testing.synth(stack);
  };

  it('synthesizes nodejs22.x with X-Ray, DLQ, VPC, reserved concurrency, JSON logs and the bundle hash', () => {
    const out = synthFn();
    expect(out).toHaveResourceWithProperties(LambdaFunction, {
      function_name: 'finbatch-dev-orchestrator',
      runtime: 'nodejs22.x',
      handler: 'index.handler',
      tracing_config: { mode: 'Active' },
      dead_letter_config: { target_arn: 'arn:aws:sqs:us-east-1:111111111111:dlq' },
      vpc_config: { subnet_ids: ['subnet-1', 'subnet-2'], security_group_ids: ['sg-1'] },
      reserved_concurrent_executions: 5,
      source_code_hash: bundleHandler('orchestrator').sha256Base64,
    });
    const parsed = JSON.parse(out);
    const [groupId, group] = Object.entries(parsed.resource.aws_cloudwatch_log_group)[0] as [string, Record<string, unknown>];
    expect(group).toMatchObject({ name: '/aws/lambda/finbatch-dev-orchestrator', retention_in_days: 365, kms_key_id: 'arn:aws:kms:us-east-1:111111111111:key/logs' });
    const fn = Object.values(parsed.resource.aws_lambda_function)[0] as Record<string, any>;
    expect(fn.logging_config.log_format).toBe('JSON');
    expect(fn.logging_config.log_group).toBe(`\${aws_cloudwatch_log_group.${groupId}.name}`);
    expect(fn.filename).toMatch(/^assets\/.+\/function\.zip$/);
  });

  it('gives the function its own role with the handler statements and the explicit denies', () => {
    const parsed = JSON.parse(synthFn());
    const policies = Object.values(parsed.resource.aws_iam_role_policy) as { policy: string }[];
    expect(policies).toHaveLength(1);
    const doc = JSON.parse(policies[0].policy);
    const sids = doc.Statement.map((s: { Sid: string }) => s.Sid);
    expect(sids).toEqual(['OwnLogGroupOnly', 'XRayTraces', 'EnvironmentKey', 'VpcNetworkInterfaces', 'DeadLetterQueue', 'ReadInput', 'DenyDestructiveActions']);
    const deny = doc.Statement.find((s: { Sid: string }) => s.Sid === 'DenyDestructiveActions');
    expect(deny).toMatchObject({ Effect: 'Deny', Action: ['s3:DeleteBucket', 's3:PutBucketPolicy', 'kms:DisableKey', 'kms:ScheduleKeyDeletion', 'dynamodb:DeleteTable'] });
  });

  it.each([
    [{ timeoutSeconds: 901 }, /timeoutSeconds must be 1-900, got 901/],
    [{ memoryMb: 64 }, /memoryMb must be 128-10240, got 64/],
    [{ reservedConcurrency: 0 }, /reservedConcurrency must be >= 1, got 0/],
    [{ logRetentionDays: 366 }, /retentionDays 366 is not a CloudWatch retention value/],
  ])('rejects bad props %o', (overrides, message) => {
    expect(() => synthFn(overrides)).toThrow(message);
  });
});
