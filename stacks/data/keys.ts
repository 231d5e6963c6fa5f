import { PlatformPart } from '../platform-stack';
import { cloudWatchLogsStatement, KmsKey, serviceUseStatement, viaServiceStatements } from '../constructs/kms-key';
import type { PolicyStatement } from '../constructs/policy';
import type { Construct } from 'constructs';

export interface DataKeysProps {
  /** Extra key-policy statements of the S3 data key (external readers of reports, through S3 only). */
  readonly s3KeyStatements?: PolicyStatement[];
}

/**
 * The data stack's customer-managed keys. Each key policy names the AWS services that may use the key.
 *
 * Why roles are not named in the key policies: the roles live in the compute and reporting stacks,
 * which depend on this stack; naming them here would make data depend on them (a cycle). Instead the
 * account root gets management actions only (no cryptographic use, no CreateGrant), principals of this
 * account may use a key only through its services (`kms:ViaService` + `kms:CallerAccount`), and each
 * role's own IAM policy grants the concrete key ARN (the grants: `SecureBucket.grantRead`,
 * `KmsKey.grantDecrypt`, ...). A role therefore needs both halves, and even a role holding the ARN
 * cannot call kms:Decrypt directly on stolen ciphertext. Service principals that act on their own
 * behalf (CloudWatch Logs, CloudWatch alarms, EventBridge) are named with conditions that pin them to
 * this account.
 */
export class DataKeys extends PlatformPart {
  /** S3 data buckets (input, processed, payment files, reports). */
  readonly s3Key: KmsKey;
  readonly dynamoKey: KmsKey;
  /** SNS topics and SQS queues. */
  readonly messagingKey: KmsKey;
  /** CloudWatch log groups of the workloads (Lambda, Batch, Step Functions). */
  readonly logsKey: KmsKey;
  /** Lambda environment variables and ECR repositories of the workloads. */
  readonly workloadKey: KmsKey;

  constructor(scope: Construct, id: string, props: DataKeysProps = {}) {
    super(scope, id);
    const { accountId, region, partition } = this.platform;
    const key = (keyId: string, purpose: string, grantSid: string, description: string, statements: PolicyStatement[]) =>
      new KmsKey(this, keyId, {
        alias: this.platform.name(purpose),
        description,
        accountId,
        rootAccess: 'administer',
        statements,
        grantSid,
      });
    const sourceAccount = { StringEquals: { 'aws:SourceAccount': accountId } };
    this.s3Key = key('s3-key', 'data-s3', 'S3DataKey', 'S3 data buckets (input, processed, payment files, reports)',
      [...viaServiceStatements('S3', accountId, region, ['s3'], partition), ...(props.s3KeyStatements ?? [])]);
    this.dynamoKey = key('dynamodb-key', 'data-dynamodb', 'DynamoDbKey', 'DynamoDB tables (job status, audit log, transactions, idempotency)',
      viaServiceStatements('DynamoDb', accountId, region, ['dynamodb'], partition));
    this.messagingKey = key('messaging-key', 'messaging', 'MessagingKey', 'SNS alert topics and SQS dead-letter queues', [
      ...viaServiceStatements('Messaging', accountId, region, ['sns', 'sqs'], partition),
      // Without these two, alarm notifications and EventBridge deliveries to the encrypted topic/queues
      // are dropped silently.
      serviceUseStatement('CloudWatchAlarmsPublish', 'cloudwatch.amazonaws.com', sourceAccount, ['kms:Decrypt', 'kms:GenerateDataKey*']),
      serviceUseStatement('EventBridgeDeliver', 'events.amazonaws.com', sourceAccount, ['kms:Decrypt', 'kms:GenerateDataKey*']),
    ]);
    this.logsKey = key('logs-key', 'logs', 'LogsKey', 'CloudWatch Logs of the workloads (Lambda, Batch, Step Functions)', [
      cloudWatchLogsStatement(region, accountId, partition),
    ]);
    this.workloadKey = key('workload-key', 'workload', 'WorkloadKey', 'Lambda environment variables and ECR images of the workloads',
      viaServiceStatements('Workload', accountId, region, ['lambda', 'ecr'], partition));
  }
}
