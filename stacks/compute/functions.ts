import { Construct } from 'constructs';
import { partitionOf } from '../platform-stack';
import { BatchJobDefinition } from '@cdktf/provider-aws/lib/batch-job-definition';
import { BatchJobQueue } from '@cdktf/provider-aws/lib/batch-job-queue';
import { PlatformConfig } from '../config';
import { DeadLetterQueue } from '../constructs/dead-letter-queue';
import { NodejsFunction } from '../constructs/nodejs-function';
import { PolicyStatement } from '../constructs/policy';
import { INPUT_PREFIX, PROCESSED_PREFIX } from '../data/buckets';
import { publishStatement } from '../data/messaging';
import { tableStatement } from '../data/tables';
import type { DataStack } from '../data-stack';

/** The compute stack's Lambda entries (lambda-src/<entry>/index.ts). */
export const COMPUTE_FUNCTIONS = ['orchestrator', 'ingest', 'job-events', 'run-deadline'] as const;
export type ComputeFunction = typeof COMPUTE_FUNCTIONS[number];

export interface FunctionsProps {
  readonly cfg: PlatformConfig;
  readonly name: (purpose: string) => string;
  readonly accountId: string;
  readonly region: string;
  readonly data: DataStack;
  readonly subnetIds: string[];
  readonly securityGroupId: string;
  readonly jobQueue: BatchJobQueue;
  readonly jobDefinition: BatchJobDefinition;
}

export interface ComputeFunctions {
  readonly functions: Record<ComputeFunction, NodejsFunction>;
  /** Async-invoke dead-letter queue of each function (Lambda's own retries exhausted). */
  readonly deadLetterQueues: Record<ComputeFunction, DeadLetterQueue>;
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
  statements: PolicyStatement[];
}

/**
 * The orchestrator, ingest, job-events and run-deadline Lambdas: each with its own role holding only concrete ARNs
 * (the one exception, Batch's Describe/List, is commented), its own KMS-encrypted log group, VPC
 * placement in the private subnets, X-Ray, reserved concurrency and an SQS dead-letter queue for
 * asynchronous invocations (schedule, S3 events, Batch events are all async).
 */
