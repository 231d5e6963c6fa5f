/**
 * The daily regulatory-reporting workflow as typed ASL, a pure function of configuration and ARNs so
 * tests (and the moto-based verification) can build and walk it without synthesizing a stack.
 *
 * Shape:
 *   ChooseReportDate (Choice: input `{}` -> DeriveReportDate sets `reportDate: null`; the loader's
 *     `{"reportDate", "runId"}` or a backfill's `{"reportDate"}` keeps it; any other type ->
 *     InvalidReportDate -> notify -> Fail)
 *   -> BuildWorkItems (Pass, static list of every (jurisdiction, reportType, entity) from config)
 *   -> GenerateReports (Distributed Map, one STANDARD child execution per report)
 *        GenerateReport -> ValidateReport -> IsReportValid -> DeliverReport -> ConfirmDelivery
 *        -> IsDeliveryFailed -> ReportDelivered (Succeed)
 *        any error / invalid report / bounced delivery -> <Stage>Failed (Pass: failure record)
 *        -> RecordFailure (report_log) -> NotifyFailure (SNS) -> ReportFailed (Fail, this item only)
 *   -> RunCompleted (Succeed; per-report outcomes in S3 via ResultWriter, failed reports already
 *      recorded, notified and counted by the children's ExecutionsFailed metric)
 *   map run failure itself -> RunFailed -> NotifyRunFailed (SNS) -> WorkflowFailed (Fail)
 *
 * Why a Distributed Map fed by a static Pass list:
 * - ~2,000 items a day (4 x 4 x 125): an inline Map records every iteration in the parent's history
 *   (~25 events per report -> ~50,000), beyond the 25,000-event limit of a Standard execution.
 *   Distributed Map runs each report as its own STANDARD child execution (own history, exactly-once
 *   steps, auditable per report) and a tolerated failure count of every item keeps one failed report
 *   from aborting or hiding the others.
 * - The list is derived from config at synth: a config change changes the definition (reviewable in the
 *   plan) and no runtime component has to produce it. ~75 bytes per item keeps 2,000 items near 150 KB,
 *   under the 256 KiB state payload limit; `buildWorkItems` refuses sets that approach it (an S3
 *   ItemReader manifest is the next step if the entity list ever grows that far).
 * - Nested inline Maps would not help (same parent history); an ItemReader would need a manifest object
 *   kept in sync with config out of band.
 * - Child results go to S3 through ResultWriter: 2,000 child outputs would exceed the payload limit, and
 *   the per-run result files in the reports bucket are part of the audit trail.
 * - No schedule starts it. report-loader, once a complete night is loaded, passes `{"reportDate":
 *   "YYYY-MM-DD", "runId": "<run>"}` (the date that run feeds; `runId` only for the execution's history),
 *   an operator's backfill `{"reportDate": "YYYY-MM-DD"}`: every item carries the date and
 *   report-generate uses it (and refuses a date no loaded run feeds, RUN_NOT_LOADED).
 * - An input `{}` still works: every item carries `runStartedAt = $$.Execution.StartTime` (the parent's,
 *   identical for every child and every retry), from which report-generate derives the previous
 *   business day, so report ids are deterministic per run. It carries `reportDate: null` (a JSONPath ItemSelector
 *   field must exist, so "absent" is spelled null); report-generate treats null as absent. The date's
 *   format is checked by report-generate (ASL has no pattern match beyond `*`), the type here, so a
 *   number or object fails the run once instead of failing every report.
 */
import type { PlatformConfig } from '../config';
import {
  assertWellFormed, Catcher, ItemProcessor, PayloadTemplate, Retrier, State, StateMachineDefinition, TaskState,
} from './asl';
import { WORKFLOW_RESULTS_PREFIX as RESULTS_PREFIX } from '../../contracts/buckets';

export type ReportingSettings = Pick<PlatformConfig['reporting'], 'jurisdictions' | 'reportTypes' | 'entities' | 'mapMaxConcurrency'>;

export interface WorkflowFunctionArns {
  readonly generate: string;
  readonly validate: string;
  readonly deliver: string;
  readonly confirm: string;
  readonly failure: string;
}

export interface WorkflowDefinitionProps {
  readonly reporting: ReportingSettings;
  readonly functions: WorkflowFunctionArns;
  readonly topicArn: string;
  /** `aws`, `aws-us-gov`, ...: the optimized integrations' ARNs carry it. Default `aws` (local runs). */
  readonly partition?: string;
  /** Bucket receiving the Distributed Map result files (`workflow-runs/` prefix). */
  readonly resultsBucket: string;
}

export interface WorkItem {
  jurisdiction: string;
  reportType: string;
  entityId: string;
}

