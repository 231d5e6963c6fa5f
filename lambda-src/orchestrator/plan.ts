/** Pure planning rules of the orchestrator: run ids, deterministic job ids, shard counts. */
import * as crypto from 'crypto';
import { DateFormatError, parseInstant, utcDateOf } from '../../domain/dates';
import { PermanentError } from '../shared/errors';

/** Batch's array-job maximum. */
export const MAX_ARRAY_SIZE = 10_000;
/** Average bytes per CSV record, used to estimate a file's transactions from its size. */
export const ESTIMATED_BYTES_PER_RECORD = 100;
const RUN_ID = /^[A-Za-z0-9-]{1,64}$/;

export interface RunRequest { runId: string; retryFailed: boolean }

/** The on-demand event: a run (default: today's UTC date), or with `retryFailed` a replay of its FAILED jobs. */
export interface RunRequestEvent { runId?: string; retryFailed?: boolean }

/**
 * Accepted events: the EventBridge schedule ("Scheduled Event": run id = its UTC date) or an on-demand
 * `{runId?, retryFailed?}` (default run id: today's UTC date). Anything else is refused: an unknown
 * shape must not start a run.
 */
export function parseRunRequest(event: unknown, now = new Date()): RunRequest {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) throw new PermanentError('orchestrator event must be a JSON object');
  const e = event as Record<string, unknown>;
  if (e.source === 'aws.events' && e['detail-type'] === 'Scheduled Event') {
    let time: number;
    try {
      time = parseInstant(e.time, 'scheduled event time');
    } catch (err) {
      if (err instanceof DateFormatError) throw new PermanentError(err.message);
      throw err;
    }
    return { runId: utcDateOf(time), retryFailed: false };
  }
  const unknown = Object.keys(e).filter((k) => k !== 'runId' && k !== 'retryFailed');
  // Counted, not named: field names of an unknown event are its content.
  if (unknown.length) throw new PermanentError(`unsupported orchestrator event: ${unknown.length} unexpected field(s); accepted fields are runId and retryFailed`);
  if (e.runId !== undefined && (typeof e.runId !== 'string' || !RUN_ID.test(e.runId))) throw new PermanentError('runId must match [A-Za-z0-9-]{1,64}');
  if (e.retryFailed !== undefined && typeof e.retryFailed !== 'boolean') throw new PermanentError('retryFailed must be a boolean');
  return { runId: (e.runId as string | undefined) ?? now.toISOString().slice(0, 10), retryFailed: e.retryFailed === true };
}

/**
 * Job id from the object's identity (bucket, key, version, ETag): the same object version is the same
 * job in every run, so a file is processed once however many nightly runs see it (the document's
 * orchestrator reprocessed every file every night), and a replaced file (new version) is a new job.
 */
export function jobIdOf(bucket: string, key: string, versionId: string | undefined, etag: string | undefined): string {
  const h = crypto.createHash('sha256').update([bucket, key, versionId ?? '', etag ?? ''].join('\0')).digest('hex');
  return `job-${h.slice(0, 40)}`;
}

export function shardCountOf(sizeBytes: number, transactionsPerJob: number, bytesPerShard?: number): number {
  const shards = bytesPerShard
    ? Math.ceil(sizeBytes / bytesPerShard)
    : Math.ceil(Math.ceil(sizeBytes / ESTIMATED_BYTES_PER_RECORD) / transactionsPerJob);
  return Math.min(MAX_ARRAY_SIZE, Math.max(1, shards));
}
