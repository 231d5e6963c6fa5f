/**
 * The nightly run's completion record: one item `jobId = "run#<runId>"` in the job-status table
 * (recordType RUN, no `status` attribute, so the StatusIndex GSI never lists it).
 * - The orchestrator ADDs every job id it is about to submit to `submittedJobs` BEFORE submitting
 *   (a job that finishes instantly can't make the run look complete) and removes ids whose submit failed.
 * - job-events ADDs a job to `terminalJobs` once (conditional on it not being there), with its counts;
 *   for a failed job also an entry `<jobId>|<processed>|<rejected>` to the string set `failedJobCounts`,
 *   which records exactly what that job added to the run's totals.
 * - The run is complete when every submitted job is terminal; `completedAt` is set with a condition,
 *   so completion is announced exactly once whoever notices it.
 * - A replay of the run (`{runId, retryFailed: true}` on the orchestrator) reopens each FAILED job it
 *   resubmits, in the same transaction that claims the job's status item (`reopenTerminalJob`): the job
 *   leaves `terminalJobs`, its `failedJobCounts` entry is taken back from `failedJobs`, `processedCount`
 *   and `rejectedCount`, and `completedAt` goes. The run is then complete again only when the replayed
 *   job is terminal (announced once more, once), and SUCCEEDED when it succeeded.
 * - report-loader, after committing a completed run without failed jobs to the reporting database,
 *   sets `loadedAt` (first load kept), `loadedRows` and `reportDate` (absent for a run that feeds no
 *   report date) and the run's exact figures (`runRead`, `runAccepted`, `runRejected`,
 *   `runShardDuplicates`, `runCrossShardDuplicates`, `runTotalsByCurrency`), conditional on the run
 *   being complete. run-deadline's reporting check reads `loadedAt`.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { runRecordId } from '../../contracts/tables';
import { ddb } from './clients';
import { classifyError, isConditionFailure } from './errors';

export { runRecordId };

export interface RunRecord {
  runId: string;
  startedAt: number;
  submittedJobs?: Set<string>;
  terminalJobs?: Set<string>;
  succeededJobs?: number;
  failedJobs?: number;
  /** `<jobId>|<processed>|<rejected>` per failed job: what it added to the totals (a replay takes it back). */
  failedJobCounts?: Set<string>;
  processedCount?: number;
  rejectedCount?: number;
  completedAt?: number;
  loadedAt?: number;
  loadedRows?: number;
  reportDate?: string;
  /** The run's exact figures, set by report-loader (shards summed, cross-shard duplicates taken out). */
  runRead?: number;
  runAccepted?: number;
  runRejected?: number;
  runShardDuplicates?: number;
  runCrossShardDuplicates?: number;
  /** currency -> {count, amountMinor (integer minor units as a string)}. */
  runTotalsByCurrency?: Record<string, { count: number; amountMinor: string }>;
}

/** The run's exact figures as report-loader records them on the run record. */
export interface RunFiguresRecord {
  read: number;
  accepted: number;
  rejected: number;
  shardDuplicates: number;
  crossShardDuplicates: number;
  totalsByCurrency: Record<string, { count: number; amountMinor: string }>;
}

/** How a run stands for reporting: only SUCCEEDED (complete, no failed job) may be loaded and reported. */
export type RunState = 'MISSING' | 'INCOMPLETE' | 'FAILED' | 'SUCCEEDED';

export function runStateOf(run: RunRecord | undefined): RunState {
  if (!run) return 'MISSING';
  if (run.completedAt === undefined || !isRunComplete(run)) return 'INCOMPLETE';
  return Number(run.failedJobs ?? 0) > 0 ? 'FAILED' : 'SUCCEEDED';
}

export async function addSubmittedJobs(table: string, runId: string, jobIds: string[], now = Date.now()): Promise<void> {
  try {
    await ddb().send(new UpdateCommand({
      TableName: table,
      Key: { jobId: runRecordId(runId) },
      UpdateExpression: `SET runId = :run, recordType = :type, startedAt = if_not_exists(startedAt, :now)${jobIds.length ? ' ADD submittedJobs :ids REMOVE completedAt' : ''}`,
      ExpressionAttributeValues: { ':run': runId, ':type': 'RUN', ':now': now, ...(jobIds.length ? { ':ids': new Set(jobIds) } : {}) },
    }));
  } catch (err) {
    throw classifyError(err, 'UpdateItem run record (submittedJobs)');
  }
}

