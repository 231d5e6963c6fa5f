import { Construct } from 'constructs';
import { TerraformOutput } from 'cdktf';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { PlatformConfig } from './config';
import { PlatformStack } from './platform-stack';
import { KmsKey, cloudWatchLogsStatement } from './constructs/kms-key';
import { LifecycleRule, SecureBucket } from './constructs/secure-bucket';
import type { NetworkStack } from './network-stack';

export interface DataStackProps {
  readonly network: NetworkStack;
  /** Server-access-log bucket from the security baseline. */
  readonly accessLogBucketName: string;
}

/** Customer-managed keys, the platform's buckets and DynamoDB tables, alert topics. */
export class DataStack extends PlatformStack {
  /** S3 data buckets (input, processed, payment files, reports). */
  readonly s3Key: KmsKey;
  readonly dynamoKey: KmsKey;
  /** SNS topics and SQS queues. */
  readonly messagingKey: KmsKey;
  /** CloudWatch log groups of the workloads (Lambda, Batch, Step Functions). */
  readonly logsKey: KmsKey;
  readonly inputBucket: SecureBucket;
  readonly processedBucket: SecureBucket;
  readonly paymentFilesBucket: SecureBucket;
  readonly reportsBucket: SecureBucket;
  readonly jobStatusTable: DynamodbTable;
  readonly auditLogTable: DynamodbTable;
  readonly transactionsTable: DynamodbTable;
  readonly idempotencyTable: DynamodbTable;
  readonly batchAlertsTopic: SnsTopic;
  readonly reportingAlertsTopic: SnsTopic;

  constructor(scope: Construct, id: string, cfg: PlatformConfig, props: DataStackProps) {
    super(scope, id, cfg);
    const dataDays = yearsToDays(cfg.retention.dataYears);
    const reportDays = yearsToDays(cfg.retention.reportYears);
    const key = (keyId: string, purpose: string, description: string, extra = false) => new KmsKey(this, keyId, {
      alias: this.name(purpose),
      description,
      accountId: this.accountId,
      statements: extra ? [cloudWatchLogsStatement(this.region, this.accountId)] : [],
    });
    this.s3Key = key('s3-key', 'data-s3', 'S3 data buckets');
    this.dynamoKey = key('dynamodb-key', 'data-dynamodb', 'DynamoDB tables');
    this.messagingKey = key('messaging-key', 'messaging', 'SNS topics and SQS queues');
    this.logsKey = key('logs-key', 'logs', 'CloudWatch Logs of the workloads', true);

    const bucket = (bucketId: string, purpose: string, lifecycleRules: LifecycleRule[], eventBridge = false) => new SecureBucket(this, bucketId, {
      bucketName: `${this.name(purpose)}-${this.accountId}`,
      encryption: { kmsKeyArn: this.s3Key.arn },
      accessLogBucket: props.accessLogBucketName,
      lifecycleRules,
      eventBridge,
    });
    this.inputBucket = bucket('input', 'input', [{
      id: 'transactions-retention', prefix: 'transactions/', transitions: [{ days: 90, storageClass: 'GLACIER' }],
      expirationDays: dataDays, noncurrentExpirationDays: 365,
    }], true);
    this.processedBucket = bucket('processed', 'processed', [{ id: 'retention', expirationDays: dataDays, noncurrentExpirationDays: 365 }]);
    this.paymentFilesBucket = bucket('payment-files', 'payment-files', [{
      id: 'retention', expirationDays: dataDays, noncurrentTransitions: [{ days: 90, storageClass: 'GLACIER' }], noncurrentExpirationDays: 365,
    }]);
    this.reportsBucket = bucket('reports', 'reports', [{
      id: 'retention', transitions: [{ days: 90, storageClass: 'STANDARD_IA' }, { days: 365, storageClass: 'GLACIER' }],
      expirationDays: reportDays, noncurrentExpirationDays: reportDays,
    }]);

    const table = (tableId: string, purpose: string, hashKey: string, rangeKey?: string) => new DynamodbTable(this, tableId, {
      name: this.name(purpose),
      billingMode: 'PAY_PER_REQUEST',
      hashKey,
      rangeKey,
      attribute: [{ name: hashKey, type: 'S' }, ...(rangeKey ? [{ name: rangeKey, type: 'N' }] : [])],
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true, kmsKeyArn: this.dynamoKey.arn },
      deletionProtectionEnabled: true,
    });
    this.jobStatusTable = table('job-status', 'job-status', 'jobId');
    this.auditLogTable = table('audit-log', 'audit-log', 'auditId', 'timestamp');
    this.transactionsTable = table('transactions', 'transaction-metadata', 'transactionId', 'timestamp');
    this.idempotencyTable = table('idempotency', 'idempotency', 'id');

    const topic = (topicId: string, purpose: string) => new SnsTopic(this, topicId, {
      name: this.name(purpose),
      kmsMasterKeyId: this.messagingKey.arn,
    });
    this.batchAlertsTopic = topic('batch-alerts', 'batch-alerts');
    this.reportingAlertsTopic = topic('reporting-alerts', 'reporting-alerts');

    new TerraformOutput(this, 'input_bucket', { value: this.inputBucket.name, description: 'Transaction input bucket' });
    new TerraformOutput(this, 'job_status_table', { value: this.jobStatusTable.name, description: 'Job status table' });
  }
}

/** Days in N years including leap days (7 -> 2556, 10 -> 3652). */
export function yearsToDays(years: number): number {
  return years * 365 + Math.floor(years / 4);
}

