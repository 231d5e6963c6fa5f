/** S3 helpers shared by handlers: listing, encryption check and body reading. */
import * as crypto from 'crypto';
import {
  GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, PutObjectTaggingCommand, HeadObjectCommandOutput, ListObjectsV2Command, ListObjectsV2CommandOutput, _Object,
} from '@aws-sdk/client-s3';
import { s3 } from './clients';
import { classifyError, PermanentError } from './errors';

/**
 * Heads the object and requires SSE-KMS with exactly `expectedKeyArn` (S3 reports the key ARN in
 * SSEKMSKeyId). Unencrypted, SSE-S3 or another key -> PermanentError: re-reading cannot fix it.
 */
export async function headEncrypted(bucket: string, key: string, expectedKeyArn: string, versionId?: string): Promise<HeadObjectCommandOutput> {
  let head: HeadObjectCommandOutput;
  try {
    head = await s3().send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) {
      throw new PermanentError(`s3://${bucket}/${key}: object not found (deleted before it was processed?)`, { cause: err });
    }
    throw classifyError(err, `HeadObject s3://${bucket}/${key}`);
  }
  if (head.ServerSideEncryption !== 'aws:kms') {
    throw new PermanentError(`s3://${bucket}/${key}: must be encrypted with SSE-KMS (aws:kms), found ${head.ServerSideEncryption ?? 'none'}`);
  }
  if (head.SSEKMSKeyId !== expectedKeyArn) {
    throw new PermanentError(`s3://${bucket}/${key}: encrypted with an unexpected KMS key (expected the platform data key)`);
  }
  return head;
}

export async function readText(bucket: string, key: string, versionId?: string, maxBytes = 64 * 1024 * 1024): Promise<string> {
  try {
    const res = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
    if ((res.ContentLength ?? 0) > maxBytes) throw new PermanentError(`s3://${bucket}/${key}: larger than ${maxBytes} bytes`);
    return await res.Body!.transformToString('utf-8');
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchKey') throw new PermanentError(`s3://${bucket}/${key}: object not found`, { cause: err });
    throw classifyError(err, `GetObject s3://${bucket}/${key}`);
  }
}

/**
 * The body of an object as a stream of chunks (never buffered whole). The SDK's body is a Node
 * Readable in Lambda; reading it chunk by chunk keeps memory flat however large the object is.
 */
export async function openBody(bucket: string, key: string, versionId?: string): Promise<AsyncIterable<Uint8Array>> {
  try {
    const res = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
    return res.Body as unknown as AsyncIterable<Uint8Array>;
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchKey') throw new PermanentError(`s3://${bucket}/${key}: object not found`, { cause: err });
    throw classifyError(err, `GetObject s3://${bucket}/${key}`);
  }
}

/**
 * Bytes [start, end] (inclusive) of an object, read whole (callers keep windows small). `ifMatch`
 * pins later windows to the ETag the first one returned: an object replaced between windows is a
 * PermanentError, never a silently mixed read. Returns the chunks, their byte count, the object's ETag and its whole size
 * (from Content-Range).
 */
export async function readRange(bucket: string, key: string, start: number, end: number, ifMatch?: string): Promise<{ parts: Uint8Array[]; bytes: number; etag?: string; size?: number }> {
  try {
    const res = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end}`, IfMatch: ifMatch }));
    // The chunks as they arrived (no copy into one buffer): the window is read whole, its connection released.
    const parts: Uint8Array[] = [];
    let bytes = 0;
    for await (const chunk of res.Body as unknown as AsyncIterable<Uint8Array>) {
      parts.push(chunk);
      bytes += chunk.length;
    }
    // Content-Range: bytes <start>-<end>/<size>
    const size = /\/(\d+)$/.exec(res.ContentRange ?? '')?.[1];
    return { parts, bytes, etag: res.ETag, size: size === undefined ? undefined : Number(size) };
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NoSuchKey') throw new PermanentError(`s3://${bucket}/${key}: object not found`, { cause: err });
    if (e.name === 'PreconditionFailed' || e.$metadata?.httpStatusCode === 412) {
      throw new PermanentError(`s3://${bucket}/${key}: object changed while it was read`, { cause: err });
    }
    throw classifyError(err, `GetObject s3://${bucket}/${key} bytes ${start}-${end}`);
  }
}

/** Every object under `prefix`, all pages (ListObjectsV2 returns at most 1,000 per call). */
export async function listAllObjects(bucket: string, prefix: string): Promise<_Object[]> {
  const out: _Object[] = [];
  let token: string | undefined;
  do {
    let page: ListObjectsV2CommandOutput;
    try {
      page = await s3().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    } catch (err) {
      throw classifyError(err, `ListObjectsV2 s3://${bucket}/${prefix}`);
    }
    out.push(...(page.Contents ?? []));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** SHA-256 (lowercase hex) and size of an object's bytes as stored now, computed while streaming, and the version read. */
export async function hashObject(bucket: string, key: string, versionId?: string): Promise<{ sha256: string; bytes: number; versionId?: string }> {
  try {
    const res = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
    const hash = crypto.createHash('sha256');
    let bytes = 0;
    for await (const chunk of res.Body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      bytes += chunk.length;
    }
    return { sha256: hash.digest('hex'), bytes, versionId: res.VersionId };
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchKey') throw new PermanentError(`s3://${bucket}/${key}: object not found`, { cause: err });
    throw classifyError(err, `GetObject s3://${bucket}/${key}`);
  }
}

/** The tags of one object version as a map. */
export async function getTags(bucket: string, key: string, versionId?: string): Promise<Record<string, string>> {
  try {
    const res = await s3().send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
    return Object.fromEntries((res.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  } catch (err) {
    throw classifyError(err, `GetObjectTagging s3://${bucket}/${key}`);
  }
}

/** Replaces the tags of one object version. */
export async function putTags(bucket: string, key: string, versionId: string | undefined, tags: Record<string, string>): Promise<void> {
  try {
    await s3().send(new PutObjectTaggingCommand({
      Bucket: bucket, Key: key, VersionId: versionId, Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
    }));
  } catch (err) {
    throw classifyError(err, `PutObjectTagging s3://${bucket}/${key}`);
  }
}
