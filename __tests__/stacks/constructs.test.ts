/**
 * The shared constructs of stacks/constructs/, each synthesized alone (`Testing.synthScope`) and
 * checked with cdktf's matchers; policy documents are parsed (a matcher compares them as opaque text).
 */
import { TerraformVariable } from 'cdktf';
import { IConstruct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey as AwsKmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketLoggingA } from '@cdktf/provider-aws/lib/s3-bucket-logging';
import { S3BucketNotification } from '@cdktf/provider-aws/lib/s3-bucket-notification';
import { S3BucketObjectLockConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-object-lock-configuration';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { S3BucketVersioningA } from '@cdktf/provider-aws/lib/s3-bucket-versioning';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { Alarm, AlarmProps } from '../../stacks/constructs/alarm';
import { AlertTopic, AlertTopicProps } from '../../stacks/constructs/alert-topic';
import { DeadLetterQueue, DeadLetterQueueProps, DLQ_RETENTION_SECONDS } from '../../stacks/constructs/dead-letter-queue';
import { EncryptedLogGroup } from '../../stacks/constructs/encrypted-log-group';
import { cloudWatchLogsStatement, KEY_ADMIN_ACTIONS, KEY_USE_ACTIONS, KmsKey, KmsKeyProps, serviceUseStatement, viaServiceStatements } from '../../stacks/constructs/kms-key';
import { EXPLICIT_DENY_STATEMENT, functionRoleName, NodejsFunction, NodejsFunctionProps } from '../../stacks/constructs/nodejs-function';
import { assumeRolePolicy, policyDocument, PolicyStatement, renderPolicy } from '../../stacks/constructs/policy';
import { SecureBucket, SecureBucketProps } from '../../stacks/constructs/secure-bucket';
import { bundleHandler } from '../../stacks/lib/bundle';
import { synthConstruct } from '../../test-support/construct-synth';
import { Json, only, PARTITION, sid, statementsOf } from '../../test-support/terraform-json';

const ACCOUNT = '111111111111';
const KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/k`;
/** A reference to an attribute of the single resource of `type` in a one-construct stack. */
const ref = (type: string, attr: string) => expect.stringMatching(new RegExp(`^\\$\\{${type}\\.[A-Za-z0-9_-]+\\.${attr}\\}$`));

describe('SecureBucket', () => {
  const props: SecureBucketProps = {
    bucketName: 'finbatch-dev-input', encryption: { kmsKeyArn: KEY }, accessLogBucket: 'finbatch-dev-access-logs',
    lifecycleRules: [{ id: 'expire', prefix: 'transactions/', expirationDays: 400, transitions: [{ days: 30, storageClass: 'STANDARD_IA' }], noncurrentExpirationDays: 30 }],
  };
  const build = (over: Partial<SecureBucketProps> = {}) => synthConstruct((s) => new SecureBucket(s, 'b', { ...props, ...over }));
  const policyOf = (tf: Json) => statementsOf(only(tf, 'aws_s3_bucket_policy').policy);

  it('a KMS data bucket: bucket key, versioning, all four public-access blocks, owner-enforced, no force-destroy', () => {
    const { json, tf } = build();
    expect(json).toHaveResourceWithProperties(S3Bucket, { bucket: 'finbatch-dev-input', force_destroy: false });
    expect(only(tf, 'aws_s3_bucket').object_lock_enabled).toBeUndefined();
    expect(json).toHaveResourceWithProperties(S3BucketServerSideEncryptionConfigurationA, {
      bucket: ref('aws_s3_bucket', 'id'),
      rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: 'aws:kms', kms_master_key_id: KEY }, bucket_key_enabled: true }],
    });
    expect(json).toHaveResourceWithProperties(S3BucketVersioningA, { versioning_configuration: { status: 'Enabled' } });
    expect(json).toHaveResourceWithProperties(S3BucketPublicAccessBlock, {
      block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true,
    });
    expect(json).toHaveResourceWithProperties(S3BucketOwnershipControls, { rule: { object_ownership: 'BucketOwnerEnforced' } });
    expect(json).toHaveResourceWithProperties(S3BucketLoggingA, { target_bucket: 'finbatch-dev-access-logs', target_prefix: 'finbatch-dev-input/' });
    expect(json).toHaveResourceWithProperties(S3BucketPolicy, { depends_on: [expect.stringMatching(/^aws_s3_bucket_public_access_block\./)] });
    expect(json).not.toHaveResource(S3BucketObjectLockConfigurationA);
    expect(json).not.toHaveResource(S3BucketNotification);
  });

  it('lifecycle rules are explicit, enabled, and always abort incomplete multipart uploads after 7 days', () => {
    expect(build().json).toHaveResourceWithProperties(S3BucketLifecycleConfiguration, {
      rule: [{
        id: 'expire', status: 'Enabled', filter: [{ prefix: 'transactions/' }],
        transition: [{ days: 30, storage_class: 'STANDARD_IA' }], expiration: [{ days: 400 }],
        noncurrent_version_expiration: [{ noncurrent_days: 30 }], abort_incomplete_multipart_upload: [{ days_after_initiation: 7 }],
      }],
    });
  });

  it('policy: TLS only (1.2+), and uploads may not name another encryption or another key', () => {
    const statements = policyOf(build().tf);
    expect(statements.map((s) => s.Sid)).toEqual(['DenyInsecureTransport', 'DenyOutdatedTls', 'DenyNonKmsEncryptionHeader', 'DenyOtherKmsKey']);
    expect(sid(statements, 'DenyInsecureTransport')).toEqual({
      Sid: 'DenyInsecureTransport', Effect: 'Deny', Principal: '*', Action: 's3:*',
      Resource: [expect.stringMatching(/^\$\{aws_s3_bucket\.[^.]+\.arn\}$/), expect.stringMatching(/^\$\{aws_s3_bucket\.[^.]+\.arn\}\/\*$/)],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    expect(sid(statements, 'DenyOutdatedTls').Condition).toEqual({ NumericLessThan: { 's3:TlsVersion': '1.2' } });
    expect(sid(statements, 'DenyNonKmsEncryptionHeader')).toMatchObject({ Action: 's3:PutObject', Condition: { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption': 'aws:kms' } } });
    expect(sid(statements, 'DenyOtherKmsKey').Condition).toEqual({ StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption-aws-kms-key-id': KEY } });
  });

  it('SSE-S3 (the access-log bucket only): AES256, no log target needed, no KMS header denies', () => {
    const { json, tf } = build({ encryption: 'SSE-S3', accessLogBucket: undefined });
    expect(json).toHaveResourceWithProperties(S3BucketServerSideEncryptionConfigurationA, { rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: 'AES256' } }] });
    expect(json).not.toHaveResource(S3BucketLoggingA);
    expect(policyOf(tf).map((s) => s.Sid)).toEqual(['DenyInsecureTransport', 'DenyOutdatedTls']);
  });

  it('object lock (set at creation) and EventBridge notifications when asked', () => {
    const { json } = build({ objectLock: { mode: 'COMPLIANCE', days: 2555 }, eventBridge: true });
    expect(json).toHaveResourceWithProperties(S3Bucket, { bucket: 'finbatch-dev-input', object_lock_enabled: true });
    expect(json).toHaveResourceWithProperties(S3BucketObjectLockConfigurationA, { rule: { default_retention: { mode: 'COMPLIANCE', days: 2555 } } });
    expect(json).toHaveResourceWithProperties(S3BucketNotification, { eventbridge: true });
  });

  it('pinned to a VPC endpoint: reads and deletes through it only (services exempt), named writers may upload from outside', () => {
    const statements = policyOf(build({ sourceVpceId: 'vpce-1', outsideVpceWriters: ['arn:aws:iam::222222222222:role/producer'] }).tf);
    const outside = { StringNotEquals: { 'aws:sourceVpce': 'vpce-1' }, Bool: { 'aws:PrincipalIsAWSService': 'false' }, BoolIfExists: { 'aws:ViaAWSService': 'false' } };
    expect(sid(statements, 'DenyDataAccessOutsideVpce')).toMatchObject({
      Effect: 'Deny', Action: ['s3:GetObject', 's3:GetObjectVersion', 's3:DeleteObject', 's3:DeleteObjectVersion'], Condition: outside,
    });
    expect(sid(statements, 'DenyWritesOutsideVpce')).toMatchObject({
      Effect: 'Deny', Action: 's3:PutObject', Condition: { ...outside, ArnNotEquals: { 'aws:PrincipalArn': ['arn:aws:iam::222222222222:role/producer'] } },
    });
    expect(statements.map((s) => s.Sid)).not.toContain('DenyReadsOutsideVpce');
  });

  it('named outside readers: only reads under their prefix are lifted, deletes and other reads stay pinned', () => {
    const statements = policyOf(build({ sourceVpceId: 'vpce-1', outsideVpceReaders: { prefix: 'reports/', principalArns: ['arn:aws:iam::333333333333:role/r'], accountIds: ['444444444444'] } }).tf);
    expect(sid(statements, 'DenyDataAccessOutsideVpce').Action).toEqual(['s3:DeleteObject', 's3:DeleteObjectVersion']);
    expect(sid(statements, 'DenyReadsOutsideVpce')).toMatchObject({ Action: ['s3:GetObject', 's3:GetObjectVersion'], NotResource: expect.stringMatching(/\.arn\}\/reports\/\*$/) });
    expect(sid(statements, 'DenyPrefixReadsOutsideVpceExceptReaders')).toMatchObject({
      Resource: expect.stringMatching(/\.arn\}\/reports\/\*$/),
      Condition: { StringNotEquals: { 'aws:sourceVpce': 'vpce-1', 'aws:PrincipalAccount': ['444444444444'] }, ArnNotEquals: { 'aws:PrincipalArn': ['arn:aws:iam::333333333333:role/r'] } },
    });
    // Without named writers, uploads from outside the endpoint are denied to everyone.
    expect(sid(statements, 'DenyWritesOutsideVpce').Condition).not.toHaveProperty('ArnNotEquals');
  });

  it('extra statements are appended with the bucket ARN', () => {
    const statements = policyOf(build({ extraStatements: (arn) => [{ Sid: 'CloudTrailAclCheck', Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:GetBucketAcl', Resource: arn }] }).tf);
    expect(statements[statements.length - 1]).toMatchObject({ Sid: 'CloudTrailAclCheck', Resource: expect.stringMatching(/^\$\{aws_s3_bucket\.[^.]+\.arn\}$/) });
  });

  it('read and write statements are least privilege on objects under a prefix', () => {
    let bucket!: SecureBucket;
    synthConstruct((s) => { bucket = new SecureBucket(s, 'b', props); });
    expect(bucket.readStatements('ReadInput', 'transactions/')).toEqual([
      { Sid: 'ReadInputObjects', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: `${bucket.arn}/transactions/*` },
      { Sid: 'ReadInputList', Effect: 'Allow', Action: 's3:ListBucket', Resource: bucket.arn, Condition: { StringLike: { 's3:prefix': ['transactions/*'] } } },
    ]);
    expect(bucket.writeStatements('Out', 'processed/')).toEqual([
      { Sid: 'OutWrite', Effect: 'Allow', Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'], Resource: `${bucket.arn}/processed/*` },
    ]);
    expect(bucket.readStatements('All')[1]).not.toHaveProperty('Condition');
  });

  it.each([
    [{ bucketName: 'a' }, /SecureBucket b: bucketName "a" is not a valid bucket name/],
    [{ accessLogBucket: undefined }, /SecureBucket b: accessLogBucket is required for every data bucket/],
    [{ lifecycleRules: [] }, /SecureBucket b: at least one lifecycle rule is required/],
    [{ sourceVpceId: 'vpce-1', outsideVpceReaders: { prefix: 'reports/', principalArns: [], accountIds: [] } }, /outsideVpceReaders needs at least one principal ARN or account id/],
    [{ sourceVpceId: 'vpce-1', outsideVpceReaders: { prefix: 'reports', principalArns: ['arn:aws:iam::333333333333:role/r'], accountIds: [] } }, /outsideVpceReaders.prefix must be a key prefix ending in \/ \(got "reports"\)/],
  ])('rejects %j', (over, message) => {
    expect(() => build(over as Partial<SecureBucketProps>)).toThrow(message);
  });
});

describe('KmsKey', () => {
  const props: KmsKeyProps = { alias: 'finbatch-dev-test', description: 'test key', accountId: ACCOUNT };
  const build = (over: Partial<KmsKeyProps> = {}) => synthConstruct((s) => new KmsKey(s, 'k', { ...props, ...over }));
  const policy = (over: Partial<KmsKeyProps> = {}) => statementsOf(only(build(over).tf, 'aws_kms_key').policy);

  it('rotation on, a 30-day deletion window by default, an alias on the key, the partition looked up', () => {
    const { json } = build();
    expect(json).toHaveResourceWithProperties(AwsKmsKey, { description: 'test key', enable_key_rotation: true, deletion_window_in_days: 30 });
    expect(json).toHaveResourceWithProperties(KmsAlias, { name: 'alias/finbatch-dev-test', target_key_id: ref('aws_kms_key', 'key_id') });
    expect(json).toHaveDataSource(DataAwsPartition);
    expect(build({ deletionWindowDays: 7 }).json).toHaveResourceWithProperties(AwsKmsKey, { deletion_window_in_days: 7 });
  });

  it('defaults to kms:* for the account root of this partition, then the caller\'s statements', () => {
    const extra = serviceUseStatement('SnsUse', 'sns.amazonaws.com');
    const [root, ...rest] = policy({ statements: [extra] });
    expect(root).toEqual({ Sid: 'AccountRootAdministers', Effect: 'Allow', Principal: { AWS: `arn:${PARTITION}:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' });
    expect(rest).toEqual([extra]);
  });

  it('administer: management only, and use only through the named service of this account', () => {
    const [root, use, grants] = policy({ rootAccess: 'administer', statements: viaServiceStatements('S3', ACCOUNT, 'eu-west-1', ['s3'], 'aws') });
    expect(root.Action).toEqual(KEY_ADMIN_ACTIONS);
    expect((root.Action as string[]).filter((a) => /Decrypt|Encrypt|GenerateDataKey|CreateGrant|\*$/.test(a) && !/^kms:(Get|List)\*$/.test(a))).toEqual([]);
    expect(use).toMatchObject({ Sid: 'S3UseViaService', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: KEY_USE_ACTIONS, Resource: '*' });
    expect(use.Condition).toEqual({ StringEquals: { 'kms:CallerAccount': ACCOUNT, 'kms:ViaService': ['s3.eu-west-1.amazonaws.com'] } });
    expect(grants).toMatchObject({ Sid: 'S3GrantsForAwsResources', Action: ['kms:CreateGrant', 'kms:ListGrants', 'kms:RevokeGrant'] });
    expect(grants.Condition!.Bool).toEqual({ 'kms:GrantIsForAWSResource': true });
  });

  it('useStatement/decryptStatement grant the concrete key ARN', () => {
    let key!: KmsKey;
    synthConstruct((s) => { key = new KmsKey(s, 'k', props); });
    expect(key.decryptStatement('Read')).toEqual({ Sid: 'Read', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: key.arn });
    expect(key.useStatement('Rw')).toEqual({ Sid: 'Rw', Effect: 'Allow', Action: KEY_USE_ACTIONS, Resource: key.arn });
    expect(key.useStatement('Rw').Action).toContain('kms:GenerateDataKey*');
  });

  it('service statements: named actions for a service principal; CloudWatch Logs scoped by its encryption context', () => {
    expect(serviceUseStatement('X', 'sns.amazonaws.com', { StringEquals: { 'aws:SourceAccount': ACCOUNT } }, ['kms:Decrypt'])).toEqual({
      Sid: 'X', Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' }, Action: ['kms:Decrypt'], Resource: '*', Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
    });
    expect(serviceUseStatement('Y', 'sns.amazonaws.com')).not.toHaveProperty('Condition');
    expect(cloudWatchLogsStatement('eu-west-1', ACCOUNT, 'aws-us-gov')).toMatchObject({
      Sid: 'CloudWatchLogsUse', Principal: { Service: 'logs.eu-west-1.amazonaws.com' },
      Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:aws-us-gov:logs:eu-west-1:${ACCOUNT}:*` } },
    });
  });

  it.each([
    [{ deletionWindowDays: 6 }, /KmsKey k: deletionWindowDays must be 7-30, got 6/],
    [{ deletionWindowDays: 31 }, /KmsKey k: deletionWindowDays must be 7-30, got 31/],
    [{ alias: 'aws/s3' }, /KmsKey k: alias "aws\/s3" must be \[a-zA-Z0-9\/_-\] and not start with aws\//],
    [{ alias: 'bad alias' }, /KmsKey k: alias "bad alias"/],
  ])('rejects %o', (over, message) => {
    expect(() => build(over)).toThrow(message);
  });

  it('refuses an empty service list', () => {
    expect(() => viaServiceStatements('X', ACCOUNT, 'eu-west-1', [], 'aws')).toThrow(/viaServiceStatements X: services must not be empty/);
  });
});

describe('Alarm', () => {
  const base: AlarmProps = {
    alarmName: 'a', description: 'd',
    metric: { namespace: 'AWS/Lambda', metricName: 'Errors', dimensions: { FunctionName: 'f' }, statistic: 'Sum' },
    periodSeconds: 300, evaluationPeriods: 1, threshold: 1, comparison: 'GreaterThanOrEqualToThreshold',
    treatMissingData: 'notBreaching', alarmTopicArns: ['arn:aws:sns:eu-west-1:111111111111:t'],
  };
  const build = (over: Partial<AlarmProps> = {}) => synthConstruct((s) => new Alarm(s, 'x', { ...base, ...over }));

  it('a single metric with every setting, enabled, notifying on ALARM and OK by default', () => {
    expect(build({ evaluationPeriods: 3, datapointsToAlarm: 2 }).json).toHaveResourceWithProperties(CloudwatchMetricAlarm, {
      alarm_name: 'a', alarm_description: 'd', namespace: 'AWS/Lambda', metric_name: 'Errors', dimensions: { FunctionName: 'f' }, statistic: 'Sum',
      period: 300, evaluation_periods: 3, datapoints_to_alarm: 2, threshold: 1, comparison_operator: 'GreaterThanOrEqualToThreshold',
      treat_missing_data: 'notBreaching', actions_enabled: true, alarm_actions: base.alarmTopicArns, ok_actions: base.alarmTopicArns,
    });
    // datapointsToAlarm defaults to every evaluation period.
    expect(build().json).toHaveResourceWithProperties(CloudwatchMetricAlarm, { evaluation_periods: 1, datapoints_to_alarm: 1 });
  });

  it('only on ALARM when asked', () => {
    const { json, tf } = build({ notifyOnOk: false });
    expect(json).toHaveResourceWithProperties(CloudwatchMetricAlarm, { alarm_actions: base.alarmTopicArns });
    expect(only(tf, 'aws_cloudwatch_metric_alarm').ok_actions).toBeUndefined();
  });

  it('renders metric math with hidden inputs and one returned expression', () => {
    const { json, tf } = build({ metric: { metrics: { r: { namespace: 'N', metricName: 'M', dimensions: { D: 'v' }, statistic: 'Sum' } }, intermediate: { f: 'FILL(r, 0)' }, expression: 'f * 2', label: 'L' } });
    expect(json).toHaveResourceWithProperties(CloudwatchMetricAlarm, {
      metric_query: [
        { id: 'r', return_data: false, metric: { namespace: 'N', metric_name: 'M', dimensions: { D: 'v' }, stat: 'Sum', period: 300 } },
        { id: 'f', expression: 'FILL(r, 0)', return_data: false },
        { id: 'alarmed', expression: 'f * 2', label: 'L', return_data: true },
      ],
    });
    expect(only(tf, 'aws_cloudwatch_metric_alarm').metric_name).toBeUndefined();
  });

  it.each([
    [{ alarmTopicArns: [] }, /alarmTopicArns must name at least one topic/],
    [{ periodSeconds: 90 }, /periodSeconds must be 10, 30 or a multiple of 60, got 90/],
    [{ periodSeconds: 86400, evaluationPeriods: 2 }, /periodSeconds x evaluationPeriods must be 1..86400 s, got 172800/],
    [{ evaluationPeriods: 2, datapointsToAlarm: 3 }, /datapointsToAlarm must be 1..evaluationPeriods \(2\), got 3/],
  ])('rejects %o', (over, message) => {
    expect(() => build(over as Partial<AlarmProps>)).toThrow(message);
  });
});

describe('AlertTopic', () => {
  const props: AlertTopicProps = { topicName: 'finbatch-dev-alerts', kmsKeyArn: KEY, email: 'ops@bank.test', region: 'eu-west-1', accountId: ACCOUNT };
  const build = (over: Partial<AlertTopicProps> = {}, scope?: (s: IConstruct) => Partial<AlertTopicProps>) =>
    synthConstruct((s) => new AlertTopic(s, 't', { ...props, ...over, ...scope?.(s) }));

  it('a KMS-encrypted topic with an e-mail subscription', () => {
    const { json } = build();
    expect(json).toHaveResourceWithProperties(SnsTopic, { name: 'finbatch-dev-alerts', kms_master_key_id: KEY });
    expect(json).toHaveResourceWithProperties(SnsTopicSubscription, { topic_arn: ref('aws_sns_topic', 'arn'), protocol: 'email', endpoint: 'ops@bank.test' });
    expect(json).toHaveResourceWithProperties(SnsTopicPolicy, { arn: ref('aws_sns_topic', 'arn') });
  });

  it('policy: alarms and rules of this account publish, nothing without TLS', () => {
    const statements = statementsOf(only(build().tf, 'aws_sns_topic_policy').policy);
    expect(statements.map((s) => s.Sid)).toEqual(['CloudWatchAlarmsPublish', 'EventBridgeRulesPublish', 'DenyInsecureTransport']);
    expect(sid(statements, 'CloudWatchAlarmsPublish')).toEqual({
      Sid: 'CloudWatchAlarmsPublish', Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish',
      Resource: expect.stringMatching(/^\$\{aws_sns_topic\.[^.]+\.arn\}$/),
      Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT }, ArnLike: { 'aws:SourceArn': `arn:${PARTITION}:cloudwatch:eu-west-1:${ACCOUNT}:alarm:*` } },
    });
    expect(sid(statements, 'EventBridgeRulesPublish').Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': ACCOUNT }, ArnLike: { 'aws:SourceArn': `arn:${PARTITION}:events:eu-west-1:${ACCOUNT}:rule/*` },
    });
    expect(sid(statements, 'DenyInsecureTransport')).toMatchObject({ Effect: 'Deny', Principal: '*', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
  });

  it('a Terraform variable as the address is checked by the variable, not here', () => {
    const { json } = build({}, (s) => ({ email: new TerraformVariable(s, 'email', { type: 'string' }).stringValue }));
    expect(json).toHaveResourceWithProperties(SnsTopicSubscription, { endpoint: '${var.email}' });
  });

  it.each([
    [{ email: 'not-an-address' }, /AlertTopic t: email "not-an-address" must be an email address/],
    [{ kmsKeyArn: undefined }, /AlertTopic t: give exactly one of key and kmsKeyArn/],
  ])('rejects %o', (over, message) => {
    expect(() => build(over)).toThrow(message);
  });

  it('rejects a key given twice (key and kmsKeyArn)', () => {
    expect(() => build({}, (s) => ({ key: new KmsKey(s, 'k', { alias: 'a', description: 'd', accountId: ACCOUNT }) }))).toThrow(/AlertTopic t: give exactly one of key and kmsKeyArn/);
  });
});

describe('DeadLetterQueue', () => {
  const props: DeadLetterQueueProps = { queueName: 'finbatch-dev-x-dlq', kmsKeyArn: KEY, accountId: ACCOUNT };
  const build = (over: Partial<DeadLetterQueueProps> = {}) => synthConstruct((s) => new DeadLetterQueue(s, 'dlq', { ...props, ...over }));

  it('is encrypted (data key reused 5 minutes), keeps messages 14 days, and accepts no SQS redrive by default', () => {
    const { json, tf } = build();
    expect(json).toHaveResourceWithProperties(SqsQueue, {
      name: 'finbatch-dev-x-dlq', kms_master_key_id: KEY, kms_data_key_reuse_period_seconds: 300, message_retention_seconds: 1209600,
    });
    expect(DLQ_RETENTION_SECONDS).toBe(1209600);
    expect(JSON.parse(only(tf, 'aws_sqs_queue').redrive_allow_policy)).toEqual({ redrivePermission: 'denyAll' });
  });

  it('queue policy: TLS only, nothing else by default', () => {
    expect(statementsOf(only(build().tf, 'aws_sqs_queue_policy').policy)).toEqual([{
      Sid: 'DenyInsecureTransport', Effect: 'Deny', Principal: '*', Action: 'sqs:*',
      Resource: expect.stringMatching(/^\$\{aws_sqs_queue\.[^.]+\.arn\}$/), Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    }]);
  });

  it('allow-lists named source queues and EventBridge rules when given', () => {
    const { tf } = build({ redriveSourceQueueArns: ['arn:aws:sqs:eu-west-1:111111111111:src'], eventBridgeRuleArns: ['arn:aws:events:eu-west-1:111111111111:rule/r'] });
    expect(JSON.parse(only(tf, 'aws_sqs_queue').redrive_allow_policy)).toEqual({ redrivePermission: 'byQueue', sourceQueueArns: ['arn:aws:sqs:eu-west-1:111111111111:src'] });
    const statements = statementsOf(only(tf, 'aws_sqs_queue_policy').policy);
    expect(statements.map((s) => s.Sid)).toEqual(['DenyInsecureTransport', 'EventBridgeRulesSendFailedEvents']);
    expect(statements[1]).toMatchObject({ Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage' });
    expect(statements[1].Condition).toEqual({ ArnEquals: { 'aws:SourceArn': ['arn:aws:events:eu-west-1:111111111111:rule/r'] }, StringEquals: { 'aws:SourceAccount': ACCOUNT } });
  });

  it('consumeStatement lets an operator drain exactly this queue', () => {
    let dlq!: DeadLetterQueue;
    synthConstruct((s) => { dlq = new DeadLetterQueue(s, 'dlq', props); });
    expect(dlq.consumeStatement('Drain')).toEqual({
      Sid: 'Drain', Effect: 'Allow', Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'], Resource: dlq.arn,
    });
    expect(dlq.queueName).toBe('finbatch-dev-x-dlq');
  });

  it('rejects a bad queue name, naming the prop', () => {
    expect(() => build({ queueName: 'bad name!' })).toThrow(/DeadLetterQueue dlq: queueName "bad name!"/);
  });
});

describe('EncryptedLogGroup', () => {
  const build = (retentionDays: number) => synthConstruct((s) => new EncryptedLogGroup(s, 'logs', { name: '/aws/lambda/f', retentionDays, kmsKeyArn: KEY }));

  it('is KMS-encrypted with the given retention', () => {
    expect(build(365).json).toHaveResourceWithProperties(CloudwatchLogGroup, { name: '/aws/lambda/f', retention_in_days: 365, kms_key_id: KEY });
  });

  it('rejects a retention CloudWatch does not offer', () => {
    expect(() => build(366)).toThrow(/EncryptedLogGroup logs: retentionDays 366 is not a CloudWatch retention value/);
  });
});

describe('NodejsFunction', () => {
  const props: NodejsFunctionProps = {
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
  };
  const build = (over: Partial<NodejsFunctionProps> = {}) => synthConstruct((s) => new NodejsFunction(s, 'orchestrator', { ...props, ...over }));
  const policyOf = (tf: Json) => statementsOf(only(tf, 'aws_iam_role_policy').policy);

  it('synthesizes nodejs22.x on arm64 with X-Ray, DLQ, VPC, reserved concurrency, JSON logs to its own group and the bundle hash', () => {
    const { json } = build({ environment: { TABLE: 't' } });
    expect(json).toHaveResourceWithProperties(LambdaFunction, {
      function_name: 'finbatch-dev-orchestrator',
      description: 'orchestrator handler',
      runtime: 'nodejs22.x',
      handler: 'index.handler',
      architectures: ['arm64'],
      timeout: 300,
      memory_size: 512,
      tracing_config: { mode: 'Active' },
      dead_letter_config: { target_arn: 'arn:aws:sqs:us-east-1:111111111111:dlq' },
      vpc_config: { subnet_ids: ['subnet-1', 'subnet-2'], security_group_ids: ['sg-1'] },
      reserved_concurrent_executions: 5,
      kms_key_arn: 'arn:aws:kms:us-east-1:111111111111:key/env',
      source_code_hash: bundleHandler('orchestrator').sha256Base64,
      filename: expect.stringMatching(/^assets\/.+\/function\.zip$/),
      role: ref('aws_iam_role', 'arn'),
      logging_config: { log_format: 'JSON', log_group: ref('aws_cloudwatch_log_group', 'name') },
      environment: { variables: { POWERTOOLS_SERVICE_NAME: 'orchestrator', TABLE: 't' } },
      depends_on: [expect.stringMatching(/^aws_cloudwatch_log_group\./)],
    });
    expect(json).toHaveResourceWithProperties(CloudwatchLogGroup, { name: '/aws/lambda/finbatch-dev-orchestrator', retention_in_days: 365, kms_key_id: 'arn:aws:kms:us-east-1:111111111111:key/logs' });
  });

  it('outside a VPC and without a DLQ: neither block, nor their statements', () => {
    const { tf } = build({ vpc: undefined, deadLetterQueueArn: undefined, statements: undefined });
    const fn = only(tf, 'aws_lambda_function');
    expect(fn.vpc_config).toBeUndefined();
    expect(fn.dead_letter_config).toBeUndefined();
    expect(policyOf(tf).map((s) => s.Sid)).toEqual(['OwnLogGroupOnly', 'XRayTraces', 'EnvironmentKey', 'DenyDestructiveActions']);
  });

  it('gives the function its own role, assumed by Lambda, with the handler statements and the explicit denies last', () => {
    const { json, tf } = build();
    expect(json).toHaveResourceWithProperties(IamRole, { name: functionRoleName('finbatch-dev-orchestrator') });
    expect(functionRoleName('finbatch-dev-orchestrator')).toBe('finbatch-dev-orchestrator-role');
    expect(statementsOf(only(tf, 'aws_iam_role').assume_role_policy)).toEqual([
      expect.objectContaining({ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }),
    ]);
    const statements = policyOf(tf);
    expect(statements.map((s) => s.Sid)).toEqual(['OwnLogGroupOnly', 'XRayTraces', 'EnvironmentKey', 'VpcNetworkInterfaces', 'DeadLetterQueue', 'ReadInput', 'DenyDestructiveActions']);
    expect(sid(statements, 'OwnLogGroupOnly')).toMatchObject({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: expect.stringMatching(/^\$\{aws_cloudwatch_log_group\.[^.]+\.arn\}:\*$/) });
    expect(sid(statements, 'EnvironmentKey')).toMatchObject({ Action: ['kms:Decrypt'], Resource: 'arn:aws:kms:us-east-1:111111111111:key/env' });
    expect(sid(statements, 'DeadLetterQueue')).toMatchObject({ Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:us-east-1:111111111111:dlq' });
    expect(sid(statements, 'DenyDestructiveActions')).toEqual(EXPLICIT_DENY_STATEMENT);
    expect(EXPLICIT_DENY_STATEMENT).toMatchObject({ Effect: 'Deny', Action: ['s3:DeleteBucket', 's3:PutBucketPolicy', 'kms:DisableKey', 'kms:ScheduleKeyDeletion', 'dynamodb:DeleteTable'] });
  });

  it('invokeStatement names exactly this function and its versions', () => {
    let fn!: NodejsFunction;
    synthConstruct((s) => { fn = new NodejsFunction(s, 'orchestrator', props); });
    expect(fn.invokeStatement('Invoke')).toEqual({ Sid: 'Invoke', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: [fn.arn, `${fn.arn}:*`] });
  });

  it('fails clearly for a missing entry', () => {
    expect(() => bundleHandler('no-such-handler')).toThrow('lambda entry not found: lambda-src/no-such-handler/index.ts');
    expect(() => build({ entry: 'no-such-handler' })).toThrow('lambda entry not found: lambda-src/no-such-handler/index.ts');
  });

  it.each([
    [{ timeoutSeconds: 901 }, /timeoutSeconds must be 1-900, got 901/],
    [{ memoryMb: 64 }, /memoryMb must be 128-10240, got 64/],
    [{ reservedConcurrency: 0 }, /reservedConcurrency must be >= 1, got 0/],
    [{ logRetentionDays: 366 }, /retentionDays 366 is not a CloudWatch retention value/],
  ])('rejects bad props %o', (over, message) => {
    expect(() => build(over)).toThrow(message);
  });
});

describe('policy documents', () => {
  const allow: PolicyStatement = { Sid: 'A', Effect: 'Allow', Action: 's3:GetObject', Resource: '*' };

  it('renders version 2012-10-17 with the statements as given', () => {
    expect(JSON.parse(renderPolicy([allow]))).toEqual({ Version: '2012-10-17', Statement: [allow] });
  });

  it.each([
    [[allow, allow], /policy has duplicate Sid "A"/],
    [[{ ...allow, Sid: 'a-b' }], /policy Sid "a-b" must be alphanumeric/],
    [[{ Sid: 'N', Effect: 'Allow', Action: 's3:*', NotResource: 'x' }], /policy statement N: NotResource only in a Deny, and not together with Resource/],
    [[{ Sid: 'N', Effect: 'Deny', Action: 's3:*', NotResource: 'x', Resource: 'y' }], /policy statement N: NotResource only in a Deny/],
  ] as [PolicyStatement[], RegExp][])('refuses %j', (statements, message) => {
    expect(() => policyDocument(statements)).toThrow(message);
  });

  it('a trust policy for a service, pinned to the account when given', () => {
    expect(JSON.parse(assumeRolePolicy('lambda.amazonaws.com')).Statement).toEqual([{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]);
    expect(JSON.parse(assumeRolePolicy(['ecs-tasks.amazonaws.com'], ACCOUNT)).Statement).toEqual([{
      Effect: 'Allow', Principal: { Service: ['ecs-tasks.amazonaws.com'] }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
    }]);
  });
});