export async function removeSubmittedJob(table: string, runId: string, jobId: string): Promise<void> {
  try {
    await ddb().send(new UpdateCommand({
      TableName: table,
      Key: { jobId: runRecordId(runId) },
      UpdateExpression: 'DELETE submittedJobs :id',
      ExpressionAttributeValues: { ':id': new Set([jobId]) },
    }));
  } catch (err) {
    throw classifyError(err, 'UpdateItem run record (remove job)');
  }
}

export interface JobCounts { processed: number; rejected: number }

/** The `failedJobCounts` entry of a failed job. */
export const failedJobEntry = (jobId: string, counts: JobCounts): string => `${jobId}|${counts.processed}|${counts.rejected}`;

/** The counts a failed job added to the run's totals, from its `failedJobCounts` entry (undefined: none recorded). */
export function failedJobCountsOf(run: RunRecord | undefined, jobId: string): { entry: string; counts: JobCounts } | undefined {
  for (const entry of run?.failedJobCounts ?? []) {
    const [id, processed, rejected] = entry.split('|');
    if (id === jobId) return { entry, counts: { processed: Number(processed), rejected: Number(rejected) } };
  }
  return undefined;
}

/** Records a terminal job once; returns the run record after the update, or undefined if already recorded. */
export async function addTerminalJob(table: string, runId: string, jobId: string, succeeded: boolean, counts: JobCounts): Promise<RunRecord | undefined> {
  try {
    const res = await ddb().send(new UpdateCommand({
      TableName: table,
      Key: { jobId: runRecordId(runId) },
      UpdateExpression: `ADD terminalJobs :id, ${succeeded ? 'succeededJobs :one' : 'failedJobs :one, failedJobCounts :entry'}, processedCount :p, rejectedCount :r SET runId = :run, recordType = :type`,
      ConditionExpression: 'attribute_not_exists(terminalJobs) OR NOT contains(terminalJobs, :jobId)',
      ExpressionAttributeValues: {
        ':id': new Set([jobId]), ':jobId': jobId, ':one': 1, ':p': counts.processed, ':r': counts.rejected, ':run': runId, ':type': 'RUN',
        ...(succeeded ? {} : { ':entry': new Set([failedJobEntry(jobId, counts)]) }),
      },
      ReturnValues: 'ALL_NEW',
    }));
    return res.Attributes as RunRecord;
  } catch (err) {
    if (isConditionFailure(err)) return undefined;
    throw classifyError(err, 'UpdateItem run record (terminalJobs)');
  }
}

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * The run-record half of a replay's claim of a FAILED job (the orchestrator puts it in one
 * TransactWriteItems with the status item's FAILED -> SUBMITTED update), built from the run record as
 * just read and conditional on it being unchanged in what matters:
 * - the job is terminal in the run: it leaves `terminalJobs`, `failedJobs` drops by one, and the
 *   counts of its `failedJobCounts` entry are subtracted (a run record written before that entry
 *   existed: `recordedCounts`, the job status item's counts, which are what job-events recorded);
 *   `completedAt` is removed, so the run completes again only when the replayed job is terminal;
 * - the job is not (yet) terminal in the run: a condition check that it still is not.
 * A duplicate replay finds the job no longer FAILED and never gets here; a racing one fails the
 * transaction's conditions and changes nothing.
 */
export function reopenTerminalJob(table: string, runId: string, run: RunRecord | undefined, jobId: string, recordedCounts: JobCounts): TransactItem {
  const Key = { jobId: runRecordId(runId) };
  if (!run?.terminalJobs?.has(jobId)) {
    return { ConditionCheck: {
      TableName: table, Key,
      ConditionExpression: 'attribute_not_exists(terminalJobs) OR NOT contains(terminalJobs, :jobId)',
      ExpressionAttributeValues: { ':jobId': jobId },
    } };
  }
  const recorded = failedJobCountsOf(run, jobId);
  const counts = recorded?.counts ?? recordedCounts;
  return { Update: {
    TableName: table, Key,
    UpdateExpression: `REMOVE completedAt ADD failedJobs :minusOne, processedCount :negP, rejectedCount :negR DELETE terminalJobs :id${recorded ? ', failedJobCounts :entry' : ''}`,
    ConditionExpression: `contains(terminalJobs, :jobId) AND failedJobs >= :one${recorded ? ' AND contains(failedJobCounts, :entryText)' : ''}`,
    ExpressionAttributeValues: {
      ':jobId': jobId, ':id': new Set([jobId]), ':one': 1, ':minusOne': -1, ':negP': -counts.processed, ':negR': -counts.rejected,
      ...(recorded ? { ':entry': new Set([recorded.entry]), ':entryText': recorded.entry } : {}),
    },
  } };
}

export async function getRunRecord(table: string, runId: string): Promise<RunRecord | undefined> {
  try {
    return (await ddb().send(new GetCommand({ TableName: table, Key: { jobId: runRecordId(runId) }, ConsistentRead: true }))).Item as RunRecord | undefined;
  } catch (err) {
    throw classifyError(err, 'GetItem run record');
  }
}

export function isRunComplete(run: RunRecord): boolean {
  const submitted = run.submittedJobs ?? new Set<string>();
  const terminal = run.terminalJobs ?? new Set<string>();
  for (const id of submitted) if (!terminal.has(id)) return false;
  return true;
}

/** Sets completedAt once; true only for the caller that set it. */
export async function markRunCompleted(table: string, runId: string, now = Date.now()): Promise<boolean> {
  try {
    await ddb().send(new UpdateCommand({
      TableName: table,
      Key: { jobId: runRecordId(runId) },
      UpdateExpression: 'SET completedAt = :now',
      ConditionExpression: 'attribute_exists(jobId) AND attribute_not_exists(completedAt)',
      ExpressionAttributeValues: { ':now': now },
    }));
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw classifyError(err, 'UpdateItem run record (completedAt)');
  }
}

/**
 * Takes back a completion this caller set (`completedAt` still the value it wrote, nothing loaded yet)
 * when announcing it failed, so a retry completes and announces the run again. Best effort: a failure
 * here is logged by the caller's error, the run stays complete (run-deadline's reporting check alerts).
 */
export async function unmarkRunCompleted(table: string, runId: string, completedAt: number): Promise<void> {
  try {
    await ddb().send(new UpdateCommand({
      TableName: table,
      Key: { jobId: runRecordId(runId) },
      UpdateExpression: 'REMOVE completedAt',
      ConditionExpression: 'completedAt = :at AND attribute_not_exists(loadedAt)',
      ExpressionAttributeValues: { ':at': completedAt },
    }));
  } catch {
    // Condition failed (someone else moved on) or DynamoDB unavailable: leave the record as it is.
  }
}

/**
 * Records that the run is loaded into the reporting database. Idempotent: the first `loadedAt` is
 * kept, rows and report date are rewritten with the same values on a repeat. Conditional on the run
 * being complete, so a load can never mark a run that is still running (or has no record).
 */
export async function markRunLoaded(table: string, runId: string, load: { rows: number; reportDate?: string; figures?: RunFiguresRecord }, now = Date.now()): Promise<void> {
  const f = load.figures;
  try {
    // No ReturnValues: the role can then be limited to these attributes (dynamodb:Attributes).
    await ddb().send(new UpdateCommand({
      TableName: table,
      Key: { jobId: runRecordId(runId) },
      UpdateExpression: `SET loadedAt = if_not_exists(loadedAt, :now), loadedRows = :rows${load.reportDate ? ', reportDate = :date' : ''}`
        + (f ? ', runRead = :read, runAccepted = :accepted, runRejected = :rejected, runShardDuplicates = :shardDups,'
          + ' runCrossShardDuplicates = :crossDups, runTotalsByCurrency = :totals' : ''),
      ConditionExpression: 'attribute_exists(jobId) AND attribute_exists(completedAt)',
      ExpressionAttributeValues: {
        ':now': now, ':rows': load.rows, ...(load.reportDate ? { ':date': load.reportDate } : {}),
        ...(f ? {
          ':read': f.read, ':accepted': f.accepted, ':rejected': f.rejected, ':shardDups': f.shardDuplicates,
          ':crossDups': f.crossShardDuplicates, ':totals': f.totalsByCurrency,
        } : {}),
      },
    }));
  } catch (err) {
    throw classifyError(err, 'UpdateItem run record (loadedAt)');
  }
}
