/**
 * Failure classes and their exit codes (contracts.md). The job definition retries only 75 and 143,
 * so every error must land in the right class: retrying bad input wastes the 4-hour window, and not
 * retrying a throttle fails a night for nothing.
 */
import { PROCESSOR_EXIT_CODES } from '../../contracts/batch-job';

export const EXIT_OK = PROCESSOR_EXIT_CODES.ok;
/** Unexpected internal error (a bug): not retried, investigate. */
export const EXIT_INTERNAL = PROCESSOR_EXIT_CODES.internal;
export const EXIT_BAD_INPUT = PROCESSOR_EXIT_CODES.badInput;
export const EXIT_RECONCILIATION = PROCESSOR_EXIT_CODES.reconciliation;
export const EXIT_RETRYABLE = PROCESSOR_EXIT_CODES.retryable;
export const EXIT_INTERRUPTED = PROCESSOR_EXIT_CODES.interrupted;

/**
 * Every message goes to logs, the audit table and the alert topic, so it is capped: messages name
 * positions, counts and codes, never field content, and even an unexpected error from a library
 * cannot copy megabytes of input into an alert.
 */
export const MAX_MESSAGE_BYTES = 1024;

/** `message` cut to at most `max` UTF-8 bytes (on a character boundary), marked when cut. */
export function capMessage(message: string, max = MAX_MESSAGE_BYTES): string {
  if (message.length <= max / 4 || Buffer.byteLength(message, 'utf8') <= max) return message;
  const suffix = ' …[truncated]';
  const room = max - Buffer.byteLength(suffix, 'utf8');
  let cut = Buffer.from(message, 'utf8').subarray(0, room).toString('utf8');
  // A character split by the byte cut decodes as U+FFFD (3 bytes): drop it.
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  while (Buffer.byteLength(cut, 'utf8') > room) cut = cut.slice(0, -1);
  return cut + suffix;
}

export abstract class ProcessorError extends Error {
  abstract readonly exitCode: number;
  constructor(readonly code: string, message: string, options?: { cause?: unknown }) {
    super(capMessage(message), options);
    this.name = new.target.name;
  }
}

/** Permanent: the input (or its location/permissions/config) is wrong; retrying cannot help. */
export class BadInputError extends ProcessorError {
  readonly exitCode = EXIT_BAD_INPUT;
}

export class ReconciliationError extends ProcessorError {
  readonly exitCode = EXIT_RECONCILIATION;
}

/** Transient infrastructure trouble (throttling, 5xx, network, object changed mid-read). */
export class RetryableError extends ProcessorError {
  readonly exitCode = EXIT_RETRYABLE;
}

export class InterruptedError extends ProcessorError {
  readonly exitCode = EXIT_INTERRUPTED;
}

export class InternalError extends ProcessorError {
  readonly exitCode = EXIT_INTERNAL;
}

const PERMANENT_AWS = new Set([
  'NoSuchKey',
  'NoSuchBucket',
  'NotFound',
  'AccessDenied',
  'AccessDeniedException',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'KMS.NotFoundException',
  'NotFoundException',
  'KMS.DisabledException',
  'ResourceNotFoundException',
  'InvalidObjectState',
  'ValidationException',
]);

const RETRYABLE_AWS = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'RequestThrottled',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'InternalServerError',
  'ServiceUnavailable',
  'PreconditionFailed',
  'TimeoutError',
  'KMS.KMSInternalException',
]);

const NETWORK_CODES = ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET'];
const NETWORK_MESSAGE = new RegExp(`\\b(${NETWORK_CODES.join('|')})\\b|socket hang up`);

/**
 * The SDK surfaces connection failures as "AWS SDK error wrapper for Error: connect ECONNREFUSED …"
 * without the original `code`, so the code is looked for on the error, its cause and in the message.
 */
function networkCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && NETWORK_CODES.includes(e.code)) return e.code;
    const m = typeof e.message === 'string' ? NETWORK_MESSAGE.exec(e.message) : null;
    if (m) return m[1] ?? 'ECONNRESET';
  }
  return undefined;
}

/**
 * Maps an AWS SDK / network error to a ProcessorError. A missing object (NoSuchKey/404) is permanent:
 * the orchestrator listed the object, so if it is gone a retry minutes later will not bring it back.
 * AccessDenied is permanent too: it is a policy/KMS configuration error that needs a human.
 */
export function classifyError(err: unknown, context: string): ProcessorError {
  if (err instanceof ProcessorError) return err;
  const e = err as { name?: string; Code?: string; code?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown; message?: string };
  const name = e?.Code ?? e?.name ?? 'Error';
  const status = e?.$metadata?.httpStatusCode;
  const message = `${context}: ${name}${status ? ` (HTTP ${status})` : ''}: ${e?.message ?? String(err)}`;
  if (PERMANENT_AWS.has(name) || status === 403 || status === 404) {
    const code = name === 'NotFound' || name === 'NoSuchKey' || status === 404 ? 'INPUT_NOT_FOUND' : status === 403 || name.startsWith('AccessDenied') ? 'ACCESS_DENIED' : name;
    return new BadInputError(code, message, { cause: err });
  }
  if (RETRYABLE_AWS.has(name) || e?.$retryable || (status !== undefined && (status >= 500 || status === 429 || status === 412))) {
    return new RetryableError(name, message, { cause: err });
  }
  const network = networkCode(err);
  if (network) return new RetryableError(network, message, { cause: err });
  if (name === 'AbortError') return new InterruptedError('INTERRUPTED', message, { cause: err });
  return new InternalError(name, message, { cause: err });
}