/** Errors worth retrying: Lambda's transient service errors and the handlers' typed RetryableError. */
export const RETRYABLE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'RetryableError',
] as const;

/** Retry policies of the workflow's tasks, covering the errors above. */
export const RETRY_POLICIES = {
  generate: { IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 },
  validate: { IntervalSeconds: 2, MaxAttempts: 2, BackoffRate: 2 },
  deliver: { IntervalSeconds: 5, MaxAttempts: 3, BackoffRate: 2 },
  confirm: { IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 },
  failure: { IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 },
} as const;

export { WORKFLOW_RESULTS_PREFIX as RESULTS_PREFIX } from '../../contracts/buckets';
/**
 * Map Run label: child executions emit AWS/States metrics under StateMachineArn `<arn>/<label>`, which
 * is how the per-report failure alarm tells failed reports from failed runs.
 */
export const MAP_RUN_LABEL = 'Reports';
/** Step Functions' limit on state input/output, and the share the static item list may use. */
export const STATE_PAYLOAD_LIMIT_BYTES = 256 * 1024;
export const MAX_ITEMS_BYTES = 200 * 1024;
const DEFINITION_LIMIT_BYTES = 1024 * 1024;

/** Every configured (jurisdiction, reportType, entity), in config order. */
export function buildWorkItems(reporting: ReportingSettings): WorkItem[] {
  const items = reporting.jurisdictions.flatMap((jurisdiction) => reporting.reportTypes.flatMap((reportType) =>
    reporting.entities.map((entityId) => ({ jurisdiction, reportType, entityId }))));
  const bytes = Buffer.byteLength(JSON.stringify({ items }));
  if (bytes > MAX_ITEMS_BYTES) {
    throw new Error(`reporting.entities: ${items.length} work items (${reporting.jurisdictions.length} jurisdictions x `
      + `${reporting.reportTypes.length} report types x ${reporting.entities.length} entities) take ${bytes} bytes; `
      + `the static item list must stay under ${MAX_ITEMS_BYTES} bytes (state payload limit ${STATE_PAYLOAD_LIMIT_BYTES}). `
      + 'Reduce the entity list or move the items to an S3 ItemReader manifest.');
  }
  return items;
}

const lambdaRetry = (policy: keyof typeof RETRY_POLICIES): Retrier[] => [
  { ErrorEquals: [...RETRYABLE_ERRORS], ...RETRY_POLICIES[policy] },
];
const catchAll = (next: string): Catcher[] => [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: next }];

/**
 * A Lambda step with the function ARN as Resource: the state result is exactly the handler's return
 * value, so ResultPath places the contract payloads at `$.report`, `$.validation`, ... with no
 * invocation envelope, and the Choice reads `$.validation.isValid` as agreed. Lambda service errors
 * surface under the same `Lambda.*` names as with `lambda:invoke`.
 */
function lambdaTask(arn: string, policy: keyof typeof RETRY_POLICIES, next: string, failedState: string,
  extra: Partial<Pick<TaskState, 'InputPath' | 'Parameters' | 'ResultPath' | 'Comment' | 'TimeoutSeconds'>>): TaskState {
  return { Type: 'Task', Resource: arn, ...extra, Retry: lambdaRetry(policy), Catch: catchAll(failedState), Next: next };
}

const ITEM_FIELDS: PayloadTemplate = {
  'jurisdiction.$': '$.jurisdiction',
  'reportType.$': '$.reportType',
  'entityId.$': '$.entityId',
  'runStartedAt.$': '$.runStartedAt',
  'reportDate.$': '$.reportDate',
};

export type FailureStage = 'GENERATE' | 'VALIDATE' | 'DELIVER' | 'CONFIRM';

/** Pass state shaping the report-failure input `{item, stage, error: {Error, Cause}}`. */
function failureRecord(stage: FailureStage, error: PayloadTemplate | string, comment: string): State {
  return {
    Type: 'Pass',
    Comment: comment,
    Parameters: { item: ITEM_FIELDS, stage, ...(typeof error === 'string' ? { 'error.$': error } : { error }) },
    Next: 'RecordFailure',
  };
}

