/**
 * report-loader: bulk-loads the accepted records of a run (`processed/<runId>/<jobId>/shard-<i>-of-<n>/accepted.jsonl` in
 * PROCESSED_BUCKET) into the `transactions` table.
 * - Every file is parsed and re-validated with the domain rules before any row of it is written: a
 *   corrupt file is refused whole (PermanentError naming the file and line, never the content).
 * - Rows go in multi-row `INSERT ... ON DUPLICATE KEY UPDATE col = VALUES(col)` statements of
 *   LOADER_BATCH_SIZE rows, one transaction per batch: a database failure rolls the batch back (no
 *   partial batch) and surfaces as RetryableError; batches already committed are harmless to load
 *   again, so the retry converges. A re-run of a loaded run changes nothing (same values, run_id kept).
 */
import { FIELDS, validateTransaction, Transaction } from '../../domain/transaction';
import { inTransaction } from '../shared/db';
import { intEnv, requireEnv } from '../shared/env';
import { PermanentError } from '../shared/errors';
import { createLogger } from '../shared/powertools';
import { listAllObjects, readText } from '../shared/s3-object';

const logger = createLogger('report-loader');
const COLUMNS = ['transaction_id', 'account_id', 'entity_id', 'amount', 'amount_minor', 'currency', '`timestamp`', 'counterparty',
  'jurisdiction', 'report_type', 'run_id'];
const UPDATED = COLUMNS.filter((c) => c !== 'transaction_id' && c !== 'run_id');

export interface LoadResult { runId: string; files: number; rows: number; batches: number }

/** The accepted-record files of a run, in a stable order. */
async function listAccepted(bucket: string, prefix: string): Promise<string[]> {
  return (await listAllObjects(bucket, prefix)).map((o) => o.Key ?? '').filter((k) => k.endsWith('/accepted.jsonl')).sort();
}

/** Accepted record (contracts.md) -> validated Transaction; amountMinor must agree with amount. */
export function parseAcceptedFile(key: string, text: string): Transaction[] {
  const out: Transaction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new PermanentError(`${key} line ${i + 1}: not JSON`);
    }
    const fields: Record<string, unknown> = {};
    for (const f of FIELDS) if (rec[f] !== undefined) fields[f] = rec[f];
    const r = validateTransaction(fields);
    if (!r.ok) throw new PermanentError(`${key} line ${i + 1}: ${r.reason}${r.field ? ` (${r.field})` : ''}`);
    if (rec.amountMinor !== undefined && String(rec.amountMinor) !== r.tx.amountMinor.toString()) {
      throw new PermanentError(`${key} line ${i + 1}: amountMinor disagrees with amount`);
    }
    out.push(r.tx);
  }
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
    if (kind !== 'RUN_COMPLETED') throw new PermanentError(`SNS message event must be RUN_COMPLETED, got ${JSON.stringify(kind)}`);
  }
  const runId = (source as { runId?: unknown } | null)?.runId;
  if (typeof runId !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(runId)) throw new PermanentError('runId is required ([A-Za-z0-9-]{1,64})');
  return runId;
}

export const handler = async (event: unknown): Promise<LoadResult> => {
  const runId = runIdOf(event);
  const bucket = requireEnv('PROCESSED_BUCKET');
  const batchSize = intEnv('LOADER_BATCH_SIZE', 500);
  const keys = await listAccepted(bucket, `processed/${runId}/`);
  let rows = 0;
  let batches = 0;
  const sql = (n: number) => `INSERT INTO transactions (${COLUMNS.join(', ')}) VALUES `
    + Array.from({ length: n }, () => `(${COLUMNS.map(() => '?').join(', ')})`).join(', ')
    + ` ON DUPLICATE KEY UPDATE ${UPDATED.map((c) => `${c} = VALUES(${c})`).join(', ')}`;
  for (const key of keys) {
    const txs = parseAcceptedFile(key, await readText(bucket, key, undefined, 512 * 1024 * 1024));
    for (let i = 0; i < txs.length; i += batchSize) {
      const chunk = txs.slice(i, i + batchSize);
      const params = chunk.flatMap((t) => [t.transactionId, t.accountId, t.entityId, t.amount, t.amountMinor.toString(), t.currency,
        utcDateTime(t.timestamp), t.counterparty ?? null, t.jurisdiction, t.type, runId]);
      await inTransaction(`report-loader ${key} batch ${i / batchSize}`, (conn) => conn.query(sql(chunk.length), params));
      rows += chunk.length;
      batches++;
    }
  }
  logger.info('run loaded', { runId, files: keys.length, rows, batches });
  return { runId, files: keys.length, rows, batches };
};
