/**
 * The reporting Lambdas, each with its own role holding only what its handler does (the source
 * document's single shared role with DDL rights is a defect). Env vars follow docs/contracts.md.
 */
import type { Construct } from 'constructs';
import { PlatformPart } from '../platform-stack';
import { NodejsFunction } from '../constructs/nodejs-function';
import type { PolicyStatement } from '../constructs/policy';
import type { DataStack } from '../data-stack';
import { deliverRecipientsJson } from '../config';
import { DATABASE_NAME, DATABASE_PORT, ReportingDatabase } from './aurora';
import { STATES_CONTEXT_KEY } from './workflow';
import type { ReportingEmail } from './ses';
import { PROCESSED_PREFIX, REPORTS_PREFIX, RUN_SUMMARY_OBJECTS } from '../../contracts/buckets';
import { RUN_RECORD_PREFIX } from '../../contracts/tables';
import { DatabaseEnvironmentInput, functionEnvironment } from '../../contracts/lambda-environment';

export const REPORTING_FUNCTIONS = [
  'report-generate', 'report-validate', 'report-deliver', 'report-confirm', 'report-failure', 'report-migrate', 'report-loader',
] as const;
export type ReportingFunctionName = typeof REPORTING_FUNCTIONS[number];

/** Reports, processed records and the run-level summary report-loader writes per run. */
export { PROCESSED_PREFIX, REPORTS_PREFIX, RUN_SUMMARY_OBJECTS } from '../../contracts/buckets';

/** Reporting function sizing; migrate and loader are sized for DDL and bulk loads. */
const SIZING: Record<ReportingFunctionName, { timeoutSeconds: number; memoryMb: number }> = {
  'report-generate': { timeoutSeconds: 300, memoryMb: 1024 },
  'report-validate': { timeoutSeconds: 60, memoryMb: 512 },
  'report-deliver': { timeoutSeconds: 60, memoryMb: 512 },
  'report-confirm': { timeoutSeconds: 30, memoryMb: 256 },
  'report-failure': { timeoutSeconds: 30, memoryMb: 256 },
  'report-migrate': { timeoutSeconds: 300, memoryMb: 256 },
  'report-loader': { timeoutSeconds: 900, memoryMb: 1024 },
};

export interface ReportingFunctionsProps {
  readonly subnetIds: string[];
  readonly securityGroupId: string;
  readonly database: ReportingDatabase;
  readonly email: ReportingEmail;
  /** Buckets, tables and keys of the data stack (as the compute stack receives them). */
  readonly data: DataStack;
  /** Key for Lambda environment variables and the reporting queues. */
  readonly functionKeyArn: string;
  /** DLQ for the asynchronously invoked report-confirm (SES events). */
  readonly confirmDeadLetterQueueArn: string;
  /** The loader is invoked asynchronously by SNS (batch run completed): failed loads land here. */
  readonly loaderDeadLetterQueueArn: string;
}

/** Prefix of the run records' key in the job-status table. */
export { RUN_RECORD_PREFIX } from '../../contracts/tables';
/**
 * The run-record attributes report-loader's UpdateItem names: the key, the condition's completedAt and
 * the ones it sets (lambda-src/shared/run-record.ts markRunLoaded: load time, rows, report date and the run's exact figures, which asks for no return values).
 */
export const LOADER_RUN_RECORD_ATTRIBUTES = ['jobId', 'completedAt', 'loadedAt', 'loadedRows', 'reportDate',
  'runRead', 'runAccepted', 'runRejected', 'runShardDuplicates', 'runCrossShardDuplicates', 'runTotalsByCurrency'] as const;

/** What report-loader is wired to besides the constructor's props: the workflow it starts (built after these functions). */
export interface LoaderWiring {
  /** The reporting state machine: reference, ARN built from its name (encryption context), and its key. */
  readonly stateMachine: { arn: string; arnFromName: string; keyArn: string };
}

