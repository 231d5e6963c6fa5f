/**
 * Security baseline, every singleton created (dev config). Synthesized once for the file.
 */
import { resources, synthPlatform, testConfig, TfJson } from '../../test-support/config-fixture';
import { Cloudtrail } from '@cdktf/provider-aws/lib/cloudtrail';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { ConfigConfigurationRecorderStatus } from '@cdktf/provider-aws/lib/config-configuration-recorder-status';
import { ConfigDeliveryChannel } from '@cdktf/provider-aws/lib/config-delivery-channel';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { CIS_CHECKS } from '../../stacks/security/cis-alarms';
import { GUARDDUTY_FEATURES } from '../../stacks/security/guardduty';
import { MANAGED_CONFIG_RULES } from '../../stacks/security/config-recorder';
import { ACCOUNT, asArray as asList, PARTITION, sid, statementsOf } from '../../test-support/terraform-json';

type R = Record<string, unknown>;

const { tf, json, platform } = synthPlatform(testConfig());
const sec: TfJson = tf['security-baseline'];
const sbJson = json['security-baseline'];
const TRAIL_ARN = `arn:${PARTITION}:cloudtrail:us-east-1:${ACCOUNT}:trail/finbatch-dev-trail`;

const only = (type: string, pred: (r: R) => boolean = () => true): [string, R] => {
  const hits = Object.entries(resources(sec, type)).filter(([, r]) => pred(r));
  if (hits.length !== 1) throw new Error(`expected one ${type}, found ${hits.length}`);
  return hits[0];
};
const ref = (type: string, id: string, attr: string) => `\${${type}.${id}.${attr}}`;

const [auditKeyId, auditKey] = only('aws_kms_key');
const auditKeyArn = ref('aws_kms_key', auditKeyId, 'arn');
const [topicId] = only('aws_sns_topic');
const topicArn = ref('aws_sns_topic', topicId, 'arn');
const [auditBucketId] = only('aws_s3_bucket', (b) => String(b.bucket).startsWith('finbatch-dev-audit-trail-'));
const [accessBucketId] = only('aws_s3_bucket', (b) => String(b.bucket).startsWith('finbatch-dev-access-logs-'));
const [trailLogGroupId, trailLogGroup] = only('aws_cloudwatch_log_group');

