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
 * - Exact run totals (run-totals.ts): before the database is touched, every committed shard's
 *   fingerprints.tsv is merged (shards in run order: job id, then shard index) into the set of
 *   positions whose transactionId fingerprint occurs more than once; while the files load, each
 *   candidate is confirmed by its transactionId and every later occurrence of an id is skipped. The
 *   run's figures (the shards' summaries summed, less those skipped) must equal what was loaded,
 *   per currency to the minor unit, or the run is refused. They are recorded on the run_load row (in
 *   the same transaction), in `processed/<runId>/run-summary.json` (SSE-KMS with the processed bucket's
 *   key) and on the run record, and `CrossShardDuplicates` is emitted (EMF).
 * - Gate and trigger (reports only from complete, loaded nights): the run record in the job-status
 *   table (shared/run-record.ts) must be complete. A run with failed jobs is not loaded: one bounded
 *   alert, no reporting. A successful run is loaded, and inside the same transaction a `run_load` row
 *   records it (report-generate refuses a date without one). After the commit the run record gets
 *   `loadedAt`/`loadedRows`/`reportDate` and the reporting workflow is started for the run's report
 *   date (domain/reporting/run-dates.ts) under a deterministic execution name, so a retry or a
 *   duplicate notification starts nothing twice.
 */
import * as crypto from 'crypto';
import type { SNSEvent } from 'aws-lambda';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { PublishCommand } from '@aws-sdk/client-sns';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { FIELDS, validateTransaction, Transaction } from '../../domain/transaction';
import { runOutputPrefix, runSummaryKey } from '../../contracts/buckets';
import { reportDateOfRun } from '../../domain/reporting/run-dates';
import { s3, sns } from '../shared/clients';
import { withConnection } from '../shared/db';
import { environmentOf } from '../shared/env';
import { classifyError, PermanentError, RetryableError } from '../shared/errors';
import { createLogger, createMetrics, powertoolsHandler } from '../shared/powertools';
import { ReportingStart, startReporting } from '../shared/reporting-start';
import { getRunRecord, markRunLoaded, RunRecord, runStateOf } from '../shared/run-record';
import { boundedJson, MAX_MESSAGE_BYTES } from '../shared/safe-text';
import { listAllObjects, openBody, readText } from '../shared/s3-object';
import { parseRunCommit, RunShardCommit, shardDirsOf, SUMMARY, verifiedLines } from '../shared/shard-outputs';
import { CurrencySums, findRunDuplicates, reconcileRun, RunFigures, runSummaryJson } from './run-totals';

const logger = createLogger('report-loader');
const COLUMNS = ['transaction_id', 'account_id', 'entity_id', 'amount', 'amount_minor', 'currency', '`timestamp`', 'counterparty',
  'jurisdiction', 'report_type', 'run_id'];
const UPDATED = COLUMNS.filter((c) => c !== 'transaction_id' && c !== 'run_id');
const LOCK_WAIT_SECONDS = 30;

/** What happened to reporting for the run. */
export type ReportingOutcome =
  | ReportingStart
  | { status: 'NOT_STARTED'; reason: 'RUN_FAILED' | 'NO_REPORT_DATE' };

export interface LoadResult {
  runId: string;
  files: number;
  rows: number;
  batches: number;
  uncommittedShards: number;
  /** Later occurrences of an id already accepted in an earlier shard or file of the run: not loaded. */
  crossShardDuplicates: number;
  /** `processed/<runId>/run-summary.json`: the run's exact figures (absent when the run was not loaded). */
  runSummaryKey?: string;
  /** The report date the run feeds (null: the run id is not a date and feeds none). */
  reportDate: string | null;
  reporting: ReportingOutcome;
}

interface LoaderEnv {
  bucket: string;
  kmsKeyArn: string;
  batchSize: number;
  statusTable: string;
  stateMachineArn: string;
  topicArn: string;
  environment: string;
}

function readEnv(): LoaderEnv {
  const e = environmentOf('report-loader');
  return {
    bucket: e.PROCESSED_BUCKET,
    kmsKeyArn: e.PROCESSED_KMS_KEY_ARN,
    batchSize: e.LOADER_BATCH_SIZE,
    statusTable: e.JOB_STATUS_TABLE,
    stateMachineArn: e.STATE_MACHINE_ARN,
    topicArn: e.ALERTS_TOPIC_ARN,
    environment: e.ENVIRONMENT,
  };
}

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

