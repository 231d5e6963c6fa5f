/** Generated files cross-checked against the generator's own expectations; shards vs. whole file. */
import * as fs from 'fs';
import * as path from 'path';
import { BAD_KINDS, generate, Manifest } from '../../scripts/generate-transactions';
import { frameLines } from '../../processor/src/lines';
import { FingerprintSet, fingerprintBytes } from '../../processor/src/dedupe';
import { LocalRun, processFile, tempDir } from './local-helpers';

async function generated(options: Partial<Parameters<typeof generate>[0]> = {}): Promise<{ file: string; manifest: Manifest }> {
  const file = path.join(tempDir(), 'gen.csv');
  const manifest = await generate({ count: 5000, out: file, seed: 7, badShare: 0.1, ...options });
  return { file, manifest };
}

function expectMatchesManifest(run: LocalRun, manifest: Manifest) {
  const r = run.summary.counts.byReason;
  const sum = (...reasons: string[]) => reasons.reduce((s, k) => s + (r[k] ?? 0), 0);
  expect(run.summary.counts.read).toBe(manifest.count);
  expect(run.summary.counts.accepted).toBe(manifest.valid);
  expect(sum('PAN_DETECTED')).toBe(manifest.bad.pan ?? 0);
  expect(sum('COLUMN_COUNT')).toBe(manifest.bad.columns ?? 0);
  expect(sum('BROKEN_QUOTE')).toBe(manifest.bad.quote ?? 0);
  expect(sum('INVALID_UTF8')).toBe(manifest.bad.utf8 ?? 0);
  expect(sum('DUPLICATE')).toBe(manifest.bad.duplicate ?? 0);
  expect(sum('TIMESTAMP_INVALID')).toBe(manifest.bad.timestamp ?? 0);
  expect(sum('AMOUNT_FORMAT', 'AMOUNT_PRECISION', 'AMOUNT_NOT_POSITIVE', 'AMOUNT_OVER_LIMIT', 'CURRENCY_UNSUPPORTED', 'MISSING_FIELD')).toBe((manifest.bad.amount ?? 0) + (manifest.bad.currency ?? 0));
  const minor = Object.fromEntries(Object.entries(run.summary.totals.byCurrency).map(([c, t]) => [c, t.amountMinor]));
  expect(minor).toEqual(manifest.totalsMinor);
}

describe('generated input', () => {
  it('finds exactly the bad records and totals the generator planted', async () => {
    const { file, manifest } = await generated();
    for (const kind of BAD_KINDS) expect(manifest.bad[kind]).toBeGreaterThan(0);
    const run = await processFile(file);
    expectMatchesManifest(run, manifest);
    expect(run.summary.reconciliation.ok).toBe(true);
    expect(run.accepted).toHaveLength(manifest.valid);
  });

  it.each([
    ['CRLF + BOM + shuffled header', { crlf: true, bom: true, shuffleHeader: true }],
    ['gzip', { gzip: true }],
    ['JSON Lines', { format: 'jsonl' as const, kinds: ['amount', 'currency', 'pan', 'duplicate', 'timestamp'] as const }],
  ])('gives the same answers for %s', async (_name, options) => {
    const { file, manifest } = await generated(options);
    expectMatchesManifest(await processFile(file), manifest);
  });

  it('produces byte-identical outputs when re-run', async () => {
    const { file } = await generated({ count: 2000 });
    const out = tempDir();
    const a = await processFile(file, undefined, out);
    const summaryA = fs.readFileSync(path.join(a.dir, 'summary.json'), 'utf8');
    const b = await processFile(file, undefined, out);
    expect(b.acceptedRaw).toBe(a.acceptedRaw);
    expect(b.rejectsRaw).toBe(a.rejectsRaw);
    expect(fs.readFileSync(path.join(b.dir, 'summary.json'), 'utf8')).toBe(summaryA);
  });
});

