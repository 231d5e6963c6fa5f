/**
 * Output targets. Nothing becomes visible before commit: local files are written under unique
 * `.<name>.<pid>-<random>.partial` names in a locked folder and renamed at commit; S3 objects are
 * multipart uploads that complete only when the stream is ended (after the reconciliation check) and
 * are aborted otherwise. summary.json is written last and is the commit marker consumers wait for; it
 * records each file's byte count and SHA-256, hashed from the bytes as they were written.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { s3Sdk, storageSdk } from './aws-sdk';
import * as fs from 'fs';
import * as path from 'path';
import { PassThrough, Writable } from 'stream';
import { randomBytes } from 'crypto';
import * as os from 'os';
import { BadInputError, classifyError, InternalError } from './errors';
import { inlineHash, StreamHash } from './hash-thread';

// 6 MiB parts (S3 minimum is 5 MiB): up to ~60 GB per object, and little memory per in-flight part.
const PART_SIZE = 6 << 20;

export interface Sink {
  /**
   * Bytes, or a byte string (one char per byte, see pipeline.ts) written as latin1. `written`, when
   * given, may be called once the sink no longer needs `data` (its bytes are in the file), so the
   * caller can reuse the memory; a sink that cannot tell never calls it.
   */
  write(data: Buffer | string, written?: () => void): Promise<void>;
  /**
   * Ends the stream. The bytes are then complete and their size and hash final; an S3 object is
   * published here (its multipart upload completes), a local file only by `OutputTarget.commit`.
   */
  finish(): Promise<void>;
  abort(): Promise<void>;
  /** Whether `write` calls its `written` callback (otherwise the caller must never reuse written memory). */
  readonly reportsWritten?: boolean;
  readonly bytes: number;
  /** Lowercase hex SHA-256 of exactly the bytes written, hashed as they stream; set by finish(). */
  readonly sha256: string;
}

export interface OutputTarget {
  readonly location: string;
  /** `hash`: where the SHA-256 of the bytes is computed (default: on this thread). */
  open(name: string, contentType: string, hash?: StreamHash): Sink;
  /**
   * Publishes the finished sinks and then `summaryName` (the commit marker), in an order a crash at
   * any point leaves either the old commit or no marker at all, never a marker over other files.
   */
  commit(sinks: Sink[], summaryName: string, summaryBody: string): Promise<void>;
  /** Takes the exclusive lock of an output folder (relative name); resolves to its release. */
  lock(dir: string): Promise<() => Promise<void>>;
  put(name: string, body: string, contentType: string): Promise<void>;
  describe(name: string): string;
}

async function writeWithBackpressure(stream: Writable, buf: Buffer, failed: () => unknown, written?: () => unknown): Promise<void> {
  // The callback runs once the chunk has been written to the file (not merely buffered).
  if (stream.write(buf, written && ((err) => err || written()))) return;
  await new Promise<void>((resolve, reject) => {
    const drained = () => {
      clearInterval(check);
      resolve();
    };
    const check = setInterval(() => {
      const err = failed();
      if (err) {
        clearInterval(check);
        // A failed stream never drains: leave no listener behind.
        stream.off('drain', drained);
        reject(err);
      }
    }, 50);
    stream.once('drain', drained);
  });
}

/** A name no other process (or other sink of this one) uses: pid plus 64 random bits. */
function uniqueTemp(final: string): string {
  return path.join(path.dirname(final), `.${path.basename(final)}.${process.pid}-${randomBytes(8).toString('hex')}.partial`);
}

/** Contents of an output folder's lock file (JSON). */
export interface LockInfo {
  pid: number;
  host: string;
  /** ISO 8601 time the lock was taken. */
  since: string;
}

export const LOCK_FILE = '.lock';

/** True when `info` names a process on this host that no longer exists (a crashed run's lock). */
export function lockIsStale(info: LockInfo, host = os.hostname()): boolean {
  if (info.host !== host || !Number.isInteger(info.pid) || info.pid <= 0) return false;
  try {
    process.kill(info.pid, 0);
    return false;
  } catch (err) {
    return (err as { code?: string }).code === 'ESRCH';
  }
}

export interface LocalTargetOptions {
  /** Test hook, called after each file is renamed into place during commit (a throw simulates a crash). */
  afterRename?: (name: string) => void;
}

interface LocalSink extends Sink {
  readonly temp: string;
  readonly final: string;
}

export class LocalTarget implements OutputTarget {
  constructor(
    readonly location: string,
    private readonly options: LocalTargetOptions = {},
  ) {}

  describe(name: string): string {
    return path.join(this.location, name);
  }