/** The per-report workflow run by each Distributed Map child execution. */
export function reportItemProcessor(functions: WorkflowFunctionArns, topicArn: string, partition = 'aws'): ItemProcessor {
  const states: Record<string, State> = {
    GenerateReport: lambdaTask(functions.generate, 'generate', 'ValidateReport', 'GenerationFailed', {
      Comment: 'Builds the report for reportDate, or the previous business day of runStartedAt when null, and stores it in S3',
      Parameters: ITEM_FIELDS,
      ResultPath: '$.report',
      TimeoutSeconds: 330,
    }),
    ValidateReport: lambdaTask(functions.validate, 'validate', 'IsReportValid', 'ValidationFailed', {
      InputPath: '$.report',
      ResultPath: '$.validation',
      TimeoutSeconds: 90,
    }),
    IsReportValid: {
      Type: 'Choice',
      Choices: [{ Variable: '$.validation.isValid', BooleanEquals: true, Next: 'DeliverReport' }],
      Default: 'ReportInvalid',
    },
    DeliverReport: lambdaTask(functions.deliver, 'deliver', 'ConfirmDelivery', 'DeliveryFailed', {
      Comment: 'Sends once per reportId (idempotency table); SES events confirm receipt later',
      Parameters: { 'report.$': '$.report', 'validation.$': '$.validation' },
      ResultPath: '$.delivery',
      TimeoutSeconds: 90,
    }),
    ConfirmDelivery: lambdaTask(functions.confirm, 'confirm', 'IsDeliveryFailed', 'ConfirmationFailed', {
      InputPath: '$.delivery',
      ResultPath: '$.confirmation',
      TimeoutSeconds: 60,
    }),
    IsDeliveryFailed: {
      Type: 'Choice',
      Comment: 'PENDING is normal: the SES delivery/bounce event updates report_log when it arrives',
      Choices: [{ Variable: '$.confirmation.status', StringEquals: 'DELIVERY_FAILED', Next: 'DeliveryRejected' }],
      Default: 'ReportDelivered',
    },
    ReportDelivered: { Type: 'Succeed' },

    GenerationFailed: failureRecord('GENERATE', '$.error', 'GenerateReport failed after its retries'),
    ValidationFailed: failureRecord('VALIDATE', '$.error', 'ValidateReport failed after its retries'),
    ReportInvalid: failureRecord('VALIDATE', {
      Error: 'ReportInvalid',
      'Cause.$': 'States.JsonToString($.validation.errors)',
    }, 'The report failed validation; it is never delivered'),
    DeliveryFailed: failureRecord('DELIVER', '$.error', 'DeliverReport failed after its retries'),
    ConfirmationFailed: failureRecord('CONFIRM', '$.error', 'ConfirmDelivery failed after its retries'),
    DeliveryRejected: failureRecord('CONFIRM', {
      Error: 'DeliveryFailed',
      Cause: 'SES reported a bounce, complaint or reject for the report email',
    }, 'Delivery was rejected by the recipient side'),

    RecordFailure: {
      Type: 'Task',
      Resource: functions.failure,
      Comment: 'Marks the report FAILED in report_log with the stage and error name',
      ResultPath: '$.recorded',
      TimeoutSeconds: 60,
      Retry: lambdaRetry('failure'),
      // Recording failed too: still notify, the alert must not be lost.
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.recordError', Next: 'NotifyFailure' }],
      Next: 'NotifyFailure',
    },
    NotifyFailure: {
      Type: 'Task',
      Resource: `arn:${partition}:states:::sns:publish`,
      Parameters: {
        TopicArn: topicArn,
        Subject: 'Regulatory report failed',
        // The error name only: causes can carry stack traces and report content.
        'Message.$': "States.Format('Report {} {} {} failed at stage {}: {}', $.item.jurisdiction, "
          + '$.item.reportType, $.item.entityId, $.stage, $.error.Error)',
      },
      ResultPath: null,
      Retry: [{ ErrorEquals: ['States.TaskFailed'], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 }],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.notifyError', Next: 'ReportFailed' }],
      Next: 'ReportFailed',
    },
    ReportFailed: {
      Type: 'Fail',
      Error: 'ReportFailed',
      Cause: 'Recorded in report_log and published to the reporting alerts topic',
    },
  };
  assertWellFormed(states, 'GenerateReport', 'report item processor');
  return { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, StartAt: 'GenerateReport', States: states };
}

