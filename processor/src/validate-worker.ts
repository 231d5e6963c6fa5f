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
import * as os from 'os';
import { isMainThread, parentPort, Worker, workerData } from 'worker_threads';
import { limitTable } from '../../domain/transaction';
import { CheckedRows, CsvRowChecker } from './csv-rows';
import { parseHeader } from './csv';
import { GrowOut } from './byte-out';
import { ChunksCancelled, PackedKeys, SortableRecords } from './fingerprints';
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
  /** Memory the sort may use as its index (the released dedupe table), if any. */
  scratch?: ArrayBuffer;
  /** SORT_SLOTS slots of SORT_SLOT_BYTES the worker writes the chunks into, in turn. */
  ring: SharedArrayBuffer;
  /** [slots free, cancelled (1)]: the main thread adds one per chunk in the file. */
  credits: SharedArrayBuffer;
}

interface SortChunk {
  type: 'chunk';
  slot: number;
  bytes: number;
}

interface SortEnd {
  type: 'sorted';
}

/**
 * fingerprints.tsv comes from the worker in chunks written into a ring of shared memory: at most
 * SORT_SLOTS chunks are ahead of the file (bounded memory), and the same memory serves every chunk
 * (new memory per chunk, made on one thread and dropped on another, is freed only by a full
 * collection there, and meanwhile counts in RSS).
 */
const SORT_SLOTS = 4;
const SORT_CHUNK_BYTES = 1 << 20;
/** A chunk fills a little past SORT_CHUNK_BYTES (the last line started; see SortableRecords.chunks). */
const SORT_SLOT_BYTES = SORT_CHUNK_BYTES + 256;

/** A chunk of fingerprints.tsv; `written` (when given) frees its memory once the bytes are in the file. */
export interface SortedChunk {
  data: Buffer;
  written?: () => void;
}

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
 * Checks every line of `block` (whole CSV lines; one that is not valid UTF-8 becomes an INVALID_UTF8
 * row) and, with `encode`, writes the valid rows' output lines; in `rows`/`out` memory when given and
 * large enough.
 */
export function checkBlock(checker: CsvRowChecker, block: Buffer, encode: boolean, rows?: ArrayBuffer, out?: ArrayBuffer): CheckedBlock {
  checker.rows = new CheckedRows(rowCapacity(block.length), rows);
  checker.arenaUsed = 0;
  const o = encode ? new GrowOut(outBytes(block.length), out) : undefined;
  // Lines are checked (and encoded) a batch at a time: their bytes are still in the cache when encoded.
  for (let pos = 0; pos < block.length; ) {
    const from = checker.rows.n;
    pos = checker.check(block, pos, o ? from + CHECK_BATCH : Infinity, Infinity);
    if (o) checker.encode(block, o, from);
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
  const slots = job.ring.byteLength / SORT_SLOT_BYTES;
  let next = 0;
  // A slot of the shared ring once the main thread has one free (its chunk is in the file).
  const nextBuffer = (): Buffer | undefined => {
    for (let c = Atomics.load(credits, 0); c <= 0 && Atomics.load(credits, 1) === 0; c = Atomics.load(credits, 0)) Atomics.wait(credits, 0, c);
    if (Atomics.load(credits, 1) !== 0) return undefined;
    Atomics.sub(credits, 0, 1);
    return Buffer.from(job.ring, (next++ % slots) * SORT_SLOT_BYTES, SORT_SLOT_BYTES);
  };
  const records = new SortableRecords(new Uint32Array(job.rec), job.size, job.high);
  try {
    // One top bucket at a time (a 4-byte index per record, not a sorted copy): this runs next to the
    // main thread's end-of-shard work, so it saves memory at no cost in wall time.
    for (const chunk of records.chunks({ keys: Buffer.from(job.keys), keyStart: new Int32Array(job.keyStart) }, SORT_CHUNK_BYTES, 0, nextBuffer, job.scratch)) {
      parentPort!.postMessage({ type: 'chunk', slot: chunk.byteOffset / SORT_SLOT_BYTES, bytes: chunk.length } satisfies SortChunk);
    }
  } catch (err) {
    if (err instanceof ChunksCancelled) return;
    throw err;
  }
  parentPort!.postMessage({ type: 'sorted' } satisfies SortEnd);
}

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
  sort(records: SortableRecords, keys: PackedKeys, scratch?: ArrayBuffer): AsyncGenerator<SortedChunk> {
    const credits = new Int32Array(new SharedArrayBuffer(8));
    credits[0] = SORT_SLOTS;
    const ring = new SharedArrayBuffer(SORT_SLOTS * SORT_SLOT_BYTES);
    const ready: SortedChunk[] = [];
    let ended = false;
    const written = () => {
      Atomics.add(credits, 0, 1);
      Atomics.notify(credits, 0);
    };
    this.sorting = (m) => {
      if (m.type === 'chunk') ready.push({ data: Buffer.from(ring, m.slot * SORT_SLOT_BYTES, m.bytes), written });
      else ended = true;
      this.wake?.();
    };
    // Whoever stops taking chunks (the end, an error, or close) must not leave the worker waiting.
    this.cancelSort = () => {
      Atomics.store(credits, 1, 1);
      Atomics.notify(credits, 0);
      this.sorting = undefined;
    };
    const keyBytes = new Uint8Array(keys.keys).buffer as ArrayBuffer;
    const keyStart = keys.keyStart.buffer as ArrayBuffer;
    const job: SortJob = { type: 'sort', rec: records.buffer, size: records.size, high: records.high, keys: keyBytes, keyStart, scratch, ring, credits: credits.buffer as SharedArrayBuffer };
    // Sent now: the worker sorts while this thread does other work, before the first chunk is asked for.
    this.workers[0].postMessage(job, [job.rec, keyBytes, keyStart, ...(scratch ? [scratch] : [])]);
    const chunks = async function* (pool: CheckPool): AsyncGenerator<SortedChunk> {
      try {
        for (;;) {
          if (pool.failure) throw pool.failure;
          const chunk = ready.shift();
          if (chunk) yield chunk;
          else if (ended) return;
          else {
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
 * The blocks of one shard, in input order, between the source and RecordProcessor. CSV blocks go to
 * the workers (at most IN_FLIGHT per worker at a time, so the workers always
 * have the next block at hand); everything else is applied on this thread as it is. Results are
 * applied strictly in input order, and at most DEPTH blocks are held (bounded memory).
 *
 * Balance: the worker checks every block it gets, and also encodes it unless this thread had to wait
 * for the previous result, which means this thread has time to spare: it then encodes that block's
 * lines itself while applying it. So neither side idles for long, whichever is the faster.
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
