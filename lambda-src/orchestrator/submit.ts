/**
 * One job of the nightly run: claim its status item (conditional put, or update of a FAILED_TO_SUBMIT /
 * stale claim, or the replay's reopen of a FAILED job together with the run record), then SubmitJob;
 * a failed submit marks it FAILED_TO_SUBMIT so the next run submits it again.
 */
import { SubmitJobCommand } from '@aws-sdk/client-batch';
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { writeAudit } from '../shared/audit';
import { batch, ddb } from '../shared/clients';
import { jobOverrides } from '../../contracts/batch-job';
import { classifyError, isConditionFailure, RetryableError } from '../shared/errors';
import { getRunRecord, JobCounts, removeSubmittedJob, reopenTerminalJob } from '../shared/run-record';
import { safeKey } from '../shared/safe-text';
import { logger } from './log';

/** Tries at reopening a FAILED job while the run record changes under it (another job ending). */
const REOPEN_ATTEMPTS = 3;

export interface Candidate {
  key: string; size: number; versionId?: string; etag?: string; jobId: string; shardCount: number; resubmitFrom?: string;
  /** A FAILED job's counts on its status item (what job-events recorded for it in the run). */
  counts?: JobCounts;
}

interface Env { bucket: string; statusTable: string; auditTable: string; jobQueue: string; jobDefinition: string }

