import { Construct } from 'constructs';
import { TerraformOutput } from 'cdktf';
import { PlatformConfig } from './config';
import { PlatformStack } from './platform-stack';
import { KmsKey } from './constructs/kms-key';
import { SecureBucket } from './constructs/secure-bucket';
import { auditKeyStatements } from './security/audit-key';
import { AuditBucket } from './security/audit-bucket';
import { AlertTopic } from './constructs/alert-topic';
import { alertEmailVariable, VARIABLE_NAMES } from './variables';
import { AuditTrail } from './security/cloudtrail';
import { ConfigBaseline } from './security/config-recorder';
import { GuardDutyBaseline } from './security/guardduty';
import { SecurityHubBaseline } from './security/security-hub';
import { CisAlarms } from './security/cis-alarms';
import { CisEventRules } from './security/cis-events';

/**
 * Account-level audit baseline: audit KMS key, server-access-log bucket (target for every bucket of
 * the platform), audit-trail bucket, security-alert topic, CloudTrail, AWS Config, GuardDuty,
 * Security Hub and the CIS metric-filter alarms.
 * Standalone: other stacks consume its access-log bucket; it never references them (CloudTrail data
 * events select the platform's resources by their name prefix).
 * Account singletons follow `cfg.singletons`: "adopt" creates nothing for that service. With an
 * adopted (organization) trail there is no trail log group in this account to filter (and config has
 * no field naming one), so the CIS checks become EventBridge rules on this account's CloudTrail
 * events instead of metric-filter alarms; both notify the security topic.
 */
export class SecurityBaselineStack extends PlatformStack {
  readonly auditKey: KmsKey;
  readonly accessLogBucket: SecureBucket;
  readonly auditBucket: SecureBucket;
  readonly securityTopicArn: string;
  /** Undefined when the trail is adopted. */
  readonly trailArn?: string;
  readonly guardDutyDetectorId: string;
  /** Undefined when the recorder is adopted. */
  readonly configRecorderName?: string;
  /** CIS checks wired to the security topic: metric-filter alarms (own trail) or EventBridge rules (adopted trail). */
  readonly cisCheckCount: number;

  constructor(scope: Construct, id: string, cfg: PlatformConfig) {
    super(scope, id, cfg);
    const createTrail = cfg.singletons.cloudTrail === 'create';
    const createRecorder = cfg.singletons.configRecorder === 'create';
    const namePrefix = `${cfg.project}-${cfg.environment}-`;
    const trailName = this.name('trail');
    // Built from the name, not read from the trail resource: the key and bucket policies the trail
    // depends on must name it, and a reference would be a dependency cycle.
    const trailArn = createTrail ? `arn:${this.partition}:cloudtrail:${this.region}:${this.accountId}:trail/${trailName}` : undefined;

    this.auditKey = new KmsKey(this, 'audit-key', {
      alias: this.name('audit'),
      description: 'Audit trail, security logs and security alerts',
      accountId: this.accountId,
      statements: auditKeyStatements({ region: this.region, accountId: this.accountId, partition: this.partition, trailArn, configDelivery: createRecorder }),
    });
    this.accessLogBucket = new SecureBucket(this, 'access-logs', {
      bucketName: `${this.name('access-logs')}-${this.accountId}`,
      encryption: 'SSE-S3',
      lifecycleRules: [{ id: 'retain-7-years', transitions: [{ days: 90, storageClass: 'GLACIER' }], expirationDays: 2557, noncurrentExpirationDays: 90 }],
      extraStatements: (arn) => [{
        Sid: 'S3ServerAccessLogsWrite',
        Effect: 'Allow',
        Principal: { Service: 'logging.s3.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: `${arn}/*`,
        Condition: { StringEquals: { 'aws:SourceAccount': this.accountId } },
      }],
    });
    this.auditBucket = new AuditBucket(this, 'audit-bucket', 'audit-trail-bucket', {
      bucketName: `${this.name('audit-trail')}-${this.accountId}`,
      kmsKeyArn: this.auditKey.arn,
      accessLogBucket: this.accessLogBucket.name,
      accessLogGrant: this.accessLogBucket.policy,
      retentionDays: cfg.retention.auditLogDays,
      objectLock: cfg.security.objectLock,
      trailArn,
      configDelivery: createRecorder,
    }).bucket;

    const topic = new AlertTopic(this, 'security-topic', {
      topicName: this.name('security-alerts'),
      kmsKeyArn: this.auditKey.arn,
      email: alertEmailVariable(this, VARIABLE_NAMES.securityEmail, cfg.securityEmail,
        'the security-alerts topic (CIS alarms, GuardDuty findings)', 'securityEmail').stringValue,
      region: this.region,
      accountId: this.accountId,
    });
    this.securityTopicArn = topic.arn;

    let cisAlarms: CisAlarms | undefined;
    if (trailArn) {
      const trail = new AuditTrail(this, 'cloudtrail', {
        trailName,
        trailArn,
        bucketName: this.auditBucket.name,
        kmsKeyArn: this.auditKey.arn,
        logRetentionDays: cfg.retention.auditLogDays,
        namePrefix,
        logBucketNames: [this.auditBucket.name, this.accessLogBucket.name],
        roleName: this.name('cloudtrail-logs'),
        dependsOn: [this.auditBucket.policy, this.auditKey.key],
      });
      this.trailArn = trail.trail.arn;
      cisAlarms = new CisAlarms(this, 'cis', {
        logGroupName: trail.logGroup.name,
        namespace: `${cfg.project}/Security`,
        alarmTopicArn: topic.arn,
      });
    }
    this.cisCheckCount = cisAlarms
      ? cisAlarms.alarms.length
      : new CisEventRules(this, 'cis-events', { alarmTopicArn: topic.arn }).rules.length;

    const config = new ConfigBaseline(this, 'config', {
      createRecorder,
      bucketName: this.auditBucket.name,
      bucketArn: this.auditBucket.arn,
      kmsKeyArn: this.auditKey.arn,
      bucketPolicy: this.auditBucket.policy,
    });
    this.configRecorderName = config.recorder?.name;

    this.guardDutyDetectorId = new GuardDutyBaseline(this, 'guardduty', {
      createDetector: cfg.singletons.guardDuty === 'create',
      minSeverity: cfg.security.guardDutyMinSeverity,
      alertTopicArn: topic.arn,
    }).detectorId;

    if (cfg.singletons.securityHub === 'create') new SecurityHubBaseline(this, 'security-hub');

    const out = (outId: string, value: unknown, description: string) => new TerraformOutput(this, outId, { value, description });
    out('audit_key_arn', this.auditKey.arn, 'Audit KMS key ARN');
    out('access_log_bucket', this.accessLogBucket.name, 'S3 server-access-log bucket');
    out('audit_bucket', this.auditBucket.name, 'Audit-trail bucket (CloudTrail under cloudtrail/, Config under config/)');
    out('security_topic_arn', this.securityTopicArn, 'Security-alert SNS topic');
    out('guardduty_detector_id', this.guardDutyDetectorId, 'GuardDuty detector id (created or adopted)');
    out('trail_arn', this.trailArn ?? 'adopted: organization trail outside this stack', 'CloudTrail trail ARN');
    out('config_recorder_name', this.configRecorderName ?? 'adopted: recorder outside this stack', 'AWS Config recorder name');
  }
}
