/**
 * Reading a processor shard's outputs safely (contracts.md): `processed/<runId>/<jobId>/shard-<i>-of-<n>/`
 * holds `accepted.jsonl`, `rejects.jsonl`, `totals-by-account.jsonl`, `fingerprints.tsv` and
 * `summary.json`, the shard's commit marker, written last. Shards of a run are read in run order:
 * job id, then shard index as a number (`compareShardDirs`). `parseRunCommit` adds what exact run
 * totals need (fingerprints.tsv's size and SHA-256, counts, totals by currency); `FileVerifier` checks
 * any committed file's bytes as they stream.
 * A consumer (the report loader, the local run) may use a shard only when
 *  - its summary.json exists (an accepted.jsonl without it is an unfinished or failed shard), and
 *  - the accepted.jsonl it reads has exactly the byte count and SHA-256 the summary recorded
 *    (`outputs.acceptedBytes`, `outputs.acceptedSha256`, lowercase hex): a file replaced, truncated or
 *    corrupted after the commit is refused. The hash is computed while the file streams through, so
 *    nothing is buffered and nothing is read twice; the caller learns of a mismatch at the end of the
 *    stream and must treat everything it derived from the file as void (the loader rolls back).
 */
import * as crypto from 'crypto';
import { StringDecoder } from 'string_decoder';
import { SHARD_FOLDER_PATTERN, SHARD_OUTPUT_NAMES } from '../../contracts/buckets';
import { PermanentError } from './errors';

export const ACCEPTED = SHARD_OUTPUT_NAMES.accepted;
export const SUMMARY = SHARD_OUTPUT_NAMES.summary;
export const FINGERPRINTS = SHARD_OUTPUT_NAMES.fingerprints;
const SHA256 = /^[0-9a-f]{64}$/;

/** A committed file: its key, and the byte count and SHA-256 the shard's summary.json recorded for it. */
export interface CommittedFile {
  key: string;
  bytes: number;
  sha256: string;
}

export interface CommittedShard {
  /** The shard's directory key, `processed/<runId>/<jobId>/shard-<i>-of-<n>`. */
  dir: string;
  acceptedKey: string;
  acceptedBytes: number;
  acceptedSha256: string;
}

/** Shard directories under a run's prefix, split into committed (summary.json present) and not. */
export function shardDirsOf(keys: string[]): { committed: string[]; uncommitted: string[] } {
  const dirs = new Map<string, { accepted: boolean; summary: boolean }>();
  for (const key of keys) {
    const slash = key.lastIndexOf('/');
    const name = key.slice(slash + 1);
    if (name !== ACCEPTED && name !== SUMMARY) continue;
    const dir = key.slice(0, slash);
    const d = dirs.get(dir) ?? { accepted: false, summary: false };
    if (name === ACCEPTED) d.accepted = true;
    else d.summary = true;
    dirs.set(dir, d);
  }
  const sorted = [...dirs.entries()].sort(([a], [b]) => compareShardDirs(a, b));
  return {
    committed: sorted.filter(([, d]) => d.summary).map(([dir]) => dir),
    uncommitted: sorted.filter(([, d]) => !d.summary).map(([dir]) => dir),
  };
}

/**
 * Shard order of a run: by job id (code-unit order), then by shard index as a number (shard-2 before
 * shard-10), so every reader of a run sees its shards in the same deterministic order. A directory
 * not named `<...>/<jobId>/shard-<i>-of-<n>` sorts by its key after the shards of its job.
 */
export function compareShardDirs(a: string, b: string): number {
  const parts = (dir: string): [string, number, string] => {
    const slash = dir.lastIndexOf('/');
    const m = SHARD_FOLDER_PATTERN.exec(dir.slice(slash + 1));
    return [dir.slice(0, slash), m ? Number(m[1]) : Number.MAX_SAFE_INTEGER, dir];
  };
  const [ja, ia, da] = parts(a);
  const [jb, ib, db] = parts(b);
  if (ja !== jb) return ja < jb ? -1 : 1;
  if (ia !== ib) return ia - ib;
  return da < db ? -1 : da > db ? 1 : 0;
}

