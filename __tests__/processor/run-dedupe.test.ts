/** The run-level k-way merge of shards' fingerprint files (domain/run-dedupe.ts). */
import { CURRENCY_CODES } from '../../domain/money';
import { JURISDICTIONS } from '../../domain/transaction';
import { AcceptedIndex } from '../../processor/src/fingerprints';
import {
  addCorrection,
  emptyCorrections,
  FingerprintEntry,
  formatFingerprintLine,
  mergeShardFingerprints,
  parseFingerprintLine,
  parseFingerprintLines,
  RunDuplicate,
} from '../../domain/run-dedupe';

const fp = (n: number) => n.toString(16).padStart(16, '0');
const entry = (n: number, line: number, amountMinor = '100', currency = 'EUR', accountId = 'ACC-1', jurisdiction = 'EU'): FingerprintEntry => ({
  fingerprint: fp(n),
  line,
  currency,
  amountMinor,
  jurisdiction,
  accountId,
});
const sorted = (es: FingerprintEntry[]) => [...es].sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : a.line - b.line));

async function collect(shards: FingerprintEntry[][], asAsync = false): Promise<RunDuplicate[]> {
  const inputs = shards.map((s) =>
    asAsync
      ? (async function* () {
          for (const e of s) yield e;
        })()
      : s,
  );
  const out: RunDuplicate[] = [];
  for await (const d of mergeShardFingerprints(inputs)) out.push(d);
  return out;
}

describe('mergeShardFingerprints', () => {
  it('finds nothing when ids are unique across shards', async () => {
    expect(await collect([sorted([entry(5, 1), entry(1, 2)]), sorted([entry(2, 1), entry(9, 2)]), []])).toEqual([]);
  });

  it('yields the later occurrence of an id duplicated across two shards, keeping the earlier shard', async () => {
    const dups = await collect([sorted([entry(7, 1), entry(3, 2)]), sorted([entry(3, 4, '250', 'USD', 'ACC-9', 'US'), entry(8, 1)])]);
    expect(dups).toEqual([
      { fingerprint: fp(3), first: { shard: 0, line: 2 }, duplicate: { shard: 1, line: 4, currency: 'USD', amountMinor: '250', jurisdiction: 'US', accountId: 'ACC-9' } },
    ]);
  });

  it.each([2, 3, 5, 8])('with %i shards: every occurrence after the first, in shard order, exactly once', async (n) => {
    // id k appears in shards k % n .. n-1 (so 1..n times); a few ids are unique to one shard.
    const shards: FingerprintEntry[][] = Array.from({ length: n }, () => []);
    const expected: RunDuplicate[] = [];
    for (let k = 0; k < 40; k++) {
      const firstShard = k % n;
      for (let s = firstShard; s < n; s++) {
        const e = entry(k * 7919, shards[s].length + 1, String(k + s), 'GBP', `ACC-${k}`, 'UK');
        shards[s].push(e);
        if (s > firstShard) {
          expected.push({
            fingerprint: e.fingerprint,
            first: { shard: firstShard, line: shards[firstShard].find((x) => x.fingerprint === e.fingerprint)!.line },
            duplicate: { shard: s, line: e.line, currency: 'GBP', amountMinor: String(k + s), jurisdiction: 'UK', accountId: `ACC-${k}` },
          });
        }
      }
    }
    const dups = await collect(shards.map(sorted), n % 2 === 1);
    // Merge order: by fingerprint, then shard, then line.
    const order = (a: RunDuplicate, b: RunDuplicate) =>
      a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : a.duplicate.shard - b.duplicate.shard || a.duplicate.line - b.duplicate.line;
    expect(dups).toEqual([...expected].sort(order));
    expect(dups.length).toBeGreaterThan(0);

    const c = dups.reduce(addCorrection, emptyCorrections());
    const total = expected.reduce((s, d) => s + BigInt(d.duplicate.amountMinor), 0n);
    expect(c.byCurrency.get('GBP')).toEqual({ count: expected.length, amountMinor: total });
    expect(c.byJurisdiction.get('GBP')!.get('UK')).toEqual({ count: expected.length, amountMinor: total });
    const acc0 = expected.filter((d) => d.duplicate.accountId === 'ACC-0');
    expect(c.byAccount.get('ACC-0')?.get('GBP')).toEqual(acc0.length ? { count: acc0.length, amountMinor: acc0.reduce((s, d) => s + BigInt(d.duplicate.amountMinor), 0n) } : undefined);
  });

  it('treats a repeat within one shard as a duplicate too (first line kept)', async () => {
    expect(await collect([[entry(1, 2), entry(1, 5)]])).toEqual([
      { fingerprint: fp(1), first: { shard: 0, line: 2 }, duplicate: expect.objectContaining({ shard: 0, line: 5 }) },
    ]);
  });

  it('refuses an unsorted stream, naming the shard and line', async () => {
    await expect(collect([[entry(1, 1)], [entry(9, 1), entry(2, 2)]])).rejects.toThrow('shard 1: fingerprints are not sorted (at accepted line 2)');
  });

  it('keeps amounts exact beyond 2^53', async () => {
    const big = '123456789012345678901';
    const [d] = await collect([[entry(4, 1)], [entry(4, 1, big)]]);
    expect(addCorrection(emptyCorrections(), d).byCurrency.get('EUR')!.amountMinor).toBe(BigInt(big));
  });
});

