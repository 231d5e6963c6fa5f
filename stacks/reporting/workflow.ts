/**
 * The reporting state machine (STANDARD, logging ALL with execution data to a KMS-encrypted group,
 * X-Ray, definition and execution history encrypted with its own customer-managed key) with its
 * least-privilege role. Nothing here starts it on a clock: report-loader starts one execution per
 * loaded night (`{reportDate, runId}`), an operator a backfill (`{reportDate}`); the reporting time
 * is a deadline checked by run-deadline in the compute stack.
 *
 * Why a dedicated key rather than the stack's function key: execution history holds every report's
 * item, result and error, so the key is scoped to this one state machine by the Step Functions
 * encryption context, and its root statement only administers (no IAM policy alone can grant use of
 * it). The function key must stay usable by EventBridge and by every reporting Lambda role through IAM.
 */
import type { Construct } from 'constructs';
import { PlatformPart } from '../platform-stack';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { SfnStateMachine } from '@cdktf/provider-aws/lib/sfn-state-machine';
import { EncryptedLogGroup } from '../constructs/encrypted-log-group';
import { KmsKey } from '../constructs/kms-key';
import { ConditionBlock, PolicyStatement } from '../constructs/policy';
import { ServiceRole } from '../constructs/grants';
import type { NodejsFunction } from '../constructs/nodejs-function';
import type { DataStack } from '../data-stack';
import { renderWorkflowDefinition, RESULTS_PREFIX, WorkflowFunctionArns } from './workflow-definition';

/** Actions CloudWatch Logs delivery for Step Functions needs; none supports resource-level permissions. */
export const LOG_DELIVERY_ACTIONS = [
  'logs:CreateLogDelivery', 'logs:GetLogDelivery', 'logs:UpdateLogDelivery', 'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries', 'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups',
];
/** How long Step Functions reuses a data key before calling GenerateDataKey again (60-900 s). */
export const WORKFLOW_DATA_KEY_REUSE_SECONDS = 300;
/** Encryption-context key Step Functions sets on every KMS call for a state machine's data. */
export const STATES_CONTEXT_KEY = 'kms:EncryptionContext:aws:states:stateMachineArn';
/** Encryption-context key of the data keys the execution role generates for CloudWatch Logs delivery. */
export const LOGS_SOURCE_CONTEXT_KEY = 'kms:EncryptionContext:SourceArn';

/**
 * Encryption-context condition for this state machine's data: the state machine itself and its
 * Distributed Map runs, whose child executions report under `<stateMachineArn>/<label>` (the ARN
 * form the per-report alarm's metric dimension uses). `/*` keeps other state machines whose names
 * merely start with this one out.
 */
export function stateMachineDataCondition(stateMachineArn: string): ConditionBlock {
  return { StringLike: { [STATES_CONTEXT_KEY]: [stateMachineArn, `${stateMachineArn}/*`] } };
}

/** Purpose part of the reporting state machine's name. */
export const REPORTING_WORKFLOW = 'reporting-workflow';

/**
 * The execution role's name. The data stack builds the role's ARN from it (its bucket policies admit
 * the Distributed Map's ResultWriter, and a reference would be a cycle: reporting depends on data).
 */
export function workflowRoleName(stateMachineName: string): string {
  return `${stateMachineName}-role`;
}

export interface WorkflowKeyStatementsProps {
  readonly accountId: string;
  readonly partition: string;
  readonly region: string;
  /** Built from the name: the state machine references the key, so the key cannot reference it. */
  readonly stateMachineArn: string;
  readonly roleArn: string;
}

/**
 * Key-policy statements of the workflow key (besides the root's administration):
 * - the execution role, for this state machine's data (it also starts the Distributed Map's child
 *   executions of the same state machine) and for the data keys of its log delivery;
 * - account principals through Step Functions only, for this state machine only: Terraform creating
 *   and reading it, report-loader starting a loaded night's execution, operators starting a backfill
 *   or reading history (each still needs the key in its own IAM policy);
 * - CloudWatch Logs delivery, decrypting the log data keys the role generated.
 */
