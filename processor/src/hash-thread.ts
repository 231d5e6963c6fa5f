/**
 * SHA-256 of the input and of every output, computed on one helper thread so the record stage's thread
 * only copies the bytes (memcpy) instead of hashing them (~0.3 s per 1M records of output). Each stream
 * is hashed in the order its bytes were given (one message queue, one thread); the digest is the same
 * as `createHash('sha256')` over the same bytes (tested).
 *
 * Memory stays bounded: bytes go through a fixed ring of shared memory (RING_BYTES); when it is full
 * `update` returns a promise that resolves once the thread has caught up, and callers await it (the
 * same back-pressure as a full write stream). The thread is unref'd while nothing waits on it, so it
 * never keeps the process alive; a failed thread fails every pending and later digest (internal error).
 *
 * The thread runs a few lines of inline JavaScript (no entry file), so it works the same from the
 * bundle, under tsx and under jest. `inlineHash` is the same interface on the calling thread.
 */
import { createHash } from 'crypto';
import { Worker } from 'worker_threads';
import { InternalError, ProcessorError } from './errors';

export interface StreamHash {
  /**
   * Adds bytes. A returned promise means the bytes are not all taken yet: the caller awaits it before
   * giving more and leaves `data` unchanged until then (back-pressure).
   */
  update(data: Uint8Array): Promise<void> | undefined;
  /** Lowercase hex SHA-256 of every byte given; the hash is finished. */
  digest(): Promise<string>;
  /** Drops the hash (an aborted output): no digest will be asked for. */
  discard(): void;
}

/**
 * Bytes copied to the thread and not yet hashed, at most: a ring of shared memory the thread reads
 * in place (no allocation per update, so nothing waits for the thread's garbage collector).
 */
const RING_BYTES = 4 << 20;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('worker_threads');
const { createHash } = require('crypto');
const ring = new Uint8Array(workerData.ring);
const hashes = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'update') {
    hashes.get(m.id).update(ring.subarray(m.off, m.off + m.len));
    parentPort.postMessage({ op: 'done', len: m.len });
  } else if (m.op === 'open') {
    hashes.set(m.id, createHash('sha256'));
  } else if (m.op === 'digest') {
    const hex = hashes.get(m.id).digest('hex');
    hashes.delete(m.id);
    parentPort.postMessage({ op: 'digest', id: m.id, hex });
  } else if (m.op === 'discard') {
    hashes.delete(m.id);
  }
});
`;

type Reply = { op: 'done'; len: number } | { op: 'digest'; id: number; hex: string };

/** Work waiting for room in the ring (kept in order: a stream's digest follows its updates). */
type Queued =
  | { op: 'update'; id: number; data: Uint8Array; from: number; resolve: () => void; reject: (e: unknown) => void }
  | { op: 'digest'; id: number }
  | { op: 'discard'; id: number };

export class HashThread {
  private readonly worker: Worker;
  private readonly ring = new Uint8Array(new SharedArrayBuffer(RING_BYTES));
  /** Bytes ever copied into the ring / ever hashed by the thread. */
  private written = 0;
  private hashed = 0;
  private readonly queue: Queued[] = [];
  private nextId = 0;
  private readonly digests = new Map<number, { resolve: (hex: string) => void; reject: (e: unknown) => void }>();
  private failure: unknown;
  private closed = false;

  constructor() {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ring: this.ring.buffer } });
    this.worker.unref();
    this.worker.on('message', (m: Reply) => {
      if (m.op === 'done') {
        this.hashed += m.len;
        this.pump();
      } else {
        this.digests.get(m.id)?.resolve(m.hex);
        this.digests.delete(m.id);
      }
      this.updateRef();
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => {
      if (!this.closed) this.fail(new InternalError('HASH_THREAD_EXITED', `the hashing thread exited (code ${code})`));
    });
  }

  /** A new SHA-256 stream on the thread. */
  create(): StreamHash {
    const id = this.nextId++;
    this.post({ op: 'open', id });
    let done = false;
    return {
      update: (data) => {
        if (done) throw new InternalError('HASH_FINISHED', 'update after digest');
        if (this.failure) throw this.failure;
        if (data.length === 0) return undefined;
        const from = this.queue.length === 0 ? this.copy(id, data, 0) : 0;
        if (from === data.length) return undefined;
        const wait = new Promise<void>((resolve, reject) => this.queue.push({ op: 'update', id, data, from, resolve, reject }));
        this.updateRef();
        return wait;
      },
      digest: () => {
        if (done) return Promise.reject(new InternalError('HASH_FINISHED', 'digest asked twice'));
        done = true;
        if (this.failure) return Promise.reject(this.failure);
        const result = new Promise<string>((resolve, reject) => this.digests.set(id, { resolve, reject }));
        this.enqueue({ op: 'digest', id });
        this.updateRef();
        return result;
      },
      discard: () => {
        if (done) return;
        done = true;
        this.enqueue({ op: 'discard', id });
      },
    };
  }

  /** Stops the thread (pending digests fail). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new InternalError('HASH_THREAD_CLOSED', 'the hashing thread was closed'));
    await this.worker.terminate();
  }

  /** Copies `data[from..]` into the ring as far as there is room; returns how far it got. */
  private copy(id: number, data: Uint8Array, from: number): number {
    while (from < data.length) {
      const room = RING_BYTES - (this.written - this.hashed);
      if (room === 0) break;
      const at = this.written % RING_BYTES;
      const n = Math.min(data.length - from, room, RING_BYTES - at);
      this.ring.set(data.subarray(from, from + n), at);
      this.post({ op: 'update', id, off: at, len: n });
      this.written += n;
      from += n;
    }
    return from;
  }

  private enqueue(item: Queued): void {
    if (this.queue.length === 0) this.send(item);
    else this.queue.push(item);
  }

  private send(item: Queued): void {
    if (item.op !== 'update') this.post({ op: item.op, id: item.id });
  }

  /** Moves queued work to the thread, in order, as the ring frees up. */
  private pump(): void {
    while (this.queue.length > 0 && !this.failure) {
      const item = this.queue[0];
      if (item.op === 'update') {
        item.from = this.copy(item.id, item.data, item.from);
        if (item.from < item.data.length) return;
        item.resolve();
      } else {
        this.send(item);
      }
      this.queue.shift();
    }
  }

  private post(message: object): void {
    if (!this.failure) this.worker.postMessage(message);
  }

  /** Keeps the process alive only while someone waits for the thread. */
  private updateRef(): void {
    if (this.digests.size > 0 || this.queue.length > 0) this.worker.ref();
    else this.worker.unref();
  }

  private fail(err: unknown): void {
    if (this.failure) return;
    this.failure = err instanceof ProcessorError ? err : new InternalError('HASH_THREAD_FAILED', `the hashing thread failed: ${String((err as Error)?.message ?? err)}`, { cause: err });
    for (const d of this.digests.values()) d.reject(this.failure);
    this.digests.clear();
    for (const q of this.queue.splice(0)) if (q.op === 'update') q.reject(this.failure);
    this.worker.unref();
  }
}

/** The same interface, hashing on the calling thread. */
export function inlineHash(): StreamHash {
  const hash = createHash('sha256');
  let done = false;
  return {
    update(data) {
      if (done) throw new InternalError('HASH_FINISHED', 'update after digest');
      hash.update(data);
      return undefined;
    },
    digest() {
      if (done) return Promise.reject(new InternalError('HASH_FINISHED', 'digest asked twice'));
      done = true;
      return Promise.resolve(hash.digest('hex'));
    },
    discard() {
      done = true;
    },
  };
}