/** The commit record of a shard from its summary.json text; PermanentError naming the shard and the field. */
export function parseCommit(dir: string, summaryText: string): CommittedShard {
  let summary: { outputs?: Record<string, unknown> };
  try {
    summary = JSON.parse(summaryText) as typeof summary;
  } catch {
    throw new PermanentError(`${dir}/${SUMMARY}: not JSON`);
  }
  const outputs = summary?.outputs;
  if (!outputs || typeof outputs !== 'object') throw new PermanentError(`${dir}/${SUMMARY}: no outputs`);
  const bytes = outputs.acceptedBytes;
  if (!Number.isSafeInteger(bytes) || (bytes as number) < 0) throw new PermanentError(`${dir}/${SUMMARY}: outputs.acceptedBytes must be a non-negative integer`);
  const sha = outputs.acceptedSha256;
  if (typeof sha !== 'string' || !SHA256.test(sha)) {
    throw new PermanentError(`${dir}/${SUMMARY}: outputs.acceptedSha256 must be the lowercase hex SHA-256 of accepted.jsonl (unverifiable shard refused)`);
  }
  return { dir, acceptedKey: `${dir}/${ACCEPTED}`, acceptedBytes: bytes as number, acceptedSha256: sha };
}

/**
 * The lines of a committed shard's accepted.jsonl (line number from 1, text without the newline),
 * hashing and counting bytes as they stream. After the last line, throws PermanentError if the byte
 * count or the SHA-256 differs from the commit record; a file longer than recorded is refused as soon
 * as it passes the recorded size. Memory: one chunk plus one partial line.
 */