export function createFunctions(scope: Construct, p: FunctionsProps): ComputeFunctions {
  const { data, cfg } = p;
  const messagingKeyUse = data.messagingKey.useStatement('MessagingKey', ['kms:GenerateDataKey*', 'kms:Decrypt']);
  const specs: Record<ComputeFunction, FunctionSpec> = {
    orchestrator: {
      description: 'Nightly run: lists transaction files and submits Batch jobs',
      timeoutSeconds: 900,
      memoryMb: 1024,
      reservedConcurrency: 1,
      environment: {
        JOB_QUEUE_ARN: p.jobQueue.arn,
        JOB_DEFINITION_ARN: p.jobDefinition.arn,
        INPUT_BUCKET: data.inputBucket.name,
        INPUT_PREFIX,
        PROCESSED_BUCKET: data.processedBucket.name,
        S3_KMS_KEY_ARN: data.s3Key.arn,
        JOB_STATUS_TABLE: data.jobStatusTable.name,
        AUDIT_LOG_TABLE: data.auditLogTable.name,
        ALERTS_TOPIC_ARN: data.batchAlertsTopic.arn,
        TRANSACTIONS_PER_JOB: String(cfg.batch.transactionsPerJob),
        ENVIRONMENT: cfg.environment,
      },
      statements: [
        ...data.inputBucket.readStatements('ReadInput', INPUT_PREFIX),
        ...data.processedBucket.readStatements('ReadProcessed', PROCESSED_PREFIX),
        data.s3Key.decryptStatement('S3DataKeyRead'),
        {
          Sid: 'SubmitToQueue',
          Effect: 'Allow',
          Action: 'batch:SubmitJob',
          // Any revision of this job definition, on this queue only; SubmitJob also authorizes the job it
          // creates (resource type `job`), whose ARN is unknown until it exists.
          Resource: [p.jobQueue.arn, p.jobDefinition.arnPrefix, `${p.jobDefinition.arnPrefix}:*`,
            `arn:${partitionOf(scope)}:batch:${p.region}:${p.accountId}:job/*`],
        },
        // DescribeJobs and ListJobs have no resource-level permissions: AWS requires "*".
        { Sid: 'DescribeJobs', Effect: 'Allow', Action: ['batch:DescribeJobs', 'batch:ListJobs'], Resource: '*' },
        tableStatement('JobStatus', data.jobStatusTable,
          ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query',
            // A replay claims a FAILED job in one TransactWriteItems whose run-record half may be a condition check.
            'dynamodb:ConditionCheckItem'], true),
        tableStatement('AuditLog', data.auditLogTable, ['dynamodb:PutItem']),
        data.dynamoKey.useStatement('DynamoDbKey'),
        publishStatement('PublishBatchAlerts', [data.batchAlertsTopic]),
        messagingKeyUse,
      ],
    },
    ingest: {
      description: 'Registers and validates files arriving in the input and payment buckets',
      timeoutSeconds: 300,
      memoryMb: 1024,
      reservedConcurrency: 10,
      environment: {
        INPUT_BUCKET: data.inputBucket.name,
        PAYMENT_BUCKET: data.paymentFilesBucket.name,
        S3_KMS_KEY_ARN: data.s3Key.arn,
        TRANSACTIONS_TABLE: data.transactionsTable.name,
        IDEMPOTENCY_TABLE: data.idempotencyTable.name,
        AUDIT_LOG_TABLE: data.auditLogTable.name,
        MAX_AMOUNT: cfg.batch.maxAmount,
      },
      statements: [
        ...data.inputBucket.readStatements('ReadInput', INPUT_PREFIX),
        ...data.paymentFilesBucket.readStatements('ReadPaymentFiles'),
        data.s3Key.decryptStatement('S3DataKeyRead'),
        tableStatement('TransactionMetadata', data.transactionsTable,
          ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:BatchWriteItem']),
        // Powertools idempotency: conditional put, read, update on completion, delete on failure.
        tableStatement('Idempotency', data.idempotencyTable,
          ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']),
        tableStatement('AuditLog', data.auditLogTable, ['dynamodb:PutItem']),
        data.dynamoKey.useStatement('DynamoDbKey'),
        messagingKeyUse,
      ],
    },
    'job-events': {
      description: 'Batch job state changes: job status, audit trail, metrics, notifications',
      timeoutSeconds: 60,
      memoryMb: 512,
      reservedConcurrency: 10,
      environment: {
        JOB_STATUS_TABLE: data.jobStatusTable.name,
        AUDIT_LOG_TABLE: data.auditLogTable.name,
        ALERTS_TOPIC_ARN: data.batchAlertsTopic.arn,
        BATCH_WINDOW_HOURS: String(cfg.batch.windowHours),
        ENVIRONMENT: cfg.environment,
      },
      statements: [
        tableStatement('JobStatus', data.jobStatusTable, ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'], true),
        tableStatement('AuditLog', data.auditLogTable, ['dynamodb:PutItem']),
        data.dynamoKey.useStatement('DynamoDbKey'),
        publishStatement('PublishBatchAlerts', [data.batchAlertsTopic]),
        messagingKeyUse,
      ],
    },
    'run-deadline': {
      description: 'End of the nightly window: alerts and emits NightlyRunLate unless the run succeeded',
      timeoutSeconds: 60,
      memoryMb: 256,
      // One check a day; 1 keeps a replayed schedule from racing itself.
      reservedConcurrency: 1,
      environment: {
        JOB_STATUS_TABLE: data.jobStatusTable.name,
        ALERTS_TOPIC_ARN: data.batchAlertsTopic.arn,
        BATCH_WINDOW_HOURS: String(cfg.batch.windowHours),
        ENVIRONMENT: cfg.environment,
      },
      statements: [
        // Reads the run record only (GetItem on the table itself, no index).
        tableStatement('RunRecord', data.jobStatusTable, ['dynamodb:GetItem']),
        data.dynamoKey.decryptStatement('DynamoDbKeyRead'),
        publishStatement('PublishBatchAlerts', [data.batchAlertsTopic]),
        messagingKeyUse,
      ],
    },
  };

  const functions = {} as Record<ComputeFunction, NodejsFunction>;
  const deadLetterQueues = {} as Record<ComputeFunction, DeadLetterQueue>;
  for (const entry of COMPUTE_FUNCTIONS) {
    const spec = specs[entry];
    const dlq = new DeadLetterQueue(scope, `${entry}-dlq`, {
      queueName: p.name(`${entry}-dlq`),
      kmsKeyArn: data.messagingKey.arn,
      accountId: p.accountId,
    });
    deadLetterQueues[entry] = dlq;
    functions[entry] = new NodejsFunction(scope, entry, {
      entry,
      functionName: p.name(entry),
      description: spec.description,
      timeoutSeconds: spec.timeoutSeconds,
      memoryMb: spec.memoryMb,
      reservedConcurrency: spec.reservedConcurrency,
      environment: spec.environment,
      statements: spec.statements,
      vpc: { subnetIds: p.subnetIds, securityGroupIds: [p.securityGroupId] },
      deadLetterQueueArn: dlq.arn,
      kmsKeyArn: data.workloadKey.arn,
      logRetentionDays: cfg.retention.logDays,
      logKmsKeyArn: data.logsKey.arn,
      accountId: p.accountId,
      region: p.region,
    });
  }
  return { functions, deadLetterQueues };
}
