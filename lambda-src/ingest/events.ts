/**
 * S3 "object created" references from the two delivery shapes ingest accepts:
 * - SQS messages whose body is an S3 event notification (`Records[].s3`), or the s3:TestEvent S3 sends
 *   when a notification is configured (ignored);
 * - EventBridge "Object Created" events from S3 (`detail.bucket.name`, `detail.object.key`).
 * Keys are URL-encoded in S3 notifications ("a b.csv" arrives as "a+b.csv"); decoding happens here,
 * once, for both shapes.
 */
import { PermanentError } from '../shared/errors';

export interface ObjectRef { bucket: string; key: string; versionId?: string }

export function decodeKey(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw new PermanentError('object key is not valid URL encoding');
  }
}

export function isEventBridgeObjectCreated(e: Record<string, unknown>): boolean {
  return e.source === 'aws.s3' && e['detail-type'] === 'Object Created';
}

export function fromEventBridge(e: Record<string, unknown>): ObjectRef {
  const d = e.detail as { bucket?: { name?: unknown }; object?: { key?: unknown; 'version-id'?: unknown } } | undefined;
  if (typeof d?.bucket?.name !== 'string' || typeof d.object?.key !== 'string') throw new PermanentError('Object Created event needs detail.bucket.name and detail.object.key');
  const versionId = typeof d.object['version-id'] === 'string' ? d.object['version-id'] : undefined;
  return { bucket: d.bucket.name, key: decodeKey(d.object.key), versionId };
}

/** Object refs in one SQS message body; [] for the S3 test event. */
export function fromSqsBody(body: string): ObjectRef[] {
  let parsed: { Records?: unknown; Event?: unknown };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    throw new PermanentError('SQS message body is not JSON');
  }
  if (parsed?.Event === 's3:TestEvent') return [];
  if (!Array.isArray(parsed?.Records)) throw new PermanentError('SQS message body is not an S3 event notification');
  return parsed.Records.map((r: { eventSource?: unknown; eventName?: unknown; s3?: { bucket?: { name?: unknown }; object?: { key?: unknown; versionId?: unknown } } }) => {
    if (r?.eventSource !== 'aws:s3' || typeof r.eventName !== 'string' || !r.eventName.startsWith('ObjectCreated:')) {
      throw new PermanentError('S3 notification record is not an ObjectCreated event');
    }
    if (typeof r.s3?.bucket?.name !== 'string' || typeof r.s3.object?.key !== 'string') throw new PermanentError('S3 notification record needs s3.bucket.name and s3.object.key');
    return { bucket: r.s3.bucket.name, key: decodeKey(r.s3.object.key), versionId: typeof r.s3.object.versionId === 'string' ? r.s3.object.versionId : undefined };
  });
}