export function workflowKeyStatements(p: WorkflowKeyStatementsProps): PolicyStatement[] {
  const logsSource = `arn:${p.partition}:logs:${p.region}:${p.accountId}:*`;
  return [
    {
      Sid: 'ExecutionRoleStateMachineData',
      Effect: 'Allow',
      Principal: { AWS: p.roleArn },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: '*',
      Condition: stateMachineDataCondition(p.stateMachineArn),
    },
    {
      Sid: 'ExecutionRoleLogDeliveryKeys',
      Effect: 'Allow',
      Principal: { AWS: p.roleArn },
      Action: 'kms:GenerateDataKey',
      Resource: '*',
      Condition: { StringEquals: { [LOGS_SOURCE_CONTEXT_KEY]: logsSource } },
    },
    {
      Sid: 'AccountViaStepFunctions',
      Effect: 'Allow',
      Principal: { AWS: `arn:${p.partition}:iam::${p.accountId}:root` },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: '*',
      Condition: {
        StringEquals: { 'kms:CallerAccount': p.accountId, 'kms:ViaService': `states.${p.region}.amazonaws.com` },
        ...stateMachineDataCondition(p.stateMachineArn),
      },
    },
    {
      Sid: 'LogDeliveryDecrypt',
      Effect: 'Allow',
      Principal: { Service: 'delivery.logs.amazonaws.com' },
      Action: 'kms:Decrypt',
      Resource: '*',
      Condition: { StringEquals: { [LOGS_SOURCE_CONTEXT_KEY]: logsSource } },
    },
  ];
}

export interface ReportingWorkflowProps {
  readonly stateMachineName: string;
  readonly functions: { generate: NodejsFunction; validate: NodejsFunction; deliver: NodejsFunction; confirm: NodejsFunction; failure: NodejsFunction };
  /** The reports bucket (run results), the reporting alerts topic and the keys: from the data stack. */
  readonly data: DataStack;
}

export class ReportingWorkflow extends PlatformPart {
  readonly stateMachine: SfnStateMachine;
  readonly role: IamRole;
  readonly logGroup: EncryptedLogGroup;
  /** Encrypts the definition and execution history (input, output, errors) of this state machine only. */
  readonly key: KmsKey;
  readonly arn: string;
  /** ARN built from the name so the role can name its own state machine without a cycle. */
  readonly stateMachineArn: string;

  constructor(scope: Construct, id: string, private readonly props: ReportingWorkflowProps) {
    super(scope, id, { keepIdInAddresses: true });
    const { accountId, partition, region } = this.platform;
    const smName = props.stateMachineName;
    this.stateMachineArn = this.statesArn('stateMachine', smName);

    // The /aws/vendedlogs/ prefix makes CloudWatch Logs use one account-level resource policy for all
    // vended log groups instead of adding one per group (that policy is limited to 5,120 characters).
    this.logGroup = new EncryptedLogGroup(this, 'logs', {
      name: `/aws/vendedlogs/states/${smName}`,
      retentionDays: this.platform.cfg.retention.logDays,
      kmsKeyArn: props.data.logsKey.arn,
    });
    const role = new ServiceRole(this, {
      roleId: 'role',
      policyId: 'policy',
      roleName: workflowRoleName(smName),
      policyName: `${smName}-policy`,
      assumedBy: 'states.amazonaws.com',
      sourceAccount: accountId,
    });
    this.role = role.role;
    this.key = new KmsKey(this, 'key', {
      alias: smName,
      description: 'Reporting workflow definition and execution history',
      accountId,
      rootAccess: 'administer',
      statements: workflowKeyStatements({ accountId, partition, region, stateMachineArn: this.stateMachineArn, roleArn: this.role.arn }),
    });
    this.grantRole(role);
    this.stateMachine = this.createStateMachine(role);
    this.arn = this.stateMachine.arn;
  }

  private statesArn(kind: string, rest: string): string {
    return `arn:${this.platform.partition}:states:${this.platform.region}:${this.platform.accountId}:${kind}:${rest}`;
  }

