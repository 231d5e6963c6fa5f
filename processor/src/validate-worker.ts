/**
 * Worker threads for the CSV record stage: the worker's side and the messages both sides exchange (the
 * main thread's side is worker-pool.ts). A worker checks pieces of a shard's lines (CsvRowChecker,
 * csv-rows.ts: split, validate, fingerprint) and, for a share of them, also encodes their output
 * lines; at the end of the shard it sorts the records fingerprints.tsv lists. The main thread applies, in
 * input order, everything that depends on order (RecordProcessor.applyChecked). Outputs are
 * byte-identical to the single-thread path: the same checker and writer run on the same lines, applied
 * in the same order.
 *
 * Workers need a JavaScript entry file: they run from the bundle the image ships (main.js starts the
 * worker role itself). Under tsx or jest (TypeScript sources) the pipeline stays single-threaded.
 */
import { isMainThread, parentPort, workerData } from 'worker_threads';
import { limitTable } from '../../domain/transaction';
import { CheckedRows, CsvRowChecker } from './csv-rows';
import { parseHeader } from './csv';
import { GrowOut } from './byte-out';
import { ChunksCancelled, SORTED_RECORD_WORDS, SortableRecords } from './fingerprints';

export const WORKER_ROLE = 'csv-check';

/** Lines checked, then encoded, at a time (their bytes are still in the cache when encoded). */
const CHECK_BATCH = 256;

export interface WorkerInit {
  role: typeof WORKER_ROLE;
  header: string;
  maxAmount: string;
}

export interface Job {
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

export interface Done {
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
/** Sorted buckets of a shard's accepted records, made on the worker (SortableRecords.sortedBuckets). */
export interface SortJob {
  type: 'sort';
  rec: ArrayBuffer;
  size: number;
  high: ReadonlyMap<number, number>;
  /** Memory the sort may use as its index (the released dedupe table), if any. */
  scratch?: ArrayBuffer;
  /** [slots free, cancelled (1)]: the main thread adds one per bucket it has turned into lines. */
  credits: SharedArrayBuffer;
}

/** The ring of SORT_SLOTS slots of `slotWords` words the buckets come through, in turn (sent first). */
export interface SortRing {
  type: 'ring';
  ring: SharedArrayBuffer;
  slotWords: number;
}

/** A sorted bucket of `count` records is in ring slot `slot`. */
export interface SortBucket {
  type: 'bucket';
  slot: number;
  count: number;
}

export interface SortEnd {
  type: 'sorted';
}

/**
 * At the end of a shard the worker sorts the accepted records one top bucket at a time while the main
 * thread turns each sorted bucket into fingerprints.tsv lines and writes them: the buckets come through
 * a ring of shared memory, at most SORT_SLOTS ahead of the lines (bounded memory; the same memory
 * serves every bucket).
 */
export const SORT_SLOTS = 4;

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
export function sizeClass(n: number, unit: number): number {
  return Math.ceil((n * 9) / 8 / unit) * unit;
}

/**
 * Checks every line of `block` (whole CSV lines; one that is not valid UTF-8 becomes an INVALID_UTF8
 * row) and, with `encode`, writes the valid rows' output lines; in `rows`/`out` memory when given and
 * large enough.
 */
export function checkBlock(checker: CsvRowChecker, block: Buffer, encode: boolean, rows?: ArrayBuffer, out?: ArrayBuffer): CheckedBlock {
  checker.startBlock(rowCapacity(block.length), rows);
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

/** Sorts the shard's records for fingerprints.tsv one top bucket at a time into the shared ring, never more than its credits ahead of the main thread. */
function sortOnWorker(job: SortJob): void {
  const credits = new Int32Array(job.credits);
  const records = new SortableRecords(new Uint32Array(job.rec), job.size, job.high);
  const slotWords = Math.max(1, records.largestBucket()) * SORTED_RECORD_WORDS;
  const ring = new SharedArrayBuffer(SORT_SLOTS * slotWords * 4);
  parentPort!.postMessage({ type: 'ring', ring, slotWords } satisfies SortRing);
  let next = 0;
  let slot = 0;
  // A slot of the ring once the main thread has one free (it has made that bucket's lines).
  const into = (count: number): Uint32Array => {
    for (let c = Atomics.load(credits, 0); c <= 0 && Atomics.load(credits, 1) === 0; c = Atomics.load(credits, 0)) Atomics.wait(credits, 0, c);
    if (Atomics.load(credits, 1) !== 0) throw new ChunksCancelled();
    Atomics.sub(credits, 0, 1);
    slot = next++ % SORT_SLOTS;
    return new Uint32Array(ring, slot * slotWords * 4, count * SORTED_RECORD_WORDS);
  };
  try {
    for (const [, count] of records.sortedBuckets(job.scratch, into)) parentPort!.postMessage({ type: 'bucket', slot, count } satisfies SortBucket);
  } catch (err) {
    if (err instanceof ChunksCancelled) return;
    throw err;
  }
  parentPort!.postMessage({ type: 'sorted' } satisfies SortEnd);
}
