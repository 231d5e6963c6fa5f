/**
 * Powertools per function, the way every handler uses it:
 * - `createLogger(entry)`: a module-level Logger (JSON; the level is read when the module loads).
 * - `powertoolsHandler(entry, logger, fn)`: wraps the exported handler. Each invocation first adds the
 *   Lambda context to the logger (`logger.addContext`: every line then carries `function_name`,
 *   `function_request_id`, `function_arn`, `function_memory_size`, `cold_start`), then emits the
 *   `ColdStart` metric once per container (Powertools `captureColdStartMetric`). The handlers are not
 *   middy-wrapped (one dependency less in every bundle); this is what Powertools' `injectLambdaContext`
 *   and `logMetrics({captureColdStartMetric: true})` do, without middy.
 * - `createMetrics(entry, environment?)`: EMF metrics in the function's namespace (contracts/metric-names.ts).
 * The tracer is created only when tracing can work: the Powertools Tracer disables itself outside
 * Lambda (no AWS_EXECUTION_ENV) or with POWERTOOLS_TRACE_ENABLED=false, so local runs and tests never
 * need an X-Ray daemon.
 */
import type { Context } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { FUNCTION_NAMESPACES, FunctionEntry } from '../../contracts/metric-names';
import { environmentOf } from './env';

/**
 * A handler as this project exports it: Lambda passes the context; local runs pass one too; tests may
 * call it with the event alone. Assignable to aws-lambda's `Handler<E, R>`.
 */
export type LambdaHandler<E, R> = (event: E, context?: Context) => Promise<R>;

/** JSON logs; the level comes from POWERTOOLS_LOG_LEVEL or Lambda's AWS_LAMBDA_LOG_LEVEL (default INFO). */
export function createLogger(entry: FunctionEntry): Logger {
  return new Logger({ serviceName: entry });
}

interface MetricsOptions { namespace: string; serviceName: string; environment?: string; singleMetric?: boolean }

/**
 * Metrics whose dimension sets are exactly the documented ones. Powertools adds a `service` dimension
 * by default, also to the single-metric instance `captureColdStartMetric` emits through; alarms match
 * exact dimension sets (e.g. only Environment), so a metric with an extra dimension would never reach
 * them. Here `service` is removed on every instance, and Environment is the one default dimension.
 */
class PlatformMetrics extends Metrics {
  readonly #options: MetricsOptions;

  constructor(options: MetricsOptions) {
    super({ namespace: options.namespace, serviceName: options.serviceName, singleMetric: options.singleMetric });
    this.#options = options;
    this.clearDefaultDimensions();
    if (options.environment) this.setDefaultDimensions({ Environment: options.environment });
  }

  override singleMetric(): Metrics {
    return new PlatformMetrics({ ...this.#options, singleMetric: true });
  }
}

/** Metrics (EMF on stdout: no CloudWatch API call, no VPC endpoint needed) with the Environment dimension. */
export function createMetrics(entry: FunctionEntry, environment?: string): Metrics {
  return new PlatformMetrics({ namespace: FUNCTION_NAMESPACES[entry], serviceName: entry, environment });
}

/**
 * The exported handler: Lambda context on every log line, ColdStart once per container, then `fn`.
 * ColdStart goes to the function's namespace with exactly [Environment, function_name] (function_name
 * from the context, else AWS_LAMBDA_FUNCTION_NAME, else the entry); Powertools counts a cold start only
 * when AWS_LAMBDA_INITIALIZATION_TYPE is `on-demand` (not for provisioned concurrency, nor outside Lambda).
 * ENVIRONMENT is read at the first invocation, when the container's environment is complete. Before `fn`,
 * the function's whole environment is checked against its schema (contracts/lambda-environment.ts):
 * parsed at the cold start, reused after; a bad or missing variable fails the invocation naming it.
 */
export function powertoolsHandler<E, R>(entry: FunctionEntry, logger: Logger, fn: LambdaHandler<E, R>): LambdaHandler<E, R> {
  let coldStart: Metrics | undefined;
  return async (event: E, context?: Context): Promise<R> => {
    if (context) logger.addContext(context);
    const environment = process.env.ENVIRONMENT?.trim();
    coldStart ??= new PlatformMetrics({ namespace: FUNCTION_NAMESPACES[entry], serviceName: entry, environment: environment || undefined });
    coldStart.captureColdStartMetric(context?.functionName || process.env.AWS_LAMBDA_FUNCTION_NAME || entry);
    environmentOf(entry);
    return fn(event, context);
  };
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