  /** Invoke the five report functions, alert, run and manage child executions, write run results, use its key, log, trace. */
  private grantRole(role: ServiceRole): void {
    const { functions: f, data, stateMachineName: smName } = this.props;
    const topic = { arn: data.reportingAlertsTopic.arn, kmsKeyArn: data.messagingKey.arn };
    const { partition, region, accountId } = this.platform;
    role.addToPolicy(
      {
        Sid: 'InvokeReportingFunctions',
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: Object.values(f).flatMap((fn) => [fn.arn, `${fn.arn}:*`]),
      },
      { Sid: 'PublishReportingAlerts', Effect: 'Allow', Action: 'sns:Publish', Resource: topic.arn },
      { Sid: 'ReportingAlertsKey', Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: topic.kmsKeyArn },
      // Distributed Map: child executions are executions of this same state machine.
      { Sid: 'StartChildExecutions', Effect: 'Allow', Action: 'states:StartExecution', Resource: this.stateMachineArn },
      {
        Sid: 'ManageChildExecutions',
        Effect: 'Allow',
        Action: ['states:DescribeExecution', 'states:StopExecution'],
        Resource: this.statesArn('execution', `${smName}/*`),
      },
      // ResultWriter: per-run result files, only under their prefix.
      ...data.reportsBucket.writeStatements('RunResults', RESULTS_PREFIX),
      { Sid: 'RunResultsKey', Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: data.s3Key.arn },
      // Own data and the Distributed Map's child executions (context <arn> or <arn>/<label>).
      {
        Sid: 'WorkflowKey',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: this.key.arn,
        Condition: stateMachineDataCondition(this.stateMachineArn),
      },
      // Log delivery of an encrypted state machine encrypts the log data with the same key.
      {
        Sid: 'WorkflowKeyLogDelivery',
        Effect: 'Allow',
        Action: 'kms:GenerateDataKey',
        Resource: this.key.arn,
        Condition: { StringEquals: { [LOGS_SOURCE_CONTEXT_KEY]: `arn:${partition}:logs:${region}:${accountId}:*` } },
      },
      // Log delivery APIs have no resource-level permissions: AWS requires "*" for each of them.
      { Sid: 'LogDelivery', Effect: 'Allow', Action: LOG_DELIVERY_ACTIONS, Resource: '*' },
      // X-Ray segment upload and sampling have no resource-level permissions: AWS requires "*".
      {
        Sid: 'XRayTraces',
        Effect: 'Allow',
        Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'],
        Resource: '*',
      },
    );
  }

  /** Standard state machine: logs everything to its group, traced, encrypted with its own key. */
  private createStateMachine(role: ServiceRole): SfnStateMachine {
    const { functions: f, data, stateMachineName: smName } = this.props;
    const arns: WorkflowFunctionArns = {
      generate: f.generate.arn, validate: f.validate.arn, deliver: f.deliver.arn, confirm: f.confirm.arn, failure: f.failure.arn,
    };
    return new SfnStateMachine(this, 'state-machine', {
      name: smName,
      type: 'STANDARD',
      roleArn: this.role.arn,
      definition: renderWorkflowDefinition({
        reporting: this.platform.cfg.reporting,
        functions: arns,
        topicArn: data.reportingAlertsTopic.arn,
        resultsBucket: data.reportsBucket.name,
        partition: this.platform.partition,
      }),
      loggingConfiguration: {
        logDestination: `${this.logGroup.arn}:*`,
        includeExecutionData: true,
        level: 'ALL',
      },
      tracingConfiguration: { enabled: true },
      encryptionConfiguration: {
        type: 'CUSTOMER_MANAGED_KMS_KEY',
        kmsKeyId: this.key.arn,
        kmsDataKeyReusePeriodSeconds: WORKFLOW_DATA_KEY_REUSE_SECONDS,
      },
      // The role's policy must exist before Step Functions validates logging and invokes.
      dependsOn: [role.policy],
    });
  }
}