const RUN_LOAD_SQL = `INSERT INTO run_load (run_id, report_date, row_count, shard_count, uncommitted_shards, run_completed_at, loaded_at,
    read_count, accepted_count, rejected_count, shard_duplicates, cross_shard_duplicates, totals_by_currency, run_summary_sha256)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON DUPLICATE KEY UPDATE report_date = VALUES(report_date), row_count = VALUES(row_count), shard_count = VALUES(shard_count),
    uncommitted_shards = VALUES(uncommitted_shards), run_completed_at = VALUES(run_completed_at), reloaded_at = VALUES(loaded_at),
    read_count = VALUES(read_count), accepted_count = VALUES(accepted_count), rejected_count = VALUES(rejected_count),
    shard_duplicates = VALUES(shard_duplicates), cross_shard_duplicates = VALUES(cross_shard_duplicates),
    totals_by_currency = VALUES(totals_by_currency), run_summary_sha256 = VALUES(run_summary_sha256)`;

/** currency -> {count, amountMinor as a string}: the form the run record, run_load and run-summary.json hold. */
const totalsRecord = (f: RunFigures) => Object.fromEntries(f.totalsByCurrency.map((t) => [t.currency, { count: t.count, amountMinor: t.amountMinor.toString() }]));

const sqlTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/** One bounded alert (counts only) when a completed run had failed jobs: its night is not reported. */
async function alertRunFailed(env: LoaderEnv, runId: string, reportDate: string | null, run: RunRecord): Promise<void> {
  const message = {
    event: 'REPORTING_NOT_STARTED', reason: 'RUN_FAILED', runId, reportDate, environment: env.environment,
    submittedJobs: run.submittedJobs?.size ?? 0, succeededJobs: Number(run.succeededJobs ?? 0), failedJobs: Number(run.failedJobs ?? 0),
  };
  try {
    await sns().send(new PublishCommand({
      TopicArn: env.topicArn,
      Subject: `Reporting not started: nightly run ${runId} had ${message.failedJobs} failed job(s)`.slice(0, 100),
      Message: boundedJson(message, MAX_MESSAGE_BYTES),
    }));
  } catch (err) {
    throw classifyError(err, 'SNS Publish (reporting not started)');
  }
}

/** `{runId}` (replays, local runs) or job-events' RUN_COMPLETED through the batch-alerts topic. */
export type LoaderEvent = { runId: string } | SNSEvent;

