/**
 * The container's job: one shard of one input object, with status, audit, metrics and notification
 * around the pipeline. Returns the exit code instead of exiting, so tests can run it in-process.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ContainerConfig, outputPrefix } from './config';
import { classifyError, EXIT_OK, InterruptedError, ProcessorError, RetryableError } from './errors';
import { JobRecords, JobRef } from './job-records';
import { emfLine, Logger } from './log';
import { Progress, runShard, shardDir, ShardOptions, ShardSummary } from './pipeline';
import { S3Target } from './sink';
import { openS3 } from './source';
import { SHARD_OUTPUT_NAMES } from '../../contracts/buckets';

export interface JobClients {
  s3: S3Client;
  ddb: DynamoDBDocumentClient;
  sns: SNSClient;
}

export interface JobOptions {
  log: Logger;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  writeMetrics?: (line: string) => void;
  beforeReconcile?: ShardOptions['beforeReconcile'];
}

export interface JobResult {
  exitCode: number;
  summary?: ShardSummary;
  error?: ProcessorError;
}

export async function runJob(cfg: ContainerConfig, clients: JobClients, options: JobOptions): Promise<JobResult> {
  const { log } = options;
  const writeMetrics = options.writeMetrics ?? ((l: string) => process.stdout.write(l));
  const job: JobRef = { jobId: cfg.jobId, runId: cfg.runId, shardIndex: cfg.shard.index, shardCount: cfg.shard.count };
  const records = new JobRecords(clients.ddb, cfg.jobStatusTable, cfg.auditLogTable);
  const started = Date.now();
  const attempt = String(cfg.attempt);
  try {
    const running = await records.markRunning(job, { bucket: cfg.inputBucket, key: cfg.inputKey, versionId: cfg.inputVersionId });
    if (!running) log.warn('job is already terminal; re-running the shard without changing its status or counts');
    await records.audit(job, 'SHARD_STARTED', { input: `s3://${cfg.inputBucket}/${cfg.inputKey}`, versionId: cfg.inputVersionId ?? null }, attempt);

    const source = await openS3(clients.s3, cfg.inputBucket, cfg.inputKey, cfg.inputVersionId, { signal: options.signal });
    const target = new S3Target(clients.s3, cfg.destBucket, outputPrefix(cfg), cfg.destKmsKeyArn);
    const summary = await runShard(source, target, cfg.shard, {
      maxAmount: cfg.maxAmount,
      signal: options.signal,
      onProgress: options.onProgress,
      beforeReconcile: options.beforeReconcile,
    });
    const counts = summary.counts;
    const { counted, jobSucceeded } = await records.completeShard(job, counts);
    if (!counted) log.warn('shard was already counted by an earlier run; counts left unchanged');
    await records.audit(job, 'SHARD_SUCCEEDED', {
      counts: { read: counts.read, accepted: counts.accepted, rejected: counts.rejected, duplicates: counts.duplicates },
      sha256: summary.input.sha256,
      etag: summary.input.etag ?? null,
      summary: target.describe(`${shardDir(cfg.shard)}/${SHARD_OUTPUT_NAMES.summary}`),
    });
    if (jobSucceeded) {
      await records.audit(job, 'JOB_SUCCEEDED', { shardCount: cfg.shard.count }, undefined);
      // The outputs and counts are committed; a lost notification must not fail (and re-run) the shard.
      await notify(clients.sns, cfg, 'SUCCEEDED', { jobId: cfg.jobId, runId: cfg.runId, shardCount: cfg.shard.count }).catch((err) =>
        log.error('completion notification failed', { error: (err as Error).message }),
      );
    }
    const seconds = (Date.now() - started) / 1000;
    writeMetrics(
      emfLine(
        cfg.environment,
        {
          RecordsRead: { value: counts.read, unit: 'Count' },
          RecordsProcessed: { value: counts.accepted, unit: 'Count' },
          RecordsRejected: { value: counts.rejected, unit: 'Count' },
          RecordsDuplicate: { value: counts.duplicates, unit: 'Count' },
          ShardDurationSeconds: { value: seconds, unit: 'Seconds' },
          BytesProcessed: { value: summary.input.bytesHashed, unit: 'Bytes' },
        },
        { jobId: cfg.jobId, runId: cfg.runId, shard: cfg.shard.index },
      ),
    );
    log.info('shard succeeded', { counts: { read: counts.read, accepted: counts.accepted, rejected: counts.rejected, duplicates: counts.duplicates }, seconds, counted, jobSucceeded });
    return { exitCode: EXIT_OK, summary };
  } catch (raw) {
    const error = classifyError(raw, 'processor');
    await recordFailure(error, cfg, clients, records, job, attempt, log).catch((err) =>
      log.error('could not record the failure', { error: (err as Error).message }),
    );
    writeMetrics(emfLine(cfg.environment, { ShardFailures: { value: 1, unit: 'Count' } }, { jobId: cfg.jobId, runId: cfg.runId, shard: cfg.shard.index, code: error.code, exitCode: error.exitCode }));
    log.error('shard failed', { code: error.code, exitCode: error.exitCode, error: error.message });
    return { exitCode: error.exitCode, error };
  }
}

async function recordFailure(error: ProcessorError, cfg: ContainerConfig, clients: JobClients, records: JobRecords, job: JobRef, attempt: string, log: Logger): Promise<void> {
  const details = { code: error.code, exitCode: error.exitCode, message: error.message };
  if (error instanceof InterruptedError) {
    // Batch retries 143: the status stays RUNNING, the interruption is on the audit trail.
    await records.audit(job, 'SHARD_INTERRUPTED', details, attempt);
    return;
  }
  if (error instanceof RetryableError) {
    await records.audit(job, 'SHARD_RETRYABLE_FAILURE', details, attempt);
    return;
  }
  const changed = await records.markFailed(job, error.code);
  await records.audit(job, 'SHARD_FAILED', details);
  if (changed) await notify(clients.sns, cfg, 'FAILED', { jobId: cfg.jobId, runId: cfg.runId, shard: cfg.shard.index, code: error.code, exitCode: error.exitCode, message: error.message });
  else log.warn('job status already terminal; failure recorded in the audit log only');
}

async function notify(sns: SNSClient, cfg: ContainerConfig, status: 'SUCCEEDED' | 'FAILED', body: Record<string, unknown>): Promise<void> {
  try {
    await sns.send(
      new PublishCommand({
        TopicArn: cfg.snsTopicArn,
        Subject: `[${cfg.environment}] transaction job ${status}: ${cfg.jobId}`.slice(0, 99),
        Message: JSON.stringify({ status, environment: cfg.environment, ...body }),
        MessageAttributes: { status: { DataType: 'String', StringValue: status } },
      }),
    );
  } catch (err) {
    throw classifyError(err, 'SNS Publish');
  }
}
