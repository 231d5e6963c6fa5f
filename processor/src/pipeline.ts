/**
 * One shard, end to end: source -> frame (shard range, hash) -> gunzip? -> UTF-8 check + decode ->
 * records -> outputs -> reconciliation -> commit (uploads complete, summary.json last). Any failure
 * aborts both uploads, so a failed shard publishes nothing.
 */
import { isUtf8 } from 'buffer';
import { Readable } from 'stream';
import { createGunzip } from 'zlib';
import { CsvHeader, loneCrError, parseHeader } from './csv';
import { BadInputError, InterruptedError, ProcessorError, ReconciliationError } from './errors';
import { coalesce, frameLines, LongLine, MAX_LINE_BYTES, splitInvalidUtf8 } from './lines';
import { InputFormat, RecordProcessor } from './record-processor';
import { OutputTarget, Sink } from './sink';
import { InputSource } from './source';
import { reconcile, ReconciliationReport } from './reconcile';
import { TotalsJson } from './totals';
import { CheckedBlock, SortedChunk } from './validate-worker';
import { workerCount } from './config';
import { BlockChecks } from './worker-pool';
import { packAccountKeys } from './fingerprints';
import { HashThread, inlineHash, StreamHash } from './hash-thread';
import { SHARD_OUTPUT_NAMES, shardFolderName } from '../../contracts/buckets';

export interface ShardSpec {
  index: number;
  count: number;
}

export interface Progress {
  records: number;
  bytes: number;
  totalBytes: number;
  elapsedMs: number;
}

export interface ShardOptions {
  maxAmount?: string;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** JavaScript file worker threads start from (default: this module's file, i.e. the bundle); see validate-worker.ts. */
  workerEntry?: string;
  /**
   * SHA-256 of the input and the outputs on a helper thread (hash-thread.ts), so the record stage's
   * thread only copies the bytes. Off by default (PROCESSOR_HASH_THREAD=1 turns it on): on the 2-vCPU
   * machines measured it saved no wall time and cost ~0.4 s CPU and ~20 MB RSS per 1M records.
   */
  hashThread?: boolean;
  /** Test hook: lets a test corrupt state before reconciliation to prove a failed check publishes nothing. */
  beforeReconcile?: (processor: RecordProcessor) => void;
}

export interface ShardSummary {
  schemaVersion: 1;
  input: {
    location: string;
    bucket?: string;
    key?: string;
    versionId?: string;
    etag?: string;
    size: number;
    compression: 'gzip' | 'none';
    format: InputFormat | 'unknown';
    sha256: string;
    bytesHashed: number;
  };
  shard: {
    index: number;
    count: number;
    byteRange: { start: number; end: number };
    /** 'file': rejects' line numbers count from the file's first line; 'shard': from this shard's first line. */
    lineNumbering: 'file' | 'shard';
    skipped?: string;
  };
  counts: { read: number; accepted: number; rejected: number; duplicates: number; byReason: Record<string, number> };
  /** Small totals only; the per-account breakdown is its own committed file (outputs.totalsByAccount). */
  totals: Omit<TotalsJson, 'byAccount'>;
  reconciliation: ReconciliationReport;
  /** Committed files: location, byte count and lowercase hex SHA-256 of exactly the bytes written. */
  outputs: {
    accepted: string;
    rejects: string;
    acceptedBytes: number;
    rejectsBytes: number;
    acceptedSha256: string;
    rejectsSha256: string;
    /** Sorted transactionId fingerprints of accepted records (format: domain/run-dedupe.ts), for run-level dedupe. */
    fingerprints: string;
    fingerprintsBytes: number;
    fingerprintsSha256: string;
    /** JSON Lines, one line per account and currency: {accountId, currency, count, amount, amountMinor}, sorted. */
    totalsByAccount: string;
    totalsByAccountBytes: number;
    totalsByAccountSha256: string;
  };
}

/** File names in a shard's output folder (summary.json, the commit marker, last): a contract with the loader. */
export const OUTPUT_NAMES = SHARD_OUTPUT_NAMES;

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;
// Enough to see the end of the longest allowed first line (after a BOM).
const HEAD_BYTES = MAX_LINE_BYTES + 8;
const FLUSH_AT = 1 << 20;

export function shardDir(shard: ShardSpec): string {
  return shardFolderName(shard.index, shard.count);
}

export function byteRange(size: number, shard: ShardSpec): { start: number; end: number } {
  return {
    start: Math.floor((size * shard.index) / shard.count),
    end: Math.floor((size * (shard.index + 1)) / shard.count),
  };
}

/** Reads the header (or detects JSON Lines) from the object's first line, for shards > 0. */
function formatFromHead(head: Buffer): { format: InputFormat; header?: CsvHeader } {
  let start = 0;
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) start = 3;
  const nl = head.indexOf(0x0a, start);
  const cr = head.indexOf(0x0d, start);
  if (cr >= 0 && (nl < 0 || cr < nl - 1)) throw loneCrError(cr - start + 1);
  if (nl < 0 || nl - start > MAX_LINE_BYTES) {
    throw new BadInputError('HEADER_TOO_LONG', `the first line is longer than ${MAX_LINE_BYTES} bytes: it is not a header or a JSON Lines record`);
  }
  const line = head.subarray(start, head[nl - 1] === 0x0d ? nl - 1 : nl);
  if (!isUtf8(line)) throw new BadInputError('HEADER_INVALID_UTF8', 'the header line is not valid UTF-8');
  if (line[0] === 0x7b) return { format: 'jsonl' };
  return { format: 'csv', header: parseHeader(line.toString('utf8')) };
}