export const handler = powertoolsHandler('report-loader', logger, async (event: LoaderEvent): Promise<LoadResult> => {
  // The types describe what arrives; they check nothing: runIdOf parses the event strictly.
  const runId = runIdOf(event);
  const env = readEnv();
  const reportDate = reportDateOfRun(runId) ?? null;

  // Only a complete run is ever loaded: a partial night must not reach the reports.
  const run = await getRunRecord(env.statusTable, runId);
  const state = runStateOf(run);
  if (state === 'MISSING' || state === 'INCOMPLETE') {
    throw new PermanentError(`RUN_NOT_COMPLETE: run ${runId} ${state === 'MISSING' ? 'has no run record' : 'has not completed'}; nothing loaded`);
  }
  if (state === 'FAILED') {
    await alertRunFailed(env, runId, reportDate, run!);
    logger.warn('run had failed jobs: not loaded, reporting not started', { runId, failedJobs: Number(run!.failedJobs ?? 0) });
    return {
      runId, files: 0, rows: 0, batches: 0, uncommittedShards: 0, crossShardDuplicates: 0, reportDate, reporting: { status: 'NOT_STARTED', reason: 'RUN_FAILED' },
    };
  }

  const { bucket, batchSize } = env;
  const prefix = runOutputPrefix(runId);
  const { committed, uncommitted } = shardDirsOf((await listAllObjects(bucket, prefix)).map((o) => o.Key ?? ''));
  if (uncommitted.length) logger.warn('shards without summary.json skipped (not committed)', { runId, uncommittedShards: uncommitted.length });
  // Commit records first: a malformed or unverifiable summary refuses the run before the database is touched.
  const shards: RunShardCommit[] = [];
  for (const dir of committed) shards.push(parseRunCommit(dir, await readText(bucket, `${dir}/${SUMMARY}`, undefined, 1024 * 1024)));
  // Then the run's candidate duplicates from the shards' fingerprint files (verified as they stream).
  const dups = await findRunDuplicates(bucket, shards);
  if (dups.candidates > 0) logger.info('fingerprints occurring in more than one place of the run', { runId, positions: dups.candidates });
  const fullSql = insertSql(batchSize);
  const summaryKey = runSummaryKey(runId);
  let figures: RunFigures | undefined;
  let summaryBody = '';

  const loaded = await withConnection(`report-loader ${runId}`, async (conn) => {
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
      const loaded = new CurrencySums();
      for (const [index, shard] of shards.entries()) {
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
            // A later occurrence of an id already loaded from an earlier shard or file of this run.
            if (!dups.keep(index, n, t, shard.acceptedKey)) continue;
            loaded.add(t.currency, t.amountMinor);
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
      dups.finish(shards);
      // Exact run figures, checked against what was loaded (a difference rolls the run back).
      figures = reconcileRun(shards, dups, { rows, byCurrency: loaded.totals() });
      summaryBody = runSummaryJson(runId, reportDate, figures, shards, uncommitted.length);
      // The load record commits with the rows: report-generate sees the date as loaded exactly when they are.
      try {
        await conn.query(RUN_LOAD_SQL, [runId, reportDate, rows, shards.length, uncommitted.length,
          run!.completedAt !== undefined ? sqlTime(Number(run!.completedAt)) : null, sqlTime(Date.now()),
          figures.read, figures.accepted, figures.rejected, figures.duplicatesWithinShards, figures.crossShardDuplicates,
          JSON.stringify(totalsRecord(figures)), crypto.createHash('sha256').update(summaryBody, 'utf8').digest('hex')]);
      } catch (err) {
        throw classifyError(err, `report-loader ${runId}: run_load`);
      }
      await conn.commit();
    } catch (err) {
      await conn.rollback().catch(() => undefined);
      throw err;
    } finally {
      await conn.query('SELECT RELEASE_LOCK(?)', [`report-loader:${runId}`]).catch(() => undefined);
    }
    return { runId, files, rows, batches, uncommittedShards: uncommitted.length, crossShardDuplicates: dups.skipped, runSummaryKey: summaryKey };
  });
  const f = figures!;
  logger.info('run loaded', { ...loaded, reportDate, collisions: dups.collisions });

  // After the commit: the run summary (deterministic bytes), the run record (idempotent), the metric,
  // then reporting (deterministic name). A failure in any is retried as a whole; the re-load rewrites
  // identical rows and the same run-summary.json.
  try {
    await s3().send(new PutObjectCommand({
      Bucket: bucket, Key: summaryKey, Body: summaryBody, ContentType: 'application/json',
      ServerSideEncryption: 'aws:kms', SSEKMSKeyId: env.kmsKeyArn, BucketKeyEnabled: true,
    }));
  } catch (err) {
    throw classifyError(err, `PutObject s3://${bucket}/${summaryKey}`);
  }
  await markRunLoaded(env.statusTable, runId, {
    rows: loaded.rows, ...(reportDate ? { reportDate } : {}),
    figures: {
      read: f.read, accepted: f.accepted, rejected: f.rejected, shardDuplicates: f.duplicatesWithinShards,
      crossShardDuplicates: f.crossShardDuplicates, totalsByCurrency: totalsRecord(f),
    },
  });
  const metrics = createMetrics('report-loader', env.environment);
  metrics.addMetric('CrossShardDuplicates', MetricUnit.Count, f.crossShardDuplicates);
  metrics.publishStoredMetrics();
  if (!reportDate) {
    logger.warn('run id is not a date: it feeds no report date, reporting not started', { runId });
    return { ...loaded, reportDate, reporting: { status: 'NOT_STARTED', reason: 'NO_REPORT_DATE' } };
  }
  const reporting = await startReporting(env.stateMachineArn, { reportDate, runId });
  logger.info('reporting workflow started for the loaded run', { runId, reportDate, status: reporting.status, executionName: reporting.executionName });
  return { ...loaded, reportDate, reporting };
});
