/**
 * Structured JSON logs on stdout (CloudWatch Logs via the awslogs driver) and CloudWatch metrics as
 * Embedded Metric Format lines: no PutMetricData calls, hence no monitoring endpoint or IAM grant.
 * Nothing here ever receives record content.
 */
import { NIGHTLY_NAMESPACE } from '../../contracts/metric-names';

export type Fields = Record<string, unknown>;

export interface Logger {
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

export function jsonLogger(base: Fields = {}, write: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  const emit = (level: string, msg: string, fields?: Fields) =>
    write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...base, ...fields }) + '\n');
  return {
    info: (m, f) => emit('INFO', m, f),
    warn: (m, f) => emit('WARN', m, f),
    error: (m, f) => emit('ERROR', m, f),
  };
}

export const METRICS_NAMESPACE = NIGHTLY_NAMESPACE;

export interface MetricValue {
  value: number;
  unit: 'Count' | 'Seconds' | 'Bytes' | 'Count/Second';
}

/** One EMF document: metrics share the `Environment` dimension; extra properties are searchable, not dimensions. */
export function emfLine(environment: string, metrics: Record<string, MetricValue>, properties: Fields = {}, now = Date.now()): string {
  const doc: Record<string, unknown> = {
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: [['Environment']],
          Metrics: Object.entries(metrics).map(([Name, m]) => ({ Name, Unit: m.unit })),
        },
      ],
    },
    Environment: environment,
    ...properties,
  };
  for (const [name, m] of Object.entries(metrics)) doc[name] = m.value;
  return JSON.stringify(doc) + '\n';
}
