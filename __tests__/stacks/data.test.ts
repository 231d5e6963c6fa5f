import { S3BucketVersioningA } from '@cdktf/provider-aws/lib/s3-bucket-versioning';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { resources, synthPlatform, testConfig, TfJson } from '../../test-support/config-fixture';
import { yearsToDays } from '../../stacks/data-stack';
import { KEY_ADMIN_ACTIONS, KEY_USE_ACTIONS } from '../../stacks/constructs/kms-key';
import { ACCOUNT, asArray, Json, PARTITION, repeated, Statement, statementsOf as statements } from '../../test-support/terraform-json';

const ROOT = `arn:${PARTITION}:iam::${ACCOUNT}:root`;
const BUCKET_PURPOSES = ['input', 'processed', 'payment-files', 'reports'] as const;

// One synthesis per variant: dev defaults, and dev with Object Lock + VPC-endpoint pinning switched on.
const dev = synthPlatform(testConfig());
const locked = synthPlatform(testConfig({ security: { objectLock: true, pinBucketsToVpcEndpoint: true } }));

/** Logical id of the KMS key behind an alias. */
function keyId(tf: TfJson, alias: string): string {
  const a = Object.values(resources(tf, 'aws_kms_alias')).find((r) => r.name === `alias/${alias}`);
  if (!a) throw new Error(`no alias ${alias}`);
  return /aws_kms_key\.([^.]+)\.key_id/.exec(a.target_key_id as string)![1];
}
const keyArn = (tf: TfJson, alias: string) => `\${aws_kms_key.${keyId(tf, alias)}.arn}`;
function keyPolicy(tf: TfJson, alias: string): Statement[] {
  return statements(resources(tf, 'aws_kms_key')[keyId(tf, alias)].policy as string);
}

/** Logical id of a bucket by purpose, and every resource of a type configured for it. */
function bucketId(tf: TfJson, purpose: string): string {
  const hits = Object.entries(resources(tf, 'aws_s3_bucket')).filter(([, b]) => b.bucket === `finbatch-dev-${purpose}-${ACCOUNT}`);
  expect(hits).toHaveLength(1);
  return hits[0][0];
}
function forBucket(tf: TfJson, type: string, purpose: string): Json[] {
  const ref = `\${aws_s3_bucket.${bucketId(tf, purpose)}.id}`;
  return Object.values(resources(tf, type)).filter((r) => r.bucket === ref);
}
const one = (tf: TfJson, type: string, purpose: string): Json => {
  const hits = forBucket(tf, type, purpose);
  expect(hits).toHaveLength(1);
  return hits[0];
};
const table = (tf: TfJson, purpose: string): Json =>
  Object.values(resources(tf, 'aws_dynamodb_table')).find((t) => t.name === `finbatch-dev-${purpose}`)!;