interface BuildOptions {
  statements: PolicyStatement[];
  /** Built with functionEnvironment (contracts/lambda-environment.ts): every variable the handler parses. */
  environment: Record<string, string>;
  reservedConcurrency: number;
  inVpc: boolean;
  deadLetterQueueArn?: string;
}
type BuildFunction = (entry: ReportingFunctionName, options: BuildOptions) => NodejsFunction;

function dbEnvOf(database: ReportingDatabase): DatabaseEnvironmentInput {
  return { DB_SECRET_ARN: database.secretArn, DB_HOST: database.endpoint, DB_PORT: String(DATABASE_PORT), DB_NAME: DATABASE_NAME };
}

export class ReportingFunctions extends PlatformPart {
  readonly generate: NodejsFunction;
  readonly validate: NodejsFunction;
  readonly deliver: NodejsFunction;
  readonly confirm: NodejsFunction;
  readonly failure: NodejsFunction;
  readonly migrate: NodejsFunction;
  private loaderFn?: NodejsFunction;
  private readonly build: BuildFunction;
  private readonly props: ReportingFunctionsProps;

  constructor(scope: Construct, id: string, props: ReportingFunctionsProps) {
    super(scope, id, { keepIdInAddresses: true });
    const { cfg } = this.platform;
    const { database } = props;
    const concurrency = cfg.reporting.mapMaxConcurrency;
    const vpc = { subnetIds: props.subnetIds, securityGroupIds: [props.securityGroupId] };
    const dbEnv = dbEnvOf(database);
    const s3Key = (sid: string, actions: string[]): PolicyStatement => ({
      Sid: sid, Effect: 'Allow', Action: actions, Resource: props.data.s3Key.arn,
    });
    const fn: BuildFunction = (entry, options) => new NodejsFunction(this, entry, {
      entry,
      functionName: this.platform.name(entry),
      description: `Regulatory reporting: ${entry}`,
      ...SIZING[entry],
      reservedConcurrency: options.reservedConcurrency,
      environment: options.environment,
      statements: options.statements,
      vpc: options.inVpc ? vpc : undefined,
      deadLetterQueueArn: options.deadLetterQueueArn,
      kmsKeyArn: props.functionKeyArn,
      logRetentionDays: cfg.retention.logDays,
      logKmsKeyArn: props.data.logsKey.arn,
    });

    this.generate = fn('report-generate', {
      environment: functionEnvironment('report-generate', { ENVIRONMENT: this.platform.cfg.environment, ...dbEnv, REPORTS_BUCKET: props.data.reportsBucket.name, REPORTS_KMS_KEY_ARN: props.data.s3Key.arn }),
      statements: [
        ...props.data.reportsBucket.writeStatements('Reports', REPORTS_PREFIX),
        // Generate compares with the stored report so a re-run writes no new version of identical content.
        ...props.data.reportsBucket.readStatements('ExistingReports', REPORTS_PREFIX),
        s3Key('ReportsKey', ['kms:GenerateDataKey', 'kms:Encrypt', 'kms:Decrypt']),
        ...database.secretReadStatements('Database'),
      ],
      reservedConcurrency: concurrency,
      inVpc: true,
    });
    this.validate = fn('report-validate', {
      environment: functionEnvironment('report-validate', { ENVIRONMENT: this.platform.cfg.environment, ...dbEnv, REPORTS_BUCKET: props.data.reportsBucket.name }),
      statements: [
        ...props.data.reportsBucket.readStatements('Reports', REPORTS_PREFIX),
        // The delivery permit (validated-sha256 tag). The reports bucket denies tagging to every other principal.
        {
          Sid: 'ReportPermitTags',
          Effect: 'Allow',
          Action: ['s3:PutObjectTagging', 's3:PutObjectVersionTagging'],
          Resource: props.data.reportsBucket.objectsArn(REPORTS_PREFIX),
        },
        s3Key('ReportsKey', ['kms:Decrypt']),
        ...database.secretReadStatements('Database'),
      ],
      reservedConcurrency: concurrency,
      inVpc: true,
    });
    // Outside the VPC: SES has no VPC endpoint for its API (only SMTP), and the private subnets have no
    // internet route. Nothing here touches the database; send-once comes from the idempotency table.
    // It reads the report (the permit: bytes, version, validated-sha256 tag; the attachment) from
    // reports/* only; the reports bucket exempts this role from the VPC-endpoint pin for reports/* reads.
    this.deliver = fn('report-deliver', {
      environment: functionEnvironment('report-deliver', {
        ENVIRONMENT: this.platform.cfg.environment,
        SOURCE_EMAIL: cfg.reporting.sourceEmail,
        SES_CONFIGURATION_SET: props.email.configurationSetName,
        RECIPIENTS_JSON: deliverRecipientsJson(cfg),
        ATTACHMENT_MAX_BYTES: String(cfg.reporting.attachmentMaxBytes),
        DEFAULT_RECIPIENT: cfg.reporting.defaultRecipient,
        IDEMPOTENCY_TABLE: props.data.idempotencyTable.name,
        REPORTS_BUCKET: props.data.reportsBucket.name,
      }),
      statements: [
        props.email.sendStatement('SendReportEmail', cfg.reporting.sourceEmail),
        {
          Sid: 'ReportObjects',
          Effect: 'Allow',
          Action: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectTagging', 's3:GetObjectVersionTagging'],
          Resource: props.data.reportsBucket.objectsArn(REPORTS_PREFIX),
        },
        {
          Sid: 'ReportsKeyViaS3',
          Effect: 'Allow',
          Action: ['kms:Decrypt'],
          Resource: props.data.s3Key.arn,
          Condition: { StringEquals: { 'kms:ViaService': `s3.${this.platform.region}.amazonaws.com` } },
        },
        {
          Sid: 'IdempotencyRecords',
          Effect: 'Allow',
          Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
          Resource: props.data.idempotencyTable.arn,
        },
        { Sid: 'IdempotencyKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: props.data.dynamoKey.arn },
      ],
      reservedConcurrency: concurrency,
      inVpc: false,
    });
    this.confirm = fn('report-confirm', {
      environment: functionEnvironment('report-confirm', { ENVIRONMENT: this.platform.cfg.environment, ...dbEnv }),
      statements: [
        ...database.secretReadStatements('Database'),
        // Lambda writes failed asynchronous invocations to the KMS-encrypted DLQ with this role.
        { Sid: 'DeadLetterQueueKey', Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: props.functionKeyArn },
      ],
      // Workflow confirmations plus SES events arriving in bursts.
      reservedConcurrency: concurrency + 10,
      inVpc: true,
      deadLetterQueueArn: props.confirmDeadLetterQueueArn,
    });
    this.failure = fn('report-failure', {
      environment: functionEnvironment('report-failure', { ENVIRONMENT: this.platform.cfg.environment, ...dbEnv }),
      statements: database.secretReadStatements('Database'),
      reservedConcurrency: concurrency,
      inVpc: true,
    });
    this.migrate = fn('report-migrate', {
      environment: functionEnvironment('report-migrate', { ENVIRONMENT: this.platform.cfg.environment, ...dbEnv }),
      statements: database.secretReadStatements('Database'),
      // Two concurrent migrations would race on the schema.
      reservedConcurrency: 1,
      inVpc: true,
    });
    this.build = fn;
    this.props = props;
  }

  /**
   * report-loader, built after the workflow: it starts the reporting state machine (its ARN and key)
   * once a complete night is loaded. The workflow invokes the five report functions only, never the
   * loader, so loader -> state machine -> report functions stays acyclic. Same construct id and scope
   * as before, so its Terraform addresses are unchanged.
   */
  addLoader(wiring: LoaderWiring): NodejsFunction {
    if (this.loaderFn) throw new Error('ReportingFunctions: the loader is already built');
    const props = this.props;
    const dbEnv = dbEnvOf(props.database);
    // Run records only (`jobId = run#<runId>`): never a job's status item.
    const runRecordsOnly = { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${RUN_RECORD_PREFIX}*`] } };
    this.loaderFn = this.build('report-loader', {
      environment: functionEnvironment('report-loader', {
        ENVIRONMENT: this.platform.cfg.environment,
        ...dbEnv,
        PROCESSED_BUCKET: props.data.processedBucket.name,
        PROCESSED_KMS_KEY_ARN: props.data.s3Key.arn,
        JOB_STATUS_TABLE: props.data.jobStatusTable.name,
        STATE_MACHINE_ARN: wiring.stateMachine.arn,
        ALERTS_TOPIC_ARN: props.data.reportingAlertsTopic.arn,
      }),
      statements: [
        ...props.data.processedBucket.readStatements('Processed', PROCESSED_PREFIX),
        { Sid: 'ProcessedKey', Effect: 'Allow', Action: ['kms:Decrypt'], Resource: props.data.s3Key.arn },
        // The run's exact totals: processed/<runId>/run-summary.json only, SSE-KMS with the bucket's key through S3.
        { Sid: 'RunSummaryWrite', Effect: 'Allow', Action: 's3:PutObject', Resource: `${props.data.processedBucket.arn}/${RUN_SUMMARY_OBJECTS}` },
        {
          Sid: 'RunSummaryKey',
          Effect: 'Allow',
          Action: 'kms:GenerateDataKey',
          Resource: props.data.s3Key.arn,
          Condition: { StringEquals: { 'kms:ViaService': `s3.${this.platform.region}.amazonaws.com` } },
        },
        ...props.database.secretReadStatements('Database'),
        { Sid: 'DeadLetterQueueKey', Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: props.functionKeyArn },
        // The gate: a consistent read of the run record.
        { Sid: 'RunRecordRead', Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: props.data.jobStatusTable.arn, Condition: runRecordsOnly },
        // markRunLoaded: SET loadedAt/loadedRows/reportDate on condition jobId/completedAt, nothing returned.
        {
          Sid: 'RunRecordMarkLoaded',
          Effect: 'Allow',
          Action: 'dynamodb:UpdateItem',
          Resource: props.data.jobStatusTable.arn,
          Condition: {
            ...runRecordsOnly,
            'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...LOADER_RUN_RECORD_ATTRIBUTES] },
            StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
          },
        },
        props.data.dynamoKey.useStatement('DynamoDbKey'),
        { Sid: 'StartReportingWorkflow', Effect: 'Allow', Action: 'states:StartExecution', Resource: wiring.stateMachine.arn },
        // StartExecution encrypts the input with the workflow key (and a repeat of a running execution
        // is compared with its stored input), through Step Functions, for this state machine only.
        {
          Sid: 'WorkflowInputKey',
          Effect: 'Allow',
          Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
          Resource: wiring.stateMachine.keyArn,
          Condition: { StringEquals: { [STATES_CONTEXT_KEY]: wiring.stateMachine.arnFromName } },
        },
        { Sid: 'PublishReportingAlerts', Effect: 'Allow', Action: 'sns:Publish', Resource: props.data.reportingAlertsTopic.arn },
        { Sid: 'ReportingAlertsKey', Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: props.data.messagingKey.arn },
      ],
      reservedConcurrency: 2,
      inVpc: true,
      deadLetterQueueArn: props.loaderDeadLetterQueueArn,
    });
    return this.loaderFn;
  }

  /** report-loader (after addLoader). */
  get loader(): NodejsFunction {
    if (!this.loaderFn) throw new Error('ReportingFunctions: addLoader has not run');
    return this.loaderFn;
  }

  /** The functions the workflow invokes. */
  workflowFunctions(): NodejsFunction[] {
    return [this.generate, this.validate, this.deliver, this.confirm, this.failure];
  }
}
