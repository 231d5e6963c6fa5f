/**
 * orchestrator: the nightly run. Lists every object under INPUT_PREFIX (all pages), skips empty ones,
 * refuses objects not encrypted with the platform key, skips objects whose job already exists, and
 * submits the rest to Batch in parallel (bounded), large files as array jobs. For each job the status
 * item is written with a conditional put BEFORE SubmitJob (no job Batch knows about without a status
 * item); a failed submit marks it FAILED_TO_SUBMIT (resubmitted by the next run). One concise SNS
 * summary (counts only). Throws RetryableError when anything failed, so async retries and the DLQ work.
 * A replay (`{runId, retryFailed: true}`) claims each FAILED job of that run and reopens it in the run
 * record in one transaction (shared/run-record.ts `reopenTerminalJob`), so the run completes again only
 * when the replayed job is terminal, and counts as SUCCEEDED when it succeeds.
 */
import type { ScheduledEvent } from 'aws-lambda';
import { SubmitJobCommand } from '@aws-sdk/client-batch';
import { PublishCommand } from '@aws-sdk/client-sns';
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { containsPan } from '../../domain/pan';
import { writeAudit } from '../shared/audit';
import { batch, ddb, sns } from '../shared/clients';
import { mapSettled } from '../shared/concurrency';
import { jobOverrides } from '../../contracts/batch-job';
import { environmentOf } from '../shared/env';
import { classifyError, isConditionFailure, PermanentError, RetryableError } from '../shared/errors';
import { createLogger, createMetrics, powertoolsHandler } from '../shared/powertools';
import {
  addSubmittedJobs, getRunRecord, isRunComplete, JobCounts, markRunCompleted, removeSubmittedJob, reopenTerminalJob, RunRecord, unmarkRunCompleted,
} from '../shared/run-record';
import { safeKey, WITHHELD } from '../shared/safe-text';
import { headEncrypted, listAllObjects } from '../shared/s3-object';
import { jobIdOf, parseRunRequest, RunRequestEvent, shardCountOf } from './plan';

const logger = createLogger('orchestrator');
const CONCURRENCY = 10;
/**
 * A SUBMITTED item without a Batch job id older than this was claimed by an invocation that died
 * between the claim and SubmitJob (Lambda's maximum run time is 15 minutes): submit it again. If that
 * invocation did reach Batch, the job runs twice, which the processor makes harmless (deterministic
 * outputs, counts added once per shard).
 */
const STALE_CLAIM_MS = 20 * 60 * 1000;

/** Tries at reopening a FAILED job while the run record changes under it (another job ending). */
const REOPEN_ATTEMPTS = 3;

interface Candidate {
  key: string; size: number; versionId?: string; etag?: string; jobId: string; shardCount: number; resubmitFrom?: string;
  /** A FAILED job's counts on its status item (what job-events recorded for it in the run). */
  counts?: JobCounts;
}

/** The schedule, or an on-demand run / replay. */
export type OrchestratorEvent = ScheduledEvent | RunRequestEvent;

export interface RunSummary {
  runId: string;
  listed: number;
  empty: number;
  refused: number;
  alreadyProcessed: number;
  submitted: number;
  arrayJobs: number;
  failed: number;
}

/** What one invocation accumulates: the counts it reports and the errors that make it fail (retried). */
interface RunState {
  readonly runId: string;
  readonly summary: RunSummary;
  readonly errors: Error[];
}

type RunEnv = ReturnType<typeof runEnvironment>;

function runEnvironment() {
  const e = environmentOf('orchestrator');
  return {
    bucket: e.INPUT_BUCKET,
    prefix: e.INPUT_PREFIX,
    kmsKeyArn: e.S3_KMS_KEY_ARN,
    statusTable: e.JOB_STATUS_TABLE,
    auditTable: e.AUDIT_LOG_TABLE,
    topicArn: e.ALERTS_TOPIC_ARN,
    jobQueue: e.JOB_QUEUE_ARN,
    jobDefinition: e.JOB_DEFINITION_ARN,
    perJob: e.TRANSACTIONS_PER_JOB,
    bytesPerShard: e.BYTES_PER_SHARD,
    environment: e.ENVIRONMENT,
  };
}

