/**
 * Security baseline with every account singleton adopted (an organization owns the trail, Config
 * recorder, GuardDuty detector and Security Hub), plus Object Lock and a higher GuardDuty threshold.
 */
import { App, TerraformStack } from 'cdktf';
import { resources, synthPlatform, testConfig } from '../../test-support/config-fixture';
import { CIS_CHECKS } from '../../stacks/security/cis-alarms';
import { CIS_EVENT_PATTERNS } from '../../stacks/security/cis-events';
import { MANAGED_CONFIG_RULES } from '../../stacks/security/config-recorder';
import { AlertTopic } from '../../stacks/constructs/alert-topic';
import { GuardDutyBaseline } from '../../stacks/security/guardduty';
import { CisAlarms } from '../../stacks/security/cis-alarms';
import { AuditBucket } from '../../stacks/security/audit-bucket';
import { platformScope } from '../../test-support/platform-scope';

type R = Record<string, unknown>;
const { tf } = synthPlatform(testConfig({
  singletons: { cloudTrail: 'adopt', configRecorder: 'adopt', guardDuty: 'adopt', securityHub: 'adopt' },
  security: { objectLock: true, guardDutyMinSeverity: 7 },
}));
const sec = tf['security-baseline'];
const topicArn = `\${aws_sns_topic.${Object.keys(resources(sec, 'aws_sns_topic'))[0]}.arn}`;
const statements = (doc: unknown): { Sid?: string; Principal?: unknown }[] => JSON.parse(doc as string).Statement;

describe('security baseline with all singletons adopted', () => {
  it('creates none of the account singletons', () => {
    for (const type of ['aws_cloudtrail', 'aws_config_configuration_recorder', 'aws_config_delivery_channel',
      'aws_config_configuration_recorder_status', 'aws_guardduty_detector', 'aws_guardduty_detector_feature',
      'aws_securityhub_account', 'aws_securityhub_standards_subscription']) {
      expect(resources(sec, type)).toEqual({});
    }
  });

  it('creates no trail log group or trail/Config roles, and grants CloudTrail/Config nothing on the key or bucket', () => {
    expect(resources(sec, 'aws_cloudwatch_log_group')).toEqual({});
    expect(resources(sec, 'aws_iam_role')).toEqual({});
    const keySids = statements(Object.values(resources(sec, 'aws_kms_key'))[0].policy).map((s) => s.Sid);
    expect(keySids).not.toEqual(expect.arrayContaining(['CloudTrailEncryptLogs']));
    expect(keySids).not.toContain('ConfigDelivery');
    expect(keySids).toEqual(expect.arrayContaining(['EventBridgePublish', 'CloudWatchAlarmsPublish', 'SnsTopicEncryption', 'CloudWatchLogsUse']));
    const auditPolicy = Object.values(resources(sec, 'aws_s3_bucket_policy')).map((p) => statements(p.policy).map((s) => s.Sid)).flat();
    expect(auditPolicy).not.toContain('AWSCloudTrailWrite');
    expect(auditPolicy).not.toContain('AWSConfigBucketDelivery');
  });

  it('adopts the region\'s GuardDuty detector by data source and still routes its findings (severity >= 7)', () => {
    const [detectorId] = Object.keys(sec.data?.aws_guardduty_detector ?? {});
    expect(detectorId).toBeDefined();
    expect(sec.output?.guardduty_detector_id.value).toBe(`\${data.aws_guardduty_detector.${detectorId}.id}`);
    const [ruleId, rule] = Object.entries(resources(sec, 'aws_cloudwatch_event_rule')).find(([, r]) => r.name === 'finbatch-dev-guardduty-findings')!;
    expect(JSON.parse(rule.event_pattern as string).detail).toEqual({ severity: [{ numeric: ['>=', 7] }] });
    const target = Object.values(resources(sec, 'aws_cloudwatch_event_target')).find((t) => t.rule === `\${aws_cloudwatch_event_rule.${ruleId}.name}`)!;
    expect(target.arn).toBe(topicArn);
  });

  it('still creates every managed Config rule, without depending on a recorder it does not own', () => {
    const rules = Object.values(resources(sec, 'aws_config_config_rule'));
    expect(rules).toHaveLength(Object.keys(MANAGED_CONFIG_RULES).length);
    for (const r of rules) expect(r.depends_on).toBeUndefined();
  });

  it('wires every CIS check as an EventBridge rule to the security topic instead of metric-filter alarms', () => {
    expect(resources(sec, 'aws_cloudwatch_log_metric_filter')).toEqual({});
    expect(resources(sec, 'aws_cloudwatch_metric_alarm')).toEqual({});
    const rules = Object.entries(resources(sec, 'aws_cloudwatch_event_rule')).filter(([, r]) => String(r.name).startsWith('finbatch-dev-cis-'));
    expect(rules.map(([, r]) => r.name).sort()).toEqual(CIS_CHECKS.map((c) => `finbatch-dev-cis-${c.metric}`).sort());
    const targets = Object.values(resources(sec, 'aws_cloudwatch_event_target'));
    for (const [ruleId, rule] of rules) {
      const metric = String(rule.name).replace('finbatch-dev-cis-', '');
      expect(JSON.parse(rule.event_pattern as string)).toEqual(CIS_EVENT_PATTERNS[metric]);
      const ruleTargets = targets.filter((t) => t.rule === `\${aws_cloudwatch_event_rule.${ruleId}.name}`);
      expect(ruleTargets.map((t) => t.arn)).toEqual([topicArn]);
    }
    expect(CIS_EVENT_PATTERNS.UnauthorizedApiCalls).toEqual({
      source: [{ prefix: 'aws.' }],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: { errorCode: [{ suffix: 'UnauthorizedOperation' }, { prefix: 'AccessDenied' }] },
    });
    expect((CIS_EVENT_PATTERNS.RootAccountUsage.detail as R).userIdentity).toEqual({ type: ['Root'], invokedBy: [{ exists: false }] });
  });

  it('keeps the audit bucket under Object Lock in COMPLIANCE mode for the audit retention', () => {
    const bucket = Object.values(resources(sec, 'aws_s3_bucket')).find((b) => String(b.bucket).startsWith('finbatch-dev-audit-trail-'))!;
    expect(bucket.object_lock_enabled).toBe(true);
    const [lock] = Object.values(resources(sec, 'aws_s3_bucket_object_lock_configuration'));
    expect(lock.rule).toEqual({ default_retention: { mode: 'COMPLIANCE', days: 2557 } });
  });

  it('says in its outputs that the trail and recorder are adopted', () => {
    expect(sec.output?.trail_arn.value).toMatch(/^adopted/);
    expect(sec.output?.config_recorder_name.value).toMatch(/^adopted/);
    expect(sec.output?.security_topic_arn.value).toBe(topicArn);
  });
});