export async function runShard(source: InputSource, target: OutputTarget, shard: ShardSpec, options: ShardOptions = {}): Promise<ShardSummary> {
  if (!(shard.count >= 1 && shard.index >= 0 && shard.index < shard.count)) {
    throw new BadInputError('SHARD_INVALID', `shard ${shard.index}/${shard.count} is out of range`);
  }
  if (source.size === 0) throw new BadInputError('INPUT_EMPTY', `${source.location} is empty (0 bytes): a header line is required`);
  // Worker threads for the CSV record stage (validate-worker.ts); a bad PROCESSOR_WORKERS fails here, before any output.
  const workers = workerCount(options.workerEntry ?? __filename);
  // Shard 0 only needs the gzip magic; other shards also read the header line from the object's head.
  const head = await source.head(shard.index === 0 ? 2 : HEAD_BYTES);
  const gzip = head.length >= 2 && head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1;
  const dir = shardDir(shard);
  const names = {
    accepted: `${dir}/${OUTPUT_NAMES.accepted}`,
    rejects: `${dir}/${OUTPUT_NAMES.rejects}`,
    totalsByAccount: `${dir}/${OUTPUT_NAMES.totalsByAccount}`,
    fingerprints: `${dir}/${OUTPUT_NAMES.fingerprints}`,
    summary: `${dir}/${OUTPUT_NAMES.summary}`,
  };
  const range = shard.count === 1 ? { start: 0, end: source.size } : byteRange(source.size, shard);

  // A gzip stream can only be decoded from its first byte, so shard 0 does the whole object and the
  // other shards complete empty (their summary says why) so that the job still completes.
  const skipped = gzip && shard.index > 0 ? 'gzip input cannot be split into byte ranges: shard 0 processes the whole object' : undefined;
  let known: { format?: InputFormat; header?: CsvHeader } = {};
  if (!gzip && shard.index > 0) known = formatFromHead(head);

  const processor = new RecordProcessor({
    maxAmount: options.maxAmount,
    format: known.format,
    header: known.header,
    expectedRecords: Math.ceil((range.end - range.start) / 100),
  });
  const hashes = (options.hashThread ?? process.env.PROCESSOR_HASH_THREAD === '1') ? new HashThread() : undefined;
  const newHash = (): StreamHash => hashes?.create() ?? inlineHash();
  const hash = newHash();
  let hashed = 0;
  let ownedBytes = (): number => hashed;
  // One writer per output folder: a second run into the same folder fails here, before writing.
  let unlock: () => Promise<void>;
  try {
    unlock = await target.lock(dir);
  } catch (err) {
    await hashes?.close();
    throw err;
  }
  const sinks: Sink[] = [];
  // Worker threads, when on: they stay up until the shard ends (they also sort fingerprints.tsv).
  let checks: BlockChecks | undefined;
  const started = Date.now();
  try {
    const accepted = target.open(names.accepted, 'application/x-ndjson', newHash());
    sinks.push(accepted);
    // Set before the first record: every part of the writer's blocks is then counted until released.
    processor.acceptedOut.recycling = accepted.reportsWritten === true;
    const rejects = target.open(names.rejects, 'application/x-ndjson', newHash());
    sinks.push(rejects);
    if (!skipped) {
      let blocks: AsyncIterable<Buffer | LongLine>;
      if (gzip) {
        const raw = source.read(0);
        const hashing = async function* () {
          for await (const chunk of raw) {
            const wait = hash.update(chunk);
            if (wait) await wait;
            hashed += chunk.length;
            yield chunk;
          }
        };
        const gunzip = Readable.from(hashing()).pipe(createGunzip({ chunkSize: 1 << 20 }));
        const framed = frameLines(gunzipErrors(gunzip), { start: 0, end: Infinity, ownsFirstLine: true }, { update: () => undefined }); // the compressed bytes are hashed above
        blocks = framed.blocks;
      } else {
        const framed = frameLines(coalesce(source.read(range.start, shard.index === shard.count - 1 ? source.size : range.end)), {
          start: range.start,
          end: shard.index === shard.count - 1 ? Infinity : range.end,
          ownsFirstLine: shard.index === 0,
        }, hash);
        blocks = framed.blocks;
        ownedBytes = framed.bytes;
      }
      // CSV blocks are checked (and mostly encoded) on worker threads when they are on
      // (validate-worker.ts); results are applied here in input order.
      // Everything else (JSON Lines, invalid UTF-8 blocks, overlong lines, the first line) is done on
      // this thread, in the same order.
      const apply = async (block: Buffer | LongLine, checked?: CheckedBlock): Promise<void> => {
        if (checked) {
          processor.applyChecked(block as Buffer, checked);
        } else if (block instanceof LongLine) {
          processor.rejectLongLine(block.head);
        } else if (processor.readsCsvRecords || isUtf8(block)) {
          // CSV records are checked as bytes, a line that is not UTF-8 refused on its own; other
          // blocks (the first line, JSON Lines) must be valid UTF-8 here. Field ranges are byte
          // ranges and the output is written byte for byte, so non-ASCII text passes through
          // unchanged without two UTF-8 transcodings per record.
          processor.processBytes(block);
        } else {
          // Only the lines that are not UTF-8 are refused; the runs of lines between them are
          // processed as blocks of their own (one invalid line per few hundred must not send every
          // line of the block down a line-at-a-time path).
          splitInvalidUtf8(block, 0, block.length, (run) => processor.processBytes(run), () => processor.rejectInvalidUtf8());
        }
        if (processor.acceptedOut.length >= FLUSH_AT) await writeParts(processor, accepted);
        if (processor.rejectsOut.length >= FLUSH_AT) await drainRejects(processor, rejects);
        options.onProgress?.({ records: processor.read, bytes: ownedBytes(), totalBytes: range.end - range.start, elapsedMs: Date.now() - started });
      };
      for await (const block of blocks) {
        if (options.signal?.aborted) throw new InterruptedError('INTERRUPTED', 'interrupted by SIGTERM');
        if (processor.format === undefined) {
          // The first line decides the format: it is applied before anything is handed to a worker.
          await apply(block);
          continue;
        }
        checks ??= new BlockChecks(processor, workers > 0 && processor.readsCsvRecords ? { entry: options.workerEntry ?? __filename, workers } : undefined, apply);
        await checks.push(block);
      }
      await checks?.finish();
      hashed = ownedBytes();
      if (processor.format === undefined) throw new BadInputError('INPUT_EMPTY', `${source.location} has no header line`);
    }
    const dedupeMemory = processor.endOfInput();
    await writeParts(processor, accepted);
    await drainRejects(processor, rejects);
    if (options.signal?.aborted) throw new InterruptedError('INTERRUPTED', 'interrupted by SIGTERM');
    options.beforeReconcile?.(processor);
    const reconciliation = reconcile(processor);
    if (!reconciliation.ok) throw new ReconciliationError('RECONCILIATION_FAILED', `reconciliation failed: ${reconciliation.failures.join('; ')}`);

    // With a worker, fingerprints.tsv is sorted there one top bucket at a time while this thread finishes
    // the accepted file and turns the sorted buckets into lines.
    const records = processor.index.take();
    const keys = packAccountKeys((a) => processor.totals.accountKey(a), processor.totals.accountCount);
    // The released dedupe table is the sort's scratch memory (it is larger than the sort needs).
    const fingerprintChunks: AsyncIterable<SortedChunk> | Iterable<SortedChunk> = checks?.sortElsewhere(records, keys, dedupeMemory) ?? (function* () {
      for (const data of records.chunks(keys, undefined, undefined, undefined, dedupeMemory)) yield { data };
    })();
    await accepted.finish();
    await rejects.finish();
    // The per-account breakdown is its own file (below): summary.json takes the small groups only.
    const totals = processor.totals.groupJson();
    const fingerprints = target.open(names.fingerprints, 'text/tab-separated-values', newHash());
    sinks.push(fingerprints);
    for await (const { data, written } of fingerprintChunks) {
      if (!written) {
        await fingerprints.write(data);
      } else if (fingerprints.reportsWritten) {
        await fingerprints.write(data, written);
      } else {
        // A sink that does not say when it is done with the bytes gets a copy: the chunk's memory is reused.
        const copy = Buffer.from(data);
        written();
        await fingerprints.write(copy);
      }
    }
    await fingerprints.finish();
    const accounts = target.open(names.totalsByAccount, 'application/x-ndjson', newHash());
    sinks.push(accounts);
    await writeAccountTotals(processor.totals.accountLines(), accounts);
    await accounts.finish();
    const inputSha256 = await hash.digest();
    const summary: ShardSummary = {
      schemaVersion: 1,
      input: {
        location: source.location,
        bucket: source.bucket,
        key: source.key,
        versionId: source.versionId,
        etag: source.etag,
        size: source.size,
        compression: gzip ? 'gzip' : 'none',
        format: processor.format ?? 'unknown',
        sha256: inputSha256,
        bytesHashed: hashed,
      },
      shard: { index: shard.index, count: shard.count, byteRange: range, lineNumbering: shard.index === 0 ? 'file' : 'shard', skipped },
      counts: {
        read: processor.read,
        accepted: processor.accepted,
        rejected: processor.rejected,
        duplicates: processor.duplicates,
        byReason: Object.fromEntries(Object.entries(processor.byReason).sort(([a], [b]) => a.localeCompare(b))),
      },
      totals,
      reconciliation,
      outputs: {
        accepted: target.describe(names.accepted),
        rejects: target.describe(names.rejects),
        acceptedBytes: accepted.bytes,
        rejectsBytes: rejects.bytes,
        acceptedSha256: accepted.sha256,
        rejectsSha256: rejects.sha256,
        totalsByAccount: target.describe(names.totalsByAccount),
        totalsByAccountBytes: accounts.bytes,
        totalsByAccountSha256: accounts.sha256,
        fingerprints: target.describe(names.fingerprints),
        fingerprintsBytes: fingerprints.bytes,
        fingerprintsSha256: fingerprints.sha256,
      },
    };
    await target.commit(sinks, names.summary, renderSummary(summary));
    sinks.length = 0;
    return summary;
  } catch (err) {
    await Promise.all(sinks.map((s) => s.abort()));
    throw err;
  } finally {
    await checks?.close();
    await hashes?.close();
    await unlock();
  }
}