describe('fingerprints.tsv lines', () => {
  it('round-trip and refuse malformed lines without echoing them', async () => {
    const e = entry(0xabcdef, 12, '4711', 'JPY', 'ACC-7', 'APAC');
    const text = formatFingerprintLine(e);
    expect(text).toBe('0000000000abcdef\t12\tJPY\t4711\tAPAC\tACC-7\n');
    expect(parseFingerprintLine(text.slice(0, -1))).toEqual(e);
    const parsed: FingerprintEntry[] = [];
    for await (const p of parseFingerprintLines([text.slice(0, -1), ''])) parsed.push(p);
    expect(parsed).toEqual([e]);
    expect(() => parseFingerprintLine('4111111111111111x\t1\tEUR\t1\tEU\tA', 'shard-1 line 3')).toThrow(/^shard-1 line 3: fingerprint must be 16 lowercase hex digits$/);
    expect(() => parseFingerprintLine('0000000000abcdef\t1\tEUR\t1.5\tEU\tA')).toThrow('amountMinor must be a non-negative integer');
  });
});

describe('AcceptedIndex (the processor side of fingerprints.tsv)', () => {
  it('writes exactly what formatFingerprintLine writes, sorted by fingerprint then line, across chunk boundaries', () => {
    // Digit-count edges of line numbers and amounts (both write paths: below and above 2^31), equal
    // fingerprints (stable by line), fingerprints in the same top-16-bit bucket, hex digits a-f.
    const amounts = [1, 9, 10, 99, 100, 999, 1000, 9999, 10000, 99999, 100000, 9999999, 10000000, 99999999, 100000000, 999999999, 1000000000, 2147483647, 2147483648, 4294967295, 4294967296, 123456789012345, 2 ** 53 - 1];
    const keys = ['ACC-1', 'A', 'ACCOUNT-WITH-A-LONG-ID-0123456789AB', 'acc_7'];
    const index = new AcceptedIndex(4);
    const expected: { hi: number; lo: number; line: number; text: string }[] = [];
    for (let i = 0; i < 12000; i++) {
      const hi = i % 7 === 0 ? 0xabcd0000 : (Math.imul(i + 1, 0x9e3779b1) >>> 0);
      const lo = i % 7 === 0 ? 0xffffffff - (i % 3) : (Math.imul(i + 7, 0x85ebca6b) >>> 0);
      const minor = amounts[i % amounts.length];
      const c = i % CURRENCY_CODES.length;
      const j = i % JURISDICTIONS.length;
      const a = i % keys.length;
      index.add(hi, lo, c, j, minor, a);
      const fingerprint = hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
      const text = formatFingerprintLine({ fingerprint, line: i + 1, currency: CURRENCY_CODES[c], amountMinor: String(minor), jurisdiction: JURISDICTIONS[j], accountId: keys[a] });
      expected.push({ hi, lo, line: i + 1, text });
    }
    expected.sort((x, y) => x.hi - y.hi || x.lo - y.lo || x.line - y.line);
    const chunks = [...index.chunks((a) => keys[a], keys.length, 4096)];
    expect(chunks.length).toBeGreaterThan(1);
    expect(Buffer.concat(chunks).toString('latin1')).toBe(expected.map((e) => e.text).join(''));
  });
});

describe('AcceptedIndex, large indexes (one top bucket at a time)', () => {
  it('writes the same bytes in the same chunks as the one-copy sort, for crowded, empty and single-record buckets', () => {
    const keys = ['ACC-1', 'B-22', 'ACCOUNT-WITH-A-LONG-ID-0123456789AB'];
    let seed = 11;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const build = () => {
      const index = new AcceptedIndex(8);
      seed = 11;
      for (let i = 0; i < 30_000; i++) {
        // Top bytes: one crowded (0xab), a few singles (0x01, 0xfe), the rest spread; repeated fingerprints.
        const top = i % 4 === 0 ? 0xab : i === 5 ? 0x01 : i === 9 ? 0xfe : 0x10 + (next() % 0x60);
        const hi = ((top << 24) | (next() & 0xffffff)) >>> 0;
        const lo = i % 13 === 0 ? 7 : next();
        index.add(i % 17 === 0 ? 0xab000000 : hi, lo, i % CURRENCY_CODES.length, i % JURISDICTIONS.length, (i * 7919) % 1_000_003, i % keys.length);
      }
      return index;
    };
    const oneCopy = [...build().chunks((a) => keys[a], keys.length, 4096)];
    const bucketed = [...build().chunks((a) => keys[a], keys.length, 4096, 0)];
    expect(oneCopy.length).toBeGreaterThan(1);
    expect(bucketed.map((c) => c.length)).toEqual(oneCopy.map((c) => c.length));
    expect(Buffer.concat(bucketed).equals(Buffer.concat(oneCopy))).toBe(true);
  });
});

