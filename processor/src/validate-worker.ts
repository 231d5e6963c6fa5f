/**
 * Worker threads for the CSV record stage. A worker checks whole blocks of lines (CsvRowChecker,
 * csv-rows.ts: split, validate, fingerprint) and, for most blocks, also encodes their output lines,
 * while the main thread reads and hashes the next blocks and applies, in input order, everything that
 * depends on order: line numbers, dedupe, totals, and which encoded lines go to the output
 * (RecordProcessor.applyEncoded, handing the worker's bytes on as views, without a copy). A block the
 * worker only checked is encoded by the main thread while it applies it: that is how the work is
 * balanced (`BlockChecks`). Blocks are copied to the worker; rows and output come back as transferred
 * buffers, which are then passed back and forth for reuse. Outputs are byte-identical to the
 * single-thread path: the same checker and writer run on the same lines, applied in the same order.
 *
 * Workers need a JavaScript entry file: they run from the bundle the image ships (main.js starts the
 * worker role itself). Under tsx or jest (TypeScript sources) the pipeline stays single-threaded.
 */
import { isUtf8 } from 'buffer';
import * as os from 'os';
import { isMainThread, parentPort, Worker, workerData } from 'worker_threads';
import { limitTable } from '../../domain/transaction';
import { CheckedRows, CsvRowChecker } from './csv-rows';
import { parseHeader } from './csv';
import { GrowOut } from './byte-out';
import { PackedKeys, SortableRecords } from './fingerprints';
import { LongLine } from './lines';
import type { RecordProcessor } from './record-processor';
import { BadInputError } from './errors';

export const WORKER_ROLE = 'csv-check';

/** Lines checked, then encoded, at a time (their bytes are still in the cache when encoded). */
const CHECK_BATCH = 256;

interface WorkerInit {
  role: typeof WORKER_ROLE;
  header: string;
  maxAmount: string;
}

interface Job {
  type: 'check';
  id: number;
  block: ArrayBuffer;
  length: number;
  /** Whether the worker encodes the output lines too (else the main thread does, when applying). */
  encode: boolean;
  /** Memory to reuse for the rows and the output, when the main thread has some spare. */
  rows?: ArrayBuffer;
  out?: ArrayBuffer;
}

interface Done {
  type: 'checked';
  id: number;
  /** The job's block, given back for reuse. */
  block: ArrayBuffer;
  rows: ArrayBuffer;
  n: number;
  capacity: number;
  arena: ArrayBuffer | null;
  out: ArrayBuffer | null;
  outBytes: number;
}

/** fingerprints.tsv of a shard's records, made on the worker (SortableRecords.chunks). */
interface SortJob {
  type: 'sort';
  rec: ArrayBuffer;
  size: number;
  high: ReadonlyMap<number, number>;
  keys: ArrayBuffer;
  keyStart: ArrayBuffer;
  /** [chunks the worker may still send, cancelled (1)]: the main thread adds one per chunk written. */
  credits: SharedArrayBuffer;
}

interface SortChunk {
  type: 'chunk';
  buf: ArrayBuffer;
  bytes: number;
}

interface SortEnd {
  type: 'sorted';
}

/** Chunks of fingerprints.tsv the worker may send ahead of the ones written (bounded memory). */
const SORT_CREDITS = 4;

/**
 * A block checked elsewhere: its rows, the checker's arena (fields of rows with quotes) and, when
 * encoded there, the output lines (`out`).
 */
export interface CheckedBlock {
  rows: CheckedRows;
  arena: Buffer;
  out?: Buffer;
  /** Gives `out`'s memory back for reuse once no part of it is needed (see ByteOut.externalDone). */
  free?: () => void;
}

/** Rows a block is first given room for: a row per ~64 bytes (it grows for blocks of shorter lines). */
function rowCapacity(blockBytes: number): number {
  return sizeClass(Math.max(64, Math.ceil(blockBytes / 64)), 1024);
}

/** Output room for a block: its lines encode to ~2.6x their bytes (it grows if a block needs more). */
function outBytes(blockBytes: number): number {
  return sizeClass(3 * blockBytes, 64 << 10);
}

/** `n` with 1/8 to spare, rounded up to a multiple of `unit`: spare memory then fits the next block of about the same size. */
function sizeClass(n: number, unit: number): number {
  return Math.ceil((n * 9) / 8 / unit) * unit;
}

/**
 * Checks every line of `block` (whole CSV lines) and, with `encode`, writes the valid rows' output
 * lines; in `rows`/`out` memory when given and large enough.
 */
