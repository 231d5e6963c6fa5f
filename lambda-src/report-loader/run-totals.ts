/**
 * Exact run totals across shards, for report-loader. Each shard de-duplicates only its own records,
 * so a transactionId in two shards (or two files) of one run would be loaded and counted twice. Before
 * anything is written, `findRunDuplicates` merges every committed shard's sorted `fingerprints.tsv`
 * (domain/run-dedupe.ts, shards in run order: job id, then shard index) and keeps only the positions
 * (shard, accepted line) of fingerprints that occur more than once. While the accepted files stream
 * into the database, `RunDuplicates.keep` confirms each candidate by its transactionId (two ids with
 * one 64-bit fingerprint are both loaded): the first occurrence of an id in run order is loaded, every
 * later one is skipped and subtracted from the run's totals, exactly (bigint minor units).
 *
 * Memory: the fingerprint files are read in sequential ranged windows (no connection is held between
 * windows, so a run of thousands of shards never waits for a socket), at most two windows per shard
 * (the next one prefetched) within a fixed budget; a run of one shard has nothing to merge (the
 * processor already de-duplicated it by the same fingerprint) and only streams its file through the hash; the merge holds one entry per shard; only the candidate positions are kept, and each
 * is dropped once its line has been loaded.
 */
import { StringDecoder } from 'string_decoder';
import { FingerprintFormatError, mergeShardFingerprints, parseFingerprintLine } from '../../domain/run-dedupe';
import type { FingerprintEntry } from '../../domain/run-dedupe';
import type { Transaction } from '../../domain/transaction';
import { PermanentError } from '../shared/errors';
import { openBody, readRange } from '../shared/s3-object';
import { CommittedFile, CurrencyTotal, FileVerifier, RunShardCommit } from '../shared/shard-outputs';

/** Memory all shards' fingerprint windows may hold together; each shard's window is within [64 KiB, 1 MiB], two in flight (the next one prefetched). */
export const FINGERPRINT_WINDOW_BUDGET = 32 << 20;

export function windowBytesFor(shards: number): number {
  return Math.max(64 << 10, Math.min(1 << 20, Math.floor(FINGERPRINT_WINDOW_BUDGET / Math.max(1, shards))));
}

/**
 * The lines (without LF) of a committed file, read in ranged windows of `windowBytes` (the next one
 * fetched while the current one is consumed) and verified:
 * the object's size must be the recorded one, later windows are pinned to the first one's ETag, and
 * the SHA-256 of all bytes must equal the recorded one (checked before the last line is given out).
 */
export async function* rangedLines(bucket: string, file: CommittedFile, windowBytes: number): AsyncGenerator<string> {
  const verifier = new FileVerifier(file);
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let etag: string | undefined;
  let start = 0;
  const fetch = (from: number) => {
    const p = readRange(bucket, file.key, from, Math.min(file.bytes, from + windowBytes) - 1, etag);
    // Awaited below; a consumer that stops early must not leave an unhandled rejection behind.
    p.catch(() => undefined);
    return p;
  };
  let pending = file.bytes > 0 ? fetch(0) : undefined;
  while (pending) {
    const r = await pending;
    if (etag === undefined && r.size !== undefined && r.size !== file.bytes) {
      throw new PermanentError(`${file.key}: ${r.size} bytes, its summary.json recorded ${file.bytes}`);
    }
    etag ??= r.etag;
    if (r.bytes === 0) break;
    start += r.bytes;
    // The next window is fetched while this one is parsed and merged (at most two per shard in memory).
    pending = start < file.bytes ? fetch(start) : undefined;
    for (const part of r.parts) {
      verifier.update(part);
      const text = rest + decoder.write(part as Buffer);
      let from = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
        yield text.slice(from, nl);
        from = nl + 1;
      }
      rest = text.slice(from);
    }
  }
  rest += decoder.end();
  verifier.finish();
  if (rest !== '') yield rest;
}

/** Streams a committed file once (one GET) and checks its size and SHA-256 (nothing parsed). */
async function verifyFile(bucket: string, file: CommittedFile): Promise<void> {
  const verifier = new FileVerifier(file);
  let body: AsyncIterable<Uint8Array>;
  try {
    body = await openBody(bucket, file.key);
  } catch (err) {
    // Like accepted.jsonl: a shard with nothing accepted may have no file; one that recorded bytes must.
    if (file.bytes === 0 && err instanceof PermanentError) return verifier.finish();
    throw err;
  }
  for await (const chunk of body) verifier.update(chunk);
  verifier.finish();
}

async function* entriesOf(bucket: string, file: CommittedFile, windowBytes: number): AsyncGenerator<FingerprintEntry> {
  let n = 0;
  for await (const text of rangedLines(bucket, file, windowBytes)) {
    n++;
    if (text === '') continue;
    try {
      yield parseFingerprintLine(text, `${file.key} line ${n}`);
    } catch (err) {
      if (err instanceof FingerprintFormatError) throw new PermanentError(err.message);
      throw err;
    }
  }
}

