/**
 * Output targets. Nothing becomes visible before commit: local files are written as `.partial` and
 * renamed, S3 objects are multipart uploads that complete only when the stream is ended (after the
 * reconciliation check) and are aborted otherwise. summary.json is written last and is the commit
 * marker consumers wait for.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { AbortMultipartUploadCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import * as fs from 'fs';
import * as path from 'path';
import { PassThrough, Writable } from 'stream';
import { classifyError } from './errors';

// 6 MiB parts (S3 minimum is 5 MiB): up to ~60 GB per object, and little memory per in-flight part.
const PART_SIZE = 6 << 20;

export interface Sink {
  /** Bytes, or a byte string (one char per byte, see pipeline.ts) written as latin1. */
  write(data: Buffer | string): Promise<void>;
  finish(): Promise<void>;
  abort(): Promise<void>;
  readonly bytes: number;
}

export interface OutputTarget {
  readonly location: string;
  open(name: string, contentType: string): Sink;
  put(name: string, body: string, contentType: string): Promise<void>;
  describe(name: string): string;
}

async function writeWithBackpressure(stream: Writable, buf: Buffer, failed: () => unknown): Promise<void> {
  if (stream.write(buf)) return;
  await new Promise<void>((resolve, reject) => {
    const check = setInterval(() => {
      const err = failed();
      if (err) {
        clearInterval(check);
        reject(err);
      }
    }, 50);
    stream.once('drain', () => {
      clearInterval(check);
      resolve();
    });
  });
}

export class LocalTarget implements OutputTarget {
  constructor(readonly location: string) {}

  describe(name: string): string {
    return path.join(this.location, name);
  }

  open(name: string): Sink {
    const final = this.describe(name);
    const partial = `${final}.partial`;
    fs.mkdirSync(path.dirname(final), { recursive: true });
    // A large buffer lets the disk write overlap with parsing instead of stalling on every flush.
    const stream = fs.createWriteStream(partial, { highWaterMark: 16 << 20 });
    let error: unknown;
    stream.on('error', (e) => (error = e));
    let bytes = 0;
    return {
      get bytes() {
        return bytes;
      },
      async write(data) {
        const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
        bytes += buf.length;
        await writeWithBackpressure(stream, buf, () => error);
      },
      async finish() {
        await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
        if (error) throw error;
        await fs.promises.rename(partial, final);
      },
      async abort() {
        stream.destroy();
        await fs.promises.rm(partial, { force: true });
      },
    };
  }

  async put(name: string, body: string): Promise<void> {
    const final = this.describe(name);
    await fs.promises.mkdir(path.dirname(final), { recursive: true });
    await fs.promises.writeFile(`${final}.partial`, body);
    await fs.promises.rename(`${final}.partial`, final);
  }
}

export class S3Target implements OutputTarget {
  readonly location: string;

  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    readonly prefix: string,
    private readonly kmsKeyArn: string | undefined,
  ) {
    this.location = `s3://${bucket}/${prefix}`;
  }

  key(name: string): string {
    return this.prefix ? `${this.prefix.replace(/\/+$/, '')}/${name}` : name;
  }

  describe(name: string): string {
    return `s3://${this.bucket}/${this.key(name)}`;
  }

  private encryption() {
    // SSE-KMS always; without an explicit key the bucket's default KMS key applies.
    return { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: this.kmsKeyArn, BucketKeyEnabled: true };
  }

  open(name: string, contentType: string): Sink {
    const body = new PassThrough({ highWaterMark: 1 << 20 });
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: this.key(name), Body: body, ContentType: contentType, ...this.encryption() },
      partSize: PART_SIZE,
      queueSize: 2,
      leavePartsOnError: false,
    });
    let error: unknown;
    const done = upload.done().catch((err) => {
      error = err;
      throw err;
    });
    done.catch(() => undefined); // observed in finish()/abort()
    let bytes = 0;
    const where = this.describe(name);
    return {
      get bytes() {
        return bytes;
      },
      async write(data) {
        const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
        bytes += buf.length;
        try {
          await writeWithBackpressure(body, buf, () => error);
        } catch (err) {
          throw classifyError(err, `upload ${where}`);
        }
      },
      async finish() {
        body.end();
        try {
          await done;
        } catch (err) {
          throw classifyError(err, `upload ${where}`);
        }
      },
      abort: async () => {
        await upload.abort();
        // Ending (not destroying) the body lets lib-storage's part uploaders stop cleanly; they check the
        // abort signal before any PutObject, so nothing is published.
        body.end();
        // lib-storage aborts the multipart upload only in the background; do it here so it has happened
        // when we exit. Below one part no multipart upload was ever created.
        if (bytes < PART_SIZE) return;
        const deadline = Date.now() + 10_000;
        while (!upload.uploadId && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        if (!upload.uploadId) return; // bucket lifecycle (AbortIncompleteMultipartUpload) is the backstop
        try {
          await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key(name), UploadId: upload.uploadId }));
        } catch (err) {
          if ((err as { name?: string }).name !== 'NoSuchUpload') throw classifyError(err, `abort upload ${where}`);
        }
      },
    };
  }

  async put(name: string, bodyText: string, contentType: string): Promise<void> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(name), Body: bodyText, ContentType: contentType, ...this.encryption() }));
    } catch (err) {
      throw classifyError(err, `PutObject ${this.describe(name)}`);
    }
  }
}