export function checkBlock(checker: CsvRowChecker, block: Buffer, encode: boolean, rows?: ArrayBuffer, out?: ArrayBuffer): CheckedBlock {
  checker.rows = new CheckedRows(rowCapacity(block.length), rows);
  checker.arenaUsed = 0;
  let o: GrowOut | undefined;
  if (encode) {
    o = new GrowOut(outBytes(block.length), out);
    for (let pos = 0; pos < block.length; ) {
      const from = checker.rows.n;
      pos = checker.check(block, pos, from + CHECK_BATCH, Infinity);
      checker.encode(block, o, from);
    }
  } else {
    checker.check(block, 0, Infinity, Infinity);
  }
  // A copy with a memory of its own (it is transferred; a small Buffer could share the pool's).
  const arena = new Uint8Array(checker.arenaUsed);
  arena.set(checker.arena.subarray(0, checker.arenaUsed));
  return { rows: checker.rows, arena: Buffer.from(arena.buffer), out: o?.buf.subarray(0, o.pos) };
}

/** The worker side: started by main.ts when `workerData.role` is WORKER_ROLE. */
export function isCheckWorker(): boolean {
  return !isMainThread && (workerData as WorkerInit | undefined)?.role === WORKER_ROLE;
}

export function runCheckWorker(): void {
  const init = workerData as WorkerInit;
  const checker = new CsvRowChecker(parseHeader(init.header), limitTable(init.maxAmount), 64, 1 << 17);
  parentPort!.on('message', (job: Job | SortJob) => {
    if (job.type === 'sort') {
      sortOnWorker(job);
      return;
    }
    const r = checkBlock(checker, Buffer.from(job.block, 0, job.length), job.encode, job.rows, job.out);
    const arena = r.arena.length > 0 ? (r.arena.buffer as ArrayBuffer) : null;
    const out = r.out ? (r.out.buffer as ArrayBuffer) : null;
    const done: Done = { type: 'checked', id: job.id, block: job.block, rows: r.rows.buffer, n: r.rows.n, capacity: r.rows.capacity, arena, out, outBytes: r.out?.length ?? 0 };
    const transfer = [job.block, r.rows.buffer, ...(arena ? [arena] : []), ...(out ? [out] : [])];
    // Spare output memory the job brought and did not use goes back too.
    if (!out && job.out) {
      done.out = job.out;
      done.outBytes = -1;
      transfer.push(job.out);
    }
    parentPort!.postMessage(done, transfer);
  });
}

/** Writes fingerprints.tsv chunk by chunk to the main thread, never more than its credits ahead. */
function sortOnWorker(job: SortJob): void {
  const credits = new Int32Array(job.credits);
  const records = new SortableRecords(new Uint32Array(job.rec), job.size, job.high);
  // One top bucket at a time (a 4-byte index per record, not a sorted copy): this runs next to the
  // main thread's end-of-shard work, so it saves memory at no cost in wall time.
  for (const chunk of records.chunks({ keys: Buffer.from(job.keys), keyStart: new Int32Array(job.keyStart) }, 1 << 20, 0)) {
    for (let c = Atomics.load(credits, 0); c <= 0 && Atomics.load(credits, 1) === 0; c = Atomics.load(credits, 0)) Atomics.wait(credits, 0, c);
    if (Atomics.load(credits, 1) !== 0) return;
    Atomics.sub(credits, 0, 1);
    // Each chunk is the start of a buffer of its own (SortableRecords.chunks), so it can be moved.
    const buf = chunk.buffer as ArrayBuffer;
    parentPort!.postMessage({ type: 'chunk', buf, bytes: chunk.length } satisfies SortChunk, [buf]);
  }
  parentPort!.postMessage({ type: 'sorted' } satisfies SortEnd);
}

type SpareKind = 'block' | 'rows' | 'out';

/** Spare memory for block copies, rows and outputs, passed back and forth instead of allocated per block. */
class Spares {
  private readonly lists: Record<SpareKind, ArrayBuffer[]> = { block: [], rows: [], out: [] };

