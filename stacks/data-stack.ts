import { Construct } from 'constructs';
import { TerraformOutput } from 'cdktf';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { PlatformConfig } from './config';
import { PlatformStack } from './platform-stack';
import { KmsKey } from './constructs/kms-key';
import { SecureBucket } from './constructs/secure-bucket';
import { DataKeys } from './data/keys';
import { DataBuckets, dataBucketName } from './data/buckets';
import { DataTables, TableId } from './data/tables';
import type { TableGrants } from './data/table-grants';
import { AlertTopic } from './constructs/alert-topic';
import { alertEmailVariable, VARIABLE_NAMES } from './variables';
import type { NetworkStack } from './network-stack';
import { REPORTING_WORKFLOW, workflowRoleName } from './reporting/workflow';
import { functionRoleName } from './constructs/nodejs-function';
import { configuredRecipients, readerKeyStatements, reportReaders } from './data/report-access';

export { yearsToDays } from './data/buckets';

export interface DataStackProps {
  readonly network: NetworkStack;
  /** Server-access-log bucket from the security baseline. */
  readonly accessLogBucketName: string;
}

/**
 * Customer-managed keys, the platform's buckets and DynamoDB tables, alert topics. Dead-letter queues
 * are created by the stacks that own their consumers (DeadLetterQueue construct, messaging key).
 */
export class DataStack extends PlatformStack {
  /** S3 data buckets (input, processed, payment files, reports). */
  readonly s3Key: KmsKey;
  readonly dynamoKey: KmsKey;
  /** SNS topics and SQS queues. */
  readonly messagingKey: KmsKey;
  /** CloudWatch log groups of the workloads (Lambda, Batch, Step Functions). */
  readonly logsKey: KmsKey;
  /** Lambda environment variables and ECR repositories of the workloads. */
  readonly workloadKey: KmsKey;
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
  /** The alert topics as constructs (`grantPublish`). */
  readonly batchAlerts: AlertTopic;
  readonly reportingAlerts: AlertTopic;
  /** Grants on the tables (`grant(grantee, sid, actions)`), each with the DynamoDB key. */
  readonly tableGrants: Record<TableId, TableGrants>;

  constructor(scope: Construct, id: string, cfg: PlatformConfig, props: DataStackProps) {
    super(scope, id, cfg);
    const name = (purpose: string) => this.name(purpose);
    const reportsBucketName = dataBucketName(name, 'reports', this.accountId);
    const readers = reportReaders(configuredRecipients(cfg), this.partition);
    const keys = new DataKeys(this, 'keys', {
      s3KeyStatements: readerKeyStatements(`arn:${this.partition}:s3:::${reportsBucketName}`, readers, this.region),
    });
    this.s3Key = keys.s3Key;
    this.dynamoKey = keys.dynamoKey;
    this.messagingKey = keys.messagingKey;
    this.logsKey = keys.logsKey;
    this.workloadKey = keys.workloadKey;

    // Role ARNs built from names: the reporting stack (functions, workflow) depends on this one.
    const buckets = new DataBuckets(this, 'buckets', {
      key: this.s3Key,
      accessLogBucket: props.accessLogBucketName,
      sourceVpceId: cfg.security.pinBucketsToVpcEndpoint ? props.network.s3GatewayEndpointId : undefined,
      resultWriterRoleArn: this.roleArn(workflowRoleName(this.name(REPORTING_WORKFLOW))),
      reportDeliverRoleArn: this.roleArn(functionRoleName(this.name('report-deliver'))),
      reportTaggerRoleArn: this.roleArn(functionRoleName(this.name('report-validate'))),
      reportReaders: readers,
    });
    this.inputBucket = buckets.inputBucket;
    this.processedBucket = buckets.processedBucket;
    this.paymentFilesBucket = buckets.paymentFilesBucket;
    this.reportsBucket = buckets.reportsBucket;

    const tables = new DataTables(this, 'tables', { key: this.dynamoKey });
    this.jobStatusTable = tables.jobStatusTable;
    this.auditLogTable = tables.auditLogTable;
    this.transactionsTable = tables.transactionsTable;
    this.idempotencyTable = tables.idempotencyTable;
    this.tableGrants = tables.grants;

    const notificationEmail = alertEmailVariable(this, VARIABLE_NAMES.notificationEmail, cfg.notificationEmail,
      'the batch-alerts and reporting-alerts topics (nightly run, SLA, Lambda, DLQ and reporting alarms)', 'notificationEmail').stringValue;
    const topic = (topicId: string, purpose: string) => new AlertTopic(this, topicId, {
      topicName: this.name(purpose),
      key: this.messagingKey,
      accountId: this.accountId,
      region: this.region,
      email: notificationEmail,
    });
    this.batchAlerts = topic('batch-alerts', 'batch-alerts');
    this.reportingAlerts = topic('reporting-alerts', 'reporting-alerts');
    this.batchAlertsTopic = this.batchAlerts.topic;
    this.reportingAlertsTopic = this.reportingAlerts.topic;

    this.outputs();
  }

  private outputs(): void {
    const out = (id: string, value: string, description: string) => new TerraformOutput(this, id, { value, description });
    for (const [id, key] of Object.entries({ s3: this.s3Key, dynamodb: this.dynamoKey, messaging: this.messagingKey, logs: this.logsKey, workload: this.workloadKey })) {
      out(`${id}_key_arn`, key.arn, `KMS key ARN (${key.aliasName})`);
    }
    for (const [id, b] of Object.entries({ input: this.inputBucket, processed: this.processedBucket, payment_files: this.paymentFilesBucket, reports: this.reportsBucket })) {
      out(`${id}_bucket`, b.name, `${id.replace('_', ' ')} bucket name`);
      out(`${id}_bucket_arn`, b.arn, `${id.replace('_', ' ')} bucket ARN`);
    }
    for (const [id, t] of Object.entries({ job_status: this.jobStatusTable, audit_log: this.auditLogTable, transactions: this.transactionsTable, idempotency: this.idempotencyTable })) {
      out(`${id}_table`, t.name, `${id.replace('_', ' ')} table name`);
      out(`${id}_table_arn`, t.arn, `${id.replace('_', ' ')} table ARN`);
    }
    out('job_status_stream_arn', this.jobStatusTable.streamArn, 'Job status table stream (NEW_AND_OLD_IMAGES)');
    out('batch_alerts_topic_arn', this.batchAlertsTopic.arn, 'Batch alerts topic');
    out('reporting_alerts_topic_arn', this.reportingAlertsTopic.arn, 'Reporting alerts topic');
  }
}
