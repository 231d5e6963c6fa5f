import type { Construct } from 'constructs';
import { PlatformPart } from '../platform-stack';
import { BatchJobDefinition } from '@cdktf/provider-aws/lib/batch-job-definition';
import { BatchJobQueue } from '@cdktf/provider-aws/lib/batch-job-queue';
import { DeadLetterQueue } from '../constructs/dead-letter-queue';
import { NodejsFunction } from '../constructs/nodejs-function';
import { INPUT_PREFIX, PROCESSED_PREFIX } from '../data/buckets';
import type { DataStack } from '../data-stack';
import { functionEnvironment } from '../../contracts/lambda-environment';

/** The compute stack's Lambda entries (lambda-src/<entry>/index.ts). */
export const COMPUTE_FUNCTIONS = ['orchestrator', 'ingest', 'job-events', 'run-deadline'] as const;
export type ComputeFunction = typeof COMPUTE_FUNCTIONS[number];

export interface ComputeFunctionsProps {
  readonly data: DataStack;
  readonly subnetIds: string[];
  readonly securityGroupId: string;
  readonly jobQueue: BatchJobQueue;
  readonly jobDefinition: BatchJobDefinition;
}

interface FunctionSpec {
  description: string;
  timeoutSeconds: number;
  memoryMb: number;
  /**
   * orchestrator = 1: two concurrent nightly runs would race on the same job ids; ingest and job-events
   * are bounded so a burst of uploads or state changes cannot exhaust the account's concurrency.
   */
  reservedConcurrency: number;
  environment: Record<string, string>;
}

/**
 * The orchestrator, ingest, job-events and run-deadline Lambdas: each with its own role holding only concrete ARNs
 * (the one exception, Batch's Describe/List, is commented), its own KMS-encrypted log group, VPC
 * placement in the private subnets, X-Ray, reserved concurrency and an SQS dead-letter queue for
 * asynchronous invocations (schedule, S3 events, Batch events are all async).
 */
export class ComputeFunctions extends PlatformPart {
  readonly functions: Record<ComputeFunction, NodejsFunction>;
  /** Async-invoke dead-letter queue of each function (Lambda's own retries exhausted). */
  readonly deadLetterQueues: Record<ComputeFunction, DeadLetterQueue>;

  constructor(scope: Construct, id: string, private readonly p: ComputeFunctionsProps) {
    super(scope, id);
    const specs = this.specs();
    const functions = {} as Record<ComputeFunction, NodejsFunction>;
    const deadLetterQueues = {} as Record<ComputeFunction, DeadLetterQueue>;
    for (const entry of COMPUTE_FUNCTIONS) {
      [functions[entry], deadLetterQueues[entry]] = this.build(entry, specs[entry]);
    }
    this.functions = functions;
    this.deadLetterQueues = deadLetterQueues;
    this.grantOrchestrator(functions.orchestrator);
    this.grantIngest(functions.ingest);
    this.grantJobEvents(functions['job-events']);
    this.grantRunDeadline(functions['run-deadline']);
  }

  /** Sizing, concurrency and environment of each function. */
  private specs(): Record<ComputeFunction, FunctionSpec> {
    const { data, jobQueue, jobDefinition } = this.p;
    const { cfg } = this.platform;
    return {
      orchestrator: {
        description: 'Nightly run: lists transaction files and submits Batch jobs',
        timeoutSeconds: 900,
        memoryMb: 1024,
        reservedConcurrency: 1,
        environment: functionEnvironment('orchestrator', {
          JOB_QUEUE_ARN: jobQueue.arn,
          JOB_DEFINITION_ARN: jobDefinition.arn,
          INPUT_BUCKET: data.inputBucket.name,
          INPUT_PREFIX,
          PROCESSED_BUCKET: data.processedBucket.name,
          S3_KMS_KEY_ARN: data.s3Key.arn,
          JOB_STATUS_TABLE: data.jobStatusTable.name,
          AUDIT_LOG_TABLE: data.auditLogTable.name,
          ALERTS_TOPIC_ARN: data.batchAlertsTopic.arn,
          TRANSACTIONS_PER_JOB: String(cfg.batch.transactionsPerJob),
          ENVIRONMENT: cfg.environment,
        }),
      },
      ingest: {
        description: 'Registers and validates files arriving in the input and payment buckets',
        timeoutSeconds: 300,
        memoryMb: 1024,
        reservedConcurrency: 10,
        environment: functionEnvironment('ingest', {
          INPUT_BUCKET: data.inputBucket.name,
          PAYMENT_BUCKET: data.paymentFilesBucket.name,
          S3_KMS_KEY_ARN: data.s3Key.arn,
          TRANSACTIONS_TABLE: data.transactionsTable.name,
          IDEMPOTENCY_TABLE: data.idempotencyTable.name,
          AUDIT_LOG_TABLE: data.auditLogTable.name,
          MAX_AMOUNT: cfg.batch.maxAmount,
        }),
      },
      'job-events': {
        description: 'Batch job state changes: job status, audit trail, metrics, notifications',
        timeoutSeconds: 60,
        memoryMb: 512,
        reservedConcurrency: 10,
        environment: functionEnvironment('job-events', {
          JOB_STATUS_TABLE: data.jobStatusTable.name,
          AUDIT_LOG_TABLE: data.auditLogTable.name,
          ALERTS_TOPIC_ARN: data.batchAlertsTopic.arn,
          BATCH_WINDOW_HOURS: String(cfg.batch.windowHours),
          ENVIRONMENT: cfg.environment,
        }),
      },
      'run-deadline': {
        description: 'End of the nightly window: alerts and emits NightlyRunLate unless the run succeeded',
        timeoutSeconds: 60,
        memoryMb: 256,
        // One check a day; 1 keeps a replayed schedule from racing itself.
        reservedConcurrency: 1,
        environment: functionEnvironment('run-deadline', {
          JOB_STATUS_TABLE: data.jobStatusTable.name,
          ALERTS_TOPIC_ARN: data.batchAlertsTopic.arn,
          BATCH_WINDOW_HOURS: String(cfg.batch.windowHours),
          ENVIRONMENT: cfg.environment,
        }),
      },
    };
  }

