import { PolicyStatement } from '../constructs/policy';
import { cloudWatchLogsStatement, serviceUseStatement } from '../constructs/kms-key';

export interface AuditKeyStatementsProps {
  readonly region: string;
  readonly accountId: string;
  readonly partition: string;
  /** ARN of the trail this stack creates; omit when the (organization) trail is adopted. */
  readonly trailArn?: string;
  /** Whether this stack creates the Config delivery channel that writes to the audit bucket. */
  readonly configDelivery: boolean;
}

const PUBLISH_ACTIONS = ['kms:GenerateDataKey*', 'kms:Decrypt'];

/**
 * Key-policy statements that let every service writing audit data or security alerts use the audit
 * key. Each is conditioned on this account (and, for CloudTrail, on the trail): an encrypted topic or
 * bucket that a service cannot use fails silently, so all of them are asserted in the tests.
 */
export function auditKeyStatements(p: AuditKeyStatementsProps): PolicyStatement[] {
  const sourceAccount = { 'aws:SourceAccount': p.accountId };
  const statements: PolicyStatement[] = [cloudWatchLogsStatement(p.region, p.accountId, p.partition)];
  if (p.trailArn) {
    statements.push(
      serviceUseStatement('CloudTrailEncryptLogs', 'cloudtrail.amazonaws.com', {
        StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': `arn:${p.partition}:cloudtrail:*:${p.accountId}:trail/*` },
        StringEquals: { 'aws:SourceArn': p.trailArn },
      }, ['kms:GenerateDataKey*']),
      serviceUseStatement('CloudTrailDescribeKey', 'cloudtrail.amazonaws.com', {
        StringEquals: { 'aws:SourceArn': p.trailArn },
      }, ['kms:DescribeKey']),
    );
  }
  if (p.configDelivery) {
    statements.push(serviceUseStatement('ConfigDelivery', 'config.amazonaws.com', { StringEquals: sourceAccount }, PUBLISH_ACTIONS));
  }
  statements.push(
    // SNS itself decrypts messages of the encrypted security topic when it delivers them.
    serviceUseStatement('SnsTopicEncryption', 'sns.amazonaws.com', { StringEquals: sourceAccount }, PUBLISH_ACTIONS),
    // Publishers to a KMS-encrypted topic need the key themselves: GuardDuty findings arrive via
    // EventBridge, CIS alarms via CloudWatch. Without these two, notifications are dropped silently.
    serviceUseStatement('EventBridgePublish', 'events.amazonaws.com', { StringEquals: sourceAccount }, PUBLISH_ACTIONS),
    serviceUseStatement('CloudWatchAlarmsPublish', 'cloudwatch.amazonaws.com', { StringEquals: sourceAccount }, PUBLISH_ACTIONS),
  );
  return statements;
}
