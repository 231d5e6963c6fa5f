/**
 * Worker threads for the CSV record stage: a worker splits, validates, fingerprints and encodes whole
 * blocks of lines (csv-check.ts) while the main thread reads the next block and does, in input order,
 * everything that depends on order: line numbers, dedupe, totals, and which encoded lines go to the
 * output (the worker's bytes are handed on as views, without a copy). Blocks are copied to the worker
 * (the main thread keeps its own), results come back as transferred typed arrays and are applied in
 * submission order, so outputs are byte-identical to the single-thread path.
 *
 * Workers need a JavaScript entry file: they run from the bundle the image ships (main.js starts the
 * worker role itself). Under tsx or jest (TypeScript sources) the pipeline stays single-threaded.
 */
import * as os from 'os';
import { isMainThread, parentPort, Worker, workerData } from 'worker_threads';
import { limitTable } from '../../domain/transaction';
import { CheckedBlock, checkBlock, CsvChecker } from './csv-check';
import { parseHeader } from './csv';
import { MAX_LINE_BYTES } from './lines';

export const WORKER_ROLE = 'csv-check';

interface WorkerInit {
  role: typeof WORKER_ROLE;
  header: string;
  maxAmount: string;
}

interface Job {
  id: number;
  buf: ArrayBuffer;
}

/** The worker side: started by main.ts when `workerData.role` is WORKER_ROLE. */
export function isCheckWorker(): boolean {
  return !isMainThread && (workerData as WorkerInit | undefined)?.role === WORKER_ROLE;
}

export function runCheckWorker(): void {
  const init = workerData as WorkerInit;
  const checker = new CsvChecker(parseHeader(init.header), limitTable(init.maxAmount));
  parentPort!.on('message', (job: Job) => {
    const bytes = Buffer.from(job.buf);
    const r = checkBlock(checker, bytes.toString('latin1'), MAX_LINE_BYTES, bytes, true);
    const out = r.out!;
    parentPort!.postMessage({ id: job.id, ints: r.ints, minors: r.minors, lines: r.lines, out: out.buffer, outBytes: out.length }, [
      r.ints.buffer as ArrayBuffer,
      r.minors.buffer as ArrayBuffer,
      out.buffer as ArrayBuffer,
    ]);
  });
}

/** Round-robin pool; `check` resolves with the block's results (callers apply them in order). */
export class CheckPool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, { resolve: (r: CheckedBlock) => void; reject: (e: unknown) => void }>();
  private nextId = 0;
  private failure: unknown;

  constructor(entry: string, header: string, maxAmount: string, size: number) {
    const init: WorkerInit = { role: WORKER_ROLE, header, maxAmount };
    this.workers = Array.from({ length: size }, () => {
      const w = new Worker(entry, { workerData: init, argv: [] });
      w.on('message', (m: { id: number; ints: Int32Array; minors: Float64Array; lines: number; out: ArrayBuffer; outBytes: number }) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        p?.resolve({ ints: m.ints, minors: m.minors, lines: m.lines, out: Buffer.from(m.out, 0, m.outBytes) });
      });
      w.on('error', (err) => this.fail(err));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`validation worker exited with code ${code}`));
      });
      return w;
    });
  }

  private fail(err: unknown): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  check(block: Buffer): Promise<CheckedBlock> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const copy = new Uint8Array(block.length);
    copy.set(block);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.workers[id % this.workers.length].postMessage({ id, buf: copy.buffer } satisfies Job, [copy.buffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * Worker count for a shard: PROCESSOR_WORKERS (default 0 = single thread; "auto" = one per extra core,
 * at most 2), and 0 whenever the entry file is not JavaScript (tsx, jest). Off by default: on the
 * shared 2-core machine one worker took a 1M-record run from ~4.5-5.0 s to ~4.0-4.3 s wall but raised
 * peak RSS from ~228 MB to ~325 MB, over the 256 MB budget (processor/README.md).
 */
export function workerCount(entry: string | undefined, env: NodeJS.ProcessEnv = process.env, cores = availableCores()): number {
  if (!entry || !/\.(c?js|mjs)$/.test(entry)) return 0;
  const configured = env.PROCESSOR_WORKERS ?? '';
  if (configured === 'auto') return Math.max(0, Math.min(2, cores - 1));
  const n = Number(configured || '0');
  return Number.isInteger(n) && n >= 0 ? Math.min(n, 8) : 0;
}

function availableCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}