/** summary.json: indented JSON, small whatever the input (the per-account breakdown is its own file). */
export function renderSummary(summary: ShardSummary): string {
  return JSON.stringify(summary, null, 2) + '\n';
}

/** totals-by-account.jsonl: one line per account and currency (accounts in code-unit order). */
async function writeAccountTotals(lines: Iterable<string>, sink: Sink): Promise<void> {
  let chunk = '';
  for (const line of lines) {
    chunk += line;
    if (chunk.length >= FLUSH_AT) {
      await sink.write(Buffer.from(chunk, 'utf8'));
      chunk = '';
    }
  }
  if (chunk.length > 0) await sink.write(Buffer.from(chunk, 'utf8'));
}

/**
 * Hands the accepted bytes to the sink as the writer's own block views (no concatenation copy); a
 * sink that reports when a part is in the file gives its block back to the writer for reuse.
 */
async function writeParts(processor: RecordProcessor, sink: Sink): Promise<void> {
  const out = processor.acceptedOut;
  for (const part of out.takeParts()) await sink.write(part, out.recycling ? () => out.release(part) : undefined);
}

async function drainRejects(processor: RecordProcessor, sink: Sink): Promise<void> {
  const data = processor.rejectsOut;
  if (data.length === 0) return;
  processor.rejectsOut = '';
  await sink.write(data);
}

async function* gunzipErrors(stream: NodeJS.ReadableStream): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (err) {
    if (err instanceof ProcessorError) throw err;
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('Z_') || /unexpected end of file|incorrect header|invalid/i.test(String((err as Error).message))) {
      throw new BadInputError('GZIP_CORRUPT', `gzip input is truncated or corrupt: ${(err as Error).message}`, { cause: err });
    }
    throw err;
  }
}
