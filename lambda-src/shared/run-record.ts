/**
 * The nightly run's completion record: one item `jobId = "run#<runId>"` in the job-status table
 * (recordType RUN, no `status` attribute, so the StatusIndex GSI never lists it).
 * - The orchestrator ADDs every job id it is about to submit to `submittedJobs` BEFORE submitting
 *   (a job that finishes instantly can't make the run look complete) and removes ids whose submit failed.
 * - job-events ADDs a job to `terminalJobs` once (conditional on it not being there), with its counts.
 * - The run is complete when every submitted job is terminal; `completedAt` is set with a condition,
 *   so completion is announced exactly once whoever notices it.
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
