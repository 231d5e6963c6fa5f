/**
 * The main thread's side of the worker threads (validate-worker.ts is the worker's side). `BlockChecks`
 * stands between the source and RecordProcessor: it cuts CSV blocks into pieces, sends them to the
 * workers and applies the results strictly in input order; a share of the pieces the worker only
 * checks, and this thread writes their output lines while applying them: that is how the work is
 * balanced. `CheckPool` runs the threads: pieces are copied to a worker, rows and output come back as
 * transferred buffers and are passed back and forth for reuse (`Spares`); at the end of the shard one
 * worker sorts fingerprints.tsv and hands it over through a ring of shared memory.
 */
import { Worker } from 'worker_threads';
import { CheckedRows } from './csv-rows';
import { FingerprintLines, PackedKeys, SORTED_RECORD_WORDS, SortableRecords } from './fingerprints';
import { LongLine } from './lines';
import type { RecordProcessor } from './record-processor';
import { CheckedBlock, Done, Job, SORT_SLOTS, SortBucket, SortedChunk, SortEnd, SortJob, SortRing, sizeClass, WORKER_ROLE, WorkerInit } from './validate-worker';

/** Bytes of fingerprints.tsv per chunk written. */
const SORT_CHUNK_BYTES = 1 << 20;

type SpareKind = 'block' | 'rows' | 'out';

/** Spare memory for block copies, rows and outputs, passed back and forth instead of allocated per block. */
class Spares {
  /**
   * Buffers kept per kind: more than can be in use at once (BlockChecks.DEPTH), so none is ever
   * dropped (a dropped buffer is garbage that only a full collection frees, meanwhile counted in RSS).
   */
  static readonly MAX = 16;
  private readonly lists: Record<SpareKind, ArrayBuffer[]> = { block: [], rows: [], out: [] };

  give(kind: SpareKind, buf: ArrayBuffer): void {
    const list = this.lists[kind];
    if (list.length < Spares.MAX) list.push(buf);
  }

  clear(): void {
    for (const list of Object.values(this.lists)) list.length = 0;
  }

  take(kind: SpareKind, bytes = 0): ArrayBuffer | undefined {
    const buf = this.lists[kind].pop();
    return buf && buf.byteLength >= bytes ? buf : undefined;
  }
}

