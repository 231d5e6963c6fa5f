/**
 * Powertools logger and metrics per handler. The tracer is created only when tracing can work: the
 * Powertools Tracer disables itself outside Lambda (no AWS_EXECUTION_ENV) or with
 * POWERTOOLS_TRACE_ENABLED=false, so local runs and tests never need an X-Ray daemon.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/** JSON logs; the level comes from POWERTOOLS_LOG_LEVEL or Lambda's AWS_LAMBDA_LOG_LEVEL (default INFO). */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}

/** Metrics (EMF on stdout: no CloudWatch API call, no VPC endpoint needed) with the Environment dimension. */
export function createMetrics(serviceName: string, namespace: string, environment?: string): Metrics {
  const metrics = new Metrics({ namespace, serviceName });
  // Powertools adds a `service` dimension by default; alarms match the exact documented dimension
  // sets (e.g. only Environment), so a metric with an extra dimension would never reach them.
  metrics.clearDefaultDimensions();
  if (environment) metrics.setDefaultDimensions({ Environment: environment });
  return metrics;
}

let tracer: Tracer | undefined;

/**
 * One tracer per container. Outside Lambda (no AWS_EXECUTION_ENV), under SAM/Amplify mocks, or with
 * POWERTOOLS_TRACE_ENABLED=false the Powertools Tracer turns itself off, so nothing here needs an
 * X-Ray daemon; in Lambda (X-Ray active on every function) SDK clients are captured as subsegments.
 */
export function getTracer(): Tracer {
  tracer ??= new Tracer({ serviceName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'financial-batch' });
  return tracer;
}

export function traced<T>(client: T): T {
  const t = getTracer();
  return t.isTracingEnabled() ? t.captureAWSv3Client(client as never) as T : client;
}
