/**
 * Job status and audit entries in DynamoDB, written so that any retry or re-run is harmless:
 * - status moves SUBMITTED/RUNNING -> SUCCEEDED/FAILED only through conditional updates, and a
 *   terminal status is never overwritten;
 * - a shard's counts are ADDed in the same conditional update that puts the shard into
 *   completedShards, so a shard is counted at most once however often it runs;
 * - audit ids are deterministic (`<jobId>#<event>#<shard>[#<attempt>]`) and written once.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { classifyError } from './errors';

export interface JobRef {
  jobId: string;
  runId: string;
  shardIndex: number;
  shardCount: number;
}

export interface ShardCounts {
  accepted: number;
  rejected: number;
  duplicates: number;
  read: number;
}

function isConditionFailure(err: unknown): boolean {
  return err instanceof ConditionalCheckFailedException || (err as { name?: string })?.name === 'ConditionalCheckFailedException';
}

export class JobRecords {
  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly statusTable: string,
    private readonly auditTable: string,
  ) {}

  /** Returns false when the job is already terminal (a re-run of a finished job). */
  async markRunning(job: JobRef, input: { bucket: string; key: string; versionId?: string }, now = Date.now()): Promise<boolean> {
    try {
      await this.ddb.send(
        new UpdateCommand({
          TableName: this.statusTable,
          Key: { jobId: job.jobId },
          UpdateExpression:
            'SET #status = :running, runId = :runId, inputBucket = :bucket, inputKey = :key, shardCount = :n, updatedAt = :now, submittedAt = if_not_exists(submittedAt, :now)' +
            (input.versionId ? ', inputVersionId = :version' : ''),
          ConditionExpression: 'attribute_not_exists(#status) OR #status IN (:submitted, :running)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':running': 'RUNNING',
            ':submitted': 'SUBMITTED',
            ':runId': job.runId,
            ':bucket': input.bucket,
            ':key': input.key,
            ':n': job.shardCount,
            ':now': now,
            ...(input.versionId ? { ':version': input.versionId } : {}),
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw classifyError(err, `UpdateItem ${this.statusTable} (RUNNING)`);
    }
  }

  /**
   * Adds the shard's counts once. Returns whether this call counted the shard and whether the job is
   * now complete (every shard in completedShards) and was marked SUCCEEDED by this call.
   */
  async completeShard(job: JobRef, counts: ShardCounts, now = Date.now()): Promise<{ counted: boolean; jobSucceeded: boolean }> {
    const shard = String(job.shardIndex);
    let completed: Set<string> | undefined;
    try {
      const res = await this.ddb.send(
        new UpdateCommand({
          TableName: this.statusTable,
          Key: { jobId: job.jobId },
          UpdateExpression: 'ADD processedCount :a, rejectedCount :r, duplicateCount :d, readCount :t, completedShards :s SET updatedAt = :now',
          ConditionExpression: 'attribute_not_exists(completedShards) OR NOT contains(completedShards, :shard)',
          ExpressionAttributeValues: {
            ':a': counts.accepted,
            ':r': counts.rejected,
            ':d': counts.duplicates,
            ':t': counts.read,
            ':s': new Set([shard]),
            ':shard': shard,
            ':now': now,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      completed = res.Attributes?.completedShards as Set<string> | undefined;
    } catch (err) {
      if (isConditionFailure(err)) return { counted: false, jobSucceeded: false };
      throw classifyError(err, `UpdateItem ${this.statusTable} (shard ${shard})`);
    }
    if (!completed || completed.size < job.shardCount) return { counted: true, jobSucceeded: false };
    try {
      await this.ddb.send(
        new UpdateCommand({
          TableName: this.statusTable,
          Key: { jobId: job.jobId },
          UpdateExpression: 'SET #status = :succeeded, updatedAt = :now',
          ConditionExpression: '#status <> :succeeded AND #status <> :failed',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':succeeded': 'SUCCEEDED', ':failed': 'FAILED', ':now': now },
        }),
      );
      return { counted: true, jobSucceeded: true };
    } catch (err) {
      if (isConditionFailure(err)) return { counted: true, jobSucceeded: false };
      throw classifyError(err, `UpdateItem ${this.statusTable} (SUCCEEDED)`);
    }
  }

  /** Marks the job FAILED unless it already succeeded; returns whether this call changed it. */
  async markFailed(job: JobRef, code: string, now = Date.now()): Promise<boolean> {
    try {
      await this.ddb.send(
        new UpdateCommand({
          TableName: this.statusTable,
          Key: { jobId: job.jobId },
          UpdateExpression: 'SET #status = :failed, failureCode = :code, failedShard = :shard, updatedAt = :now',
          ConditionExpression: 'attribute_not_exists(#status) OR (#status <> :succeeded AND #status <> :failed)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':failed': 'FAILED', ':succeeded': 'SUCCEEDED', ':code': code, ':shard': job.shardIndex, ':now': now },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw classifyError(err, `UpdateItem ${this.statusTable} (FAILED)`);
    }
  }

  /** Writes the audit event once per deterministic id; returns false when it already existed. */
  async audit(job: JobRef, event: string, details: Record<string, unknown>, suffix?: string, now = Date.now()): Promise<boolean> {
    const auditId = [job.jobId, event, String(job.shardIndex), suffix].filter((p) => p !== undefined).join('#');
    try {
      const existing = await this.ddb.send(
        new QueryCommand({ TableName: this.auditTable, KeyConditionExpression: 'auditId = :id', ExpressionAttributeValues: { ':id': auditId }, Limit: 1 }),
      );
      if ((existing.Items?.length ?? 0) > 0) return false;
      await this.ddb.send(
        new PutCommand({
          TableName: this.auditTable,
          Item: { auditId, timestamp: now, jobId: job.jobId, runId: job.runId, event, shard: job.shardIndex, details: JSON.stringify(details) },
          ConditionExpression: 'attribute_not_exists(auditId)',
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw classifyError(err, `audit ${auditId}`);
    }
  }
}
