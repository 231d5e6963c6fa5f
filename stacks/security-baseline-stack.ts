import { Construct } from 'constructs';
import { TerraformOutput } from 'cdktf';
import { PlatformConfig } from './config';
import { PlatformStack } from './platform-stack';
import { KmsKey, cloudWatchLogsStatement } from './constructs/kms-key';
import { SecureBucket } from './constructs/secure-bucket';

/**
 * Account-level audit baseline: audit KMS key, server-access-log bucket (target for every bucket of
 * the platform), CloudTrail, AWS Config, GuardDuty, Security Hub and the CIS metric-filter alarms.
 * Standalone: other stacks consume its access-log bucket; it never references them (CloudTrail data
 * events select the platform's resources by their name prefix).
 */
export class SecurityBaselineStack extends PlatformStack {
  readonly auditKey: KmsKey;
  readonly accessLogBucket: SecureBucket;

  constructor(scope: Construct, id: string, cfg: PlatformConfig) {
    super(scope, id, cfg);
    this.auditKey = new KmsKey(this, 'audit-key', {
      alias: this.name('audit'),
      description: 'Audit trail, security logs and security alerts',
      accountId: this.accountId,
      statements: [cloudWatchLogsStatement(this.region, this.accountId)],
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
    new TerraformOutput(this, 'audit_key_arn', { value: this.auditKey.arn, description: 'Audit KMS key ARN' });
    new TerraformOutput(this, 'access_log_bucket', { value: this.accessLogBucket.name, description: 'S3 server-access-log bucket' });
  }
}
