import { Construct } from 'constructs';
import { Alarm } from '../constructs/alarm';
import { NIGHTLY_NAMESPACE as METRICS_NAMESPACE } from '../../contracts/metric-names';

export interface SlaWindow {
  /** Minutes after 00:00 UTC at which the nightly schedule fires. */
  startMinute: number;
  windowHours: number;
  /** UTC hour during which the SLA check runs: the first whole hour at or after the window's end. */
  checkHour: number;
  /** Daily cron at the window's end (nightly start + windowHours), when run-deadline checks the run. */
  deadlineSchedule: string;
}

/**
 * Reads the start time out of the nightly cron. The SLA alarm needs a run that starts once a day at a
 * fixed UTC time; anything else (rate(...), ranges, lists, weekdays only) gets a clear error naming the
 * field rather than an alarm that fires on the wrong days.
 */
export function slaWindow(nightlySchedule: string, windowHours: number): SlaWindow {
  const field = 'schedules.nightlyBatch';
  const m = /^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$/.exec(nightlySchedule);
  if (!m) throw new Error(`${field}: the SLA alarm needs a daily cron(M H * * ? *) schedule, got "${nightlySchedule}"`);
  const [, minute, hour, dom, month, dow, year] = m;
  const daily = ['*', '?'].includes(dom) && month === '*' && ['*', '?'].includes(dow) && year === '*';
  if (!/^\d{1,2}$/.test(minute) || !/^\d{1,2}$/.test(hour) || !daily || Number(minute) > 59 || Number(hour) > 23) {
    throw new Error(`${field}: the SLA alarm needs one fixed daily start time, cron(M H * * ? *), got "${nightlySchedule}"`);
  }
  const startMinute = Number(hour) * 60 + Number(minute);
  const endMinute = startMinute + windowHours * 60;
  const deadline = endMinute % 1440;
  return {
    startMinute, windowHours, checkHour: Math.ceil(endMinute / 60) % 24,
    deadlineSchedule: `cron(${deadline % 60} ${Math.floor(deadline / 60)} * * ? *)`,
  };
}

export interface ComputeAlarmsProps {
  readonly name: (purpose: string) => string;
  readonly environment: string;
  readonly topicArn: string;
  readonly functions: { id: string; functionName: string }[];
  readonly deadLetterQueues: { id: string; queueName: string }[];
  readonly tables: { id: string; tableName: string }[];
  readonly sla: SlaWindow;
  /** The reporting deadline (`schedules.dailyReporting`) and the reporting alerts topic, also paged. */
  readonly reportingDeadline: { schedule: string; topicArn: string };
}

/**
 * Every alarm of the nightly run, all notifying the batch alerts topic:
 * - failed Batch jobs (FinancialBatch/JobsFailed from job-events, Environment dimension);
 * - Lambda Errors and Throttles per function (FunctionName);
 * - every DLQ's visible depth > 0 (QueueName);
 * - DynamoDB throttling per table: ReadThrottleEvents + WriteThrottleEvents, whose only dimension is
 *   TableName (ThrottledRequests would also need Operation, so a TableName-only alarm on it never
 *   matches any data);
 * - the 4-hour SLA: NightlyRunLate from run-deadline (see `slaAlarm`);
 * - the reporting deadline: ReportingInputMissing from run-deadline (see `reportingInputAlarm`).
 */
