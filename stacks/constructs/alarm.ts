import { Construct } from 'constructs';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';

export type ComparisonOperator =
  | 'GreaterThanOrEqualToThreshold' | 'GreaterThanThreshold' | 'LessThanThreshold' | 'LessThanOrEqualToThreshold';
export type TreatMissingData = 'breaching' | 'notBreaching' | 'ignore' | 'missing';
export type Statistic = 'Sum' | 'Maximum' | 'Minimum' | 'Average' | 'SampleCount';

/** One metric: namespace, name, dimensions (all of them: a metric matches only with its full set). */
export interface MetricSpec {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Record<string, string>;
  readonly statistic: Statistic;
}

/** Metric math: named metrics plus one expression the alarm watches. */
export interface MathSpec {
  readonly metrics: Record<string, MetricSpec>;
  /** Intermediate expressions by id (evaluated, not returned). */
  readonly intermediate?: Record<string, string>;
  readonly expression: string;
  readonly label: string;
}

export interface AlarmProps {
  readonly alarmName: string;
  readonly description: string;
  readonly metric: MetricSpec | MathSpec;
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm?: number;
  readonly threshold: number;
  readonly comparison: ComparisonOperator;
  readonly treatMissingData: TreatMissingData;
  /** SNS topics notified on ALARM; at least one (an alarm that notifies no one is a defect of the sources). */
  readonly alarmTopicArns: string[];
  /** Also notify on return to OK (default true). */
  readonly notifyOnOk?: boolean;
}

/**
 * A CloudWatch metric alarm that always notifies someone: actions are required, validated and enabled.
 * Accepts a single metric or a metric-math expression; periods are checked against CloudWatch's rules
 * (10/30/60 s or a multiple of 60; period x evaluation periods at most one day).
 */
export class Alarm extends Construct {
  readonly alarm: CloudwatchMetricAlarm;
  readonly arn: string;
  readonly name: string;

  constructor(scope: Construct, id: string, props: AlarmProps) {
    super(scope, id);
    const p = props.periodSeconds;
    if (!([10, 30].includes(p) || (p >= 60 && p % 60 === 0))) {
      throw new Error(`Alarm ${id}: periodSeconds must be 10, 30 or a multiple of 60, got ${p}`);
    }
    if (props.evaluationPeriods < 1 || p * props.evaluationPeriods > 86400) {
      throw new Error(`Alarm ${id}: periodSeconds x evaluationPeriods must be 1..86400 s, got ${p * props.evaluationPeriods}`);
    }
    const dta = props.datapointsToAlarm ?? props.evaluationPeriods;
    if (dta < 1 || dta > props.evaluationPeriods) {
      throw new Error(`Alarm ${id}: datapointsToAlarm must be 1..evaluationPeriods (${props.evaluationPeriods}), got ${dta}`);
    }
    if (props.alarmTopicArns.length === 0) {
      throw new Error(`Alarm ${id}: alarmTopicArns must name at least one topic (alarms must notify someone)`);
    }
    const metric = props.metric;
    const single = 'metricName' in metric
      ? {
        namespace: metric.namespace,
        metricName: metric.metricName,
        dimensions: metric.dimensions,
        statistic: metric.statistic,
        period: p,
      }
      : undefined;
    const math = 'expression' in metric
      ? [
        ...Object.entries(metric.metrics).map(([qid, m]) => ({
          id: qid,
          returnData: false,
          metric: { namespace: m.namespace, metricName: m.metricName, dimensions: m.dimensions, stat: m.statistic, period: p },
        })),
        ...Object.entries(metric.intermediate ?? {}).map(([qid, expression]) => ({ id: qid, expression, returnData: false })),
        { id: 'alarmed', expression: metric.expression, label: metric.label, returnData: true },
      ]
      : undefined;
    this.alarm = new CloudwatchMetricAlarm(this, 'alarm', {
      alarmName: props.alarmName,
      alarmDescription: props.description,
      comparisonOperator: props.comparison,
      evaluationPeriods: props.evaluationPeriods,
      datapointsToAlarm: dta,
      threshold: props.threshold,
      treatMissingData: props.treatMissingData,
      actionsEnabled: true,
      alarmActions: props.alarmTopicArns,
      okActions: props.notifyOnOk === false ? undefined : props.alarmTopicArns,
      ...(single ?? {}),
      ...(math ? { metricQuery: math } : {}),
    });
    this.arn = this.alarm.arn;
    this.name = this.alarm.alarmName;
  }
}