describe('AcceptedIndex order', () => {
  it('orders by fingerprint then line like a plain sort, with crowded and empty buckets at every level', () => {
    const index = new AcceptedIndex(16);
    const keys: [number, number, number][] = [];
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    // Top 16 bits from a few values (buckets of thousands, first and last of each level) or random.
    const tops = [0x0000, 0xffff, 0x00ff, 0xff00, 0xabcd, 0xab00, 0xabff];
    for (let i = 0; i < 60_000; i++) {
      const top = i % 3 === 0 ? next() >>> 16 : tops[next() % tops.length];
      const hi = ((top << 16) | (next() % 4 === 0 ? 0 : next() & 0xffff)) >>> 0;
      const lo = next() % 5 === 0 ? 42 : next();
      index.add(hi, lo, 0, 0, 1, 0);
      keys.push([hi, lo, i]);
    }
    keys.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
    expect(Array.from(index.sortedOrder())).toEqual(keys.map((k) => k[2]));
    // Small indexes: top buckets of 0, 1 and 2 records.
    for (const size of [0, 1, 2, 3, 5, 17, 300]) {
      for (let trial = 0; trial < 20; trial++) {
        const small = new AcceptedIndex(4);
        const want: [number, number, number][] = [];
        for (let i = 0; i < size; i++) {
          const hi = (next() % 4 === 0 ? 0x42 << 24 : next()) >>> 0;
          const lo = next();
          small.add(hi, lo, 0, 0, 1, 0);
          want.push([hi, lo, i]);
        }
        want.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
        expect(Array.from(small.sortedOrder())).toEqual(want.map((k) => k[2]));
      }
    }
  });
});

describe('processor shards + merge', () => {
  it('fingerprints.tsv of each shard lets the merge correct the run totals to the unsharded ones exactly', async () => {
    const fs = await import('fs');
    const path = await import('path');
    const { HEADER, processFile, row, tempDir } = await import('./local-helpers');
    const dir = tempDir();
    const file = path.join(dir, 'in.csv');
    // 3000 records; ids repeat across the whole file so that most repeats land in a different shard.
    const rows = Array.from({ length: 3000 }, (_, i) => row(`T${i % 2500}`, { amount: `${(i % 97) + 1}.05`, currency: i % 3 ? 'EUR' : 'USD', jurisdiction: i % 3 ? 'EU' : 'US', accountId: `ACC-${i % 13}` }));
    fs.writeFileSync(file, [HEADER, ...rows].join('\n') + '\n');
    const whole = await processFile(file);
    const n = 3;
    const shards = [];
    for (let i = 0; i < n; i++) shards.push(await processFile(file, { index: i, count: n }));
    const streams = shards.map((s) => parseFingerprintLines(fs.readFileSync(path.join(s.dir, 'fingerprints.tsv'), 'utf8').split('\n')));
    const c = emptyCorrections();
    let found = 0;
    for await (const d of mergeShardFingerprints(streams)) {
      addCorrection(c, d);
      found++;
      const kept = shards[d.first.shard].accepted[d.first.line - 1];
      const dup = shards[d.duplicate.shard].accepted[d.duplicate.line - 1];
      expect(dup.transactionId).toBe(kept.transactionId);
      expect(dup.amountMinor).toBe(d.duplicate.amountMinor);
    }
    expect(found).toBeGreaterThan(0);
    const shardAccepted = shards.reduce((s, x) => s + x.summary.counts.accepted, 0);
    expect(shardAccepted - found).toBe(whole.summary.counts.accepted);
    for (const [cur, t] of Object.entries(whole.summary.totals.byCurrency)) {
      const sum = shards.reduce((s, x) => s + BigInt(x.summary.totals.byCurrency[cur]?.amountMinor ?? '0'), 0n);
      expect((sum - (c.byCurrency.get(cur)?.amountMinor ?? 0n)).toString()).toBe(t.amountMinor);
    }
    // Sorted, one line per accepted record.
    const lines = fs.readFileSync(path.join(shards[1].dir, 'fingerprints.tsv'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(shards[1].summary.counts.accepted);
    const keys = lines.map((l) => l.slice(0, 16));
    expect(keys).toEqual([...keys].sort());
  });
});