  /**
   * Exclusive lock of one output folder: `<dir>/.lock` created with O_EXCL, holding the owner's pid,
   * host and start time. A second run into the same folder fails at once (exit 2) instead of
   * interleaving its files with the first run's. A lock left by a process that died (kill -9, power
   * loss) stays until removed by hand; the error says whether its owner is still running on this host.
   */
  async lock(dir: string): Promise<() => Promise<void>> {
    const folder = this.describe(dir);
    const file = path.join(folder, LOCK_FILE);
    await fs.promises.mkdir(folder, { recursive: true });
    const info: LockInfo = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(file, 'wx');
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw classifyError(err, `lock ${file}`);
      let holder: LockInfo | undefined;
      try {
        holder = JSON.parse(await fs.promises.readFile(file, 'utf8')) as LockInfo;
      } catch {
        holder = undefined;
      }
      const who = holder ? `pid ${holder.pid} on host ${holder.host} since ${holder.since}` : 'an unreadable lock file';
      const stale = holder && lockIsStale(holder)
        ? `: that process is no longer running (stale lock); delete ${file} and re-run`
        : holder && holder.host !== os.hostname()
          ? `: check whether that run is still going on ${holder.host} before deleting ${file}`
          : `: wait for that run to end (or stop it) and re-run`;
      throw new BadInputError('OUTPUT_LOCKED', `output folder ${folder} is locked by ${who}${stale}`);
    }
    try {
      await handle.writeFile(JSON.stringify(info) + '\n');
    } finally {
      await handle.close();
    }
    return async () => {
      await fs.promises.rm(file, { force: true });
    };
  }

  open(name: string, _contentType?: string, hash: StreamHash = inlineHash()): Sink {
    const final = this.describe(name);
    const temp = uniqueTemp(final);
    fs.mkdirSync(path.dirname(final), { recursive: true });
    // A few MiB of buffer let the disk write overlap with parsing instead of stalling on every flush
    // (more only holds more output blocks in memory).
    // 'wx': the temp name is ours alone; never open (and truncate) a file another run is writing.
    const stream = fs.createWriteStream(temp, { highWaterMark: 4 << 20, flags: 'wx' });
    let error: unknown;
    stream.on('error', (e) => (error = e));
    let bytes = 0;
    let sha256 = '';
    const sink: LocalSink = {
      temp,
      final,
      reportsWritten: true,
      get bytes() {
        return bytes;
      },
      get sha256() {
        return sha256;
      },
      async write(data, written) {
        const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
        bytes += buf.length;
        const hashing = hash.update(buf);
        // The bytes may be reused once they are in the file and the hash has read them (a hashing
        // thread whose ring is full copies them later: `hashing` settles when it has).
        let holds = hashing ? 2 : 1;
        const release = written && (() => --holds === 0 && written());
        if (hashing && release) hashing.then(release, () => undefined);
        await writeWithBackpressure(stream, buf, () => error, release);
        if (hashing) await hashing;
      },
      async finish() {
        await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
        if (error) throw classifyError(error, `write ${temp}`);
        // What is on disk must be what was counted and hashed (no re-read: the size is enough to catch
        // another writer truncating or extending the file).
        const onDisk = (await fs.promises.stat(temp)).size;
        if (onDisk !== bytes) throw new InternalError('OUTPUT_SIZE_MISMATCH', `${temp} holds ${onDisk} bytes, ${bytes} were written`);
        sha256 = await hash.digest();
      },
      async abort() {
        hash.discard();
        stream.destroy();
        await fs.promises.rm(temp, { force: true });
      },
    };
    return sink;
  }

  /**
   * Local commit: (1) remove the old summary.json, (2) rename each data file into place, (3) write the
   * new summary.json under a temp name and rename it last. A crash in (2) leaves no marker, so the
   * folder reads as uncommitted instead of as an old summary over new data.
   */
  async commit(sinks: Sink[], summaryName: string, summaryBody: string): Promise<void> {
    const marker = this.describe(summaryName);
    await fs.promises.rm(marker, { force: true });
    for (const sink of sinks as LocalSink[]) {
      await fs.promises.rename(sink.temp, sink.final);
      this.options.afterRename?.(path.relative(this.location, sink.final));
    }
    await this.put(summaryName, summaryBody);
  }

  async put(name: string, body: string): Promise<void> {
    const final = this.describe(name);
    await fs.promises.mkdir(path.dirname(final), { recursive: true });
    const temp = uniqueTemp(final);
    await fs.promises.writeFile(temp, body, { flag: 'wx' });
    await fs.promises.rename(temp, final);
    this.options.afterRename?.(name);
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

  open(name: string, contentType: string, hash: StreamHash = inlineHash()): Sink {
    const body = new PassThrough({ highWaterMark: 1 << 20 });
    const upload = new (storageSdk().Upload)({
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
    let sha256 = '';
    let finished = false;
    const where = this.describe(name);
    return {
      get bytes() {
        return bytes;
      },
      get sha256() {
        return sha256;
      },
      async write(data) {
        const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
        bytes += buf.length;
        const hashing = hash.update(buf);
        try {
          await writeWithBackpressure(body, buf, () => error);
        } catch (err) {
          throw classifyError(err, `upload ${where}`);
        }
        if (hashing) await hashing;
      },
      async finish() {
        sha256 = await hash.digest();
        finished = true;
        body.end();
        try {
          await done;
        } catch (err) {
          throw classifyError(err, `upload ${where}`);
        }
      },
      abort: async () => {
        if (finished) return; // already completed (published): nothing to abort
        hash.discard();
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
          await this.client.send(new (s3Sdk().AbortMultipartUploadCommand)({ Bucket: this.bucket, Key: this.key(name), UploadId: upload.uploadId }));
        } catch (err) {
          if ((err as { name?: string }).name !== 'NoSuchUpload') throw classifyError(err, `abort upload ${where}`);
        }
      },
    };
  }

  /** Batch runs one job per shard folder (array index); no second writer to exclude. */
  async lock(): Promise<() => Promise<void>> {
    return async () => undefined;
  }

  /** Each upload completed in its sink's finish(); the summary is put last. */
  async commit(_sinks: Sink[], summaryName: string, summaryBody: string): Promise<void> {
    await this.put(summaryName, summaryBody, 'application/json');
  }

  async put(name: string, bodyText: string, contentType: string): Promise<void> {
    try {
      await this.client.send(new (s3Sdk().PutObjectCommand)({ Bucket: this.bucket, Key: this.key(name), Body: bodyText, ContentType: contentType, ...this.encryption() }));
    } catch (err) {
      throw classifyError(err, `PutObject ${this.describe(name)}`);
    }
  }
}