export function createComputeAlarms(scope: Construct, p: ComputeAlarmsProps): Alarm[] {
  const topics = [p.topicArn];
  const alarms: Alarm[] = [];
  const env = { Environment: p.environment };
  alarms.push(new Alarm(scope, 'batch-jobs-failed', {
    alarmName: p.name('batch-jobs-failed'),
    description: 'A Batch job of the nightly run ended FAILED (after its retries)',
    metric: { namespace: METRICS_NAMESPACE, metricName: 'JobsFailed', dimensions: env, statistic: 'Sum' },
    periodSeconds: 300,
    evaluationPeriods: 1,
    threshold: 1,
    comparison: 'GreaterThanOrEqualToThreshold',
    treatMissingData: 'notBreaching',
    alarmTopicArns: topics,
  }));
  for (const { id: short, functionName: fnName } of p.functions) {
    for (const metricName of ['Errors', 'Throttles'] as const) {
      alarms.push(new Alarm(scope, `${short}-${metricName.toLowerCase()}`, {
        alarmName: p.name(`${short}-${metricName.toLowerCase()}`),
        description: `${fnName}: ${metricName} >= 1 in 5 minutes`,
        metric: { namespace: 'AWS/Lambda', metricName, dimensions: { FunctionName: fnName }, statistic: 'Sum' },
        periodSeconds: 300,
        evaluationPeriods: 1,
        threshold: 1,
        comparison: 'GreaterThanOrEqualToThreshold',
        treatMissingData: 'notBreaching',
        alarmTopicArns: topics,
      }));
    }
  }
  for (const q of p.deadLetterQueues) {
    alarms.push(new Alarm(scope, `${q.id}-dlq-depth`, {
      alarmName: p.name(`${q.id}-dlq-depth`),
      description: `${q.queueName}: messages waiting in a dead-letter queue (an event was lost to its consumer)`,
      metric: { namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible', dimensions: { QueueName: q.queueName }, statistic: 'Maximum' },
      periodSeconds: 300,
      evaluationPeriods: 1,
      threshold: 0,
      comparison: 'GreaterThanThreshold',
      treatMissingData: 'notBreaching',
      alarmTopicArns: topics,
    }));
  }
  for (const t of p.tables) {
    const metric = (metricName: string) => ({ namespace: 'AWS/DynamoDB', metricName, dimensions: { TableName: t.tableName }, statistic: 'Sum' as const });
    alarms.push(new Alarm(scope, `${t.id}-throttles`, {
      alarmName: p.name(`${t.id}-throttles`),
      description: `${t.tableName}: read or write requests throttled`,
      metric: {
        metrics: { reads: metric('ReadThrottleEvents'), writes: metric('WriteThrottleEvents') },
        expression: 'FILL(reads, 0) + FILL(writes, 0)',
        label: 'Throttle events',
      },
      periodSeconds: 300,
      evaluationPeriods: 1,
      threshold: 0,
      comparison: 'GreaterThanThreshold',
      treatMissingData: 'notBreaching',
      alarmTopicArns: topics,
    }));
  }
  alarms.push(slaAlarm(scope, p));
  alarms.push(reportingInputAlarm(scope, p));
  return alarms;
}

/**
 * "The night feeding the report date is not loaded at the reporting deadline": run-deadline
 * `{"check": "loaded"}` at `schedules.dailyReporting` emits ReportingInputMissing (FinancialBatch,
 * Environment) = 1 when the run record has no `loadedAt`, else 0. Reporting starts only from the
 * loader, so this is the page that says a report date will be late (or not filed). It notifies both the
 * batch on-call (the night is the cause) and the reporting topic (the filing is what is at risk).
 */
function reportingInputAlarm(scope: Construct, p: ComputeAlarmsProps): Alarm {
  return new Alarm(scope, 'reporting-input-missing', {
    alarmName: p.name('reporting-input-missing'),
    description: `Night feeding the report date not loaded at the reporting deadline (run-deadline check "loaded", ${p.reportingDeadline.schedule} UTC)`,
    metric: { namespace: METRICS_NAMESPACE, metricName: 'ReportingInputMissing', dimensions: { Environment: p.environment }, statistic: 'Maximum' },
    periodSeconds: 300,
    evaluationPeriods: 1,
    threshold: 1,
    comparison: 'GreaterThanOrEqualToThreshold',
    treatMissingData: 'notBreaching',
    alarmTopicArns: [p.topicArn, p.reportingDeadline.topicArn],
    notifyOnOk: false,
  });
}

/**
 * The 4-hour SLA: "the nightly run has not succeeded by the end of its window".
 *
 * A schedule at the window's end (nightly start + windowHours, `SlaWindow.deadlineSchedule`) invokes
 * run-deadline, which reads that night's run record and emits NightlyRunLate (FinancialBatch,
 * Environment) = 1 unless the run SUCCEEDED (late, failed, or never started), 0 otherwise, and
 * publishes its own alert. This alarm pages on the metric, so a lost SNS publish still pages. It does
 * not depend on how CloudWatch timestamps a 24-hour datapoint (the old HOUR()-of-a-daily-period
 * expression did). If run-deadline itself fails, its Errors alarm and DLQ alarm page instead; missing
 * data is therefore not breaching, and only ALARM notifies (an "OK" five minutes later means nothing).
 */
function slaAlarm(scope: Construct, p: ComputeAlarmsProps): Alarm {
  const { deadlineSchedule, windowHours } = p.sla;
  return new Alarm(scope, 'nightly-sla', {
    alarmName: p.name('nightly-run-sla'),
    description: `Nightly run not succeeded at the end of its ${windowHours}-hour window (run-deadline, ${deadlineSchedule} UTC)`,
    metric: { namespace: METRICS_NAMESPACE, metricName: 'NightlyRunLate', dimensions: { Environment: p.environment }, statistic: 'Maximum' },
    periodSeconds: 300,
    evaluationPeriods: 1,
    threshold: 1,
    comparison: 'GreaterThanOrEqualToThreshold',
    treatMissingData: 'notBreaching',
    alarmTopicArns: [p.topicArn],
    notifyOnOk: false,
  });
}