describe('data stack: KMS keys', () => {
  const tf = dev.tf.data;
  const aliases = ['finbatch-dev-data-s3', 'finbatch-dev-data-dynamodb', 'finbatch-dev-messaging', 'finbatch-dev-logs', 'finbatch-dev-workload'];

  it('creates five rotating keys with a 30-day deletion window and env-suffixed aliases', () => {
    expect(Object.keys(resources(tf, 'aws_kms_key'))).toHaveLength(5);
    for (const alias of aliases) {
      const key = resources(tf, 'aws_kms_key')[keyId(tf, alias)];
      expect(key).toMatchObject({ enable_key_rotation: true, deletion_window_in_days: 30 });
    }
  });

  it('never grants kms:* (the root may administer, not use) and never names an unconditioned service', () => {
    for (const alias of aliases) {
      const policy = keyPolicy(tf, alias);
      const root = policy.find((s) => s.Sid === 'AccountRootAdministers')!;
      expect(root).toMatchObject({ Effect: 'Allow', Principal: { AWS: ROOT }, Action: KEY_ADMIN_ACTIONS });
      for (const action of ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:CreateGrant', 'kms:Create*', 'kms:*']) {
        expect(asArray(root.Action)).not.toContain(action);
      }
      for (const s of policy) {
        expect(asArray(s.Action)).not.toContain('kms:*');
        expect(s.Principal).not.toBe('*');
        if (s.Sid !== 'AccountRootAdministers') expect(s.Condition).toBeDefined();
      }
    }
  });

  it.each([
    ['finbatch-dev-data-s3', 'S3', ['s3.us-east-1.amazonaws.com']],
    ['finbatch-dev-data-dynamodb', 'DynamoDb', ['dynamodb.us-east-1.amazonaws.com']],
    ['finbatch-dev-messaging', 'Messaging', ['sns.us-east-1.amazonaws.com', 'sqs.us-east-1.amazonaws.com']],
    ['finbatch-dev-workload', 'Workload', ['lambda.us-east-1.amazonaws.com', 'ecr.us-east-1.amazonaws.com']],
  ])('%s: account principals may use it only through %s', (alias, prefix, services) => {
    const policy = keyPolicy(tf, alias);
    const use = policy.find((s) => s.Sid === `${prefix}UseViaService`)!;
    expect(use).toEqual({
      Sid: `${prefix}UseViaService`,
      Effect: 'Allow',
      Principal: { AWS: ROOT },
      Action: KEY_USE_ACTIONS,
      Resource: '*',
      Condition: { StringEquals: { 'kms:CallerAccount': ACCOUNT, 'kms:ViaService': services } },
    });
    const grants = policy.find((s) => s.Sid === `${prefix}GrantsForAwsResources`)!;
    expect(grants.Action).toEqual(['kms:CreateGrant', 'kms:ListGrants', 'kms:RevokeGrant']);
    expect(grants.Condition).toEqual({
      StringEquals: { 'kms:CallerAccount': ACCOUNT, 'kms:ViaService': services },
      Bool: { 'kms:GrantIsForAWSResource': true },
    });
  });

  it('lets CloudWatch alarms and EventBridge use the messaging key, pinned to this account', () => {
    const policy = keyPolicy(tf, 'finbatch-dev-messaging');
    for (const [sid, service] of [['CloudWatchAlarmsPublish', 'cloudwatch.amazonaws.com'], ['EventBridgeDeliver', 'events.amazonaws.com']]) {
      expect(policy.find((s) => s.Sid === sid)).toEqual({
        Sid: sid,
        Effect: 'Allow',
        Principal: { Service: service },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
      });
    }
    expect(policy.map((s) => s.Sid)).toHaveLength(5);
  });

  it('lets CloudWatch Logs use the logs key only for log groups of this account and region', () => {
    const policy = keyPolicy(tf, 'finbatch-dev-logs');
    expect(policy).toHaveLength(2);
    expect(policy[1]).toMatchObject({
      Principal: { Service: 'logs.us-east-1.amazonaws.com' },
      Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${PARTITION}:logs:us-east-1:${ACCOUNT}:*` } },
    });
  });
});

describe('data stack: buckets', () => {
  const tf = dev.tf.data;
  const s3Key = keyArn(tf, 'finbatch-dev-data-s3');

  it.each(BUCKET_PURPOSES)('%s: SSE-KMS with the S3 data key and a bucket key, versioning, all public-access blocks', (purpose) => {
    const enc = one(tf, 'aws_s3_bucket_server_side_encryption_configuration', purpose);
    expect(enc.rule).toEqual([{ apply_server_side_encryption_by_default: { sse_algorithm: 'aws:kms', kms_master_key_id: s3Key }, bucket_key_enabled: true }]);
    expect(one(tf, 'aws_s3_bucket_versioning', purpose).versioning_configuration).toEqual({ status: 'Enabled' });
    expect(one(tf, 'aws_s3_bucket_public_access_block', purpose)).toMatchObject({
      block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true,
    });
    expect(one(tf, 'aws_s3_bucket_ownership_controls', purpose).rule).toEqual({ object_ownership: 'BucketOwnerEnforced' });
  });

  it('uses the cdktf matchers view too: versioning and public-access blocks exist for all four', () => {
    expect(dev.json.data).toHaveResourceWithProperties(S3BucketVersioningA, { versioning_configuration: { status: 'Enabled' } });
    expect(dev.json.data).toHaveResourceWithProperties(S3BucketPublicAccessBlock, { restrict_public_buckets: true });
    expect(Object.keys(resources(tf, 'aws_s3_bucket_versioning'))).toHaveLength(4);
  });

  it.each(BUCKET_PURPOSES)('%s: logs to the baseline access-log bucket under its own prefix', (purpose) => {
    const logging = one(tf, 'aws_s3_bucket_logging', purpose);
    expect(logging.target_bucket).toMatch(/^\$\{data\.terraform_remote_state\.cross-stack-reference-input-security-baseline\.outputs\./);
    expect(logging.target_prefix).toBe(`finbatch-dev-${purpose}-${ACCOUNT}/`);
  });

  it.each(BUCKET_PURPOSES)('%s: TLS-only policy that rejects other keys but not default encryption', (purpose) => {
    const policy = statements(one(tf, 'aws_s3_bucket_policy', purpose).policy);
    const arn = `\${aws_s3_bucket.${bucketId(tf, purpose)}.arn}`;
    // The reports bucket adds its own statements after these (report-access.test.ts checks them).
    const own = purpose === 'reports' ? ['DenyTaggingExceptReportValidate', 'RegulatorReadsOwnPrefixUS0'] : [];
    expect(policy.map((s) => s.Sid)).toEqual(['DenyInsecureTransport', 'DenyOutdatedTls', 'DenyNonKmsEncryptionHeader', 'DenyOtherKmsKey', ...own]);
    expect(policy[0]).toMatchObject({ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [arn, `${arn}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    expect(policy[1].Condition).toEqual({ NumericLessThan: { 's3:TlsVersion': '1.2' } });
    // IfExists: an upload without encryption headers gets the default key and is not denied.
    expect(policy[2].Condition).toEqual({ StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption': 'aws:kms' } });
    expect(policy[3].Condition).toEqual({ StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption-aws-kms-key-id': s3Key } });
  });

  const lifecycle = (purpose: string) => one(tf, 'aws_s3_bucket_lifecycle_configuration', purpose).rule as Json[];

  it('input: transactions/ to Glacier at 90 days, expired after 7 years, noncurrent after 365 days', () => {
    expect(lifecycle('input')).toEqual([
      expect.objectContaining({
        id: 'transactions-retention', status: 'Enabled', filter: [{ prefix: 'transactions/' }],
        transition: [{ days: 90, storage_class: 'GLACIER' }],
        expiration: [{ days: yearsToDays(7) }],
        noncurrent_version_expiration: [{ noncurrent_days: 365 }],
      }),
      expect.objectContaining({ id: 'bucket-hygiene', filter: [{ prefix: '' }], noncurrent_version_expiration: [{ noncurrent_days: 365 }] }),
    ]);
    for (const rule of lifecycle('input')) expect(rule.abort_incomplete_multipart_upload).toEqual([{ days_after_initiation: 7 }]);
    expect(lifecycle('input')[1].expiration).toBeUndefined();
    expect(yearsToDays(7)).toBe(2556);
  });

  it('processed: 7-year retention; payment files: noncurrent to Glacier at 90, gone at 365', () => {
    expect(lifecycle('processed')).toEqual([expect.objectContaining({
      expiration: [{ days: 2556 }], noncurrent_version_expiration: [{ noncurrent_days: 365 }],
    })]);
    expect(lifecycle('payment-files')).toEqual([expect.objectContaining({
      expiration: [{ days: 2556 }],
      noncurrent_version_transition: [{ noncurrent_days: 90, storage_class: 'GLACIER' }],
      noncurrent_version_expiration: [{ noncurrent_days: 365 }],
    })]);
  });

  it('reports: STANDARD_IA at 90, GLACIER at 365, 10-year retention of current and noncurrent versions', () => {
    expect(lifecycle('reports')).toEqual([expect.objectContaining({
      transition: [{ days: 90, storage_class: 'STANDARD_IA' }, { days: 365, storage_class: 'GLACIER' }],
      expiration: [{ days: 3652 }],
      noncurrent_version_expiration: [{ noncurrent_days: 3652 }],
    })]);
    const reports = resources(tf, 'aws_s3_bucket')[bucketId(tf, 'reports')];
    expect(reports.tags).toMatchObject({ Purpose: 'RegulatoryReporting' });
    expect(reports.object_lock_enabled).toBeUndefined();
    expect(forBucket(tf, 'aws_s3_bucket_object_lock_configuration', 'reports')).toHaveLength(0);
  });

  it('sends object events to EventBridge for the input and payment-files buckets only', () => {
    expect(one(tf, 'aws_s3_bucket_notification', 'input').eventbridge).toBe(true);
    expect(one(tf, 'aws_s3_bucket_notification', 'payment-files').eventbridge).toBe(true);
    expect(forBucket(tf, 'aws_s3_bucket_notification', 'processed')).toHaveLength(0);
    expect(forBucket(tf, 'aws_s3_bucket_notification', 'reports')).toHaveLength(0);
  });

  it('with objectLock: reports bucket is created with Object Lock in compliance mode for the full retention', () => {
    const ltf = locked.tf.data;
    expect(resources(ltf, 'aws_s3_bucket')[bucketId(ltf, 'reports')].object_lock_enabled).toBe(true);
    expect(one(ltf, 'aws_s3_bucket_object_lock_configuration', 'reports').rule).toEqual({
      default_retention: { mode: 'COMPLIANCE', days: 3652 },
    });
    expect(forBucket(ltf, 'aws_s3_bucket_object_lock_configuration', 'input')).toHaveLength(0);
  });

  it.each(BUCKET_PURPOSES)('with pinBucketsToVpcEndpoint: %s denies data access outside the network S3 endpoint', (purpose) => {
    const ltf = locked.tf.data;
    const policy = statements(one(ltf, 'aws_s3_bucket_policy', purpose).policy);
    const pin = policy.find((s) => s.Sid === 'DenyDataAccessOutsideVpce')!;
    expect(pin).toMatchObject({ Effect: 'Deny', Principal: '*', Resource: `\${aws_s3_bucket.${bucketId(ltf, purpose)}.arn}/*` });
    expect(pin.Condition!.StringNotEquals['aws:sourceVpce']).toMatch(/cross-stack-reference-input-network\.outputs\..*s3-endpoint/);
    expect(pin.Condition!.Bool).toEqual({ 'aws:PrincipalIsAWSService': 'false' });
    // Default config: not pinned.
    expect(statements(one(dev.tf.data, 'aws_s3_bucket_policy', purpose).policy).map((s) => s.Sid)).not.toContain('DenyDataAccessOutsideVpce');
  });
});

describe('data stack: DynamoDB tables', () => {
  const tf = dev.tf.data;
  const dynamoKey = keyArn(tf, 'finbatch-dev-data-dynamodb');

  it('table names are unique (a matcher keyed by name finds the one table)', () => {
    expect(Object.keys(resources(tf, 'aws_dynamodb_table'))).toHaveLength(4);
    expect(repeated(tf, 'aws_dynamodb_table', 'name')).toEqual([]);
  });

  it.each(['job-status', 'audit-log', 'transaction-metadata', 'idempotency'])('%s: on-demand, CMK SSE, PITR, deletion protection', (purpose) => {
    expect(dev.json.data).toHaveResourceWithProperties(DynamodbTable, {
      name: `finbatch-dev-${purpose}`,
      billing_mode: 'PAY_PER_REQUEST',
      server_side_encryption: { enabled: true, kms_key_arn: dynamoKey },
      point_in_time_recovery: { enabled: true },
      deletion_protection_enabled: true,
    });
  });

  it('job status: jobId key, StatusIndex on status + submittedAt (epoch ms), stream with both images, no TTL', () => {
    const t = table(tf, 'job-status');
    expect(dev.json.data).toHaveResourceWithProperties(DynamodbTable, { name: 'finbatch-dev-job-status', hash_key: 'jobId', stream_enabled: true, stream_view_type: 'NEW_AND_OLD_IMAGES' });
    expect(t.range_key).toBeUndefined();
    expect(t.attribute).toEqual([{ name: 'jobId', type: 'S' }, { name: 'status', type: 'S' }, { name: 'submittedAt', type: 'N' }]);
    expect(t.global_secondary_index).toEqual([{ name: 'StatusIndex', hash_key: 'status', range_key: 'submittedAt', projection_type: 'ALL' }]);
    expect(t.ttl).toBeUndefined();
  });

  it('audit log: auditId + timestamp, JobIdIndex, and no TTL at all (7-year trail cannot expire early)', () => {
    const t = table(tf, 'audit-log');
    expect(dev.json.data).toHaveResourceWithProperties(DynamodbTable, { name: 'finbatch-dev-audit-log', hash_key: 'auditId', range_key: 'timestamp' });
    expect(t.attribute).toEqual([{ name: 'auditId', type: 'S' }, { name: 'timestamp', type: 'N' }, { name: 'jobId', type: 'S' }]);
    expect(t.global_secondary_index).toEqual([{ name: 'JobIdIndex', hash_key: 'jobId', range_key: 'timestamp', projection_type: 'ALL' }]);
    expect(t.ttl).toBeUndefined();
  });

  it('transaction metadata: transactionId + timestamp; idempotency: id with TTL on Powertools\' expiration', () => {
    expect(dev.json.data).toHaveResourceWithProperties(DynamodbTable, {
      name: 'finbatch-dev-transaction-metadata',
      hash_key: 'transactionId', range_key: 'timestamp',
      attribute: [{ name: 'transactionId', type: 'S' }, { name: 'timestamp', type: 'N' }],
    });
    expect(dev.json.data).toHaveResourceWithProperties(DynamodbTable, {
      name: 'finbatch-dev-idempotency', hash_key: 'id', attribute: [{ name: 'id', type: 'S' }], ttl: { enabled: true, attribute_name: 'expiration' },
    });
    expect(dev.json.data).toHaveResourceWithProperties(DynamodbTable, { name: 'finbatch-dev-idempotency', deletion_protection_enabled: true });
  });
});

describe('data stack: alert topics', () => {
  const tf = dev.tf.data;
  const messagingKey = keyArn(tf, 'finbatch-dev-messaging');

  it.each(['batch-alerts', 'reporting-alerts'])('%s: KMS-encrypted, CloudWatch/EventBridge of this account only, TLS-only, e-mail', (purpose) => {
    const [topicId, topic] = Object.entries(resources(tf, 'aws_sns_topic')).find(([, t]) => t.name === `finbatch-dev-${purpose}`)!;
    expect(topic.kms_master_key_id).toBe(messagingKey);
    const arn = `\${aws_sns_topic.${topicId}.arn}`;
    const policy = Object.values(resources(tf, 'aws_sns_topic_policy')).find((p) => p.arn === arn)!;
    expect(statements(policy.policy as string)).toEqual([
      {
        Sid: 'CloudWatchAlarmsPublish', Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish', Resource: arn,
        Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT }, ArnLike: { 'aws:SourceArn': `arn:${PARTITION}:cloudwatch:us-east-1:${ACCOUNT}:alarm:*` } },
      },
      {
        Sid: 'EventBridgeRulesPublish', Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sns:Publish', Resource: arn,
        Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT }, ArnLike: { 'aws:SourceArn': `arn:${PARTITION}:events:us-east-1:${ACCOUNT}:rule/*` } },
      },
      { Sid: 'DenyInsecureTransport', Effect: 'Deny', Principal: '*', Action: 'sns:Publish', Resource: arn, Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
    ]);
    // The address is the notification_email variable, whose default is the configured notificationEmail.
    expect(dev.json.data).toHaveResourceWithProperties(SnsTopicSubscription, { topic_arn: arn, protocol: 'email', endpoint: '${var.notification_email}' });
    expect((tf.variable as Record<string, { default: string }>).notification_email.default).toBe('batch-ops@example.com');
  });
});

describe('data stack: outputs and contract', () => {
  it('exports keys, buckets, tables and topics for operators and downstream stacks', () => {
    const outputs = Object.keys(dev.tf.data.output ?? {});
    expect(outputs).toEqual(expect.arrayContaining([
      's3_key_arn', 'dynamodb_key_arn', 'messaging_key_arn', 'logs_key_arn', 'workload_key_arn',
      'input_bucket', 'input_bucket_arn', 'processed_bucket', 'payment_files_bucket', 'reports_bucket', 'reports_bucket_arn',
      'job_status_table', 'audit_log_table', 'transactions_table', 'idempotency_table', 'idempotency_table_arn',
      'job_status_stream_arn', 'batch_alerts_topic_arn', 'reporting_alerts_topic_arn',
    ]));
  });

  it('keeps the public fields other stacks use', () => {
    const d = dev.platform.data;
    for (const field of ['s3Key', 'dynamoKey', 'messagingKey', 'logsKey', 'inputBucket', 'processedBucket', 'paymentFilesBucket',
      'reportsBucket', 'jobStatusTable', 'auditLogTable', 'transactionsTable', 'idempotencyTable', 'batchAlertsTopic', 'reportingAlertsTopic'] as const) {
      expect(d[field]).toBeDefined();
    }
    // The reports bucket hands out least-privilege statements scoped to its own ARN.
    expect(d.reportsBucket.writeStatements('WriteReports', 'reports/')[0].Resource).toBe(`${d.reportsBucket.arn}/reports/*`);
  });
});
