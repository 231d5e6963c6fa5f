/**
 * ingest: registers and validates files as they land (EventBridge "Object Created", or SQS batches of
 * S3 notifications with partial batch failures via Powertools batch).
 * - Every object must be SSE-KMS with the platform key (S3_KMS_KEY_ARN), else PermanentError.
 * - Input files (INPUT_BUCKET, transactions/): an audit entry FILE_REGISTERED per object version; the
 *   nightly orchestrator processes them.
 * - Payment files (PAYMENT_BUCKET): validated with domain/payment.ts (the documents' payment rules);
 *   an invalid file is refused whole and audited without its content; valid payments are stored once
 *   (payments.ts). Logs and audit entries carry ids, counts and reason codes, never field values.
 */
import * as crypto from 'crypto';
import type { Context, EventBridgeEvent, S3ObjectCreatedNotificationEventDetail, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { containsPan } from '../../domain/pan';
import { parsePaymentFile } from '../../domain/payment';
import { INPUT_PREFIX } from '../../contracts/buckets';
import { writeAudit } from '../shared/audit';
import { environmentOf } from '../shared/env';
import { PermanentError } from '../shared/errors';
import { createLogger, powertoolsHandler } from '../shared/powertools';
import { safeKey } from '../shared/safe-text';
import { headEncrypted, readText } from '../shared/s3-object';
import { fromEventBridge, fromSqsBody, isEventBridgeObjectCreated, ObjectRef } from './events';
import { storePayment, useLambdaContext } from './payments';

const logger = createLogger('ingest');
const MAX_PAYMENT_FILE_BYTES = 1024 * 1024;

export interface IngestResult {
  kind: 'INPUT_FILE' | 'PAYMENT_FILE';
  key: string;
  registered?: boolean;
  payments?: number;
  stored?: number;
  alreadyStored?: number;
  duplicates?: number;
}

const fileId = (ref: ObjectRef, versionId?: string) =>
  crypto.createHash('sha256').update([ref.bucket, ref.key, versionId ?? ref.versionId ?? ''].join('\0')).digest('hex').slice(0, 40);

export async function ingestObject(ref: ObjectRef): Promise<IngestResult> {
  const env = environmentOf('ingest');
  const { INPUT_BUCKET: inputBucket, PAYMENT_BUCKET: paymentBucket, S3_KMS_KEY_ARN: kmsKeyArn, AUDIT_LOG_TABLE: auditTable } = env;
  if (ref.bucket !== inputBucket && ref.bucket !== paymentBucket) throw new PermanentError('object is in a bucket ingest does not handle');
  if (ref.bucket === inputBucket && !ref.key.startsWith(INPUT_PREFIX)) throw new PermanentError(`input objects must be under ${INPUT_PREFIX}`);

  const head = await headEncrypted(ref.bucket, ref.key, kmsKeyArn, ref.versionId);
  const versionId = head.VersionId ?? ref.versionId;
  const id = fileId(ref, versionId);
  const occurredAt = head.LastModified?.getTime() ?? 0;
  if (ref.bucket === inputBucket) {
    const registered = await writeAudit(auditTable, {
      auditId: `file-${id}#FILE_REGISTERED`, jobId: `file-${id}`, event: 'FILE_REGISTERED',
      details: { bucket: ref.bucket, key: ref.key, versionId, sizeBytes: head.ContentLength ?? 0 },
      timestamp: occurredAt,
    });
    return { kind: 'INPUT_FILE', key: safeKey(ref.key) ?? '', registered };
  }

  if ((head.ContentLength ?? 0) > MAX_PAYMENT_FILE_BYTES) throw new PermanentError(`payment file larger than ${MAX_PAYMENT_FILE_BYTES} bytes`);
  const parsed = parsePaymentFile(await readText(ref.bucket, ref.key, versionId, MAX_PAYMENT_FILE_BYTES), env.MAX_AMOUNT);
  if (!parsed.ok) {
    await writeAudit(auditTable, {
      auditId: `payment-${id}#FILE_REJECTED`, jobId: `payment-${id}`, event: 'FILE_REJECTED',
      details: { key: ref.key, versionId, reason: parsed.reason, field: parsed.field, index: parsed.index },
      timestamp: occurredAt,
    });
    throw new PermanentError(`payment file rejected: ${parsed.reason}${parsed.field ? ` (${parsed.field})` : ''}${parsed.index !== undefined ? ` at payment #${parsed.index}` : ''}`);
  }
  // Stored with every payment: the key is the uploader's text, so it goes through the scrubber.
  const source = `${safeKey(ref.key)}#${versionId ?? ''}`;
  const result: IngestResult = { kind: 'PAYMENT_FILE', key: safeKey(ref.key) ?? '', payments: parsed.payments.length, stored: 0, alreadyStored: 0, duplicates: 0 };
  // Every stored text goes through the one detector: the file check above covers the raw text, this
  // states the rule at the point of storage (an id is the only free-form value a payment item keeps).
  parsed.payments.forEach((p, i) => {
    if (containsPan(p.transactionId)) throw new PermanentError(`payment file rejected: PAN_DETECTED (transactionId) at payment #${i}`);
  });
  for (const p of parsed.payments) {
    const outcome = await storePayment(p, occurredAt, source);
    if (outcome === 'STORED') result.stored!++;
    else if (outcome === 'ALREADY_STORED') result.alreadyStored!++;
    else result.duplicates!++;
  }
  await writeAudit(auditTable, {
    auditId: `payment-${id}#FILE_PROCESSED`, jobId: `payment-${id}`, event: 'FILE_PROCESSED',
    details: { key: ref.key, versionId, payments: result.payments, stored: result.stored, duplicates: result.duplicates },
    timestamp: occurredAt,
  });
  logger.info('payment file processed', { ...result });
  return result;
}

const processor = new BatchProcessor(EventType.SQS);

/** S3's EventBridge "Object Created", or an SQS batch whose bodies are S3 event notifications. */
export type IngestEvent = EventBridgeEvent<'Object Created', S3ObjectCreatedNotificationEventDetail> | SQSEvent;

export const handler = powertoolsHandler('ingest', logger, async (event: IngestEvent, context?: Context): Promise<IngestResult | SQSBatchResponse> => {
  // The types describe what arrives; they check nothing: each shape is recognised and parsed here.
  const e = (event ?? {}) as unknown as Record<string, unknown>;
  useLambdaContext(context);
  if (isEventBridgeObjectCreated(e)) return ingestObject(fromEventBridge(e));
  if (Array.isArray(e.Records) && e.Records.every((r: { eventSource?: unknown }) => r?.eventSource === 'aws:sqs')) {
    return processPartialResponse(event as SQSEvent, async (record: SQSRecord) => {
      for (const ref of fromSqsBody(record.body)) await ingestObject(ref);
    }, processor, context ? { context } : undefined);
  }
  throw new PermanentError('unsupported event: expected an EventBridge "Object Created" event or an SQS batch of S3 notifications');
});