describe('sharding', () => {
  it('gives a tiny file (fewer bytes than shards) to exactly one shard', async () => {
    const file = path.join(tempDir(), 'tiny.csv');
    fs.writeFileSync(file, 'transactionId,accountId,entityId,amount,currency,timestamp,jurisdiction,type\nT,A,BB,1,JPY,2026-11-22T10:00:00Z,APAC,MARGIN\n');
    const out = tempDir();
    let accepted = 0;
    for (let i = 0; i < 200; i += 1) accepted += (await processFile(file, { index: i, count: 200 }, out)).summary.counts.accepted;
    expect(accepted).toBe(1);
  });

  it.each([2, 3, 7])('N=%i shards cover every line exactly once and sum to the unsharded totals', async (n) => {
    const { file, manifest } = await generated({ count: 3000, kinds: ['amount', 'currency', 'pan', 'columns', 'quote', 'timestamp', 'utf8'], crlf: n === 7 });
    const whole = await processFile(file);
    const shards: LocalRun[] = [];
    const out = tempDir();
    for (let i = 0; i < n; i++) shards.push(await processFile(file, { index: i, count: n }, out));
    const ids = shards.flatMap((s) => s.accepted.map((a) => a.transactionId));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(whole.accepted.map((a) => a.transactionId).sort());
    for (const key of ['read', 'accepted', 'rejected', 'duplicates'] as const) {
      expect(shards.reduce((s, r) => s + r.summary.counts[key], 0)).toBe(whole.summary.counts[key]);
    }
    for (const [currency, total] of Object.entries(manifest.totalsMinor)) {
      const sum = shards.reduce((s, r) => s + BigInt(r.summary.totals.byCurrency[currency]?.amountMinor ?? '0'), 0n);
      expect(sum.toString()).toBe(total);
    }
    expect(shards.reduce((s, r) => s + r.summary.input.bytesHashed, 0)).toBe(fs.statSync(file).size);
    expect(shards.slice(1).every((s) => s.summary.shard.lineNumbering === 'shard')).toBe(true);
  });
});

describe('frameLines', () => {
  async function collect(data: Buffer, chunk: number, start: number, end: number, ownsFirstLine: boolean) {
    async function* chunks() {
      for (let i = start; i < data.length; i += chunk) yield data.subarray(i, Math.min(data.length, i + chunk));
    }
    const framed = frameLines(chunks(), { start, end, ownsFirstLine });
    const out: Buffer[] = [];
    for await (const b of framed.blocks) out.push(b as Buffer);
    return Buffer.concat(out).toString();
  }

  it('assigns each line to exactly one range for any split point and chunk size', async () => {
    const text = 'h\naa\n\nbbb\ncccc\nd\neeeee\nf';
    const data = Buffer.from(text);
    for (let cut = 0; cut <= data.length; cut++) {
      for (const chunk of [1, 2, 3, 5, 64]) {
        const left = await collect(data, chunk, 0, cut, true);
        const right = cut >= data.length ? '' : await collect(data, chunk, cut, Infinity, false);
        expect(left + right).toBe(text);
        expect(left === '' || left.endsWith('\n') || left === text).toBe(true);
      }
    }
  });
});

describe('FingerprintSet', () => {
  it('finds every duplicate across growth and never reports a fresh id as seen', () => {
    const set = new FingerprintSet(4);
    let fresh = 0;
    let seen = 0;
    for (let i = 0; i < 50000; i++) if (set.add(`TX${i}`, 0, `TX${i}`.length)) fresh++;
    for (let i = 0; i < 50000; i += 7) if (!set.add(`TX${i}`, 0, `TX${i}`.length)) seen++;
    expect(fresh).toBe(50000);
    expect(seen).toBe(Math.ceil(50000 / 7));
    expect(set.size).toBe(50000);
    expect(set.bytes).toBeLessThan(50000 * 24);
  });

  it('fingerprints bytes exactly as it fingerprints the same text (one char per byte)', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `TX-${i}-\u00e9${'_'.repeat(i % 50)}`);
    const text = new FingerprintSet();
    const bytes = new FingerprintSet();
    const his = new Uint32Array(1);
    const los = new Uint32Array(1);
    for (const id of ids) {
      expect(text.add(id, 0, id.length)).toBe(true);
      const b = Buffer.from(`,${id},`, 'latin1');
      fingerprintBytes(b, 1, b.length - 1, his, los, 0);
      expect(bytes.addFingerprint(his[0], los[0])).toBe(true);
      expect([bytes.lastHi, bytes.lastLo]).toEqual([text.lastHi, text.lastLo]);
      expect(text.addFingerprint(his[0], los[0])).toBe(false);
    }
  });

  it('hashes the given range only', () => {
    const set = new FingerprintSet();
    expect(set.add('xxT1yy', 2, 4)).toBe(true);
    expect(set.add('T1', 0, 2)).toBe(false);
  });
});
