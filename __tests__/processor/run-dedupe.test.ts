/** The run-level k-way merge of shards' fingerprint files (domain/run-dedupe.ts). */
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
