/**
 * Audit entries (contracts.md): deterministic `auditId`, written once with a conditional put. The
 * table's key is (auditId, timestamp), so `timestamp` is the time of the audited occurrence itself
 * (the job's submittedAt, the EventBridge event's time, the object's LastModified), which a retry or
 * a redelivered event reproduces exactly: the second put hits the same key and is refused. No read
 * before write, so writers need only dynamodb:PutItem. `details` is external text as often as not: it
 * is stored as bounded, scrubbed JSON (shared/safe-text.ts).
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from './clients';
import { classifyError, isConditionFailure } from './errors';
import { boundedJson, MAX_AUDIT_DETAILS_BYTES, safeText } from './safe-text';

export interface AuditEntry {
  auditId: string;
  jobId: string;
  event: string;
  details: Record<string, unknown>;
  runId?: string;
  /** Epoch ms of the occurrence (stable across retries), not of this write. */
  timestamp: number;
}

/** True when written, false when this exact entry already existed. */
export async function writeAudit(table: string, entry: AuditEntry): Promise<boolean> {
  try {
    await ddb().send(new PutCommand({
      TableName: table,
      Item: {
        auditId: entry.auditId, timestamp: entry.timestamp, jobId: entry.jobId, runId: entry.runId, event: entry.event,
        // Every string scrubbed and capped, the whole at most 16 KB: the item stays far below DynamoDB's 400 KB.
        details: boundedJson(entry.details, MAX_AUDIT_DETAILS_BYTES),
      },
      ConditionExpression: 'attribute_not_exists(auditId)',
    }));
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw classifyError(err, `audit ${safeText(entry.event, 64)}`);
  }
}