/** New job: conditional put; a FAILED_TO_SUBMIT or stale SUBMITTED one: conditional update. False: claimed by another. */
async function claim(c: Candidate, runId: string, env: Env, now: number): Promise<boolean> {
  try {
    if (c.resubmitFrom) {
      await ddb().send(new UpdateCommand(resubmitUpdate(c, runId, env, now)));
    } else {
      await ddb().send(new PutCommand({
        TableName: env.statusTable,
        Item: {
          jobId: c.jobId, runId, status: 'SUBMITTED', inputBucket: env.bucket, inputKey: c.key, inputVersionId: c.versionId,
          shardCount: c.shardCount, submittedAt: now, updatedAt: now, processedCount: 0, rejectedCount: 0, duplicateCount: 0,
        },
        ConditionExpression: 'attribute_not_exists(jobId)',
      }));
    }
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

function resubmitUpdate(c: Candidate, runId: string, env: Env, now: number) {
  // A stale SUBMITTED claim is taken over only if it still never reached Batch; a FAILED job only by a
  // replay of its own run.
  const condition = c.resubmitFrom === 'SUBMITTED' ? '#status = :previous AND attribute_not_exists(batchJobId)'
    : c.resubmitFrom === 'FAILED' ? '#status = :previous AND runId = :run' : '#status = :previous';
  return {
    TableName: env.statusTable,
    Key: { jobId: c.jobId },
    UpdateExpression: 'SET #status = :submitted, runId = :run, submittedAt = :now, updatedAt = :now REMOVE batchJobId, submitError',
    ConditionExpression: condition,
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: { ':submitted': 'SUBMITTED', ':run': runId, ':now': now, ':previous': c.resubmitFrom },
  };
}

/**
 * Replay of a FAILED job: the status item's FAILED -> SUBMITTED and the run record forgetting the job's
 * terminal state (and what it added to the totals) in one transaction, so neither can happen without
 * the other. The run-record half is conditional on the record as read; when another job of the run ends
 * in between, the record is read again (a few times). False: the job is no longer FAILED (another
 * invocation claimed it).
 */
async function reopenFailed(c: Candidate, runId: string, env: Env, now: number): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    const run = await getRunRecord(env.statusTable, runId);
    try {
      await ddb().send(new TransactWriteCommand({
        TransactItems: [
          { Update: resubmitUpdate(c, runId, env, now) },
          reopenTerminalJob(env.statusTable, runId, run, c.jobId, c.counts ?? { processed: 0, rejected: 0 }),
        ],
      }));
      return true;
    } catch (err) {
      if ((err as { name?: string }).name !== 'TransactionCanceledException') throw err;
      const codes = ((err as { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons ?? []).map((r) => r.Code);
      // The status item is no longer FAILED of this run: another invocation claimed the job.
      if (codes[0] === 'ConditionalCheckFailed') return false;
      // A malformed request stays malformed; anything else (the run record changed, a conflicting
      // transaction, throttling) is tried again with a fresh read, then left to the caller's retry.
      if (codes.includes('ValidationError')) throw err;
      if (attempt >= REOPEN_ATTEMPTS) throw new RetryableError(`reopen ${c.jobId}: the run record of ${runId} kept changing (${codes.filter(Boolean).join(', ')})`);
    }
  }
}

/** Returns false when another invocation claimed the job first (conditional write lost). */
export async function submit(c: Candidate, runId: string, env: Env): Promise<boolean> {
  const now = Date.now();
  let claimed: boolean;
  try {
    claimed = c.resubmitFrom === 'FAILED' ? await reopenFailed(c, runId, env, now) : await claim(c, runId, env, now);
  } catch (err) {
    throw classifyError(err, `claim ${c.jobId}`);
  }
  if (!claimed) {
    // Another invocation holds the claim. Its job stays in this run's submittedJobs when the claim is
    // for this run (a duplicate request): removing it would let the run complete without it.
    const holder = await ddb().send(new GetCommand({ TableName: env.statusTable, Key: { jobId: c.jobId }, ConsistentRead: true }))
      .catch((err) => { throw classifyError(err, `GetItem ${c.jobId}`); });
    if (holder.Item?.runId !== runId) await removeSubmittedJob(env.statusTable, runId, c.jobId);
    return false;
  }

  let batchJobId: string;
  try {
    const environment = jobOverrides({
      INPUT_BUCKET: env.bucket, INPUT_KEY: c.key, RUN_ID: runId, JOB_ID: c.jobId, SHARD_COUNT: c.shardCount, INPUT_VERSION_ID: c.versionId || undefined,
    });
    const res = await batch().send(new SubmitJobCommand({
      jobName: c.jobId,
      jobQueue: env.jobQueue,
      jobDefinition: env.jobDefinition,
      arrayProperties: c.shardCount > 1 ? { size: c.shardCount } : undefined,
      containerOverrides: { environment },
    }));
    batchJobId = res.jobId!;
  } catch (err) {
    const error = classifyError(err, `SubmitJob ${c.jobId}`);
    // Best effort: the item must not claim a job Batch never accepted.
    await ddb().send(new UpdateCommand({
      TableName: env.statusTable,
      Key: { jobId: c.jobId },
      UpdateExpression: 'SET #status = :failed, submitError = :name, updatedAt = :now',
      ConditionExpression: '#status = :submitted AND attribute_not_exists(batchJobId)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':failed': 'FAILED_TO_SUBMIT', ':submitted': 'SUBMITTED', ':name': (err as Error).name ?? 'Error', ':now': Date.now() },
    })).catch((e) => logger.error('could not mark FAILED_TO_SUBMIT', { jobId: c.jobId, name: (e as Error).name }));
    await removeSubmittedJob(env.statusTable, runId, c.jobId).catch(() => undefined);
    logger.error('submit failed', { jobId: c.jobId, key: safeKey(c.key), error: error.message });
    throw error;
  }
  try {
    await ddb().send(new UpdateCommand({
      TableName: env.statusTable,
      Key: { jobId: c.jobId },
      UpdateExpression: 'SET batchJobId = :bid, updatedAt = :now',
      ExpressionAttributeValues: { ':bid': batchJobId, ':now': Date.now() },
    }));
  } catch (err) {
    throw classifyError(err, `record batchJobId ${c.jobId}`);
  }
  await writeAudit(env.auditTable, {
    auditId: `${c.jobId}#JOB_SUBMITTED#${batchJobId}`, jobId: c.jobId, runId, event: 'JOB_SUBMITTED',
    details: { batchJobId, inputKey: c.key, inputVersionId: c.versionId, shardCount: c.shardCount, sizeBytes: c.size, resubmittedFrom: c.resubmitFrom },
    timestamp: now,
  });
  return true;
};