/** Round-robin pool; `check` resolves with the block's results (callers apply them in order). */
class CheckPool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, { resolve: (r: CheckedBlock) => void; reject: (e: unknown) => void }>();
  private nextId = 0;
  private failure: unknown;

  constructor(
    entry: string,
    header: string,
    maxAmount: string,
    size: number,
    private readonly spares: Spares,
  ) {
    const init: WorkerInit = { role: WORKER_ROLE, header, maxAmount };
    this.workers = Array.from({ length: size }, () => {
      const w = new Worker(entry, { workerData: init, argv: [] });
      w.on('message', (m: Done | SortRing | SortBucket | SortEnd) => (m.type === 'checked' ? this.done(m) : this.sorting?.(m)));
      w.on('error', (err) => this.fail(err));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`validation worker exited with code ${code}`));
      });
      return w;
    });
  }

  private done(m: Done): void {
    const p = this.pending.get(m.id);
    this.pending.delete(m.id);
    this.spares.give('block', m.block);
    const rows = new CheckedRows(m.capacity, m.rows);
    rows.n = m.n;
    let out: Buffer | undefined;
    if (m.out && m.outBytes >= 0) out = Buffer.from(m.out, 0, m.outBytes);
    else if (m.out) this.spares.give('out', m.out);
    p?.resolve({ rows, arena: m.arena ? Buffer.from(m.arena) : Buffer.alloc(0), out });
  }

  /** Receives the sort job's messages while one runs. */
  private sorting: ((m: SortRing | SortBucket | SortEnd) => void) | undefined;

  /**
   * fingerprints.tsv of `records`, in chunks: the first worker sorts the records one top bucket at a
   * time (after the blocks it was given), at most SORT_SLOTS buckets ahead of this thread, which turns
   * each sorted bucket into lines as the chunks are taken.
   */
  sort(records: SortableRecords, keys: PackedKeys, scratch?: ArrayBuffer): AsyncGenerator<SortedChunk> {
    const credits = new Int32Array(new SharedArrayBuffer(8));
    credits[0] = SORT_SLOTS;
    let ring: { memory: SharedArrayBuffer; slotWords: number } | undefined;
    const ready: SortBucket[] = [];
    let ended = false;
    this.sorting = (m) => {
      if (m.type === 'ring') ring = { memory: m.ring, slotWords: m.slotWords };
      else if (m.type === 'bucket') ready.push(m);
      else ended = true;
      this.wake?.();
    };
    // Whoever stops taking chunks (the end, an error, or close) must not leave the worker waiting.
    this.cancelSort = () => {
      Atomics.store(credits, 1, 1);
      Atomics.notify(credits, 0);
      this.sorting = undefined;
    };
    const job: SortJob = { type: 'sort', rec: records.buffer, size: records.size, high: records.high, scratch, credits: credits.buffer as SharedArrayBuffer };
    // Sent now: the worker sorts while this thread does other work, before the first chunk is asked for.
    this.workers[0].postMessage(job, [job.rec, ...(scratch ? [scratch] : [])]);
    // The lines are made here, in chunk buffers given back once their bytes are in the file.
    const free: Buffer[] = [];
    const lines = new FingerprintLines(keys, records.high, SORT_CHUNK_BYTES, () => free.pop() ?? Buffer.allocUnsafeSlow(SORT_CHUNK_BYTES + 256));
    const chunks = async function* (pool: CheckPool): AsyncGenerator<SortedChunk> {
      const chunk = (data: Buffer): SortedChunk => ({ data, written: () => free.push(Buffer.from(data.buffer, data.byteOffset, SORT_CHUNK_BYTES + 256)) });
      try {
        for (;;) {
          if (pool.failure) throw pool.failure;
          const bucket = ready.shift();
          if (bucket && ring) {
            const sorted = new Uint32Array(ring.memory, bucket.slot * ring.slotWords * 4, bucket.count * SORTED_RECORD_WORDS);
            for (const data of lines.add(sorted, bucket.count)) yield chunk(data);
            // The bucket is in lines: its slot is free for the next one.
            Atomics.add(credits, 0, 1);
            Atomics.notify(credits, 0);
          } else if (ended) {
            for (const data of lines.end()) yield chunk(data);
            return;
          } else {
            await new Promise<void>((resolve) => (pool.wake = resolve));
            pool.wake = undefined;
          }
        }
      } finally {
        pool.cancelSort?.();
      }
    };
    return chunks(this);
  }

  /** Stops the running sort's worker from waiting for room (see `sort`). */
  private cancelSort: (() => void) | undefined;

  /** Wakes the sort waiting for its next bucket (one came, the last one did, or a worker failed). */
  private wake: (() => void) | undefined;

  /** Blocks sent and not yet returned. */
  get inFlight(): number {
    return this.pending.size;
  }

  private fail(err: unknown): void {
    this.failure ??= err;
    this.wake?.();
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  check(block: Buffer, encode: boolean): Promise<CheckedBlock> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const copy = this.spares.take('block', block.length) ?? new ArrayBuffer(sizeClass(block.length, 64 << 10));
    new Uint8Array(copy).set(block);
    const job: Job = { type: 'check', id, block: copy, length: block.length, encode, rows: this.spares.take('rows'), out: encode ? this.spares.take('out') : undefined };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.workers[id % this.workers.length].postMessage(job, [copy, ...(job.rows ? [job.rows] : []), ...(job.out ? [job.out] : [])]);
    });
  }

  async close(): Promise<void> {
    this.cancelSort?.();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

interface Item {
  block: Buffer | LongLine;
  /** The worker's results, for a block sent to one. */
  result?: Promise<CheckedBlock>;
  /** Whether `result` has settled. */
  settled?: boolean;
}

/**
 * The blocks of one shard, in input order, between the source and RecordProcessor. CSV blocks are cut
 * into pieces of about PIECE bytes at line ends and sent to the workers (at most IN_FLIGHT per worker
 * at a time, so a worker has the next piece at hand); short blocks and everything else are applied on
 * this thread as they are. Results are applied strictly in input order, and at most DEPTH pieces are
 * held (bounded memory).
 *
 * Balance: a worker checks every piece it gets and also writes the output lines of a share of them
 * (`workerEncodes`); this thread writes the others' while applying them. The share rises while this
 * thread finds results ready (it is the slower side) and falls while it waits for them, so neither
 * side idles for long, whichever is the faster on the day.
 */
export class BlockChecks {
  /** Bytes of input per piece sent to a worker. */
  private static readonly PIECE = 256 << 10;
  /** Blocks shorter than this are checked here. */
  private static readonly MIN_SEND = 32 << 10;
  /** Pieces at each worker at a time. */
  private static readonly IN_FLIGHT = 4;
  /** Pieces (and short blocks) held at most, sent or not yet applied. */
  private static readonly DEPTH = 10;
  /** How far the share of pieces the workers encode moves per piece applied. */
  private static readonly SHARE_STEP = 0.05;
  private readonly queue: Item[] = [];
  private readonly spares = new Spares();
  private readonly pool: CheckPool | undefined;
  private readonly maxInFlight: number = 0;
  /** Share of pieces the workers encode (see `workerEncodes`), and the credit that spreads them. */
  private encodeShare = 1;
  private encodeCredit = 0;

  constructor(
    processor: RecordProcessor,
    workers: { entry: string; workers: number } | undefined,
    private readonly apply: (block: Buffer | LongLine, checked?: CheckedBlock) => Promise<void>,
  ) {
    if (workers && processor.header) {
      this.pool = new CheckPool(workers.entry, processor.header.columns.join(','), processor.maxAmount, workers.workers, this.spares);
      this.maxInFlight = BlockChecks.IN_FLIGHT * workers.workers;
    }
  }

  /**
   * Takes the next block: cut into pieces of about PIECE bytes at line ends, each sent to a worker;
   * then applies what it must to stay within DEPTH pieces. Short blocks (a line carried over from
   * the previous read) and overlong lines are cheaper to handle here than a round trip.
   */
  async push(block: Buffer | LongLine): Promise<void> {
    if (!this.pool || block instanceof LongLine || block.length < BlockChecks.MIN_SEND) {
      await this.hold({ block });
      return;
    }
    for (let start = 0; start < block.length; ) {
      let end = start + BlockChecks.PIECE;
      if (end + BlockChecks.PIECE / 2 >= block.length) end = block.length;
      else end = block.indexOf(10, end) + 1 || block.length;
      const piece = block.subarray(start, end);
      start = end;
      // Keeps the pipeline within bounds before sending more.
      while (this.pool.inFlight >= this.maxInFlight) await this.applyHead();
      const result = this.pool.check(piece, this.workerEncodes());
      const item: Item = { block: piece, result };
      // Observed when applied; a failure must not go unhandled meanwhile.
      result.then(
        () => (item.settled = true),
        () => (item.settled = true),
      );
      await this.hold(item);
    }
  }

  private async hold(item: Item): Promise<void> {
    this.queue.push(item);
    while (this.queue.length > BlockChecks.DEPTH) await this.applyHead();
  }

  /**
   * Whether the worker encodes the next piece: `encodeShare` of the pieces, spread evenly. The share
   * moves towards the balance point: up while this thread finds results ready (it is the slower
   * side, so the workers take more), down while it waits for them.
   */
  private workerEncodes(): boolean {
    this.encodeCredit += this.encodeShare;
    if (this.encodeCredit < 1) return false;
    this.encodeCredit -= 1;
    return true;
  }

  /** Applies every block held; the spare memory goes (nothing more will be checked). */
  async finish(): Promise<void> {
    while (this.queue.length > 0) await this.applyHead();
    this.spares.clear();
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }

  /**
   * fingerprints.tsv of `records`, made on a worker while this thread writes the shard's other files;
   * undefined without workers (the caller makes it here).
   */
  sortElsewhere(records: SortableRecords, keys: PackedKeys, scratch?: ArrayBuffer): AsyncGenerator<SortedChunk> | undefined {
    return this.pool?.sort(records, keys, scratch);
  }

  private async applyHead(): Promise<void> {
    const item = this.queue.shift()!;
    let checked: CheckedBlock | undefined;
    if (item.result) {
      const step = BlockChecks.SHARE_STEP;
      this.encodeShare = item.settled ? Math.min(1, this.encodeShare + step) : Math.max(0, this.encodeShare - step);
      checked = await item.result;
      const out = checked.out;
      if (out) {
        const spares = this.spares;
        checked.free = () => spares.give('out', out.buffer as ArrayBuffer);
      }
    }
    await this.apply(item.block, checked);
    if (checked) this.spares.give('rows', checked.rows.buffer);
  }
}
