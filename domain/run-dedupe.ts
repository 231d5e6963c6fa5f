/**
 * Run-level de-duplication across shards. Each shard de-duplicates its own records and commits
 * `fingerprints.tsv`: one line per accepted record, sorted by fingerprint,
 *
 *   <fingerprint: 16 lowercase hex digits> TAB <line in the shard's accepted.jsonl, from 1>
 *     TAB <currency> TAB <amountMinor> TAB <jurisdiction> TAB <accountId> LF
 *
 * (the fingerprint is the 64-bit hash of the transactionId the shard's dedupe uses). Given every
 * shard's entries in shard order, `mergeShardFingerprints` streams a k-way merge and yields each
 * later occurrence of a fingerprint already seen in an earlier shard (or earlier in the same shard),
 * with what must be subtracted from the run's totals: its currency and amount, jurisdiction and
 * account. The first occurrence in file order (lowest shard, then lowest line) is the one kept, as
 * within a shard. Memory: one entry per shard.
 *
 * Two different ids with the same 64-bit fingerprint (probability about n^2 / 2^65 for n ids) would
 * be reported as a duplicate; each result names both positions (shard + accepted line), so a caller
 * that must be certain compares the two lines' transactionId before subtracting.
 *
 * Pure: no I/O, no AWS; callers adapt their streams with `parseFingerprintLines`.
 */

export interface FingerprintEntry {
  /** 16 lowercase hex digits. */
  fingerprint: string;
  /** Line of the record in its shard's accepted.jsonl (1-based). */
  line: number;
  currency: string;
  /** Integer minor units as a decimal string (never a float). */
  amountMinor: string;
  jurisdiction: string;
  accountId: string;
}

export interface Occurrence {
  /** Index of the shard in the list given to the merge (shard order). */
  shard: number;
  line: number;
}

export interface RunDuplicate {
  fingerprint: string;
  /** The occurrence kept. */
  first: Occurrence;
  /** The later occurrence, to subtract from the run's totals. */
  duplicate: Occurrence & Omit<FingerprintEntry, 'fingerprint' | 'line'>;
}

export class FingerprintFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FingerprintFormatError';
  }
}

const FINGERPRINT = /^[0-9a-f]{16}$/;
const MINOR = /^(0|[1-9][0-9]*)$/;

/** Parses one line of fingerprints.tsv; errors name the position, never the content. */
export function parseFingerprintLine(text: string, where = 'line'): FingerprintEntry {
  const f = text.split('\t');
  if (f.length !== 6) throw new FingerprintFormatError(`${where}: expected 6 tab-separated fields, got ${f.length}`);
  const line = Number(f[1]);
  if (!FINGERPRINT.test(f[0])) throw new FingerprintFormatError(`${where}: fingerprint must be 16 lowercase hex digits`);
  if (!Number.isSafeInteger(line) || line < 1) throw new FingerprintFormatError(`${where}: line must be a positive integer`);
  if (!MINOR.test(f[3])) throw new FingerprintFormatError(`${where}: amountMinor must be a non-negative integer`);
  return { fingerprint: f[0], line, currency: f[2], amountMinor: f[3], jurisdiction: f[4], accountId: f[5] };
}

/** Formats one entry as a fingerprints.tsv line (with its LF). */
export function formatFingerprintLine(e: FingerprintEntry): string {
  return `${e.fingerprint}\t${e.line}\t${e.currency}\t${e.amountMinor}\t${e.jurisdiction}\t${e.accountId}\n`;
}

/** Adapts a stream of text lines (without LF; empty lines skipped) to entries. */
export async function* parseFingerprintLines(lines: AsyncIterable<string> | Iterable<string>, name = 'fingerprints'): AsyncGenerator<FingerprintEntry> {
  let n = 0;
  for await (const text of lines) {
    n++;
    if (text === '') continue;
    yield parseFingerprintLine(text, `${name} line ${n}`);
  }
}

type Source = AsyncIterator<FingerprintEntry> | Iterator<FingerprintEntry>;