describe('audit KMS key', () => {
  const stmts = statementsOf(auditKey.policy as string);

  it('has rotation and a 30-day deletion window', () => {
    expect(auditKey).toBeDefined(); // the one key of the stack
    expect(sbJson).toHaveResourceWithProperties(KmsKey, { enable_key_rotation: true, deletion_window_in_days: 30 });
  });

  it('lets CloudTrail encrypt only for this account\'s trails, pinned to our trail', () => {
    const s = sid(stmts, 'CloudTrailEncryptLogs');
    expect(s.Principal).toEqual({ Service: 'cloudtrail.amazonaws.com' });
    expect(s.Action).toEqual(['kms:GenerateDataKey*']);
    expect(s.Condition).toEqual({
      StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': `arn:${PARTITION}:cloudtrail:*:${ACCOUNT}:trail/*` },
      StringEquals: { 'aws:SourceArn': TRAIL_ARN },
    });
    expect(sid(stmts, 'CloudTrailDescribeKey')).toMatchObject({ Action: ['kms:DescribeKey'], Condition: { StringEquals: { 'aws:SourceArn': TRAIL_ARN } } });
  });

  it('lets CloudWatch Logs use it only with this account/region\'s log-group encryption context', () => {
    const s = sid(stmts, 'CloudWatchLogsUse');
    expect(s.Principal).toEqual({ Service: 'logs.us-east-1.amazonaws.com' });
    expect(s.Condition).toEqual({ ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${PARTITION}:logs:us-east-1:${ACCOUNT}:*` } });
    expect(asList(s.Action)).toEqual(expect.arrayContaining(['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey*']));
  });

  it.each([
    ['ConfigDelivery', 'config.amazonaws.com'],
    ['SnsTopicEncryption', 'sns.amazonaws.com'],
    ['EventBridgePublish', 'events.amazonaws.com'],
    ['CloudWatchAlarmsPublish', 'cloudwatch.amazonaws.com'],
  ])('lets %s (%s) generate data keys and decrypt, for this account only', (statementSid, service) => {
    const s = sid(stmts, statementSid);
    expect(s).toMatchObject({ Effect: 'Allow', Principal: { Service: service }, Resource: '*' });
    expect(asList(s.Action).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
    expect(s.Condition).toEqual({ StringEquals: { 'aws:SourceAccount': ACCOUNT } });
  });

  it('grants kms:* only to the account root', () => {
    for (const s of stmts.filter((x) => asList(x.Action).includes('kms:*'))) {
      expect(s.Principal).toEqual({ AWS: `arn:${PARTITION}:iam::${ACCOUNT}:root` });
    }
  });
});

describe('buckets', () => {
  const sse = (bucketId: string) => only('aws_s3_bucket_server_side_encryption_configuration',
    (r) => r.bucket === ref('aws_s3_bucket', bucketId, 'id'))[1];
  const policyOfBucket = (bucketId: string) => statementsOf(only('aws_s3_bucket_policy',
    (r) => r.bucket === ref('aws_s3_bucket', bucketId, 'id'))[1].policy as string);
  const lifecycle = (bucketId: string) => only('aws_s3_bucket_lifecycle_configuration',
    (r) => r.bucket === ref('aws_s3_bucket', bucketId, 'id'))[1];

  it('audit bucket: SSE-KMS with the audit key and bucket key, versioning, all public-access blocks', () => {
    expect(sse(auditBucketId).rule).toEqual([{ apply_server_side_encryption_by_default: { sse_algorithm: 'aws:kms', kms_master_key_id: auditKeyArn }, bucket_key_enabled: true }]);
    expect(json['security-baseline']).toHaveResourceWithProperties({ tfResourceType: 'aws_s3_bucket_versioning' },
      { bucket: ref('aws_s3_bucket', auditBucketId, 'id'), versioning_configuration: { status: 'Enabled' } });
    expect(json['security-baseline']).toHaveResourceWithProperties({ tfResourceType: 'aws_s3_bucket_public_access_block' }, {
      bucket: ref('aws_s3_bucket', auditBucketId, 'id'), block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true,
    });
  });

  it('audit bucket: Glacier at 90 days, kept >= 7 years, access logs to the access-log bucket, no Object Lock unless configured', () => {
    const [rule] = lifecycle(auditBucketId).rule as R[];
    expect(rule.transition).toEqual([{ days: 90, storage_class: 'GLACIER' }]);
    expect((rule.expiration as { days: number }[])[0].days).toBeGreaterThanOrEqual(2555);
    expect(only('aws_s3_bucket_logging', (r) => r.bucket === ref('aws_s3_bucket', auditBucketId, 'id'))[1].target_bucket)
      .toBe(ref('aws_s3_bucket', accessBucketId, 'bucket'));
    expect(resources(sec, 'aws_s3_bucket_object_lock_configuration')).toEqual({});
  });

  it('audit bucket policy: TLS only, CloudTrail ACL check and write pinned to the trail ARN', () => {
    const stmts = policyOfBucket(auditBucketId);
    const arn = ref('aws_s3_bucket', auditBucketId, 'arn');
    expect(sid(stmts, 'DenyInsecureTransport')).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    expect(sid(stmts, 'AWSCloudTrailAclCheck')).toEqual({
      Sid: 'AWSCloudTrailAclCheck', Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:GetBucketAcl',
      Resource: arn, Condition: { StringEquals: { 'aws:SourceArn': TRAIL_ARN } },
    });
    expect(sid(stmts, 'AWSCloudTrailWrite')).toEqual({
      Sid: 'AWSCloudTrailWrite', Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:PutObject',
      Resource: `${arn}/cloudtrail/AWSLogs/${ACCOUNT}/*`,
      Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceArn': TRAIL_ARN } },
    });
    expect(sid(stmts, 'AWSConfigBucketDelivery')).toMatchObject({
      Principal: { Service: 'config.amazonaws.com' }, Resource: `${arn}/config/AWSLogs/${ACCOUNT}/Config/*`,
      Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceAccount': ACCOUNT } },
    });
  });

  it('access-log bucket: SSE-S3 (server access logging cannot write SSE-KMS), 7-year lifecycle, log-delivery write only', () => {
    expect(sse(accessBucketId).rule).toEqual([{ apply_server_side_encryption_by_default: { sse_algorithm: 'AES256' } }]);
    expect((lifecycle(accessBucketId).rule as R[])[0].expiration).toEqual([{ days: 2557 }]);
    expect(sid(policyOfBucket(accessBucketId), 'S3ServerAccessLogsWrite')).toMatchObject({
      Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject', Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
    });
    expect(sec.output?.access_log_bucket.value).toBe(ref('aws_s3_bucket', accessBucketId, 'bucket'));
  });
});

describe('CloudTrail', () => {
  const [, trail] = only('aws_cloudtrail');

  it('is multi-region with global events, validation, KMS, delivered to the audit bucket and CloudWatch Logs', () => {
    expect(trail).toBeDefined(); // the one trail of the stack
    expect(sbJson).toHaveResourceWithProperties(Cloudtrail, {
      name: 'finbatch-dev-trail', is_multi_region_trail: true, include_global_service_events: true, enable_log_file_validation: true,
      enable_logging: true, kms_key_id: auditKeyArn, s3_bucket_name: ref('aws_s3_bucket', auditBucketId, 'bucket'), s3_key_prefix: 'cloudtrail',
      cloud_watch_logs_group_arn: `${ref('aws_cloudwatch_log_group', trailLogGroupId, 'arn')}:*`,
    });
    expect(trail.depends_on).toEqual(expect.arrayContaining([expect.stringMatching(/^aws_s3_bucket_policy\.audit-trail-bucket/)]));
  });

  it('selects management events and data events of the platform\'s buckets, tables and functions by name prefix', () => {
    const selectors = (trail.advanced_event_selector as { field_selector: R[] }[]).map((s) => s.field_selector);
    expect(selectors[0]).toEqual([{ field: 'eventCategory', equals: ['Management'] }]);
    const data = selectors.slice(1).map((fs) => ({
      type: (fs.find((f) => f.field === 'resources.type')!.equals as string[])[0],
      prefix: fs.find((f) => f.field === 'resources.ARN')!.starts_with,
      category: fs.find((f) => f.field === 'eventCategory')!.equals,
    }));
    expect(data).toEqual([
      { type: 'AWS::S3::Object', prefix: [`arn:${PARTITION}:s3:::finbatch-dev-`], category: ['Data'] },
      { type: 'AWS::DynamoDB::Table', prefix: [`arn:${PARTITION}:dynamodb:us-east-1:${ACCOUNT}:table/finbatch-dev-`], category: ['Data'] },
      { type: 'AWS::Lambda::Function', prefix: [`arn:${PARTITION}:lambda:us-east-1:${ACCOUNT}:function:finbatch-dev-`], category: ['Data'] },
    ]);
  });

  it('writes to a KMS-encrypted log group kept >= 365 days through a role scoped to that group', () => {
    expect(sbJson).toHaveResourceWithProperties(CloudwatchLogGroup, { name: '/aws/cloudtrail/finbatch-dev-trail', kms_key_id: auditKeyArn });
    expect(trailLogGroup.retention_in_days as number).toBeGreaterThanOrEqual(365);
    const [roleId, role] = only('aws_iam_role', (r) => r.name === 'finbatch-dev-cloudtrail-logs');
    expect(trail.cloud_watch_logs_role_arn).toBe(ref('aws_iam_role', roleId, 'arn'));
    expect(statementsOf(role.assume_role_policy as string)[0]).toMatchObject({
      Principal: { Service: 'cloudtrail.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': TRAIL_ARN } },
    });
    const [, policy] = only('aws_iam_role_policy', (r) => r.role === ref('aws_iam_role', roleId, 'id'));
    expect(statementsOf(policy.policy as string)).toEqual([expect.objectContaining({
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: `${ref('aws_cloudwatch_log_group', trailLogGroupId, 'arn')}:log-stream:*`,
    })]);
  });
});

describe('AWS Config', () => {
  const [recorderId, recorder] = only('aws_config_configuration_recorder');
  const [channelId, channel] = only('aws_config_delivery_channel');

  it('records every supported and global resource type with its own role (AWS_ConfigRole)', () => {
    expect(recorder.recording_group).toEqual({ all_supported: true, include_global_resource_types: true });
    const [roleId, role] = only('aws_iam_role', (r) => r.name === 'finbatch-dev-config');
    expect(recorder.role_arn).toBe(ref('aws_iam_role', roleId, 'arn'));
    expect(statementsOf(role.assume_role_policy as string)[0]).toMatchObject({ Principal: { Service: 'config.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } } });
    expect(json['security-baseline']).toHaveResourceWithProperties({ tfResourceType: 'aws_iam_role_policy_attachment' },
      { policy_arn: `arn:${PARTITION}:iam::aws:policy/service-role/AWS_ConfigRole` });
  });

  it('delivers to the audit bucket under config/ with the audit key; status is enabled after the channel', () => {
    expect(channel).toBeDefined(); // the one delivery channel of the stack
    expect(sbJson).toHaveResourceWithProperties(ConfigDeliveryChannel, { s3_bucket_name: ref('aws_s3_bucket', auditBucketId, 'bucket'), s3_key_prefix: 'config', s3_kms_key_arn: auditKeyArn });
    expect(channel.depends_on).toContain(`aws_config_configuration_recorder.${recorderId}`);
    only('aws_config_configuration_recorder_status');
    expect(sbJson).toHaveResourceWithProperties(ConfigConfigurationRecorderStatus, { is_enabled: true, name: ref('aws_config_configuration_recorder', recorderId, 'name'),
      depends_on: [`aws_config_delivery_channel.${channelId}`] });
  });

  it('creates the managed rules the issue requires', () => {
    const rules = Object.values(resources(sec, 'aws_config_config_rule'));
    const ids = rules.map((r) => (r.source as R).source_identifier);
    expect(ids).toEqual(expect.arrayContaining(['S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED', 'S3_BUCKET_SSL_REQUESTS_ONLY',
      'S3_BUCKET_PUBLIC_READ_PROHIBITED', 'S3_BUCKET_PUBLIC_WRITE_PROHIBITED', 'CLOUD_TRAIL_ENABLED', 'CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED',
      'DYNAMODB_PITR_ENABLED', 'CMK_BACKING_KEY_ROTATION_ENABLED', 'VPC_FLOW_LOGS_ENABLED', 'LAMBDA_INSIDE_VPC', 'RDS_STORAGE_ENCRYPTED',
      'INCOMING_SSH_DISABLED', 'RESTRICTED_INCOMING_TRAFFIC']));
    expect(rules).toHaveLength(Object.keys(MANAGED_CONFIG_RULES).length);
    for (const r of rules) {
      expect((r.source as R).owner).toBe('AWS');
      expect(r.depends_on).toEqual([expect.stringMatching(/^aws_config_configuration_recorder_status\./)]);
      expect(r.name).toMatch(/^finbatch-dev-/);
    }
  });
});

describe('GuardDuty and findings routing', () => {
  it('creates an enabled detector without the deprecated datasources block, plus the four protection features', () => {
    const [detectorId, detector] = only('aws_guardduty_detector');
    expect(detector.enable).toBe(true);
    expect(detector.datasources).toBeUndefined();
    const features = Object.values(resources(sec, 'aws_guardduty_detector_feature'));
    expect(features.map((f) => f.name).sort()).toEqual([...GUARDDUTY_FEATURES].sort());
    expect(GUARDDUTY_FEATURES).toEqual(expect.arrayContaining(['S3_DATA_EVENTS', 'EBS_MALWARE_PROTECTION', 'LAMBDA_NETWORK_LOGS', 'RDS_LOGIN_EVENTS']));
    for (const f of features) expect(f).toMatchObject({ status: 'ENABLED', detector_id: ref('aws_guardduty_detector', detectorId, 'id') });
  });

  it('routes findings at or above the configured severity to the security topic', () => {
    const [ruleId, rule] = only('aws_cloudwatch_event_rule', (r) => r.name === 'finbatch-dev-guardduty-findings');
    expect(JSON.parse(rule.event_pattern as string)).toEqual({
      source: ['aws.guardduty'], 'detail-type': ['GuardDuty Finding'], detail: { severity: [{ numeric: ['>=', 4] }] },
    });
    expect(only('aws_cloudwatch_event_target', (t) => t.rule === ref('aws_cloudwatch_event_rule', ruleId, 'name'))[1].arn).toBe(topicArn);
  });
});

describe('security-alert topic', () => {
  const [, topic] = only('aws_sns_topic');
  const stmts = statementsOf(only('aws_sns_topic_policy')[1].policy as string);

  it('is encrypted with the audit key and mails the configured security address', () => {
    expect(topic).toBeDefined(); // the one topic of the stack
    expect(sbJson).toHaveResourceWithProperties(SnsTopic, { name: 'finbatch-dev-security-alerts', kms_master_key_id: auditKeyArn });
    // The address is the security_email variable, whose default is the configured securityEmail.
    only('aws_sns_topic_subscription');
    expect(sbJson).toHaveResourceWithProperties(SnsTopicSubscription, { topic_arn: topicArn, protocol: 'email', endpoint: '${var.security_email}' });
    expect((sec.variable as Record<string, { default: string }>).security_email.default).toBe('security-ops@example.com');
    expect(only('aws_sns_topic_policy')[1].arn).toBe(topicArn);
  });

  it.each([
    ['EventBridgeRulesPublish', 'events.amazonaws.com', `arn:${PARTITION}:events:us-east-1:${ACCOUNT}:rule/*`],
    ['CloudWatchAlarmsPublish', 'cloudwatch.amazonaws.com', `arn:${PARTITION}:cloudwatch:us-east-1:${ACCOUNT}:alarm:*`],
  ])('topic policy %s lets %s publish from this account only', (statementSid, service, sourceArn) => {
    expect(sid(stmts, statementSid)).toEqual({
      Sid: statementSid, Effect: 'Allow', Principal: { Service: service }, Action: 'sns:Publish', Resource: topicArn,
      Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT }, ArnLike: { 'aws:SourceArn': sourceArn } },
    });
  });

  it('topic policy denies publishing without TLS and grants no one outside the account', () => {
    expect(sid(stmts, 'DenyInsecureTransport')).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    for (const s of stmts.filter((x) => x.Effect === 'Allow')) expect(s.Principal).not.toBe('*');
  });
});

describe('Security Hub', () => {
  it('enables the hub and subscribes FSBP and CIS with regional ARNs after the hub exists', () => {
    const [hubId, hub] = only('aws_securityhub_account');
    expect(hub.enable_default_standards).toBe(false);
    const subs = Object.values(resources(sec, 'aws_securityhub_standards_subscription'));
    expect(subs.map((s) => s.standards_arn).sort()).toEqual([
      `arn:${PARTITION}:securityhub:us-east-1::standards/aws-foundational-security-best-practices/v/1.0.0`,
      `arn:${PARTITION}:securityhub:us-east-1::standards/cis-aws-foundations-benchmark/v/3.0.0`,
    ]);
    for (const s of subs) expect(s.depends_on).toEqual([`aws_securityhub_account.${hubId}`]);
  });
});

describe('CIS metric filters and alarms', () => {
  const filters = Object.values(resources(sec, 'aws_cloudwatch_log_metric_filter'));
  const alarms = Object.values(resources(sec, 'aws_cloudwatch_metric_alarm'));

  it('has one filter on the trail log group per CIS check, covering the full monitoring set', () => {
    expect(CIS_CHECKS.map((c) => c.metric)).toEqual(expect.arrayContaining(['UnauthorizedApiCalls', 'ConsoleSignInWithoutMfa',
      'RootAccountUsage', 'IamPolicyChanges', 'CloudTrailConfigChanges', 'ConsoleAuthFailures', 'CmkDisableOrDeletion',
      'S3BucketPolicyChanges', 'ConfigChanges', 'SecurityGroupChanges', 'NaclChanges', 'NetworkGatewayChanges', 'RouteTableChanges', 'VpcChanges']));
    expect(filters).toHaveLength(CIS_CHECKS.length);
    for (const f of filters) {
      expect(f.log_group_name).toBe(ref('aws_cloudwatch_log_group', trailLogGroupId, 'name'));
      expect(f.metric_transformation).toMatchObject({ namespace: 'finbatch/Security', value: '1' });
    }
    const unauthorized = filters.find((f) => (f.metric_transformation as R).name === 'UnauthorizedApiCalls')!;
    expect(unauthorized.pattern).toBe('{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }');
  });

  it('every alarm watches its filter\'s metric, fires on one event in 5 minutes and notifies the security topic', () => {
    expect(alarms).toHaveLength(filters.length);
    for (const f of filters) {
      const mt = f.metric_transformation as R;
      const alarm = alarms.find((a) => a.metric_name === mt.name && a.namespace === mt.namespace);
      expect(alarm).toBeDefined();
      expect(alarm).toMatchObject({ statistic: 'Sum', period: 300, threshold: 1, comparison_operator: 'GreaterThanOrEqualToThreshold',
        evaluation_periods: 1, treat_missing_data: 'notBreaching' });
    }
    for (const a of alarms) expect(a.alarm_actions).toEqual([topicArn]);
    expect(platform.security.cisCheckCount).toBe(CIS_CHECKS.length);
    // With its own trail the stack uses metric-filter alarms; the EventBridge variant is for adopted trails only.
    expect(Object.values(resources(sec, 'aws_cloudwatch_event_rule')).map((r) => r.name)).toEqual(['finbatch-dev-guardduty-findings']);
  });
});

describe('stack contract', () => {
  it('is standalone: reads no other stack\'s state', () => {
    expect(sec.data?.terraform_remote_state).toBeUndefined();
  });

  it('outputs trail ARN, audit bucket, security topic, detector id and recorder name', () => {
    const out = sec.output ?? {};
    expect(out.trail_arn.value).toBe(ref('aws_cloudtrail', only('aws_cloudtrail')[0], 'arn'));
    expect(out.audit_bucket.value).toBe(ref('aws_s3_bucket', auditBucketId, 'bucket'));
    expect(out.security_topic_arn.value).toBe(topicArn);
    expect(out.guardduty_detector_id.value).toBe(ref('aws_guardduty_detector', only('aws_guardduty_detector')[0], 'id'));
    expect(out.config_recorder_name.value).toBe(ref('aws_config_configuration_recorder', only('aws_config_configuration_recorder')[0], 'name'));
    expect(out.audit_key_arn.value).toBe(auditKeyArn);
  });
});
