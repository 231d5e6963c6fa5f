/**
 * What the handlers and the processor need, created in moto under the names the stacks give them
 * (`${project}-${env}-<purpose>`, buckets `-<accountId>`), and each function's environment exactly as
 * the stacks set it (stacks/compute/functions.ts, stacks/reporting/functions.ts, the job definition),
 * plus the local-only AWS_ENDPOINT_URL. Moto's default account stands in for the deployment account.
 */
import { BatchClient, CreateComputeEnvironmentCommand, CreateJobQueueCommand, RegisterJobDefinitionCommand } from '@aws-sdk/client-batch';
import { CreateTableCommand, CreateTableCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateConfigurationSetCommand, CreateEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { deliverRecipientsJson, PlatformConfig, resourceName } from '../../stacks/config';
import { INPUT_PREFIX } from '../../contracts/buckets';
import { TABLES, toCreateTableInput } from '../../contracts/tables';
import { containerProperties, EVALUATE_ON_EXIT } from '../../stacks/compute/job-definition';
import { DATABASE_NAME } from '../../contracts/reporting-database';
import { DatabaseEnvironmentInput, functionEnvironment } from '../../contracts/lambda-environment';
import type { FunctionEntry } from '../../contracts/metric-names';
import { keyValues, ProcessorDefinitionInput } from '../../contracts/batch-job';
import { awsJson, awsQuery, xmlValue } from './aws-raw';

export const LOCAL_ACCOUNT = '123456789012';

export interface LocalDbEndpoint { host: string; port: number; user: string; password: string }

export interface LocalNames {
  region: string;
  account: string;
  name: (purpose: string) => string;
  buckets: { input: string; processed: string; paymentFiles: string; reports: string };
  tables: { jobStatus: string; auditLog: string; transactions: string; idempotency: string };
  topics: { batchAlerts: string; reportingAlerts: string };
  keys: Record<'s3' | 'dynamodb' | 'messaging' | 'logs' | 'workload' | 'reporting', string>;
  batch: { computeEnvironment: string; jobQueue: string; jobDefinition: string; executionRole: string; jobRole: string; repository: string; logGroup: string };
  functionArn: (entry: string) => string;
  /** The reporting state machine (stacks/reporting/workflow.ts REPORTING_WORKFLOW), created by the chain. */
  stateMachine: { name: string; arn: string; roleName: string };
  dbSecretName: string;
  sesConfigurationSet: string;
}

export function localNames(cfg: PlatformConfig, account = LOCAL_ACCOUNT): LocalNames {
  const name = (purpose: string) => resourceName(cfg, purpose);
  const region = cfg.region;
  const bucket = (purpose: string) => `${name(purpose)}-${account}`;
  const topicArn = (purpose: string) => `arn:aws:sns:${region}:${account}:${name(purpose)}`;
  return {
    region,
    account,
    name,
    buckets: { input: bucket('input'), processed: bucket('processed'), paymentFiles: bucket('payment-files'), reports: bucket('reports') },
    tables: {
      jobStatus: name(TABLES.jobStatus.purpose), auditLog: name(TABLES.auditLog.purpose),
      transactions: name(TABLES.transactions.purpose), idempotency: name(TABLES.idempotency.purpose),
    },
    topics: { batchAlerts: topicArn('batch-alerts'), reportingAlerts: topicArn('reporting-alerts') },
    // Replaced by the real key ARNs once the keys exist in moto (provision()).
    keys: { s3: '', dynamodb: '', messaging: '', logs: '', workload: '', reporting: '' },
    batch: {
      computeEnvironment: name('transaction-compute'), jobQueue: name('transaction-jobs'), jobDefinition: name('transaction-processor'),
      executionRole: name('processor-execution'), jobRole: name('processor-job'), repository: name('transaction-processor'),
      logGroup: `/aws/batch/${name('transaction-processor')}`,
    },
    functionArn: (entry: string) => `arn:aws:lambda:${region}:${account}:function:${name(entry)}`,
    stateMachine: {
      name: name('reporting-workflow'),
      arn: `arn:aws:states:${region}:${account}:stateMachine:${name('reporting-workflow')}`,
      roleName: `${name('reporting-workflow')}-role`,
    },
    dbSecretName: `${name('reporting-db')}-master`,
    sesConfigurationSet: name('reports'),
  };
}

export interface Provisioned {
  names: LocalNames;
  jobQueueArn: string;
  jobDefinitionArn: string;
  dbSecretArn: string;
  /** SQS queues subscribed to the alert topics, so the run can show what was published. */
  alertTaps: { batch: string; reporting: string };
}

type Clients = { s3: S3Client; ddb: DynamoDBClient; sns: SNSClient; sqs: SQSClient; batch: BatchClient; ses: SESv2Client; secrets: SecretsManagerClient };

/** The four tables as the data stack creates them (contracts/tables.ts), under their local names. */
export function tableSpecs(n: LocalNames): CreateTableCommandInput[] {
  return (Object.keys(n.tables) as (keyof LocalNames['tables'])[]).map((id) => toCreateTableInput(TABLES[id], n.tables[id]));
}

async function createKeys(endpoint: string, n: LocalNames): Promise<void> {
  const purposes: [keyof LocalNames['keys'], string][] = [
    ['s3', 'data-s3'], ['dynamodb', 'data-dynamodb'], ['messaging', 'messaging'], ['logs', 'logs'], ['workload', 'workload'], ['reporting', 'reporting'],
  ];
  for (const [id, purpose] of purposes) {
    const key = await awsJson<{ KeyMetadata: { Arn: string; KeyId: string } }>(endpoint, 'kms', 'TrentService.CreateKey', { Description: `local ${purpose}` });
    await awsJson(endpoint, 'kms', 'TrentService.CreateAlias', { AliasName: `alias/${n.name(purpose)}`, TargetKeyId: key.KeyMetadata.KeyId });
    n.keys[id] = key.KeyMetadata.Arn;
  }
}

async function createRole(endpoint: string, roleName: string, service: string, path = '/'): Promise<string> {
  const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }] });
  const xml = await awsQuery(endpoint, 'iam', { Action: 'CreateRole', Version: '2010-05-08', RoleName: roleName, Path: path, AssumeRolePolicyDocument: policy });
  return xmlValue(xml, 'Arn')!;
}

