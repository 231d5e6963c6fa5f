/**
 * report-loader: loads a run's committed shard outputs (`processed/<runId>/<jobId>/shard-<i>-of-<n>/`
 * in PROCESSED_BUCKET) into the `transactions` table, all or nothing.
 * - Only committed shards: summary.json (the processor writes it last) must exist, and the
 *   accepted.jsonl must have the byte count and SHA-256 it records (shared/shard-outputs.ts, hashed
 *   while streaming). An accepted.jsonl without a summary.json is an unfinished or failed shard: it is
 *   skipped and counted (`uncommittedShards`), never loaded.
 * - Every line is re-validated with the domain rules (card numbers included); a bad line refuses the
 *   run (PermanentError naming the shard and line, never the content).
 * - Atomic: one database transaction for the whole run. Rows go in multi-row
 *   `INSERT ... ON DUPLICATE KEY UPDATE col = VALUES(col)` statements of LOADER_BATCH_SIZE rows
 *   (default 500) into the open transaction while the files stream; any failure (bad line, hash or
 *   size mismatch, database error) rolls back everything of the run, so a retry starts from nothing.
 *   A staging table merged at the end was measured as the alternative (bench/loader.ts): it writes
 *   every row twice and was slower, with the same single-transaction merge at the end.
 * - Idempotent: a re-run writes the same values (run_id of the first load kept) and changes nothing.
 *   Loads of the same run are serialised with GET_LOCK.
 * - Streaming: memory is one S3 chunk, one partial line and one batch, whatever the shard's size.
 */
import { FIELDS, validateTransaction, Transaction } from '../../domain/transaction';
import { withConnection } from '../shared/db';
import { intEnv, requireEnv } from '../shared/env';
import { classifyError, PermanentError, RetryableError } from '../shared/errors';
import { createLogger } from '../shared/powertools';
import { listAllObjects, openBody, readText } from '../shared/s3-object';
import { CommittedShard, parseCommit, shardDirsOf, SUMMARY, verifiedLines } from '../shared/shard-outputs';

const logger = createLogger('report-loader');
const COLUMNS = ['transaction_id', 'account_id', 'entity_id', 'amount', 'amount_minor', 'currency', '`timestamp`', 'counterparty',
  'jurisdiction', 'report_type', 'run_id'];
const UPDATED = COLUMNS.filter((c) => c !== 'transaction_id' && c !== 'run_id');
const LOCK_WAIT_SECONDS = 30;

export interface LoadResult { runId: string; files: number; rows: number; batches: number; uncommittedShards: number }

/** One accepted record (contracts.md) -> validated Transaction; amountMinor must agree with amount. */
export function parseAcceptedLine(where: string, n: number, text: string): Transaction | undefined {
  const line = text.trim();
  if (line === '') return undefined;
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new PermanentError(`${where} line ${n}: not JSON`);
  }
  if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) throw new PermanentError(`${where} line ${n}: not a JSON object`);
  const fields: Record<string, unknown> = {};
  for (const f of FIELDS) if (rec[f] !== undefined) fields[f] = rec[f];
  const r = validateTransaction(fields);
  if (!r.ok) throw new PermanentError(`${where} line ${n}: ${r.reason}${r.field ? ` (${r.field})` : ''}`);
  if (rec.amountMinor !== undefined && String(rec.amountMinor) !== r.tx.amountMinor.toString()) {
    throw new PermanentError(`${where} line ${n}: amountMinor disagrees with amount`);
  }
  return r.tx;
}

/** Accepted record file (whole text) -> validated Transactions. */
export function parseAcceptedFile(key: string, text: string): Transaction[] {
  const out: Transaction[] = [];
  text.split('\n').forEach((line, i) => {
    const tx = parseAcceptedLine(key, i + 1, line);
    if (tx) out.push(tx);
  });
  return out;
}

function utcDateTime(iso: string): string {
  return new Date(iso).toISOString().replace('T', ' ').replace('Z', '');
}

/**
 * The run to load: `{runId}` when invoked directly (replays, local runs), or the job-events
 * RUN_COMPLETED notification delivered by the batch-alerts topic subscription.
 */