  give(kind: SpareKind, buf: ArrayBuffer): void {
    const list = this.lists[kind];
    if (list.length < 4) list.push(buf);
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
      w.on('message', (m: Done | SortChunk | SortEnd) => (m.type === 'checked' ? this.done(m) : this.sorting?.(m)));
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
  private sorting: ((m: SortChunk | SortEnd) => void) | undefined;

  /**
   * fingerprints.tsv of `records` made on the first worker (after the blocks it was given), in
   * chunks; the worker stays at most SORT_CREDITS chunks ahead of the ones taken.
   */
  async *sort(records: SortableRecords, keys: PackedKeys): AsyncGenerator<Buffer> {
    const credits = new Int32Array(new SharedArrayBuffer(8));
    credits[0] = SORT_CREDITS;
    const ready: Buffer[] = [];
    let ended = false;
    this.sorting = (m) => {
      if (m.type === 'chunk') ready.push(Buffer.from(m.buf, 0, m.bytes));
      else ended = true;
      this.wake?.();
    };
    const keyBytes = new Uint8Array(keys.keys).buffer as ArrayBuffer;
    const keyStart = keys.keyStart.buffer as ArrayBuffer;
    const job: SortJob = { type: 'sort', rec: records.buffer, size: records.size, high: records.high, keys: keyBytes, keyStart, credits: credits.buffer as SharedArrayBuffer };
    this.workers[0].postMessage(job, [job.rec, keyBytes, keyStart]);
    try {
      for (;;) {
        if (this.failure) throw this.failure;
        const chunk = ready.shift();
        if (chunk) {
          yield chunk;
          Atomics.add(credits, 0, 1);
          Atomics.notify(credits, 0);
        } else if (ended) {
          return;
        } else {
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.wake = undefined;
        }
      }
    } finally {
      // Taken to the end, or abandoned (an error): either way the worker must not wait any longer.
      Atomics.store(credits, 1, 1);
      Atomics.notify(credits, 0);
      this.sorting = undefined;
    }
  }

  /** Wakes the sort waiting for its next chunk (a chunk came, the last one did, or a worker failed). */
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
 * The blocks of one shard, in input order, between the source and RecordProcessor. CSV blocks that
 * are valid UTF-8 go to the workers (at most IN_FLIGHT per worker at a time, so the workers always
 * have the next block at hand); everything else is applied on this thread as it is. Results are
 * applied strictly in input order, and at most DEPTH blocks are held (bounded memory).
 *
 * Balance: the worker checks every block it gets, and also encodes it unless this thread had to wait
 * for the previous result, which means this thread has time to spare: it then encodes that block's
 * lines itself while applying it. So neither side idles for long, whichever is the faster.
 */
export class BlockChecks {
  private static readonly IN_FLIGHT = 3;
  private static readonly DEPTH = 6;
  private readonly queue: Item[] = [];
  private readonly spares = new Spares();
  private readonly pool: CheckPool | undefined;
  private readonly maxInFlight: number = 0;
  /** Whether this thread waited for the last result it needed (it has time to encode). */
  private waited = false;

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

  /** Takes the next block: sends it to a worker (or holds it), then applies what it must to stay within DEPTH. */
  async push(block: Buffer | LongLine): Promise<void> {
    const item: Item = { block };
    if (this.pool && !(block instanceof LongLine) && isUtf8(block)) {
      // Keeps the pipeline within bounds before sending more.
      while (this.pool.inFlight >= this.maxInFlight) await this.applyHead();
      const result = this.pool.check(block, !this.waited);
      item.result = result;
      // Observed when applied; a failure must not go unhandled meanwhile.
      result.then(
        () => (item.settled = true),
        () => (item.settled = true),
      );
    }
    this.queue.push(item);
    while (this.queue.length > BlockChecks.DEPTH) await this.applyHead();
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
  sortElsewhere(records: SortableRecords, keys: PackedKeys): AsyncGenerator<Buffer> | undefined {
    return this.pool?.sort(records, keys);
  }

  private async applyHead(): Promise<void> {
    const item = this.queue.shift()!;
    let checked: CheckedBlock | undefined;
    if (item.result) {
      this.waited = !item.settled;
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

/**
 * Worker count for a shard: PROCESSOR_WORKERS, a number (0: a single thread) or "auto" (the default:
 * one per extra core, at most 2, so none on one core), and 0 whenever the entry file is not
 * JavaScript (tsx, jest). Anything else is refused: a typo must not silently change the threading.
 */
export function workerCount(entry: string | undefined, env: NodeJS.ProcessEnv = process.env, cores = availableCores()): number {
  const configured = (env.PROCESSOR_WORKERS ?? '').trim() || 'auto';
  const n = configured === 'auto' ? Math.max(0, Math.min(2, cores - 1)) : Number(configured);
  if (!Number.isInteger(n) || n < 0 || n > 8) throw new BadInputError('CONFIG_INVALID', `PROCESSOR_WORKERS must be "auto" or a whole number from 0 to 8, got ${JSON.stringify(configured)}`);
  if (!entry || !/\.(c?js|mjs)$/.test(entry)) return 0;
  return n;
}

function availableCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}
