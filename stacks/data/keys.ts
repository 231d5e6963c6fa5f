import { Construct } from 'constructs';
import { partitionOf } from '../platform-stack';
import { cloudWatchLogsStatement, KmsKey, serviceUseStatement, viaServiceStatements } from '../constructs/kms-key';
import type { PolicyStatement } from '../constructs/policy';

export interface DataKeys {
  readonly s3Key: KmsKey;
  readonly dynamoKey: KmsKey;
  readonly messagingKey: KmsKey;
  readonly logsKey: KmsKey;
  readonly workloadKey: KmsKey;
}

export interface DataKeysProps {
  readonly accountId: string;
  readonly region: string;
  /** `${project}-${env}-${purpose}`. */
  readonly name: (purpose: string) => string;
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
 * role's own IAM policy grants the concrete key ARN (KmsKey.useStatement). A role therefore needs both
 * halves, and even a role holding the ARN cannot call kms:Decrypt directly on stolen ciphertext.
 * Service principals that act on their own behalf (CloudWatch Logs, CloudWatch alarms, EventBridge)
 * are named with conditions that pin them to this account.
 */
export function createDataKeys(scope: Construct, p: DataKeysProps): DataKeys {
  const partition = partitionOf(scope);
  const key = (id: string, purpose: string, description: string, statements: PolicyStatement[]) =>
    new KmsKey(scope, id, {
      alias: p.name(purpose),
      description,
      accountId: p.accountId,
      rootAccess: 'administer',
      statements,
    });
  const sourceAccount = { StringEquals: { 'aws:SourceAccount': p.accountId } };
  return {
    s3Key: key('s3-key', 'data-s3', 'S3 data buckets (input, processed, payment files, reports)',
      [...viaServiceStatements('S3', p.accountId, p.region, ['s3'], partition), ...(p.s3KeyStatements ?? [])]),
    dynamoKey: key('dynamodb-key', 'data-dynamodb', 'DynamoDB tables (job status, audit log, transactions, idempotency)',
      viaServiceStatements('DynamoDb', p.accountId, p.region, ['dynamodb'], partition)),
    messagingKey: key('messaging-key', 'messaging', 'SNS alert topics and SQS dead-letter queues', [
      ...viaServiceStatements('Messaging', p.accountId, p.region, ['sns', 'sqs'], partition),
      // Without these two, alarm notifications and EventBridge deliveries to the encrypted topic/queues
      // are dropped silently.
      serviceUseStatement('CloudWatchAlarmsPublish', 'cloudwatch.amazonaws.com', sourceAccount, ['kms:Decrypt', 'kms:GenerateDataKey*']),
      serviceUseStatement('EventBridgeDeliver', 'events.amazonaws.com', sourceAccount, ['kms:Decrypt', 'kms:GenerateDataKey*']),
    ]),
    logsKey: key('logs-key', 'logs', 'CloudWatch Logs of the workloads (Lambda, Batch, Step Functions)', [
      cloudWatchLogsStatement(p.region, p.accountId, partition),
    ]),
    workloadKey: key('workload-key', 'workload', 'Lambda environment variables and ECR images of the workloads',
      viaServiceStatements('Workload', p.accountId, p.region, ['lambda', 'ecr'], partition)),
  };
}
