/**
 * job-events: EventBridge "Batch Job State Change" for the platform's queue.
 * - Status moves only forward, by conditional update: SUBMITTED -> RUNNING -> SUCCEEDED | FAILED;
 *   SUCCEEDED and FAILED are terminal and an event for a different Batch job id (an older attempt of a
 *   resubmitted job) is ignored. Array children are ignored: the parent's event carries the outcome.
 * - Audit entry per (job, Batch job, status), deterministic id.
 * - Once per terminal job (run record, see shared/run-record.ts): EMF JobsSucceeded/JobsFailed,
 *   RecordsProcessed/RecordsRejected; SNS on failure; when the run's last job ends, NightlyRunCompleted
 *   and NightlyRunDurationSeconds plus one completion message.
 * Unknown event shapes are PermanentErrors (they go to the DLQ, visibly); events for jobs this
 * platform didn't submit are logged and ignored.
 */
import type { EventBridgeEvent } from 'aws-lambda';
import { PublishCommand } from '@aws-sdk/client-sns';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DateFormatError, parseInstant } from '../../domain/dates';
import { writeAudit } from '../shared/audit';
import { ddb, sns } from '../shared/clients';
import { environmentOf } from '../shared/env';
import { classifyError, isConditionFailure, PermanentError } from '../shared/errors';
import { createLogger, createMetrics, powertoolsHandler } from '../shared/powertools';
import { addTerminalJob, isRunComplete, markRunCompleted } from '../shared/run-record';
import { boundedJson, MAX_SNS_MESSAGE_BYTES, safeText } from '../shared/safe-text';

const logger = createLogger('job-events');
const BATCH_STATUSES = new Set(['SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED', 'FAILED']);
const JOB_ID = /^job-[0-9a-f]{40}$/;

export interface JobEventResult {
  jobId?: string;
  status?: string;
  outcome: 'UPDATED' | 'UNCHANGED' | 'IGNORED';
  runCompleted?: boolean;
}

export interface BatchDetail {
  jobId: string;
  jobName: string;
  status: string;
  statusReason?: string;
  arrayProperties?: { index?: number; size?: number };
  container?: { exitCode?: number };
}

/** EventBridge's "Batch Job State Change" (the detail is the job's DescribeJobs description). */
export type BatchJobStateChangeEvent = EventBridgeEvent<'Batch Job State Change', BatchDetail>;

export function parseBatchEvent(event: unknown): BatchDetail {
  const e = (event ?? {}) as Record<string, unknown>;
  if (e.source !== 'aws.batch' || e['detail-type'] !== 'Batch Job State Change') {
    throw new PermanentError('unsupported event: expected source aws.batch, detail-type "Batch Job State Change"');
  }
  const d = e.detail as Record<string, unknown> | undefined;
  if (!d || typeof d !== 'object') throw new PermanentError('Batch event has no detail');
  if (typeof d.jobId !== 'string' || typeof d.jobName !== 'string' || typeof d.status !== 'string' || !BATCH_STATUSES.has(d.status)) {
    throw new PermanentError('Batch event detail needs jobId, jobName and a known status');
  }
  return d as unknown as BatchDetail;
}

/** Batch's status reason is free text (it can carry a container's error output): scrubbed, 1 KB at most. */
function scrub(text: unknown): string | undefined {
  return safeText(text);
}

/** The event's own time (stable across redeliveries), strictly parsed: a bad time is refused before any write. */
export function eventTimeOf(event: unknown): number {
  try {
    return parseInstant((event as { time?: unknown }).time, 'event time');
  } catch (err) {
    if (err instanceof DateFormatError) throw new PermanentError(err.message);
    throw err;
  }
}

