import type { Construct } from 'constructs';
import { PlatformPart } from '../platform-stack';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { DeadLetterQueue } from '../constructs/dead-letter-queue';
import { NodejsFunction } from '../constructs/nodejs-function';
import { INPUT_PREFIX } from '../data/buckets';

export interface NightlyEventsProps {
  readonly messagingKeyArn: string;
  readonly jobQueueArn: string;
  readonly inputBucketName: string;
  readonly paymentBucketName: string;
  readonly orchestrator: NodejsFunction;
  readonly ingest: NodejsFunction;
  readonly jobEvents: NodejsFunction;
  /** Checks the run at the end of its window (`deadlineSchedule`, nightly start + windowHours). */
  readonly runDeadline: NodejsFunction;
  readonly deadlineSchedule: string;
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
export class NightlyEvents extends PlatformPart implements EventWiring {
  readonly nightly: EventRoute;
  readonly batchStateChange: EventRoute;
  readonly objectCreated: EventRoute;
  readonly deadline: EventRoute;
  readonly reportingDeadline: EventRoute;

  constructor(scope: Construct, id: string, private readonly p: NightlyEventsProps) {
    super(scope, id);
    const { cfg } = this.platform;
    const rule = (ruleId: string, purpose: string, description: string, trigger: { scheduleExpression: string } | { eventPattern: string }) =>
      new CloudwatchEventRule(this, ruleId, { name: this.platform.name(purpose), description, ...trigger });
    // A missed start eats into the 4-hour window: give up after 30 minutes and let the DLQ alarm page.
    this.nightly = this.route('nightly', rule('nightly-schedule', 'nightly-batch', 'Starts the nightly transaction run (orchestrator)',
      { scheduleExpression: cfg.schedules.nightlyBatch }), p.orchestrator, { attempts: 8, maxAgeSeconds: 1800 });
    this.batchStateChange = this.route('batch-state', rule('batch-state-change', 'batch-job-state', 'Batch job state changes of the transaction queue',
      { eventPattern: JSON.stringify(batchStateChangePattern(p.jobQueueArn)) }), p.jobEvents, { attempts: 24, maxAgeSeconds: 3600 });
    this.objectCreated = this.route('object-created', rule('object-created', 'object-created', 'New transaction and payment files',
      { eventPattern: JSON.stringify(objectCreatedPattern(p.inputBucketName, p.paymentBucketName)) }), p.ingest, { attempts: 24, maxAgeSeconds: 3600 });
    // A deadline check that cannot run within 30 minutes is itself an incident: the DLQ alarm pages.
    this.deadline = this.route('deadline', rule('deadline-schedule', 'nightly-deadline', 'End of the nightly window: run-deadline checks that the run succeeded',
      { scheduleExpression: p.deadlineSchedule }), p.runDeadline, { attempts: 8, maxAgeSeconds: 1800 });
    // Same retry policy as the window's deadline check; its own DLQ and its own permission on run-deadline.
    this.reportingDeadline = this.route('reporting-deadline', rule('reporting-deadline-schedule', 'reporting-deadline',
      'Reporting deadline: run-deadline checks that the night feeding the report date is loaded',
      { scheduleExpression: cfg.schedules.dailyReporting }), p.runDeadline, { attempts: 8, maxAgeSeconds: 1800 },
    { statementId: 'AllowReportingDeadlineRule', inputTransformer: REPORTING_DEADLINE_INPUT });
  }

  /** A rule's target: retry policy, its own DLQ, and a Lambda permission for exactly this rule. */
  private route(id: string, rule: CloudwatchEventRule, fn: NodejsFunction, retry: { attempts: number; maxAgeSeconds: number },
    options: { statementId?: string; inputTransformer?: { inputPaths: Record<string, string>; inputTemplate: string } } = {}): EventRoute {
    const { accountId } = this.platform;
    const deadLetterQueue = new DeadLetterQueue(this, `${id}-target-dlq`, {
      queueName: this.platform.name(`${id}-events-dlq`),
      kmsKeyArn: this.p.messagingKeyArn,
      accountId,
      eventBridgeRuleArns: [rule.arn],
    });
    const target = new CloudwatchEventTarget(this, `${id}-target`, {
      rule: rule.name,
      targetId: id,
      arn: fn.arn,
      retryPolicy: { maximumRetryAttempts: retry.attempts, maximumEventAgeInSeconds: retry.maxAgeSeconds },
      deadLetterConfig: { arn: deadLetterQueue.arn },
      ...(options.inputTransformer ? { inputTransformer: { ...options.inputTransformer, inputPaths: { ...options.inputTransformer.inputPaths } } } : {}),
      // The queue must admit this rule before the target names it (first apply included).
      dependsOn: [deadLetterQueue.policy],
    });
    new LambdaPermission(this, `${id}-invoke`, {
      // One statement id per rule: a function invoked by two rules holds two permissions.
      statementId: options.statementId ?? 'AllowEventBridgeRule',
      action: 'lambda:InvokeFunction',
      functionName: fn.functionName,
      principal: 'events.amazonaws.com',
      sourceArn: rule.arn,
      sourceAccount: accountId,
    });
    return { rule, target, deadLetterQueue };
  }
}
