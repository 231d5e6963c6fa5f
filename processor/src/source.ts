/**
 * Input sources: a local file or an S3 object read with ranged GETs. S3 reads are pinned to the version
 * (or ETag) seen by HeadObject, so every range of every shard reads the same bytes even if the key is
 * overwritten mid-run (a changed object surfaces as 412 -> retryable); a window that fails mid-body is
 * resumed from the last byte received instead of restarting the shard.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { s3Sdk } from './aws-sdk';
import * as fs from 'fs';
import { Readable } from 'stream';
import { BadInputError, classifyError, RetryableError } from './errors';

export interface InputSource {
  readonly location: string;
  readonly size: number;
  readonly bucket?: string;
  readonly key?: string;
  readonly versionId?: string;
  readonly etag?: string;
  /** Bytes from `start` to EOF, in order; `endHint` (where the caller expects to stop) sizes S3 windows. */
  read(start: number, endHint?: number): AsyncIterable<Buffer>;
  /** Up to `length` bytes from offset 0. */
  head(length: number): Promise<Buffer>;
}

export async function openLocal(path: string): Promise<InputSource> {
  let size: number;
  try {
    const stat = await fs.promises.stat(path);
    if (!stat.isFile()) {
      throw new BadInputError('INPUT_NOT_A_FILE', `${path} is ${stat.isDirectory() ? 'a directory' : 'not a regular file'}: give the path of one input file`);
    }
    size = stat.size;
    // Open it once now, so an unreadable file fails here as bad input rather than mid-stream.
    await (await fs.promises.open(path, 'r')).close();
  } catch (err) {
    throw classifyLocal(err, path);
  }
  return {
    location: path,
    size,
    read: (start) => fs.createReadStream(path, { start, highWaterMark: 1 << 20 }),
    async head(length) {
      const fh = await fs.promises.open(path, 'r');
      try {
        const buf = Buffer.alloc(Math.min(length, size));
        const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
        return buf.subarray(0, bytesRead);
      } finally {
        await fh.close();
      }
    },
  };
}

function classifyLocal(err: unknown, path: string) {
  const code = (err as { code?: string }).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new BadInputError('INPUT_NOT_FOUND', `open input: ${path} does not exist`);
  if (code === 'EACCES' || code === 'EPERM') return new BadInputError('ACCESS_DENIED', `open input: ${path} is not readable (${code})`);
  if (code === 'EISDIR') return new BadInputError('INPUT_NOT_A_FILE', `${path} is a directory: give the path of one input file`);
  return classifyError(err, 'open input');
}

export interface S3SourceOptions {
  /** Size of each ranged GET. */
  windowBytes?: number;
  retries?: number;
  signal?: AbortSignal;
}

export async function openS3(client: S3Client, bucket: string, key: string, versionId?: string, options: S3SourceOptions = {}): Promise<InputSource> {
  const location = `s3://${bucket}/${key}`;
  let head;
  try {
    head = await client.send(new (s3Sdk().HeadObjectCommand)({ Bucket: bucket, Key: key, VersionId: versionId }), { abortSignal: options.signal });
  } catch (err) {
    throw classifyError(err, `HeadObject ${location}`);
  }
  const size = head.ContentLength ?? 0;
  const etag = head.ETag;
  const pinnedVersion = versionId ?? head.VersionId;
  const windowBytes = options.windowBytes ?? 16 << 20;
  const retries = options.retries ?? 3;

  const get = async (first: number, last: number): Promise<Readable> => {
    try {
      const res = await client.send(
        new (s3Sdk().GetObjectCommand)({
          Bucket: bucket,
          Key: key,
          VersionId: pinnedVersion,
          IfMatch: pinnedVersion ? undefined : etag,
          Range: `bytes=${first}-${last}`,
        }),
        { abortSignal: options.signal },
      );
      return res.Body as Readable;
    } catch (err) {
      throw classifyError(err, `GetObject ${location} bytes=${first}-${last}`);
    }
  };

  async function* read(start: number, endHint = size): AsyncGenerator<Buffer> {
    let pos = start;
    while (pos < size) {
      // Near the expected end, fetch only a little past it (the last line's tail) instead of a full window.
      const want = pos < endHint ? Math.min(windowBytes, endHint - pos + (64 << 10)) : 64 << 10;
      const last = Math.min(size, pos + want) - 1;
      for (let attempt = 0; ; attempt++) {
        try {
          const body = await get(pos, last);
          for await (const chunk of body) {
            pos += (chunk as Buffer).length;
            yield chunk as Buffer;
          }
          break;
        } catch (err) {
          const classified = classifyError(err, `read ${location}`);
          if (!(classified instanceof RetryableError) || attempt >= retries) throw classified;
          await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
        }
      }
    }
  }

  return {
    location,
    size,
    bucket,
    key,
    versionId: pinnedVersion,
    etag,
    read,
    async head(length) {
      if (size === 0) return Buffer.alloc(0);
      const parts: Buffer[] = [];
      for await (const chunk of await get(0, Math.min(size, length) - 1)) parts.push(chunk as Buffer);
      return Buffer.concat(parts);
    },
  };
}
