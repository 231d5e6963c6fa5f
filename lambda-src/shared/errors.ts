/**
 * Typed errors the platform's retry machinery keys on: Step Functions retries `RetryableError` (by
 * `name`), Lambda async retries and DLQs see any throw. `PermanentError` means "retrying cannot help"
 * (bad input, missing permission, unknown event shape). Their messages travel into logs, the
 * workflow's error Cause, report_log and alerts, so both constructors scrub and bound them
 * (shared/safe-text.ts): a message is at most 1 KB and never carries a card-number-like value.
 */
import { errorSummary, MAX_MESSAGE_BYTES, safeText } from './safe-text';

const bounded = (message: string) => safeText(message, MAX_MESSAGE_BYTES) ?? '';

export class RetryableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(bounded(message), options);
    this.name = 'RetryableError';
  }
}

export class PermanentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(bounded(message), options);
    this.name = 'PermanentError';
  }
}

const RETRYABLE_NAMES = new Set([
  'ThrottlingException', 'Throttling', 'ThrottledException', 'TooManyRequestsException', 'RequestLimitExceeded',
  'ProvisionedThroughputExceededException', 'RequestThrottled', 'SlowDown', 'LimitExceededException',
  'ServiceUnavailable', 'ServiceUnavailableException', 'InternalError', 'InternalServerError', 'InternalFailure',
  'InternalServerException', 'ServerException', 'TimeoutError', 'RequestTimeout', 'RequestTimeoutException',
  'TransactionConflictException', 'ClientLimitExceededException', 'AbortError',
]);
const RETRYABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH',
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT',
  'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN', 'ER_QUERY_INTERRUPTED', 'ER_ACCESS_DENIED_ERROR',
]);

interface ErrorLike {
  name?: string;
  code?: string;
  errno?: number;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
  cause?: unknown;
}

function looksRetryable(err: ErrorLike, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 3) return false;
  if (err.name && RETRYABLE_NAMES.has(err.name)) return true;
  if (err.code && RETRYABLE_CODES.has(err.code)) return true;
  if (err.$retryable) return true;
  const status = err.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  // AggregateError (e.g. connect to ::1 and 127.0.0.1 both refused) and wrapped causes.
  const nested = (err as { errors?: unknown[] }).errors;
  if (Array.isArray(nested) && nested.some((e) => looksRetryable(e as ErrorLike, depth + 1))) return true;
  return looksRetryable(err.cause as ErrorLike, depth + 1);
}

/**
 * Maps an SDK/driver error to RetryableError (throttling, 5xx, timeouts, connection failures, DB
 * deadlocks; an auth failure too, because a rotated secret is re-read on the next attempt) or
 * PermanentError (validation, AccessDenied, NoSuchKey, anything unrecognised: retrying an unknown
 * error forever hides it). Already-typed errors pass through. `context` names the failed operation;
 * the original message is kept scrubbed and short (database messages, which quote values, are
 * reduced to their code).
 */
export function classifyError(err: unknown, context: string): RetryableError | PermanentError {
  if (err instanceof RetryableError || err instanceof PermanentError) return err;
  const e = (err ?? {}) as ErrorLike;
  const s = errorSummary(err, 300);
  const detail = `${safeText(context, 512) ?? 'operation'}: ${s.name}${s.code ? ` (${s.code})` : ''}${s.message ? `: ${s.message}` : ''}`;
  return looksRetryable(e) ? new RetryableError(detail, { cause: err }) : new PermanentError(detail, { cause: err });
}

export function isConditionFailure(err: unknown): boolean {
  const name = (err as { name?: string } | undefined)?.name;
  return name === 'ConditionalCheckFailedException' || name === 'TransactionCanceledException';
}