interface Position {
  fingerprint: string;
  /** What fingerprints.tsv says of a later occurrence (checked against the accepted line). */
  expect?: { currency: string; amountMinor: string; jurisdiction: string; accountId: string };
}

/**
 * Candidate duplicates of a run, consumed while the accepted files load (`keep`, in run order).
 * Figures: `skipped` (confirmed later occurrences), `collisions` (same fingerprint, other id: loaded)
 * and the exact amounts skipped per currency.
 */
export class RunDuplicates {
  /** shard -> accepted line -> fingerprint group. */
  private readonly positions = new Map<number, Map<number, Position>>();
  /** fingerprint -> positions not yet loaded, and the ids already loaded in that group. */
  private readonly groups = new Map<string, { remaining: number; kept: string[] }>();
  private pending = 0;
  skipped = 0;
  collisions = 0;
  readonly skippedByCurrency = new Map<string, CurrencyTotal>();

  /** Positions still to be visited (for tests and the final check). */
  get candidates(): number {
    return this.pending;
  }

  add(shard: number, line: number, fingerprint: string, expect?: Position['expect']): void {
    let lines = this.positions.get(shard);
    if (!lines) this.positions.set(shard, (lines = new Map()));
    if (lines.has(line)) return;
    lines.set(line, { fingerprint, expect });
    const g = this.groups.get(fingerprint) ?? { remaining: 0, kept: [] };
    g.remaining++;
    this.groups.set(fingerprint, g);
    this.pending++;
  }

  /**
   * Whether the record at (shard, line) is loaded: false only for a later occurrence of an id already
   * loaded in this run. Call for every accepted line, in run order.
   */
  keep(shard: number, line: number, tx: Transaction, key: string): boolean {
    if (this.pending === 0) return true;
    const lines = this.positions.get(shard);
    const pos = lines?.get(line);
    if (!pos) return true;
    const where = `${key} line ${line}`;
    lines!.delete(line);
    this.pending--;
    const e = pos.expect;
    if (e && (e.currency !== tx.currency || e.amountMinor !== tx.amountMinor.toString() || e.jurisdiction !== tx.jurisdiction || e.accountId !== tx.accountId)) {
      throw new PermanentError(`${where}: its fingerprints.tsv entry disagrees with the accepted record (currency, amount, jurisdiction or account)`);
    }
    const g = this.groups.get(pos.fingerprint)!;
    if (--g.remaining === 0) this.groups.delete(pos.fingerprint);
    if (g.kept.includes(tx.transactionId)) {
      this.skipped++;
      const t = this.skippedByCurrency.get(tx.currency) ?? { count: 0, amountMinor: 0n };
      t.count++;
      t.amountMinor += tx.amountMinor;
      this.skippedByCurrency.set(tx.currency, t);
      return false;
    }
    if (g.kept.length > 0) this.collisions++;
    g.kept.push(tx.transactionId);
    return true;
  }

  /** After every shard has loaded: a position never reached names a line its accepted.jsonl lacks. */
  finish(shards: RunShardCommit[]): void {
    for (const [shard, lines] of this.positions) {
      for (const line of lines.keys()) {
        throw new PermanentError(`${shards[shard].fingerprints.key}: names accepted line ${line}, which ${shards[shard].acceptedKey} does not have`);
      }
    }
  }
}

/**
 * Merges the fingerprint files of `shards` (run order) and returns every position whose fingerprint
 * occurs more than once in the run. Reads and verifies each file (size, SHA-256) as it streams.
 */
export async function findRunDuplicates(bucket: string, shards: RunShardCommit[]): Promise<RunDuplicates> {
  const found = new RunDuplicates();
  const window = windowBytesFor(shards.length);
  if (shards.length === 1) {
    // One shard cannot repeat an id: the processor de-duplicates it by this very fingerprint (a repeat is
    // a DUPLICATE reject, not a line of fingerprints.tsv). Its file is still verified (size, SHA-256).
    await verifyFile(bucket, shards[0].fingerprints);
    return found;
  }
  const streams = shards.map((s) => entriesOf(bucket, s.fingerprints, window));
  try {
    for await (const d of mergeShardFingerprints(streams)) {
      found.add(d.first.shard, d.first.line, d.fingerprint);
      const { shard, line, currency, amountMinor, jurisdiction, accountId } = d.duplicate;
      found.add(shard, line, d.fingerprint, { currency, amountMinor, jurisdiction, accountId });
    }
  } catch (err) {
    if (err instanceof FingerprintFormatError) throw new PermanentError(err.message.replace(/^shard (\d+)/, (_, i) => shards[Number(i)]?.fingerprints.key ?? `shard ${i}`));
    throw err;
  }
  return found;
}

/**
 * Per-currency count and exact sum of what is loaded, without a bigint per row: amounts (integer minor
 * units) add up in a double while the sum stays below 2^52 (exact), then move into the bigint.
 */
