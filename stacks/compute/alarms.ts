import type { Construct } from 'constructs';
import { PlatformPart } from '../platform-stack';
import { Alarm, AlarmProps } from '../constructs/alarm';
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
  /** The batch alerts topic: every alarm here notifies it. */
  readonly topicArn: string;
  /** The reporting alerts topic: also paged when the night feeding a report date is not loaded. */
  readonly reportingTopicArn: string;
  readonly functions: { id: string; functionName: string }[];
  readonly deadLetterQueues: { id: string; queueName: string }[];
  readonly tables: { id: string; tableName: string }[];
  readonly sla: SlaWindow;
}

/** What every alarm here shares: 5-minute periods, one period to alarm, missing data is not breaching. */
type AlarmSpec = Omit<AlarmProps, 'alarmName' | 'periodSeconds' | 'evaluationPeriods' | 'treatMissingData' | 'alarmTopicArns'> &
  Partial<Pick<AlarmProps, 'alarmTopicArns'>>;

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
export class ComputeAlarms extends PlatformPart {
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, private readonly p: ComputeAlarmsProps) {
    super(scope, id);
    this.jobAlarms();
    this.functionAlarms();
    this.queueAlarms();
    this.tableAlarms();
    this.slaAlarm();
    this.reportingInputAlarm();
  }

  /** An alarm whose id is also its name's purpose (`${prefix}-<id>`), unless `name` says otherwise. */
  private add(id: string, spec: AlarmSpec, name = id): void {
    this.alarms.push(new Alarm(this, id, {
      alarmName: this.platform.name(name),
      periodSeconds: 300,
      evaluationPeriods: 1,
      treatMissingData: 'notBreaching',
      alarmTopicArns: [this.p.topicArn],
      ...spec,
    }));
  }

  private get env(): Record<string, string> {
    return { Environment: this.platform.cfg.environment };
  }

  private jobAlarms(): void {
    this.add('batch-jobs-failed', {
      description: 'A Batch job of the nightly run ended FAILED (after its retries)',
      metric: { namespace: METRICS_NAMESPACE, metricName: 'JobsFailed', dimensions: this.env, statistic: 'Sum' },
      threshold: 1,
      comparison: 'GreaterThanOrEqualToThreshold',
    });
  }

  private functionAlarms(): void {
    for (const { id: short, functionName: fnName } of this.p.functions) {
      for (const metricName of ['Errors', 'Throttles'] as const) {
        this.add(`${short}-${metricName.toLowerCase()}`, {
          description: `${fnName}: ${metricName} >= 1 in 5 minutes`,
          metric: { namespace: 'AWS/Lambda', metricName, dimensions: { FunctionName: fnName }, statistic: 'Sum' },
          threshold: 1,
          comparison: 'GreaterThanOrEqualToThreshold',
        });
      }
    }
  }

  private queueAlarms(): void {
    for (const q of this.p.deadLetterQueues) {
      this.add(`${q.id}-dlq-depth`, {
        description: `${q.queueName}: messages waiting in a dead-letter queue (an event was lost to its consumer)`,
        metric: { namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible', dimensions: { QueueName: q.queueName }, statistic: 'Maximum' },
        threshold: 0,
        comparison: 'GreaterThanThreshold',
      });
    }
  }

  private tableAlarms(): void {
    for (const t of this.p.tables) {
      const metric = (metricName: string) => ({ namespace: 'AWS/DynamoDB', metricName, dimensions: { TableName: t.tableName }, statistic: 'Sum' as const });
      this.add(`${t.id}-throttles`, {
        description: `${t.tableName}: read or write requests throttled`,
        metric: {
          metrics: { reads: metric('ReadThrottleEvents'), writes: metric('WriteThrottleEvents') },
          expression: 'FILL(reads, 0) + FILL(writes, 0)',
          label: 'Throttle events',
        },
        threshold: 0,
        comparison: 'GreaterThanThreshold',
      });
    }
  }

  /**
   * "The night feeding the report date is not loaded at the reporting deadline": run-deadline
   * `{"check": "loaded"}` at `schedules.dailyReporting` emits ReportingInputMissing (FinancialBatch,
   * Environment) = 1 when the run record has no `loadedAt`, else 0. Reporting starts only from the
   * loader, so this is the page that says a report date will be late (or not filed). It notifies both the
   * batch on-call (the night is the cause) and the reporting topic (the filing is what is at risk).
   */
  private reportingInputAlarm(): void {
    this.add('reporting-input-missing', {
      description: `Night feeding the report date not loaded at the reporting deadline (run-deadline check "loaded", ${this.platform.cfg.schedules.dailyReporting} UTC)`,
      metric: { namespace: METRICS_NAMESPACE, metricName: 'ReportingInputMissing', dimensions: this.env, statistic: 'Maximum' },
      threshold: 1,
      comparison: 'GreaterThanOrEqualToThreshold',
      alarmTopicArns: [this.p.topicArn, this.p.reportingTopicArn],
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
  private slaAlarm(): void {
    const { deadlineSchedule, windowHours } = this.p.sla;
    this.add('nightly-sla', {
      description: `Nightly run not succeeded at the end of its ${windowHours}-hour window (run-deadline, ${deadlineSchedule} UTC)`,
      metric: { namespace: METRICS_NAMESPACE, metricName: 'NightlyRunLate', dimensions: this.env, statistic: 'Maximum' },
      threshold: 1,
      comparison: 'GreaterThanOrEqualToThreshold',
      notifyOnOk: false,
    }, 'nightly-run-sla');
  }
}