/** The job definition's container environment, as stacks/compute/batch.ts sets it (contracts/batch-job.ts). */
export function processorJobEnvironment(n: LocalNames, cfg: PlatformConfig): Record<string, string> {
  const values: ProcessorDefinitionInput = {
    INPUT_BUCKET: n.buckets.input,
    DEST_BUCKET: n.buckets.processed,
    DEST_KMS_KEY_ARN: n.keys.s3,
    JOB_STATUS_TABLE: n.tables.jobStatus,
    AUDIT_LOG_TABLE: n.tables.auditLog,
    SNS_TOPIC_ARN: n.topics.batchAlerts,
    SHARD_COUNT: 1,
    MAX_AMOUNT: cfg.batch.maxAmount,
    ENVIRONMENT: cfg.environment,
  };
  return Object.fromEntries(keyValues(values).map((kv) => [kv.name, kv.value]));
}

async function createBatch(endpoint: string, c: Clients, n: LocalNames, cfg: PlatformConfig): Promise<{ jobQueueArn: string; jobDefinitionArn: string }> {
  // IAM first: the job definition names both roles, and moto (unlike AWS with its service-linked
  // role) insists on a service role for the compute environment.
  const executionRoleArn = await createRole(endpoint, n.batch.executionRole, 'ecs-tasks.amazonaws.com');
  const jobRoleArn = await createRole(endpoint, n.batch.jobRole, 'ecs-tasks.amazonaws.com');
  const serviceRoleArn = await createRole(endpoint, 'AWSServiceRoleForBatch', 'batch.amazonaws.com', '/aws-service-role/batch.amazonaws.com/');
  const subnets = await awsQuery(endpoint, 'ec2', { Action: 'DescribeSubnets', Version: '2016-11-15' });
  const groups = await awsQuery(endpoint, 'ec2', { Action: 'DescribeSecurityGroups', Version: '2016-11-15' });
  const ce = await c.batch.send(new CreateComputeEnvironmentCommand({
    computeEnvironmentName: n.batch.computeEnvironment, type: 'MANAGED', state: 'ENABLED', serviceRole: serviceRoleArn,
    computeResources: { type: 'FARGATE', maxvCpus: cfg.batch.maxVcpus, subnets: [xmlValue(subnets, 'subnetId')!], securityGroupIds: [xmlValue(groups, 'groupId')!] },
  }));
  const queue = await c.batch.send(new CreateJobQueueCommand({
    jobQueueName: n.batch.jobQueue, state: 'ENABLED', priority: 1, computeEnvironmentOrder: [{ order: 1, computeEnvironment: ce.computeEnvironmentArn }],
  }));
  const props = containerProperties({
    repositoryUrl: `${n.account}.dkr.ecr.${n.region}.amazonaws.com/${n.batch.repository}`,
    imageTag: cfg.batch.imageTag,
    executionRoleArn,
    jobRoleArn,
    logGroupName: n.batch.logGroup,
    region: n.region,
    environment: processorJobEnvironment(n, cfg),
  });
  const def = await c.batch.send(new RegisterJobDefinitionCommand({
    jobDefinitionName: n.batch.jobDefinition, type: 'container', platformCapabilities: ['FARGATE'], propagateTags: true,
    containerProperties: props,
    retryStrategy: { attempts: cfg.batch.attempts, evaluateOnExit: EVALUATE_ON_EXIT.map((e) => ({ ...e })) },
    timeout: { attemptDurationSeconds: cfg.batch.jobAttemptTimeoutSeconds },
  }));
  return { jobQueueArn: queue.jobQueueArn!, jobDefinitionArn: def.jobDefinitionArn! };
}