interface Head {
  shard: number;
  entry: FingerprintEntry;
  source: Source;
}

const before = (a: Head, b: Head): boolean =>
  a.entry.fingerprint < b.entry.fingerprint ||
  (a.entry.fingerprint === b.entry.fingerprint && (a.shard < b.shard || (a.shard === b.shard && a.entry.line < b.entry.line)));

/**
 * k-way merge of the shards' sorted fingerprint streams (index = shard order). Yields, in fingerprint
 * order, every occurrence after the first of each fingerprint. Throws FingerprintFormatError when a
 * stream is not sorted.
 */
export async function* mergeShardFingerprints(
  shards: ReadonlyArray<AsyncIterable<FingerprintEntry> | Iterable<FingerprintEntry>>,
): AsyncGenerator<RunDuplicate> {
  const heap: Head[] = [];
  const push = (h: Head) => {
    heap.push(h);
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  };
  const pop = (): Head => {
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l], heap[m])) m = l;
        if (r < heap.length && before(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    return top;
  };
  const advance = async (shard: number, source: Source, previous?: FingerprintEntry): Promise<void> => {
    const next = await source.next();
    if (next.done) return;
    const entry = next.value;
    if (previous && (entry.fingerprint < previous.fingerprint || (entry.fingerprint === previous.fingerprint && entry.line <= previous.line))) {
      throw new FingerprintFormatError(`shard ${shard}: fingerprints are not sorted (at accepted line ${entry.line})`);
    }
    push({ shard, entry, source });
  };

  for (let shard = 0; shard < shards.length; shard++) {
    const s = shards[shard];
    const source: Source = Symbol.asyncIterator in s ? (s as AsyncIterable<FingerprintEntry>)[Symbol.asyncIterator]() : (s as Iterable<FingerprintEntry>)[Symbol.iterator]();
    await advance(shard, source);
  }
  let kept: { fingerprint: string; first: Occurrence } | undefined;
  while (heap.length > 0) {
    const head = pop();
    const e = head.entry;
    if (kept && kept.fingerprint === e.fingerprint) {
      yield {
        fingerprint: e.fingerprint,
        first: kept.first,
        duplicate: { shard: head.shard, line: e.line, currency: e.currency, amountMinor: e.amountMinor, jurisdiction: e.jurisdiction, accountId: e.accountId },
      };
    } else {
      kept = { fingerprint: e.fingerprint, first: { shard: head.shard, line: e.line } };
    }
    await advance(head.shard, head.source, e);
  }
}

export interface Correction {
  count: number;
  amountMinor: bigint;
}

/**
 * What to subtract from the run's totals, exactly (bigint): per currency, per currency × jurisdiction
 * and per currency × account.
 */
export interface RunCorrections {
  byCurrency: Map<string, Correction>;
  byJurisdiction: Map<string, Map<string, Correction>>;
  byAccount: Map<string, Map<string, Correction>>;
}

export function emptyCorrections(): RunCorrections {
  return { byCurrency: new Map(), byJurisdiction: new Map(), byAccount: new Map() };
}

/** Adds one duplicate to `into` (streaming: call it for each merge result). */
export function addCorrection(into: RunCorrections, d: RunDuplicate): RunCorrections {
  const amount = BigInt(d.duplicate.amountMinor);
  const bump = (m: Map<string, Correction>, key: string) => {
    const c = m.get(key) ?? { count: 0, amountMinor: 0n };
    c.count++;
    c.amountMinor += amount;
    m.set(key, c);
  };
  const { currency, jurisdiction, accountId } = d.duplicate;
  bump(into.byCurrency, currency);
  if (!into.byJurisdiction.has(currency)) into.byJurisdiction.set(currency, new Map());
  bump(into.byJurisdiction.get(currency)!, jurisdiction);
  if (!into.byAccount.has(accountId)) into.byAccount.set(accountId, new Map());
  bump(into.byAccount.get(accountId)!, currency);
  return into;
}