describe('security constructs reject bad props', () => {
  const scope = () => new TerraformStack(new App({ outdir: '/tmp/cdktf-security-bad-props' }), 'bad');
  // Parts read account, region and naming from their platform stack.
  const part = () => platformScope();

  it('AlertTopic rejects a malformed email', () => {
    expect(() => new AlertTopic(scope(), 't', { topicName: 't', kmsKeyArn: 'k', email: 'security-at-example', region: 'us-east-1', accountId: '1' }))
      .toThrow(/email "security-at-example" must be an email address/);
  });

  it('GuardDutyBaseline rejects a severity outside 1-8.9', () => {
    expect(() => new GuardDutyBaseline(part(), 'g', { createDetector: true, minSeverity: 9, alertTopicArn: 'arn' }))
      .toThrow(/minSeverity must be between 1 and 8.9, got 9/);
  });

  it('CisAlarms rejects an AWS/ namespace', () => {
    expect(() => new CisAlarms(part(), 'c', { logGroupName: 'g', namespace: 'AWS/Logs', alarmTopicArn: 'arn' }))
      .toThrow(/namespace "AWS\/Logs" must be non-empty and not start with AWS\//);
  });

  it('the audit bucket rejects retention under 7 years', () => {
    expect(() => new AuditBucket(part(), 'audit', 'b', { bucketName: 'audit-bucket', kmsKeyArn: 'k', accessLogBucket: 'logs',
      retentionDays: 365, objectLock: false, configDelivery: false })).toThrow(/retentionDays must be at least 2557/);
  });
});