export function runIdOf(event: unknown): string {
  let source: unknown = event;
  const records = (event as { Records?: { Sns?: { Message?: unknown } }[] } | null)?.Records;
  if (Array.isArray(records)) {
    if (records.length !== 1 || typeof records[0]?.Sns?.Message !== 'string') {
      throw new PermanentError('SNS event must carry exactly one notification with a JSON message');
    }
    try {
      source = JSON.parse(records[0].Sns.Message);
    } catch {
      throw new PermanentError('SNS message is not JSON');
    }
    const kind = (source as { event?: unknown } | null)?.event;
    if (kind !== 'RUN_COMPLETED') throw new PermanentError('SNS message event must be RUN_COMPLETED');
  }
  const runId = (source as { runId?: unknown } | null)?.runId;
  if (typeof runId !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(runId)) throw new PermanentError('runId is required ([A-Za-z0-9-]{1,64})');
  return runId;
}

const insertSql = (n: number) => `INSERT INTO transactions (${COLUMNS.join(', ')}) VALUES `
  + Array.from({ length: n }, () => `(${COLUMNS.map(() => '?').join(', ')})`).join(', ')
  + ` ON DUPLICATE KEY UPDATE ${UPDATED.map((c) => `${c} = VALUES(${c})`).join(', ')}`;

export const handler = async (event: unknown): Promise<LoadResult> => {
  const runId = runIdOf(event);
  const bucket = requireEnv('PROCESSED_BUCKET');
  const batchSize = intEnv('LOADER_BATCH_SIZE', 500);
  const prefix = `processed/${runId}/`;
  const { committed, uncommitted } = shardDirsOf((await listAllObjects(bucket, prefix)).map((o) => o.Key ?? ''));
  if (uncommitted.length) logger.warn('shards without summary.json skipped (not committed)', { runId, uncommittedShards: uncommitted.length });
  // Commit records first: a malformed or unverifiable summary refuses the run before the database is touched.
  const shards: CommittedShard[] = [];
  for (const dir of committed) shards.push(parseCommit(dir, await readText(bucket, `${dir}/${SUMMARY}`, undefined, 1024 * 1024)));
  const fullSql = insertSql(batchSize);

  const result = await withConnection(`report-loader ${runId}`, async (conn) => {
    const [lock] = await conn.query('SELECT GET_LOCK(?, ?) AS got', [`report-loader:${runId}`, LOCK_WAIT_SECONDS]);
    if (Number((lock as Array<{ got: unknown }>)[0]?.got) !== 1) throw new RetryableError(`report-loader ${runId}: another load of this run is in progress`);
    let rows = 0;
    let batches = 0;
    let files = 0;
    try {
      await conn.beginTransaction();
      const params: unknown[] = [];
      let pending = 0;
      const flush = async (where: string) => {
        if (pending === 0) return;
        try {
          await conn.query(pending === batchSize ? fullSql : insertSql(pending), params);
        } catch (err) {
          throw classifyError(err, `report-loader ${where}`);
        }
        rows += pending;
        batches++;
        params.length = 0;
        pending = 0;
      };
      for (const shard of shards) {
        let shardBatch = 0;
        let body: AsyncIterable<Uint8Array>;
        try {
          body = await openBody(bucket, shard.acceptedKey);
        } catch (err) {
          // A shard with nothing accepted may have no accepted.jsonl at all; one that recorded bytes must.
          if (shard.acceptedBytes === 0 && err instanceof PermanentError) continue;
          throw err;
        }
        try {
          for await (const { n, line } of verifiedLines(body, shard)) {
            const t = parseAcceptedLine(shard.acceptedKey, n, line);
            if (!t) continue;
            params.push(t.transactionId, t.accountId, t.entityId, t.amount, t.amountMinor.toString(), t.currency,
              utcDateTime(t.timestamp), t.counterparty ?? null, t.jurisdiction, t.type, runId);
            if (++pending === batchSize) await flush(`${shard.acceptedKey} batch ${shardBatch++}`);
          }
        } catch (err) {
          throw classifyError(err, `report-loader read ${shard.acceptedKey}`);
        }
        await flush(`${shard.acceptedKey} batch ${shardBatch++}`);
        files++;
      }
      await conn.commit();
    } catch (err) {
      await conn.rollback().catch(() => undefined);
      throw err;
    } finally {
      await conn.query('SELECT RELEASE_LOCK(?)', [`report-loader:${runId}`]).catch(() => undefined);
    }
    return { runId, files, rows, batches, uncommittedShards: uncommitted.length };
  });
  logger.info('run loaded', { ...result });
  return result;
};