export class CurrencySums {
  private readonly sums = new Map<string, { count: number; small: number; big: bigint }>();
  add(currency: string, amountMinor: bigint): void {
    let s = this.sums.get(currency);
    if (!s) this.sums.set(currency, (s = { count: 0, small: 0, big: 0n }));
    s.count++;
    const a = Number(amountMinor);
    // Integer minor units only; the running sum stays within ±2^52 (exact in a double) or moves to the bigint.
    if (!Number.isSafeInteger(a) || Math.abs(s.small + a) > 2 ** 52) {
      s.big += BigInt(s.small) + amountMinor;
      s.small = 0;
    } else {
      s.small += a;
    }
  }
  totals(): Map<string, CurrencyTotal> {
    return new Map([...this.sums].map(([c, s]) => [c, { count: s.count, amountMinor: s.big + BigInt(s.small) }]));
  }
}

/** The run's figures, exact: the shards' commit records summed, less the confirmed cross-shard duplicates. */
export interface RunFigures {
  read: number;
  accepted: number;
  rejected: number;
  /** Duplicates each shard found within itself (its summary.json). */
  duplicatesWithinShards: number;
  /** Later occurrences of an id already accepted in an earlier shard or file of the run (skipped). */
  crossShardDuplicates: number;
  /** Per currency, in code-unit order. */
  totalsByCurrency: Array<{ currency: string; count: number; amountMinor: bigint }>;
}

/**
 * Sums the shards' commit records, subtracts what was skipped and checks the result against what
 * was actually loaded (per currency count and amount, and the row count): any difference refuses
 * the run (PermanentError; the caller rolls back).
 */
export function reconcileRun(shards: RunShardCommit[], dups: RunDuplicates, loaded: { rows: number; byCurrency: Map<string, CurrencyTotal> }): RunFigures {
  const sum = { read: 0, accepted: 0, rejected: 0, duplicates: 0 };
  const totals = new Map<string, CurrencyTotal>();
  for (const s of shards) {
    sum.read += s.counts.read;
    sum.accepted += s.counts.accepted;
    sum.rejected += s.counts.rejected;
    sum.duplicates += s.counts.duplicates;
    for (const [currency, t] of s.totalsByCurrency) {
      const r = totals.get(currency) ?? { count: 0, amountMinor: 0n };
      r.count += t.count;
      r.amountMinor += t.amountMinor;
      totals.set(currency, r);
    }
  }
  for (const [currency, t] of dups.skippedByCurrency) {
    const r = totals.get(currency) ?? { count: 0, amountMinor: 0n };
    r.count -= t.count;
    r.amountMinor -= t.amountMinor;
    totals.set(currency, r);
  }
  const accepted = sum.accepted - dups.skipped;
  if (accepted !== loaded.rows) {
    throw new PermanentError(`run totals do not reconcile: the shards' summaries record ${sum.accepted} accepted less ${dups.skipped} cross-shard duplicates, ${loaded.rows} rows were loaded`);
  }
  const currencies = [...new Set([...totals.keys(), ...loaded.byCurrency.keys()])].sort();
  const totalsByCurrency: RunFigures['totalsByCurrency'] = [];
  for (const currency of currencies) {
    const want = totals.get(currency) ?? { count: 0, amountMinor: 0n };
    const got = loaded.byCurrency.get(currency) ?? { count: 0, amountMinor: 0n };
    if (want.count !== got.count || want.amountMinor !== got.amountMinor) {
      throw new PermanentError(`run totals do not reconcile in ${currency}: summaries less duplicates give ${want.count} records / ${want.amountMinor} minor units, ${got.count} / ${got.amountMinor} were loaded`);
    }
    if (want.count > 0) totalsByCurrency.push({ currency, count: want.count, amountMinor: want.amountMinor });
  }
  return {
    read: sum.read, accepted, rejected: sum.rejected, duplicatesWithinShards: sum.duplicates,
    crossShardDuplicates: dups.skipped, totalsByCurrency,
  };
}

/** `processed/<runId>/run-summary.json`: the run's figures and the shards they come from; no wall-clock time, so a re-load writes the same bytes. */
export function runSummaryJson(runId: string, reportDate: string | null, figures: RunFigures, shards: RunShardCommit[], uncommittedShards: number): string {
  return JSON.stringify({
    schemaVersion: 1,
    runId,
    reportDate,
    counts: {
      read: figures.read, accepted: figures.accepted, rejected: figures.rejected,
      duplicatesWithinShards: figures.duplicatesWithinShards, crossShardDuplicates: figures.crossShardDuplicates,
    },
    totalsByCurrency: Object.fromEntries(figures.totalsByCurrency.map((t) => [t.currency, { count: t.count, amountMinor: t.amountMinor.toString() }])),
    uncommittedShards,
    shards: shards.map((s) => ({ jobId: s.jobId, shard: s.shard, summarySha256: s.summarySha256, accepted: s.counts.accepted })),
  }, null, 2) + '\n';
}