export const handler = powertoolsHandler('orchestrator', logger, async (event: OrchestratorEvent): Promise<RunSummary> => {
  // The types describe what arrives; they check nothing: the event is parsed strictly here.
  const { runId, retryFailed } = parseRunRequest(event);
  const env = runEnvironment();
  const state: RunState = {
    runId,
    summary: { runId, listed: 0, empty: 0, refused: 0, alreadyProcessed: 0, submitted: 0, arrayJobs: 0, failed: 0 },
    errors: [],
  };
  const candidates = await listCandidates(env, state);
  const toSubmit = await selectToSubmit(candidates, retryFailed, env, state);
  await submitAll(toSubmit, env, state);
  await completeIfNothingRuns(env, state);
  await publishSummary(env, state);
  return finish(state);
});

/**
 * Every non-empty object under the prefix (all pages), headed for its version id (part of the job id)
 * and the encryption check; objects not encrypted with the platform key, or whose key holds a
 * card-number-like value, are refused.
 */
async function listCandidates(env: RunEnv, { summary, errors }: RunState): Promise<Candidate[]> {
  const objects = (await listAllObjects(env.bucket, env.prefix)).filter((o) => o.Key && !o.Key.endsWith('/'));
  summary.listed = objects.length;
  const nonEmpty = objects.filter((o) => (o.Size ?? 0) > 0);
  summary.empty = objects.length - nonEmpty.length;

  const heads = await mapSettled(nonEmpty, CONCURRENCY, (o) => headEncrypted(env.bucket, o.Key!, env.kmsKeyArn));
  const candidates: Candidate[] = [];
  heads.forEach((h, i) => {
    const o = nonEmpty[i];
    if (h.status === 'rejected') {
      if (h.reason instanceof PermanentError) {
        summary.refused++;
        logger.warn('object refused', { key: safeKey(o.Key), reason: h.reason.message });
      } else {
        errors.push(h.reason as Error);
      }
      return;
    }
    if (containsPan(o.Key!)) {
      // The key would be copied into the status item, the job's environment and every log line.
      summary.refused++;
      logger.warn('object refused: its key holds a card-number-like value', { key: WITHHELD });
      return;
    }
    const size = h.value.ContentLength ?? o.Size ?? 0;
    candidates.push({
      key: o.Key!, size, versionId: h.value.VersionId, etag: h.value.ETag,
      jobId: jobIdOf(env.bucket, o.Key!, h.value.VersionId, h.value.ETag),
      shardCount: shardCountOf(size, env.perJob, env.bytesPerShard),
    });
  });
  return candidates;
}

/**
 * Already processed = a status item exists (any run). FAILED_TO_SUBMIT never reached Batch: submit
 * again. FAILED is resubmitted only on an explicit replay of the same run ({runId, retryFailed}); a
 * claim older than STALE_CLAIM_MS with no Batch job id is submitted again.
 */
async function selectToSubmit(candidates: Candidate[], retryFailed: boolean, env: RunEnv, { runId, summary, errors }: RunState): Promise<Candidate[]> {
  const existing = await mapSettled(candidates, CONCURRENCY, async (c) => {
    try {
      return (await ddb().send(new GetCommand({ TableName: env.statusTable, Key: { jobId: c.jobId }, ConsistentRead: true }))).Item;
    } catch (err) {
      throw classifyError(err, `GetItem ${c.jobId}`);
    }
  });
  const toSubmit: Candidate[] = [];
  existing.forEach((r, i) => {
    if (r.status === 'rejected') {
      errors.push(r.reason as Error);
      return;
    }
    const item = r.value;
    const c = candidates[i];
    if (!item) toSubmit.push(c);
    else if (item.status === 'FAILED_TO_SUBMIT') toSubmit.push({ ...c, resubmitFrom: 'FAILED_TO_SUBMIT' });
    else if (item.status === 'FAILED' && retryFailed && item.runId === runId) {
      toSubmit.push({ ...c, resubmitFrom: 'FAILED', counts: { processed: Number(item.processedCount ?? 0), rejected: Number(item.rejectedCount ?? 0) } });
    }
    else if (item.status === 'SUBMITTED' && item.batchJobId === undefined && Date.now() - Number(item.submittedAt) > STALE_CLAIM_MS) {
      toSubmit.push({ ...c, resubmitFrom: 'SUBMITTED' });
    }
    else summary.alreadyProcessed++;
  });
  return toSubmit;
}