export async function provision(endpoint: string, clientConfig: object, cfg: PlatformConfig, db: LocalDbEndpoint): Promise<Provisioned> {
  const c: Clients = {
    s3: new S3Client({ ...clientConfig, forcePathStyle: true }), ddb: new DynamoDBClient(clientConfig), sns: new SNSClient(clientConfig),
    sqs: new SQSClient(clientConfig), batch: new BatchClient(clientConfig), ses: new SESv2Client(clientConfig), secrets: new SecretsManagerClient(clientConfig),
  };
  const n = localNames(cfg);
  await createKeys(endpoint, n);
  for (const bucket of Object.values(n.buckets)) {
    await c.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await c.s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  }
  for (const spec of tableSpecs(n)) await c.ddb.send(new CreateTableCommand(spec));
  for (const arn of Object.values(n.topics)) await c.sns.send(new CreateTopicCommand({ Name: arn.split(':').pop()! }));
  for (const q of ['orchestrator-dlq', 'ingest-dlq', 'job-events-dlq', 'report-delivery-events-dlq']) {
    await c.sqs.send(new CreateQueueCommand({ QueueName: n.name(q) }));
  }
  const tap = async (topicArn: string, purpose: string) => {
    const url = (await c.sqs.send(new CreateQueueCommand({ QueueName: n.name(`${purpose}-local-tap`) }))).QueueUrl!;
    const arn = (await c.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    await c.sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: arn, Attributes: { RawMessageDelivery: 'true' } }));
    return url;
  };
  const alertTaps = { batch: await tap(n.topics.batchAlerts, 'batch-alerts'), reporting: await tap(n.topics.reportingAlerts, 'reporting-alerts') };
  const { jobQueueArn, jobDefinitionArn } = await createBatch(endpoint, c, n, cfg);
  const secret = await c.secrets.send(new CreateSecretCommand({
    Name: n.dbSecretName, KmsKeyId: n.keys.reporting,
    // The shape of the RDS-managed master secret: credentials only; host/port come from the environment.
    SecretString: JSON.stringify({ username: db.user, password: db.password }),
  }));
  await c.ses.send(new CreateConfigurationSetCommand({ ConfigurationSetName: n.sesConfigurationSet }));
  await c.ses.send(new CreateEmailIdentityCommand({ EmailIdentity: cfg.reporting.sesIdentity, ConfigurationSetName: n.sesConfigurationSet }));
  return { names: n, jobQueueArn, jobDefinitionArn, dbSecretArn: secret.ARN!, alertTaps };
}

