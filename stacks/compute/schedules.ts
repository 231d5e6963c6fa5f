import { Construct } from 'constructs';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { DeadLetterQueue } from '../constructs/dead-letter-queue';
import { NodejsFunction } from '../constructs/nodejs-function';
import { INPUT_PREFIX } from '../data/buckets';

export interface EventWiringProps {
  readonly name: (purpose: string) => string;
  readonly accountId: string;
  readonly messagingKeyArn: string;
  readonly nightlySchedule: string;
  readonly jobQueueArn: string;
  readonly inputBucketName: string;
  readonly paymentBucketName: string;
  readonly orchestrator: NodejsFunction;
  readonly ingest: NodejsFunction;
  readonly jobEvents: NodejsFunction;
  /** Checks the run at the end of its window (`deadlineSchedule`, nightly start + windowHours). */
  readonly runDeadline: NodejsFunction;
  readonly deadlineSchedule: string;
  /** The reporting deadline (`schedules.dailyReporting`): run-deadline checks that the night is loaded. */
  readonly reportingDeadlineSchedule: string;
}

export interface EventRoute {
  readonly rule: CloudwatchEventRule;
  readonly target: CloudwatchEventTarget;
  /** Events EventBridge could not deliver after its retries (e.g. throttled, permission removed). */
  readonly deadLetterQueue: DeadLetterQueue;
}

export interface EventWiring {
  readonly nightly: EventRoute;
  readonly batchStateChange: EventRoute;
  readonly objectCreated: EventRoute;
  readonly deadline: EventRoute;
  readonly reportingDeadline: EventRoute;
}

/**
 * The reporting deadline's event for run-deadline: `{"check": "loaded", "time": <the schedule's time>}`.
 * EventBridge substitutes the Scheduled Event's `time` (an ISO 8601 string) as a JSON string value.
 */
export const REPORTING_DEADLINE_INPUT = {
  inputPaths: { time: '$.time' },
  inputTemplate: '{"check":"loaded","time":<time>}',
} as const;

/** Event patterns as typed objects (rendered with JSON.stringify). */
export function batchStateChangePattern(jobQueueArn: string): Record<string, unknown> {
  return { source: ['aws.batch'], 'detail-type': ['Batch Job State Change'], detail: { jobQueue: [jobQueueArn] } };
}

/** Input bucket: only `transactions/`; payment-files bucket: every object. */
export function objectCreatedPattern(inputBucket: string, paymentBucket: string): Record<string, unknown> {
  return {
    source: ['aws.s3'],
    'detail-type': ['Object Created'],
    detail: {
      $or: [
        { bucket: { name: [inputBucket] }, object: { key: [{ prefix: INPUT_PREFIX }] } },
        { bucket: { name: [paymentBucket] } },
      ],
    },
  };
}

/**
 * EventBridge wiring of the nightly run: the schedule and on-demand start of the orchestrator, the
 * deadline schedule of run-deadline at the window's end, the reporting deadline (run-deadline
 * `{"check": "loaded"}` at `schedules.dailyReporting`: reporting itself starts from report-loader), Batch
 * job state changes of this queue to job-events, and S3 "Object Created" (native bucket → EventBridge
 * notifications, no custom resource) to ingest. Every target has a retry policy and its own DLQ, and
 * each function accepts invocations only from its rule (aws:SourceArn on the Lambda permission).
 */
export function createEventWiring(scope: Construct, p: EventWiringProps): EventWiring {
  const route = (id: string, rule: CloudwatchEventRule, fn: NodejsFunction, retry: { attempts: number; maxAgeSeconds: number },
    options: { statementId?: string; inputTransformer?: { inputPaths: Record<string, string>; inputTemplate: string } } = {}): EventRoute => {
    const deadLetterQueue = new DeadLetterQueue(scope, `${id}-target-dlq`, {
      queueName: p.name(`${id}-events-dlq`),
      kmsKeyArn: p.messagingKeyArn,
      accountId: p.accountId,
      eventBridgeRuleArns: [rule.arn],
    });
    const target = new CloudwatchEventTarget(scope, `${id}-target`, {
      rule: rule.name,
      targetId: id,
      arn: fn.arn,
      retryPolicy: { maximumRetryAttempts: retry.attempts, maximumEventAgeInSeconds: retry.maxAgeSeconds },
      deadLetterConfig: { arn: deadLetterQueue.arn },
      ...(options.inputTransformer ? { inputTransformer: { ...options.inputTransformer, inputPaths: { ...options.inputTransformer.inputPaths } } } : {}),
      // The queue must admit this rule before the target names it (first apply included).
      dependsOn: [deadLetterQueue.policy],
    });
    new LambdaPermission(scope, `${id}-invoke`, {
      // One statement id per rule: a function invoked by two rules holds two permissions.
      statementId: options.statementId ?? 'AllowEventBridgeRule',
      action: 'lambda:InvokeFunction',
      functionName: fn.functionName,
      principal: 'events.amazonaws.com',
      sourceArn: rule.arn,
      sourceAccount: p.accountId,
    });
    return { rule, target, deadLetterQueue };
  };

  const nightlyRule = new CloudwatchEventRule(scope, 'nightly-schedule', {
    name: p.name('nightly-batch'),
    description: 'Starts the nightly transaction run (orchestrator)',
    scheduleExpression: p.nightlySchedule,
  });
  const batchRule = new CloudwatchEventRule(scope, 'batch-state-change', {
    name: p.name('batch-job-state'),
    description: 'Batch job state changes of the transaction queue',
    eventPattern: JSON.stringify(batchStateChangePattern(p.jobQueueArn)),
  });
  const objectRule = new CloudwatchEventRule(scope, 'object-created', {
    name: p.name('object-created'),
    description: 'New transaction and payment files',
    eventPattern: JSON.stringify(objectCreatedPattern(p.inputBucketName, p.paymentBucketName)),
  });
  const deadlineRule = new CloudwatchEventRule(scope, 'deadline-schedule', {
    name: p.name('nightly-deadline'),
    description: 'End of the nightly window: run-deadline checks that the run succeeded',
    scheduleExpression: p.deadlineSchedule,
  });
  const reportingDeadlineRule = new CloudwatchEventRule(scope, 'reporting-deadline-schedule', {
    name: p.name('reporting-deadline'),
    description: 'Reporting deadline: run-deadline checks that the night feeding the report date is loaded',
    scheduleExpression: p.reportingDeadlineSchedule,
  });
  return {
    // A missed start eats into the 4-hour window: give up after 30 minutes and let the DLQ alarm page.
    nightly: route('nightly', nightlyRule, p.orchestrator, { attempts: 8, maxAgeSeconds: 1800 }),
    batchStateChange: route('batch-state', batchRule, p.jobEvents, { attempts: 24, maxAgeSeconds: 3600 }),
    objectCreated: route('object-created', objectRule, p.ingest, { attempts: 24, maxAgeSeconds: 3600 }),
    // A deadline check that cannot run within 30 minutes is itself an incident: the DLQ alarm pages.
    deadline: route('deadline', deadlineRule, p.runDeadline, { attempts: 8, maxAgeSeconds: 1800 }),
    // Same retry policy as the window's deadline check; its own DLQ and its own permission on run-deadline.
    reportingDeadline: route('reporting-deadline', reportingDeadlineRule, p.runDeadline, { attempts: 8, maxAgeSeconds: 1800 },
      { statementId: 'AllowReportingDeadlineRule', inputTransformer: REPORTING_DEADLINE_INPUT }),
  };
}
