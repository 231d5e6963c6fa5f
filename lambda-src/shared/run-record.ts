/**
 * The nightly run's completion record: one item `jobId = "run#<runId>"` in the job-status table
 * (recordType RUN, no `status` attribute, so the StatusIndex GSI never lists it).
 * - The orchestrator ADDs every job id it is about to submit to `submittedJobs` BEFORE submitting
 *   (a job that finishes instantly can't make the run look complete) and removes ids whose submit failed.
 * - job-events ADDs a job to `terminalJobs` once (conditional on it not being there), with its counts.
 * - The run is complete when every submitted job is terminal; `completedAt` is set with a condition,
 *   so completion is announced exactly once whoever notices it.
 * - report-loader, after committing a completed run without failed jobs to the reporting database,
 *   sets `loadedAt` (first load kept), `loadedRows` and `reportDate` (absent for a run that feeds no
 *   report date), conditional on the run being complete. run-deadline's reporting check reads `loadedAt`.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from './clients';
import { classifyError, isConditionFailure } from './errors';

export const runRecordId = (runId: string): string => `run#${runId}`;

export interface RunRecord {
  runId: string;
  startedAt: number;
  submittedJobs?: Set<string>;
  terminalJobs?: Set<string>;
  succeededJobs?: number;
  failedJobs?: number;
  processedCount?: number;
  rejectedCount?: number;
  completedAt?: number;
  loadedAt?: number;
  loadedRows?: number;
  reportDate?: string;
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

/** Records a terminal job once; returns the run record after the update, or undefined if already recorded. */
export async function addTerminalJob(table: string, runId: string, jobId: string, succeeded: boolean, counts: { processed: number; rejected: number }): Promise<RunRecord | undefined> {
  try {
    const res = await ddb().send(new UpdateCommand({
      TableName: table,
      Key: { jobId: runRecordId(runId) },
      UpdateExpression: `ADD terminalJobs :id, ${succeeded ? 'succeededJobs' : 'failedJobs'} :one, processedCount :p, rejectedCount :r SET runId = :run, recordType = :type`,
      ConditionExpression: 'attribute_not_exists(terminalJobs) OR NOT contains(terminalJobs, :jobId)',
      ExpressionAttributeValues: {
        ':id': new Set([jobId]), ':jobId': jobId, ':one': 1, ':p': counts.processed, ':r': counts.rejected, ':run': runId, ':type': 'RUN',
      },
      ReturnValues: 'ALL_NEW',
    }));
    return res.Attributes as RunRecord;
  } catch (err) {
    if (isConditionFailure(err)) return undefined;
    throw classifyError(err, 'UpdateItem run record (terminalJobs)');
  }
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
 * Records that the run is loaded into the reporting database. Idempotent: the first `loadedAt` is
 * kept, rows and report date are rewritten with the same values on a repeat. Conditional on the run
 * being complete, so a load can never mark a run that is still running (or has no record).
 */
export async function markRunLoaded(table: string, runId: string, load: { rows: number; reportDate?: string }, now = Date.now()): Promise<void> {
  try {
    // No ReturnValues: the role can then be limited to these attributes (dynamodb:Attributes).
    await ddb().send(new UpdateCommand({
      TableName: table,
      Key: { jobId: runRecordId(runId) },
      UpdateExpression: `SET loadedAt = if_not_exists(loadedAt, :now), loadedRows = :rows${load.reportDate ? ', reportDate = :date' : ''}`,
      ConditionExpression: 'attribute_exists(jobId) AND attribute_exists(completedAt)',
      ExpressionAttributeValues: { ':now': now, ':rows': load.rows, ...(load.reportDate ? { ':date': load.reportDate } : {}) },
    }));
  } catch (err) {
    throw classifyError(err, 'UpdateItem run record (loadedAt)');
  }
}