export const handler = powertoolsHandler('job-events', logger, async (event: BatchJobStateChangeEvent): Promise<JobEventResult> => {
  // The type describes what arrives; it checks nothing: the event is parsed strictly here.
  const d = parseBatchEvent(event);
  // EventBridge redelivers an event with the same time: the audit key stays the same.
  const eventTime = eventTimeOf(event);
  const {
    JOB_STATUS_TABLE: statusTable, AUDIT_LOG_TABLE: auditTable, ALERTS_TOPIC_ARN: topicArn, ENVIRONMENT: environment, BATCH_WINDOW_HOURS: windowHours,
  } = environmentOf('job-events');

  if (d.arrayProperties?.index !== undefined) return { outcome: 'IGNORED' };
  // The orchestrator names each Batch job after its logical job id (the status table key).
  const jobId = d.jobName;
  if (!JOB_ID.test(jobId)) {
    logger.warn('event for a job the orchestrator did not submit', { jobNameLength: d.jobName.length });
    return { outcome: 'IGNORED' };
  }
  let item: Record<string, unknown> | undefined;
  try {
    item = (await ddb().send(new GetCommand({ TableName: statusTable, Key: { jobId }, ConsistentRead: true }))).Item;
  } catch (err) {
    throw classifyError(err, `GetItem ${jobId}`);
  }
  if (!item) {
    logger.warn('no status item for job', { jobId });
    return { jobId, outcome: 'IGNORED' };
  }
  if (item.batchJobId !== undefined && item.batchJobId !== d.jobId) {
    logger.info('event of a superseded Batch job', { jobId });
    return { jobId, outcome: 'IGNORED' };
  }
  const runId = String(item.runId);
  const target = d.status === 'RUNNING' || d.status === 'SUCCEEDED' || d.status === 'FAILED' ? d.status : undefined;
  if (!target) return { jobId, status: String(item.status), outcome: 'UNCHANGED' };

  const allowedFrom = target === 'RUNNING' ? ['SUBMITTED'] : ['SUBMITTED', 'RUNNING'];
  let outcome: JobEventResult['outcome'] = 'UNCHANGED';
  try {
    const names = { '#status': 'status' };
    const values: Record<string, unknown> = { ':target': target, ':now': Date.now(), ':bid': d.jobId, ':a': allowedFrom[0] };
    if (allowedFrom[1]) values[':b'] = allowedFrom[1];
    const failure = target === 'FAILED' ? ', failureReason = :reason, exitCode = :exit' : '';
    if (failure) {
      values[':reason'] = scrub(d.statusReason) ?? 'unknown';
      values[':exit'] = d.container?.exitCode ?? -1;
    }
    await ddb().send(new UpdateCommand({
      TableName: statusTable,
      Key: { jobId },
      UpdateExpression: `SET #status = :target, updatedAt = :now, batchJobId = :bid${failure}`,
      ConditionExpression: `#status IN (${allowedFrom.map((_, i) => (i ? ':b' : ':a')).join(', ')}) AND (attribute_not_exists(batchJobId) OR batchJobId = :bid)`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    }));
    outcome = 'UPDATED';
  } catch (err) {
    if (!isConditionFailure(err)) throw classifyError(err, `UpdateItem ${jobId} -> ${target}`);
  }
  await writeAudit(auditTable, {
    auditId: `${jobId}#BATCH_${d.status}#${d.jobId}`, jobId, runId, event: `BATCH_${d.status}`,
    details: { batchJobId: d.jobId, statusReason: scrub(d.statusReason), exitCode: d.container?.exitCode, applied: outcome === 'UPDATED' },
    timestamp: eventTime,
  });
  if (target === 'RUNNING') return { jobId, status: outcome === 'UPDATED' ? 'RUNNING' : String(item.status), outcome };

  // Terminal: the job's final status is whatever the table now says (the processor may have got there first).
  const final = (await ddb().send(new GetCommand({ TableName: statusTable, Key: { jobId }, ConsistentRead: true }))).Item ?? item;
  const succeeded = final.status === 'SUCCEEDED';
  if (final.status !== 'SUCCEEDED' && final.status !== 'FAILED') return { jobId, status: String(final.status), outcome };
  const counts = { processed: Number(final.processedCount ?? 0), rejected: Number(final.rejectedCount ?? 0) };
  const run = await addTerminalJob(statusTable, runId, jobId, succeeded, counts);
  if (!run) return { jobId, status: String(final.status), outcome };

  const metrics = createMetrics('job-events', environment);
  metrics.addMetric(succeeded ? 'JobsSucceeded' : 'JobsFailed', MetricUnit.Count, 1);
  metrics.addMetric('RecordsProcessed', MetricUnit.Count, counts.processed);
  metrics.addMetric('RecordsRejected', MetricUnit.Count, counts.rejected);
  if (!succeeded) {
    await publish(topicArn, 'JOB_FAILED', `Batch job failed (run ${runId})`, {
      runId, jobId, inputKey: safeText(final.inputKey, 512), exitCode: d.container?.exitCode, reason: scrub(d.statusReason),
    });
  }
  let runCompleted = false;
  if (isRunComplete(run) && await markRunCompleted(statusTable, runId)) {
    runCompleted = true;
    const seconds = Math.max(0, (Date.now() - Number(run.startedAt)) / 1000);
    metrics.addMetric('NightlyRunCompleted', MetricUnit.Count, 1);
    metrics.addMetric('NightlyRunDurationSeconds', MetricUnit.Seconds, seconds);
    await publish(topicArn, 'RUN_COMPLETED', `Batch run ${runId} completed`, {
      runId, jobs: run.submittedJobs?.size ?? 0, succeeded: run.succeededJobs ?? 0, failed: run.failedJobs ?? 0,
      recordsProcessed: run.processedCount ?? 0, recordsRejected: run.rejectedCount ?? 0,
      durationSeconds: Math.round(seconds), withinWindow: seconds <= windowHours * 3600,
    });
  }
  metrics.publishStoredMetrics();
  return { jobId, status: String(final.status), outcome, runCompleted };
});

/**
 * `event` travels as a message attribute so subscribers can filter: the reporting stack's loader
 * subscribes to RUN_COMPLETED only (it must not depend on the compute stack, so it listens, not gets called).
 */
async function publish(topicArn: string, event: 'JOB_FAILED' | 'RUN_COMPLETED', subject: string, message: Record<string, unknown>): Promise<void> {
  try {
    await sns().send(new PublishCommand({
      TopicArn: topicArn,
      Subject: subject.slice(0, 100),
      // Bounded and scrubbed: an oversized reason must not make the alert itself fail.
      Message: boundedJson({ event, ...message }, MAX_SNS_MESSAGE_BYTES),
      MessageAttributes: { event: { DataType: 'String', StringValue: event } },
    }));
  } catch (err) {
    throw classifyError(err, 'SNS Publish');
  }
}