/** Each handler's environment as its stack sets it (contracts/lambda-environment.ts), pointed at the local servers. */
export function functionEnvironments(p: Provisioned, cfg: PlatformConfig, db: LocalDbEndpoint, options: { transactionsPerJob: number; bytesPerShard?: number }): Record<FunctionEntry, Record<string, string>> {
  const n = p.names;
  const dbEnv: DatabaseEnvironmentInput = { DB_SECRET_ARN: p.dbSecretArn, DB_HOST: db.host, DB_PORT: db.port, DB_NAME: DATABASE_NAME };
  const ENVIRONMENT = cfg.environment;
  const env: Record<FunctionEntry, Record<string, string>> = {
    orchestrator: functionEnvironment('orchestrator', {
      JOB_QUEUE_ARN: p.jobQueueArn, JOB_DEFINITION_ARN: p.jobDefinitionArn, INPUT_BUCKET: n.buckets.input, INPUT_PREFIX,
      PROCESSED_BUCKET: n.buckets.processed, S3_KMS_KEY_ARN: n.keys.s3, JOB_STATUS_TABLE: n.tables.jobStatus, AUDIT_LOG_TABLE: n.tables.auditLog,
      ALERTS_TOPIC_ARN: n.topics.batchAlerts, TRANSACTIONS_PER_JOB: options.transactionsPerJob, ENVIRONMENT,
      BYTES_PER_SHARD: options.bytesPerShard || undefined,
    }),
    ingest: functionEnvironment('ingest', {
      INPUT_BUCKET: n.buckets.input, PAYMENT_BUCKET: n.buckets.paymentFiles, S3_KMS_KEY_ARN: n.keys.s3, TRANSACTIONS_TABLE: n.tables.transactions,
      IDEMPOTENCY_TABLE: n.tables.idempotency, AUDIT_LOG_TABLE: n.tables.auditLog, MAX_AMOUNT: cfg.batch.maxAmount,
    }),
    'job-events': functionEnvironment('job-events', {
      JOB_STATUS_TABLE: n.tables.jobStatus, AUDIT_LOG_TABLE: n.tables.auditLog, ALERTS_TOPIC_ARN: n.topics.batchAlerts,
      BATCH_WINDOW_HOURS: cfg.batch.windowHours, ENVIRONMENT,
    }),
    'report-generate': functionEnvironment('report-generate', { ENVIRONMENT, ...dbEnv, REPORTS_BUCKET: n.buckets.reports, REPORTS_KMS_KEY_ARN: n.keys.s3 }),
    'report-validate': functionEnvironment('report-validate', { ENVIRONMENT, ...dbEnv, REPORTS_BUCKET: n.buckets.reports }),
    'report-deliver': functionEnvironment('report-deliver', {
      ENVIRONMENT, SOURCE_EMAIL: cfg.reporting.sourceEmail, SES_CONFIGURATION_SET: n.sesConfigurationSet,
      RECIPIENTS_JSON: deliverRecipientsJson(cfg), DEFAULT_RECIPIENT: cfg.reporting.defaultRecipient, IDEMPOTENCY_TABLE: n.tables.idempotency,
      REPORTS_BUCKET: n.buckets.reports, ATTACHMENT_MAX_BYTES: cfg.reporting.attachmentMaxBytes,
    }),
    'report-confirm': functionEnvironment('report-confirm', { ENVIRONMENT, ...dbEnv }),
    'report-failure': functionEnvironment('report-failure', { ENVIRONMENT, ...dbEnv }),
    'report-migrate': functionEnvironment('report-migrate', { ENVIRONMENT, ...dbEnv }),
    'report-loader': functionEnvironment('report-loader', {
      ENVIRONMENT, ...dbEnv, PROCESSED_BUCKET: n.buckets.processed, PROCESSED_KMS_KEY_ARN: n.keys.s3,
      // The trigger: run records to gate on and mark, the workflow to start, where a failed night is reported.
      JOB_STATUS_TABLE: n.tables.jobStatus, STATE_MACHINE_ARN: n.stateMachine.arn, ALERTS_TOPIC_ARN: n.topics.reportingAlerts,
    }),
    'run-deadline': functionEnvironment('run-deadline', {
      JOB_STATUS_TABLE: n.tables.jobStatus, ALERTS_TOPIC_ARN: n.topics.batchAlerts, BATCH_WINDOW_HOURS: cfg.batch.windowHours, ENVIRONMENT,
    }),
  };
  // Set by the NodejsFunction construct on every function.
  for (const [entry, vars] of Object.entries(env)) vars.POWERTOOLS_SERVICE_NAME = entry;
  return env;
}
