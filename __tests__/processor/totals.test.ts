import { reconcile } from '../../processor/src/reconcile';
import { RecordProcessor } from '../../processor/src/record-processor';
import { ControlTotals, keyHash, SlotSums } from '../../processor/src/totals';
import { ByteOut } from '../../processor/src/byte-out';
import { CURRENCY_CODES } from '../../domain/money';
import { HEADER, row } from './local-helpers';

/** An account id given as bytes, as the record stage gives it (its hash first, then the key). */
function addBytes(t: ControlTotals, b: Uint8Array, start: number, end: number, currency: number, jurisdiction: number, minor: number): number {
  return t.addHashed(keyHash(b, start, end), b, start, end, currency, jurisdiction, minor);
}

describe('SlotSums', () => {
  it('stays exact far beyond 2^53 by folding into a bigint', () => {
    const sums = new SlotSums(1);
    const amount = 2 ** 50 - 1; // the largest amount a limit can allow
    let expected = 0n;
    for (let i = 0; i < 5000; i++) {
      sums.add(0, amount - i);
      expected += BigInt(amount - i);
    }
    expect(expected > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(sums.total(0)).toBe(expected);
    expect(sums.counts[0]).toBe(5000);
  });
});

describe('ControlTotals', () => {
  it('groups by currency, jurisdiction and account from string ranges', () => {
    const t = new ControlTotals();
    const text = 'xxA1yyA2zzA1';
    t.add(text, 2, 4, 0, 0, 100);
    t.add(text, 6, 8, 0, 1, 250);
    t.add(text, 10, 12, 3, 3, 7);
    const json = t.toJson();
    expect(json.byCurrency).toEqual({ USD: { count: 2, amount: '3.50', amountMinor: '350' }, JPY: { count: 1, amount: '7', amountMinor: '7' } });
    expect(json.byJurisdiction.USD).toEqual({ EU: { count: 1, amount: '1.00', amountMinor: '100' }, US: { count: 1, amount: '2.50', amountMinor: '250' } });
    expect(json.byAccount).toEqual({
      A1: { USD: { count: 1, amount: '1.00', amountMinor: '100' }, JPY: { count: 1, amount: '7', amountMinor: '7' } },
      A2: { USD: { count: 1, amount: '2.50', amountMinor: '250' } },
    });
    expect(t.accountCount).toBe(2);
    expect(t.groupJson()).toEqual({ byCurrency: json.byCurrency, byJurisdiction: json.byJurisdiction });
  });

  it('gives an account id one index whether it arrives as text or as bytes, across growth of the table and the key arena', () => {
    const t = new ControlTotals();
    const ids = Array.from({ length: 6000 }, (_, i) => `ACC-${i}-${'x'.repeat(i % 30)}`);
    const bytes = Buffer.from('..' + ids.join(','), 'latin1');
    const at: number[] = [];
    for (let i = 0, p = 2; i < ids.length; p += ids[i].length + 1, i++) at.push(p);
    // Bytes first for even ids, text first for odd ones; then the other form.
    ids.forEach((id, i) => (i % 2 ? t.add(id, 0, id.length, 1, 0, 1) : addBytes(t, bytes, at[i], at[i] + id.length, 1, 0, 1)));
    const second = ids.map((id, i) => (i % 2 ? addBytes(t, bytes, at[i], at[i] + id.length, 1, 0, 2) : t.add(`<${id}>`, 1, id.length + 1, 1, 0, 2)));
    expect(second).toEqual(ids.map((_, i) => i));
    expect(t.accountCount).toBe(ids.length);
    expect(ids.map((_, i) => t.accountKey(i))).toEqual(ids);
    const rows = [...t.accountRows()];
    expect(rows).toHaveLength(ids.length);
    expect(rows.every((r) => r.count === 2 && r.amountMinor === '3')).toBe(true);
  });

  it('keeps keys longer than a record holds inline apart from their prefixes, and their sums with them across growth', () => {
    const t = new ControlTotals();
    // 40..119 bytes: some fit the record, most are kept in the key arena only; many share long prefixes.
    const ids = Array.from({ length: 3000 }, (_, i) => `${'P'.repeat(40 + (i % 80))}-${i % 7}`);
    const unique = [...new Set(ids)];
    const bytes = Buffer.from(ids.join(''), 'latin1');
    let p = 0;
    ids.forEach((id, i) => {
      if (i % 2) t.add(id, 0, id.length, i % 4, 0, 1 + i);
      else addBytes(t, bytes, p, p + id.length, i % 4, 0, 1 + i);
      p += id.length;
    });
    expect(t.accountCount).toBe(unique.length);
    expect(unique.map((id) => t.add(id, 0, id.length, 0, 0, 1))).toEqual(unique.map((_, i) => i));
    const expected = new Map<string, bigint>();
    ids.forEach((id, i) => expected.set(`${id}/${i % 4}`, (expected.get(`${id}/${i % 4}`) ?? 0n) + BigInt(1 + i)));
    unique.forEach((id) => expected.set(`${id}/0`, (expected.get(`${id}/0`) ?? 0n) + 1n));
    const rows = [...t.accountRows()];
    expect(new Map(rows.map((r) => [`${r.accountId}/${CURRENCY_CODES.indexOf(r.currency as never)}`, BigInt(r.amountMinor)]))).toEqual(expected);
  });

  it('keeps apart keys of equal length whose 32-bit hashes collide (kept inline and kept in the key arena)', () => {
    // The table's hash (FNV-1a over the bytes), recomputed here to find colliding pairs by brute force.
    const fnv = (s: string, h = 0x811c9dc5) => {
      for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
      return h;
    };
    const suffix = (i: number) => (Math.imul(i, 0x9e3779b1) >>> 0).toString(36).padStart(7, '0');
    for (const prefix of ['ACC-', 'L'.repeat(60)]) {
      const start = fnv(prefix);
      const byHash = new Map<number, number>();
      const pairs: [string, string][] = [];
      for (let i = 0; pairs.length < 2; i++) {
        const h = fnv(suffix(i), start);
        const other = byHash.get(h);
        if (other !== undefined) pairs.push([prefix + suffix(other), prefix + suffix(i)]);
        else byHash.set(h, i);
      }
      const t = new ControlTotals();
      for (const [a, b] of pairs) {
        const ia = t.add(a, 0, a.length, 0, 0, 1);
        const ib = t.add(b, 0, b.length, 0, 0, 2);
        expect(ib).not.toBe(ia);
        expect([t.add(a, 0, a.length, 0, 0, 4), addBytes(t, Buffer.from(b, 'latin1'), 0, b.length, 0, 0, 8)]).toEqual([ia, ib]);
      }
      expect([...t.accountRows()].map((r) => r.amountMinor)).toEqual(pairs.flat().sort().map((id) => (pairs.some(([a]) => a === id) ? '5' : '10')));
    }
  });

  it('refuses a key that is not a byte string (it could not be stored byte for byte)', () => {
    expect(() => new ControlTotals().add('ACC-\u20ac', 0, 5, 1, 0, 1)).toThrow(RangeError);
  });

  it('writes totals-by-account lines exactly as JSON.stringify of the rows (plain, escaped and non-ASCII ids, folded totals, every currency)', () => {
    const t = new ControlTotals();
    const ids = ['ACC-1', 'A"B', 'back\\slash', 'caf\u00e9', 'tab\there', 'ACC-0', 'z'];
    ids.forEach((id, i) => {
      for (let c = 0; c < CURRENCY_CODES.length; c++) if ((i + c) % 2 === 0) t.add(id, 0, id.length, c, 0, 1 + i * 1000 + c);
    });
    // Past 2^52 the running sum is folded into a bigint: that row takes the exact slow path.
    for (let k = 0; k < 9; k++) t.add('ACC-1', 0, 5, 0, 0, 2 ** 50 - 1);
    const expected = [...t.accountRows()].map((r) => JSON.stringify(r) + '\n');
    expect([...t.accountLines()]).toEqual(expected);
    expect(expected.some((l) => l.includes('\\"'))).toBe(true);
    expect(expected.some((l) => BigInt(JSON.parse(l).amountMinor) > BigInt(Number.MAX_SAFE_INTEGER))).toBe(true);
  });

  it('keeps thousands of accounts apart across table growth', () => {
    const t = new ControlTotals();
    for (let round = 0; round < 3; round++) for (let i = 0; i < 5000; i++) t.add(`ACC-${i}`, 0, `ACC-${i}`.length, 1, 0, i + 1);
    const json = t.toJson();
    expect(Object.keys(json.byAccount)).toHaveLength(5000);
    expect(json.byAccount['ACC-4999'].EUR).toEqual({ count: 3, amount: '150.00', amountMinor: '15000' });
    expect(json.byCurrency.EUR.amountMinor).toBe(String((3 * 5000 * 5001) / 2));
  });
});

describe('reconcile', () => {
  function processed() {
    const p = new RecordProcessor();
    p.processText([HEADER, row('T1'), row('T2', { currency: 'USD', jurisdiction: 'US' }), row('T1'), 'bad'].join('\n') + '\n');
    return p;
  }

  it('passes for a consistent run', () => {
    expect(reconcile(processed())).toMatchObject({ ok: true, countsBalance: true, acceptedSums: { EUR: '10.00', USD: '10.00' }, failures: [] });
  });

  it('fails when a record is unaccounted for', () => {
    const p = processed();
    p.read++;
    const r = reconcile(p);
    expect(r.ok).toBe(false);
    expect(r.failures[0]).toMatch(/read 5 != accepted 2 \+ rejected 1 \+ duplicates 1/);
  });

  it('fails when the control totals disagree with the accepted sums', () => {
    const p = processed();
    p.totals.add('X', 0, 1, 1, 0, 1); // one cent booked to totals but never written
    const r = reconcile(p);
    expect(r.ok).toBe(false);
    expect(r.failures.join('\n')).toMatch(/EUR totals by currency \(2 records, 10.01\) != accepted \(1 records, 10.00\)/);
  });
});

describe('ByteOut', () => {
  it('writes canonical decimals and integers', () => {
    const o = new ByteOut();
    o.reserve(100);
    o.decimal(5, 2);
    o.latin1(' ');
    o.decimal(123456, 2);
    o.latin1(' ');
    o.decimal(0, 0);
    o.latin1(' ');
    o.uint(1000000);
    expect(o.take().toString()).toBe('0.05 1234.56 0 1000000');
  });

  it('reuses a block only once every part of it is released, never under a part still held', () => {
    const o = new ByteOut();
    o.recycling = true;
    // [part, its text when taken, round in which it is released]
    const held: [Buffer, string, number][] = [];
    const seen = new Set<ArrayBufferLike>();
    let fill = 0;
    let taken = 0;
    for (let round = 0; round < 200; round++) {
      // 300 KiB per round: parts end mid-block, blocks fill across rounds.
      for (let k = 0; k < 300; k++) {
        o.reserve(1024);
        seen.add(o.buf.buffer);
        o.bytes(Buffer.alloc(1024, 97 + (fill++ % 26)), 0, 1024);
      }
      // Most parts are released a round later; every third one is held for ten rounds, while the other
      // parts of its block are released and more blocks are filled.
      for (const part of o.takeParts()) held.push([part, part.toString('latin1'), round + (taken++ % 3 === 0 ? 10 : 1)]);
      for (let i = held.length - 1; i >= 0; i--) if (held[i][2] <= round) o.release(held.splice(i, 1)[0][0]);
      // A held part is never overwritten by later writes.
      for (const [part, text] of held) expect(part.toString('latin1') === text).toBe(true);
    }
    // 60 MiB written through a few 1 MiB blocks.
    expect(seen.size).toBeLessThan(20);
    expect(new ByteOut().recycling).toBe(false);
  });

  it('allocates a new block for every block when recycling is off or parts are never released', () => {
    for (const recycling of [false, true]) {
      const o = new ByteOut();
      o.recycling = recycling;
      const blocks = new Set<ArrayBufferLike>();
      const parts: Buffer[] = [];
      for (let i = 0; i < 5000; i++) {
        o.reserve(1000);
        blocks.add(o.buf.buffer);
        o.bytes(Buffer.alloc(1000, 120), 0, 1000);
        if (i % 700 === 0) parts.push(...o.takeParts());
      }
      expect(blocks.size).toBe(5);
      expect(parts.every((p) => p.every((b) => b === 120))).toBe(true);
    }
  });

  it('keeps data across buffer boundaries', () => {
    const o = new ByteOut();
    const chunk = Buffer.alloc(1000, 97);
    for (let i = 0; i < 3000; i++) {
      o.reserve(chunk.length);
      o.bytes(chunk, 0, chunk.length);
    }
    expect(o.length).toBe(3_000_000);
    expect(o.take().length).toBe(3_000_000);
    expect(o.length).toBe(0);
  });
});