export async function* verifiedLines(body: AsyncIterable<Uint8Array | string>, shard: CommittedShard): AsyncGenerator<{ n: number; line: string }> {
  const hash = crypto.createHash('sha256');
  const decoder = new StringDecoder('utf8');
  let bytes = 0;
  let rest = '';
  let n = 0;
  for await (const part of body) {
    const chunk = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    bytes += chunk.length;
    if (bytes > shard.acceptedBytes) throw new PermanentError(`${shard.acceptedKey}: longer than the ${shard.acceptedBytes} bytes its summary.json recorded`);
    hash.update(chunk);
    const text = rest + decoder.write(chunk as Buffer);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      yield { n: ++n, line: text.slice(start, nl) };
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  rest += decoder.end();
  if (bytes !== shard.acceptedBytes) throw new PermanentError(`${shard.acceptedKey}: ${bytes} bytes, its summary.json recorded ${shard.acceptedBytes}`);
  if (hash.digest('hex') !== shard.acceptedSha256) throw new PermanentError(`${shard.acceptedKey}: SHA-256 differs from the one its summary.json recorded`);
  if (rest !== '') yield { n: ++n, line: rest };
}

/** Reads a committed shard's accepted.jsonl to the end and checks it; returns its line count. */
export async function verifyAccepted(body: AsyncIterable<Uint8Array | string>, shard: CommittedShard): Promise<number> {
  let lines = 0;
  for await (const l of verifiedLines(body, shard)) lines = l.n;
  return lines;
}

/** Per-currency total of a shard or a run: count and exact amount in minor units. */
export interface CurrencyTotal {
  count: number;
  amountMinor: bigint;
}

/**
 * What the report loader needs of a committed shard for exact run totals: the accepted file, the
 * sorted fingerprints file (both verified against the recorded size and SHA-256 as they stream), the
 * shard's counts and per-currency totals, and the SHA-256 of its summary.json as read.
 */
export interface RunShardCommit extends CommittedShard {
  /** `<jobId>` of the shard's directory. */
  jobId: string;
  /** `shard-<i>-of-<n>`. */
  shard: string;
  summarySha256: string;
  fingerprints: CommittedFile;
  counts: { read: number; accepted: number; rejected: number; duplicates: number };
  totalsByCurrency: Map<string, CurrencyTotal>;
}

const COUNT = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const MINOR_UNITS = /^(0|[1-9][0-9]*)$/;

/**
 * The full commit record of a shard for a run-level load (summary.json as the processor writes it):
 * everything `parseCommit` checks, plus `outputs.fingerprints{Bytes,Sha256}`, `counts` (read,
 * accepted, rejected, duplicates) and `totals.byCurrency` (`{count, amountMinor}` with minor units as
 * an integer string). A summary without them cannot give exact run totals: PermanentError naming the
 * shard and the field.
 */
export function parseRunCommit(dir: string, summaryText: string): RunShardCommit {
  const base = parseCommit(dir, summaryText);
  const summary = JSON.parse(summaryText) as { outputs: Record<string, unknown>; counts?: Record<string, unknown>; totals?: { byCurrency?: Record<string, unknown> } };
  const where = `${dir}/${SUMMARY}`;
  const fpBytes = summary.outputs.fingerprintsBytes;
  const fpSha = summary.outputs.fingerprintsSha256;
  if (!COUNT(fpBytes)) throw new PermanentError(`${where}: outputs.fingerprintsBytes must be a non-negative integer`);
  if (typeof fpSha !== 'string' || !SHA256.test(fpSha)) {
    throw new PermanentError(`${where}: outputs.fingerprintsSha256 must be the lowercase hex SHA-256 of ${FINGERPRINTS} (run totals cannot be exact without it)`);
  }
  const c = summary.counts;
  if (!c || typeof c !== 'object') throw new PermanentError(`${where}: no counts`);
  for (const k of ['read', 'accepted', 'rejected', 'duplicates']) {
    if (!COUNT(c[k])) throw new PermanentError(`${where}: counts.${k} must be a non-negative integer`);
  }
  const byCurrency = summary.totals?.byCurrency;
  if (!byCurrency || typeof byCurrency !== 'object' || Array.isArray(byCurrency)) throw new PermanentError(`${where}: no totals.byCurrency`);
  const totalsByCurrency = new Map<string, CurrencyTotal>();
  for (const [currency, t] of Object.entries(byCurrency)) {
    const { count, amountMinor } = (t ?? {}) as { count?: unknown; amountMinor?: unknown };
    if (!/^[A-Z]{3}$/.test(currency) || !COUNT(count) || typeof amountMinor !== 'string' || !MINOR_UNITS.test(amountMinor)) {
      throw new PermanentError(`${where}: totals.byCurrency entry ${totalsByCurrency.size + 1} must be {count, amountMinor} in integer minor units`);
    }
    totalsByCurrency.set(currency, { count, amountMinor: BigInt(amountMinor) });
  }
  const slash = dir.lastIndexOf('/');
  const parent = dir.slice(0, slash);
  return {
    ...base,
    jobId: parent.slice(parent.lastIndexOf('/') + 1),
    shard: dir.slice(slash + 1),
    summarySha256: crypto.createHash('sha256').update(summaryText, 'utf8').digest('hex'),
    fingerprints: { key: `${dir}/${FINGERPRINTS}`, bytes: fpBytes, sha256: fpSha },
    counts: { read: c.read as number, accepted: c.accepted as number, rejected: c.rejected as number, duplicates: c.duplicates as number },
    totalsByCurrency,
  };
}

/**
 * Checks bytes of one committed file as they stream in order: `update` each chunk (a file longer
 * than recorded is refused as soon as it passes the recorded size), `finish` after the last one
 * (byte count and SHA-256 must equal the commit record). Memory: one hash state.
 */
export class FileVerifier {
  private readonly hash = crypto.createHash('sha256');
  private seen = 0;
  constructor(private readonly file: CommittedFile) {}
  get bytes(): number {
    return this.seen;
  }
  update(chunk: Uint8Array): void {
    this.seen += chunk.length;
    if (this.seen > this.file.bytes) throw new PermanentError(`${this.file.key}: longer than the ${this.file.bytes} bytes its summary.json recorded`);
    this.hash.update(chunk);
  }
  finish(): void {
    if (this.seen !== this.file.bytes) throw new PermanentError(`${this.file.key}: ${this.seen} bytes, its summary.json recorded ${this.file.bytes}`);
    if (this.hash.digest('hex') !== this.file.sha256) throw new PermanentError(`${this.file.key}: SHA-256 differs from the one its summary.json recorded`);
  }
}