/** The whole workflow definition object. */
export function buildWorkflowDefinition(props: WorkflowDefinitionProps): StateMachineDefinition {
  const { reporting } = props;
  const partition = props.partition ?? 'aws';
  if (!Number.isInteger(reporting.mapMaxConcurrency) || reporting.mapMaxConcurrency < 1) {
    throw new Error(`reporting.mapMaxConcurrency: must be a positive integer, got ${reporting.mapMaxConcurrency}`);
  }
  const items = buildWorkItems(reporting);
  const runFailed = (next: string): Catcher[] => [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: next }];
  const states: Record<string, State> = {
    ChooseReportDate: {
      Type: 'Choice',
      Comment: 'Scheduled input {} reports the previous business day; {"reportDate": "YYYY-MM-DD"} backfills that day',
      Choices: [
        { Variable: '$.reportDate', IsPresent: false, Next: 'DeriveReportDate' },
        { Variable: '$.reportDate', IsNull: true, Next: 'BuildWorkItems' },
        { Variable: '$.reportDate', IsString: true, Next: 'BuildWorkItems' },
      ],
      Default: 'InvalidReportDate',
    },
    DeriveReportDate: {
      Type: 'Pass',
      Comment: 'null: report-generate derives the previous business day of runStartedAt',
      Result: null,
      ResultPath: '$.reportDate',
      Next: 'BuildWorkItems',
    },
    InvalidReportDate: {
      Type: 'Pass',
      Comment: 'reportDate must be a "YYYY-MM-DD" string; fail the run once instead of every report',
      Parameters: { stage: 'INPUT', error: { Error: 'InvalidReportDate', Cause: 'reportDate must be a string YYYY-MM-DD' } },
      Next: 'NotifyRunFailed',
    },
    BuildWorkItems: {
      Type: 'Pass',
      Comment: `${items.length} reports: every configured (jurisdiction, reportType, entity)`,
      Result: { items: items.map((i) => ({ ...i })) },
      ResultPath: '$.work',
      Next: 'GenerateReports',
    },
    GenerateReports: {
      Type: 'Map',
      Label: MAP_RUN_LABEL,
      ItemsPath: '$.work.items',
      ItemSelector: {
        'jurisdiction.$': '$$.Map.Item.Value.jurisdiction',
        'reportType.$': '$$.Map.Item.Value.reportType',
        'entityId.$': '$$.Map.Item.Value.entityId',
        'runStartedAt.$': '$$.Execution.StartTime',
        'reportDate.$': '$.reportDate',
      },
      MaxConcurrency: reporting.mapMaxConcurrency,
      // Each report fails on its own (recorded + notified) and never aborts the others. (A count equal
      // to the item list means the same as 100 %, and is also accepted by moto's ASL parser, which
      // rejects an integer ToleratedFailurePercentage.)
      ToleratedFailureCount: items.length,
      ItemProcessor: reportItemProcessor(props.functions, props.topicArn, partition),
      ResultWriter: {
        Resource: `arn:${partition}:states:::s3:putObject`,
        Parameters: { Bucket: props.resultsBucket, Prefix: RESULTS_PREFIX },
      },
      ResultPath: '$.mapRun',
      Catch: runFailed('RunFailed'),
      Next: 'RunCompleted',
    },
    // Each failed report was already recorded and notified by its own child execution; the per-report
    // outcome files (SUCCEEDED_n / FAILED_n.json, listed by manifest.json) are the run summary, and
    // the children's own ExecutionsFailed metric (StateMachineArn .../<Label>) drives the alarm.
    RunCompleted: { Type: 'Succeed' },
    RunFailed: {
      Type: 'Pass',
      Comment: 'The map run itself failed (not one report): notify, then fail the execution',
      Parameters: { stage: 'RUN', 'error.$': '$.error' },
      Next: 'NotifyRunFailed',
    },
    NotifyRunFailed: {
      Type: 'Task',
      Resource: `arn:${partition}:states:::sns:publish`,
      Parameters: {
        TopicArn: props.topicArn,
        Subject: 'Regulatory reporting run failed',
        'Message.$': "States.Format('Reporting run {} failed: {}', $$.Execution.Name, $.error.Error)",
      },
      ResultPath: null,
      Retry: [{ ErrorEquals: ['States.TaskFailed'], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 }],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.notifyError', Next: 'WorkflowFailed' }],
      Next: 'WorkflowFailed',
    },
    WorkflowFailed: { Type: 'Fail', Error: 'ReportingRunFailed', Cause: 'The reporting run failed; published to the reporting alerts topic' },
  };
  assertWellFormed(states, 'ChooseReportDate');
  return {
    Comment: 'Daily regulatory reporting: every configured (jurisdiction, report type, entity) for the previous business day or the given reportDate',
    StartAt: 'ChooseReportDate',
    // A run that outlives a day would overlap the next scheduled run.
    TimeoutSeconds: 23 * 3600,
    States: states,
  };
}

/** Rendered definition; throws when it exceeds Step Functions' 1 MiB definition limit. */
export function renderWorkflowDefinition(props: WorkflowDefinitionProps): string {
  const json = JSON.stringify(buildWorkflowDefinition(props));
  const bytes = Buffer.byteLength(json);
  if (bytes > DEFINITION_LIMIT_BYTES) {
    throw new Error(`reporting workflow definition is ${bytes} bytes, over the ${DEFINITION_LIMIT_BYTES}-byte limit`);
  }
  return json;
}