  /** A function in the private subnets with its dead-letter queue, both encrypted with the data stack's keys. */
  private build(entry: ComputeFunction, spec: FunctionSpec): [NodejsFunction, DeadLetterQueue] {
    const { data } = this.p;
    const { cfg, accountId } = this.platform;
    const dlq = new DeadLetterQueue(this, `${entry}-dlq`, {
      queueName: this.platform.name(`${entry}-dlq`),
      kmsKeyArn: data.messagingKey.arn,
      accountId,
    });
    const fn = new NodejsFunction(this, entry, {
      entry,
      functionName: this.platform.name(entry),
      ...spec,
      vpc: { subnetIds: this.p.subnetIds, securityGroupIds: [this.p.securityGroupId] },
      deadLetterQueueArn: dlq.arn,
      kmsKeyArn: data.workloadKey.arn,
      logRetentionDays: cfg.retention.logDays,
      logKmsKeyArn: data.logsKey.arn,
    });
    return [fn, dlq];
  }

  /** Lists input, reads shard markers, submits Batch jobs, records job status and audit, alerts. */
  private grantOrchestrator(fn: NodejsFunction): void {
    const { data, jobQueue, jobDefinition } = this.p;
    const { partition, region, accountId } = this.platform;
    data.inputBucket.grantRead(fn, 'ReadInput', INPUT_PREFIX);
    data.processedBucket.grantRead(fn, 'ReadProcessed', PROCESSED_PREFIX);
    fn.addToPolicy(
      {
        Sid: 'SubmitToQueue',
        Effect: 'Allow',
        Action: 'batch:SubmitJob',
        // Any revision of this job definition, on this queue only; SubmitJob also authorizes the job it
        // creates (resource type `job`), whose ARN is unknown until it exists.
        Resource: [jobQueue.arn, jobDefinition.arnPrefix, `${jobDefinition.arnPrefix}:*`,
          `arn:${partition}:batch:${region}:${accountId}:job/*`],
      },
      // DescribeJobs and ListJobs have no resource-level permissions: AWS requires "*".
      { Sid: 'DescribeJobs', Effect: 'Allow', Action: ['batch:DescribeJobs', 'batch:ListJobs'], Resource: '*' },
    );
    data.tableGrants.jobStatus.grant(fn, 'JobStatus',
      ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query',
        // A replay claims a FAILED job in one TransactWriteItems whose run-record half may be a condition check.
        'dynamodb:ConditionCheckItem'], { indexes: true });
    data.tableGrants.auditLog.grant(fn, 'AuditLog', ['dynamodb:PutItem']);
    data.batchAlerts.grantPublish(fn, 'PublishBatchAlerts');
  }

  /** Reads arriving files, records transaction metadata (idempotently, Powertools) and audit. */
  private grantIngest(fn: NodejsFunction): void {
    const { data } = this.p;
    data.inputBucket.grantRead(fn, 'ReadInput', INPUT_PREFIX);
    data.paymentFilesBucket.grantRead(fn, 'ReadPaymentFiles');
    data.tableGrants.transactions.grant(fn, 'TransactionMetadata', ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:BatchWriteItem']);
    // Powertools idempotency: conditional put, read, update on completion, delete on failure.
    data.tableGrants.idempotency.grant(fn, 'Idempotency', ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']);
    data.tableGrants.auditLog.grant(fn, 'AuditLog', ['dynamodb:PutItem']);
    // Its dead-letter queue is encrypted with the messaging key.
    data.messagingKey.grantDataKey(fn);
  }

  /** Job status, audit trail and alerts from Batch state changes. */
  private grantJobEvents(fn: NodejsFunction): void {
    const { data } = this.p;
    data.tableGrants.jobStatus.grant(fn, 'JobStatus', ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'], { indexes: true });
    data.tableGrants.auditLog.grant(fn, 'AuditLog', ['dynamodb:PutItem']);
    data.batchAlerts.grantPublish(fn, 'PublishBatchAlerts');
  }

  /** Reads the run record only (GetItem on the table itself, no index) and alerts. */
  private grantRunDeadline(fn: NodejsFunction): void {
    const { data } = this.p;
    data.tableGrants.jobStatus.grant(fn, 'RunRecord', ['dynamodb:GetItem']);
    data.batchAlerts.grantPublish(fn, 'PublishBatchAlerts');
  }
}
