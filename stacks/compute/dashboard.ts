import type { Construct } from 'constructs';
import { PlatformPart } from '../platform-stack';
import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { NIGHTLY_NAMESPACE as METRICS_NAMESPACE } from '../../contracts/metric-names';

/** CloudWatch dashboard body, typed (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html). */
export type MetricRow = (string | { stat?: string; label?: string; id?: string; expression?: string; visible?: boolean; period?: number })[];

export interface MetricWidget {
  type: 'metric';
  x: number;
  y: number;
  width: number;
  height: number;
  properties: {
    title: string;
    region: string;
    view: 'timeSeries' | 'singleValue';
    stacked: boolean;
    period: number;
    stat: string;
    metrics: MetricRow[];
    annotations?: { horizontal: { label: string; value: number; color?: string }[] };
    yAxis?: { left: { min?: number; label?: string; showUnits?: boolean } };
  };
}

export interface DashboardBody {
  widgets: MetricWidget[];
}

export interface DashboardProps {
  readonly dashboardName: string;
  readonly region: string;
  readonly environment: string;
  readonly windowHours: number;
  readonly functionNames: string[];
  readonly queueNames: string[];
}

/** The nightly-run dashboard as typed data (tests parse it back). */
export function nightlyDashboardBody(p: DashboardProps): DashboardBody {
  const env = ['Environment', p.environment];
  const custom = (metric: string, label: string, extra: Record<string, unknown> = {}): MetricRow =>
    [METRICS_NAMESPACE, metric, ...env, { label, ...extra }];
  let slot = 0;
  const widget = (title: string, metrics: MetricRow[], stat: string, extra: Partial<MetricWidget['properties']> = {}): MetricWidget => {
    const i = slot++;
    return {
      type: 'metric',
      x: (i % 2) * 12,
      y: Math.floor(i / 2) * 6,
      width: 12,
      height: 6,
      properties: { title, region: p.region, view: 'timeSeries', stacked: false, period: 300, stat, metrics, ...extra },
    };
  };
  return {
    widgets: [
      widget('Batch jobs by final status', [
        custom('JobsSucceeded', 'Succeeded'),
        custom('JobsFailed', 'Failed'),
      ], 'Sum'),
      widget('Records processed / rejected', [
        custom('RecordsProcessed', 'Processed'),
        custom('RecordsRejected', 'Rejected'),
      ], 'Sum'),
      widget('Throughput (records per second)', [
        custom('RecordsProcessed', 'Processed', { id: 'processed', visible: false }),
        [{ expression: 'processed / PERIOD(processed)', label: 'Records/s', id: 'throughput' }],
      ], 'Sum', { yAxis: { left: { min: 0, label: 'records/s', showUnits: false } } }),
      widget(`Nightly run duration vs the ${p.windowHours}-hour window`, [
        custom('NightlyRunDurationSeconds', 'Run duration (s)'),
      ], 'Maximum', {
        period: 3600,
        annotations: { horizontal: [{ label: `${p.windowHours}-hour SLA`, value: p.windowHours * 3600, color: '#d62728' }] },
        yAxis: { left: { min: 0, label: 'seconds', showUnits: false } },
      }),
      widget('Lambda errors', p.functionNames.map((fn) => ['AWS/Lambda', 'Errors', 'FunctionName', fn, { label: fn }]), 'Sum'),
      widget('Dead-letter queue depth', p.queueNames.map((q) => ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', q, { label: q }]), 'Maximum'),
    ],
  };
}

/** The nightly-run dashboard (`${prefix}-nightly-run`). */
export class NightlyDashboard extends PlatformPart {
  readonly dashboard: CloudwatchDashboard;

  constructor(scope: Construct, id: string, p: Pick<DashboardProps, 'functionNames' | 'queueNames'>) {
    super(scope, id);
    const { cfg, region } = this.platform;
    this.dashboard = new CloudwatchDashboard(this, 'nightly-dashboard', {
      dashboardName: this.platform.name('nightly-run'),
      dashboardBody: JSON.stringify(nightlyDashboardBody({
        ...p, dashboardName: this.platform.name('nightly-run'), region, environment: cfg.environment, windowHours: cfg.batch.windowHours,
      })),
    });
  }
}
