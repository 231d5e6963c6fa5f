import { Construct } from 'constructs';
import { Alarm } from '../constructs/alarm';
import { METRICS_NAMESPACE } from './functions';

export interface SlaWindow {
  /** Minutes after 00:00 UTC at which the nightly schedule fires. */
  startMinute: number;
  windowHours: number;
  /** UTC hour during which the SLA check runs: the first whole hour at or after the window's end. */
  checkHour: number;
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
  return { startMinute, windowHours, checkHour: Math.ceil(endMinute / 60) % 24 };
}

export interface ComputeAlarmsProps {
  readonly name: (purpose: string) => string;
  readonly environment: string;
  readonly topicArn: string;
  readonly functions: { id: string; functionName: string }[];
  readonly deadLetterQueues: { id: string; queueName: string }[];
  readonly tables: { id: string; tableName: string }[];
  readonly sla: SlaWindow;
}

/**
 * Every alarm of the nightly run, all notifying the batch alerts topic:
 * - failed Batch jobs (FinancialBatch/JobsFailed from job-events, Environment dimension);
 * - Lambda Errors and Throttles per function (FunctionName);
 * - every DLQ's visible depth > 0 (QueueName);
 * - DynamoDB throttling per table: ReadThrottleEvents + WriteThrottleEvents, whose only dimension is
 *   TableName (ThrottledRequests would also need Operation, so a TableName-only alarm on it never
 *   matches any data: the defect of the source documents);
 * - the 4-hour SLA (see `slaAlarm`).
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
  return alarms;
}

/**
 * The 4-hour SLA: "the nightly run has not completed by the end of its window".
 *
 * job-events emits NightlyRunCompleted = 1 (FinancialBatch, Environment) once every job of a run is
 * terminal; nothing is emitted while a run is late or if it never started. Alarm windows slide, so a
 * plain "no datapoint in the last N hours" alarm cannot express "by 04:00": with N = 4 it would fire
 * every afternoon (the morning's completion has left the window), with N = 24 it would fire early
 * whenever tonight's run is slower than last night's. Instead:
 * - period 86,400 s, one evaluation: each evaluation sees the last 24 hours, which at the check hour
 *   covers the whole of tonight's window (and nothing of last night's run before its window end);
 * - FILL(m, 0) turns "nothing reported" into 0, so a run that never started or never finished breaches;
 * - HOUR() of that 24-hour datapoint equals the current UTC hour (start and end of a 24-hour period
 *   share their hour-of-day), so the expression reports the completion flag only during the check
 *   hour (the first whole hour at or after the window end) and 1 (healthy) at every other hour;
 * - treatMissingData breaching as a second guard if the expression itself returns nothing.
 * The alarm therefore enters ALARM within the first evaluation of the check hour when the run has not
 * completed, and returns to OK an hour later by construction, so only ALARM notifies (an "OK" would
 * wrongly suggest the run finished).
 */
function slaAlarm(scope: Construct, p: ComputeAlarmsProps): Alarm {
  const { checkHour, windowHours } = p.sla;
  return new Alarm(scope, 'nightly-sla', {
    alarmName: p.name('nightly-run-sla'),
    description: `Nightly run not completed within its ${windowHours}-hour window (checked ${String(checkHour).padStart(2, '0')}:00-${String((checkHour + 1) % 24).padStart(2, '0')}:00 UTC)`,
    metric: {
      metrics: {
        completed: { namespace: METRICS_NAMESPACE, metricName: 'NightlyRunCompleted', dimensions: { Environment: p.environment }, statistic: 'Maximum' },
      },
      intermediate: { filled: 'FILL(completed, 0)' },
      expression: `IF(HOUR(filled) == ${checkHour}, filled, 1)`,
      label: 'Nightly run completed within the window',
    },
    periodSeconds: 86400,
    evaluationPeriods: 1,
    threshold: 1,
    comparison: 'LessThanThreshold',
    treatMissingData: 'breaching',
    alarmTopicArns: [p.topicArn],
    notifyOnOk: false,
  });
}
