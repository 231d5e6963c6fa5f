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
import { PublishCommand } from '@aws-sdk/client-sns';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { containsPan } from '../../domain/pan';
import { ddb, sns } from '../shared/clients';
import { mapSettled } from '../shared/concurrency';
import { environmentOf } from '../shared/env';
import { classifyError, PermanentError, RetryableError } from '../shared/errors';
import { createMetrics, powertoolsHandler } from '../shared/powertools';
import { addSubmittedJobs, getRunRecord, isRunComplete, markRunCompleted, RunRecord, unmarkRunCompleted } from '../shared/run-record';
import { safeKey, WITHHELD } from '../shared/safe-text';
import { headEncrypted, listAllObjects } from '../shared/s3-object';
import { jobIdOf, parseRunRequest, RunRequestEvent, shardCountOf } from './plan';
import { logger } from './log';
import { Candidate, submit } from './submit';

const CONCURRENCY = 10;
/**
 * A SUBMITTED item without a Batch job id older than this was claimed by an invocation that died
 * between the claim and SubmitJob (Lambda's maximum run time is 15 minutes): submit it again. If that
 * invocation did reach Batch, the job runs twice, which the processor makes harmless (deterministic
 * outputs, counts added once per shard).
 */
const STALE_CLAIM_MS = 20 * 60 * 1000;

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