/** Records the jobs in the run record, then claims and submits each (bounded parallelism). */
async function submitAll(toSubmit: Candidate[], env: RunEnv, { runId, summary, errors }: RunState): Promise<void> {
  await addSubmittedJobs(env.statusTable, runId, toSubmit.map((c) => c.jobId));
  const results = await mapSettled(toSubmit, CONCURRENCY, (c) => submit(c, runId, env));
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') {
      if (r.value) {
        summary.submitted++;
        if (toSubmit[i].shardCount > 1) summary.arrayJobs++;
      } else {
        summary.alreadyProcessed++;
      }
    } else {
      summary.failed++;
      errors.push(r.reason as Error);
    }
  });
}

/**
 * Nothing left running for this run (e.g. no new files): the run is complete now, and the SLA metric
 * must say so; otherwise job-events announces completion when the last job ends. A quiet night is
 * still a night: RUN_COMPLETED is published (once, by whoever set completedAt) so the loader loads the
 * empty run and reporting makes its nil reports (a nil report is a submission).
 */
async function completeIfNothingRuns(env: RunEnv, { runId, errors }: RunState): Promise<void> {
  const run = await getRunRecord(env.statusTable, runId);
  const completedAt = Date.now();
  if (!(run && errors.length === 0 && isRunComplete(run) && await markRunCompleted(env.statusTable, runId, completedAt))) return;
  const seconds = Math.max(0, (completedAt - Number(run.startedAt)) / 1000);
  try {
    await announceRunCompleted(env.topicArn, runId, run, seconds);
    const metrics = createMetrics('orchestrator', env.environment);
    metrics.addMetric('NightlyRunCompleted', MetricUnit.Count, 1);
    metrics.addMetric('NightlyRunDurationSeconds', MetricUnit.Seconds, seconds);
    metrics.publishStoredMetrics();
  } catch (err) {
    // Undo the completion so the retry (this invocation fails below) completes and announces it:
    // a completed run nobody announced would never be loaded.
    await unmarkRunCompleted(env.statusTable, runId, completedAt);
    errors.push(err as Error);
  }
}

/** One concise SNS summary: counts only. */
async function publishSummary(env: RunEnv, { runId, summary, errors }: RunState): Promise<void> {
  const subject = errors.length ? `Batch run ${runId}: ${errors.length} error(s)` : `Batch run ${runId} started: ${summary.submitted} job(s)`;
  try {
    await sns().send(new PublishCommand({ TopicArn: env.topicArn, Subject: subject.slice(0, 100), Message: JSON.stringify({ ...summary, errors: errors.length }) }));
  } catch (err) {
    errors.push(classifyError(err, 'SNS Publish run summary'));
  }
  logger.info('run summary', { ...summary, errors: errors.length });
}

/** The summary, or a Retryable/PermanentError naming the count and the first error (so retries and the DLQ work). */
function finish({ runId, summary, errors }: RunState): RunSummary {
  if (!errors.length) return summary;
  // Names and counts only; each error was logged with its job id where it happened.
  for (const e of errors.slice(0, 5)) logger.error('run error', { name: e.name, message: e.message.slice(0, 300) });
  const retryable = errors.some((e) => !(e instanceof PermanentError));
  const message = `orchestrator run ${runId}: ${errors.length} error(s); first: ${errors[0].message.slice(0, 200)}`;
  throw retryable ? new RetryableError(message) : new PermanentError(message);
}

/**
 * RUN_COMPLETED for a run the orchestrator completed itself (no job left to wait for), in the shape
 * job-events publishes, with the `event` message attribute the loader's subscription filters on.
 */
async function announceRunCompleted(topicArn: string, runId: string, run: RunRecord, seconds: number): Promise<void> {
  const message = {
    event: 'RUN_COMPLETED', runId, jobs: run.submittedJobs?.size ?? 0, succeeded: Number(run.succeededJobs ?? 0), failed: Number(run.failedJobs ?? 0),
    recordsProcessed: Number(run.processedCount ?? 0), recordsRejected: Number(run.rejectedCount ?? 0), durationSeconds: Math.round(seconds),
    completedBy: 'orchestrator',
  };
  try {
    await sns().send(new PublishCommand({
      TopicArn: topicArn,
      Subject: `Batch run ${runId} completed`.slice(0, 100),
      Message: JSON.stringify(message),
      MessageAttributes: { event: { DataType: 'String', StringValue: 'RUN_COMPLETED' } },
    }));
  } catch (err) {
    throw classifyError(err, 'SNS Publish RUN_COMPLETED');
  }
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
async function submit(c: Candidate, runId: string, env: Env): Promise<boolean> {
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
