/**
 * Control totals per currency, per currency+jurisdiction and per currency+account, exact. Amounts are
 * summed in doubles while the running sum stays below 2^52 (each amount is < 2^50, so every
 * intermediate is an exact integer) and folded into a bigint before it could lose precision; this keeps
 * bigint arithmetic and per-record objects out of the hot path without ever rounding.
 */
import { CURRENCIES, CURRENCY_CODES, formatMinor, formatMinorNumber } from '../../domain/money';
import { JURISDICTIONS } from '../../domain/transaction';

const FOLD_AT = 2 ** 52;
const NC = CURRENCY_CODES.length;
const NJ = JURISDICTIONS.length;

/**
 * Exact sums in slots: count and pending sum of a slot are adjacent doubles in one Float64Array, folded
 * remainders in bigints. Interleaving matters for the per-account group: tens of thousands of accounts
 * hit in random order, and one account's four currencies × (count, pending) are 64 contiguous bytes,
 * so an update misses the cache once instead of once in each of two separate arrays.
 */
export class SlotSums {
  /** [count0, pending0, count1, pending1, ...] */
  data: Float64Array;
  folded: bigint[] = [];

  constructor(slots: number) {
    this.data = new Float64Array(slots * 2);
  }

  get slots(): number {
    return this.data.length >> 1;
  }

  /** Snapshot of every slot's count (not live: reads go through `count`). */
  get counts(): Float64Array {
    const out = new Float64Array(this.slots);
    for (let i = 0; i < out.length; i++) out[i] = this.data[i * 2];
    return out;
  }

  count(slot: number): number {
    return this.data[slot * 2];
  }

  add(slot: number, minor: number): void {
    const d = this.data;
    const i = slot * 2;
    d[i]++;
    const next = d[i + 1] + minor;
    if (next >= FOLD_AT) {
      this.folded[slot] = (this.folded[slot] ?? 0n) + BigInt(d[i + 1]);
      d[i + 1] = minor;
    } else {
      d[i + 1] = next;
    }
  }

  total(slot: number): bigint {
    return (this.folded[slot] ?? 0n) + BigInt(this.data[slot * 2 + 1]);
  }

  grow(slots: number): void {
    const data = new Float64Array(slots * 2);
    data.set(this.data);
    this.data = data;
  }
}

/**
 * Key -> dense index, without creating a string per lookup. Keys are byte strings (account ids are
 * validated ASCII identifiers; the processor's text is one char per byte) kept back to back in one
 * byte arena, so a lookup reads one probe-table line and a few arena bytes instead of a heap string.
 * The probe table holds (hash, index + 1) pairs side by side (0 in the index word marks an empty
 * slot); keys are compared byte for byte only when the full 32-bit hash matches. `indexOf` (text) and
 * `indexOfBytes` (a Uint8Array, e.g. the input block) hash and compare the same values, so a key gets
 * one index whichever way it arrives.
 */
export class KeyIndex {
  private table = new Int32Array(2 << 12);
  private mask = (1 << 12) - 1;
  private arena = new Uint8Array(1 << 16);
  private used = 0;
  /** Key i is arena[keyStart[i], keyStart[i + 1]). */
  private keyStart = new Int32Array(1 << 12);
  private count = 0;
  private strings: string[] = [];

  get size(): number {
    return this.count;
  }

  /** Key `i` as a string (built once per key, on first request). */
  key(i: number): string {
    for (let k = this.strings.length; k <= i; k++) this.strings.push(Buffer.from(this.arena.buffer, this.arena.byteOffset + this.keyStart[k], this.keyStart[k + 1] - this.keyStart[k]).toString('latin1'));
    return this.strings[i];
  }

  /** Every key, in index order. */
  get keys(): string[] {
    if (this.count > 0) this.key(this.count - 1);
    return this.strings.slice(0, this.count);
  }

  indexOf(s: string, start: number, end: number): number {
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) {
      const c = s.charCodeAt(i);
      if (c > 255) throw new RangeError('KeyIndex keys are byte strings (one char per byte)');
      h = Math.imul(h ^ c, 0x01000193);
    }
    const table = this.table;
    const mask = this.mask;
    let slot = (h ^ (h >>> 15)) & mask;
    for (;;) {
      const stored = table[slot * 2 + 1];
      if (stored === 0) break;
      if (table[slot * 2] === h && this.equalsText(stored - 1, s, start, end)) return stored - 1;
      slot = (slot + 1) & mask;
    }
    const at = this.reserve(end - start);
    const arena = this.arena;
    for (let i = start; i < end; i++) arena[at + i - start] = s.charCodeAt(i);
    return this.insert(slot, h, end - start);
  }

  indexOfBytes(b: Uint8Array, start: number, end: number): number {
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ b[i], 0x01000193);
    const table = this.table;
    const mask = this.mask;
    let slot = (h ^ (h >>> 15)) & mask;
    for (;;) {
      const stored = table[slot * 2 + 1];
      if (stored === 0) break;
      if (table[slot * 2] === h && this.equalsBytes(stored - 1, b, start, end)) return stored - 1;
      slot = (slot + 1) & mask;
    }
    const at = this.reserve(end - start);
    this.arena.set(b.subarray(start, end), at);
    return this.insert(slot, h, end - start);
  }

  private equalsText(k: number, s: string, start: number, end: number): boolean {
    const ks = this.keyStart[k];
    const n = end - start;
    if (this.keyStart[k + 1] - ks !== n) return false;
    const arena = this.arena;
    for (let i = 0; i < n; i++) if (arena[ks + i] !== s.charCodeAt(start + i)) return false;
    return true;
  }

  private equalsBytes(k: number, b: Uint8Array, start: number, end: number): boolean {
    const ks = this.keyStart[k];
    const n = end - start;
    if (this.keyStart[k + 1] - ks !== n) return false;
    const arena = this.arena;
    for (let i = 0; i < n; i++) if (arena[ks + i] !== b[start + i]) return false;
    return true;
  }

  /** Room for a new key of `n` bytes at the arena's end; returns its offset. */
  private reserve(n: number): number {
    if (this.used + n > this.arena.length) {
      const grown = new Uint8Array(Math.max(this.arena.length * 2, this.used + n));
      grown.set(this.arena.subarray(0, this.used));
      this.arena = grown;
    }
    if (this.count + 2 > this.keyStart.length) {
      const grown = new Int32Array(this.keyStart.length * 2);
      grown.set(this.keyStart);
      this.keyStart = grown;
    }
    return this.used;
  }

  private insert(slot: number, h: number, n: number): number {
    const index = this.count++;
    this.used += n;
    this.keyStart[index + 1] = this.used;
    this.table[slot * 2] = h;
    this.table[slot * 2 + 1] = index + 1;
    if (this.count * 2 > this.mask + 1) this.rehash();
    return index;
  }

  private rehash(): void {
    const old = this.table;
    const capacity = (this.mask + 1) * 2;
    this.table = new Int32Array(capacity * 2);
    this.mask = capacity - 1;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i + 1] === 0) continue;
      const h = old[i];
      let slot = (h ^ (h >>> 15)) & this.mask;
      while (this.table[slot * 2 + 1] !== 0) slot = (slot + 1) & this.mask;
      this.table[slot * 2] = h;
      this.table[slot * 2 + 1] = old[i + 1];
    }
  }
}

export interface TotalEntry {
  count: number;
  amount: string;
  amountMinor: string;
}

export interface AccountTotalRow extends TotalEntry {
  accountId: string;
  currency: string;
}

export type TotalsJson = {
  byCurrency: Record<string, TotalEntry>;
  byJurisdiction: Record<string, Record<string, TotalEntry>>;
  byAccount: Record<string, Record<string, TotalEntry>>;
};

export class ControlTotals {
  private readonly currency = new SlotSums(NC);
  private readonly jurisdiction = new SlotSums(NC * NJ);
  private readonly accounts = new KeyIndex();
  private account = new SlotSums(NC * 1024);

  /** Adds one accepted amount; the account id is `s[start, end)`. Returns the account's index. */
  add(s: string, start: number, end: number, currency: number, jurisdiction: number, minor: number): number {
    return this.addAt(this.accounts.indexOf(s, start, end), currency, jurisdiction, minor);
  }

  /** `add` with the account id as bytes `b[start, end)` (same account index as the same text). */
  addBytes(b: Uint8Array, start: number, end: number, currency: number, jurisdiction: number, minor: number): number {
    return this.addAt(this.accounts.indexOfBytes(b, start, end), currency, jurisdiction, minor);
  }

  /** The index of the account id in bytes `b[start, end)` (as `addBytes` would return it), without adding. */
  accountIndexBytes(b: Uint8Array, start: number, end: number): number {
    return this.accounts.indexOfBytes(b, start, end);
  }

  /** `add` for an account index from `accountIndexBytes`. */
  addIndexed(a: number, currency: number, jurisdiction: number, minor: number): void {
    this.addAt(a, currency, jurisdiction, minor);
  }

  private addAt(a: number, currency: number, jurisdiction: number, minor: number): number {
    this.currency.add(currency, minor);
    this.jurisdiction.add(currency * NJ + jurisdiction, minor);
    if ((a + 1) * NC > this.account.slots) this.account.grow(this.account.slots * 2);
    this.account.add(a * NC + currency, minor);
    return a;
  }

  /** The account id of index `a` (as returned by `add`). */
  accountKey(a: number): string {
    return this.accounts.key(a);
  }

  get accountCount(): number {
    return this.accounts.size;
  }

  /** Per-currency [count, total] of each grouping, for the reconciliation check. */
  groupSums(): { currency: [number, bigint][]; jurisdiction: [number, bigint][]; account: [number, bigint][] } {
    const currency = CURRENCY_CODES.map((_, c): [number, bigint] => [this.currency.count(c), this.currency.total(c)]);
    const jurisdiction = CURRENCY_CODES.map((_, c): [number, bigint] => {
      const sum: [number, bigint] = [0, 0n];
      for (let j = 0; j < NJ; j++) {
        sum[0] += this.jurisdiction.count(c * NJ + j);
        sum[1] += this.jurisdiction.total(c * NJ + j);
      }
      return sum;
    });
    const account = CURRENCY_CODES.map((_, c): [number, bigint] => {
      const sum: [number, bigint] = [0, 0n];
      for (let a = 0; a < this.accounts.size; a++) {
        if (this.account.count(a * NC + c) === 0) continue;
        sum[0] += this.account.count(a * NC + c);
        sum[1] += this.account.total(a * NC + c);
      }
      return sum;
    });
    return { currency, jurisdiction, account };
  }

  /** Deterministic JSON (sorted keys, exact decimal strings): re-runs produce byte-identical summaries. */
  toJson(): TotalsJson {
    const byAccount: TotalsJson['byAccount'] = {};
    for (const r of this.accountRows()) (byAccount[r.accountId] ??= {})[r.currency] = { count: r.count, amount: r.amount, amountMinor: r.amountMinor };
    return { ...this.groupJson(), byAccount };
  }

  /** The small groups of `toJson` (by currency, by currency and jurisdiction), without the per-account breakdown. */
  groupJson(): Omit<TotalsJson, 'byAccount'> {
    const entry = (sums: SlotSums, slot: number, c: number): TotalEntry => {
      const total = sums.total(slot);
      return { count: sums.count(slot), amount: formatMinor(total, CURRENCY_CODES[c]), amountMinor: total.toString() };
    };
    const byCurrency: TotalsJson['byCurrency'] = {};
    const byJurisdiction: TotalsJson['byJurisdiction'] = {};
    CURRENCY_CODES.forEach((code, c) => {
      if (this.currency.count(c) === 0) return;
      byCurrency[code] = entry(this.currency, c, c);
      JURISDICTIONS.forEach((j, k) => {
        if (this.jurisdiction.count(c * NJ + k) > 0) (byJurisdiction[code] ??= {})[j] = entry(this.jurisdiction, c * NJ + k, c);
      });
    });
    return { byCurrency, byJurisdiction };
  }

  /**
   * One row per account and currency, accounts in code-unit order and currencies in CURRENCY_CODES
   * order (an array, not an object: integer-like keys would reorder an object).
   */
  *accountRows(): Generator<AccountTotalRow> {
    for (const [accountId, a] of this.accountOrder()) {
      for (let c = 0; c < NC; c++) {
        const slot = a * NC + c;
        if (this.account.count(slot) === 0) continue;
        const total = this.account.total(slot);
        yield { accountId, currency: CURRENCY_CODES[c], count: this.account.count(slot), amount: formatMinor(total, CURRENCY_CODES[c]), amountMinor: total.toString() };
      }
    }
  }

  /**
   * `accountRows` as the lines of totals-by-account.jsonl, each exactly `JSON.stringify(row) + "\n"`,
   * without a row object, a bigint or a JSON.stringify call for the usual row (a plain key and a total
   * that never needed folding).
   */
  *accountLines(): Generator<string> {
    const sums = this.account;
    for (const [accountId, a] of this.accountOrder()) {
      const plain = PLAIN_JSON_KEY.test(accountId);
      const head = plain ? `{"accountId":"${accountId}` : '';
      for (let c = 0; c < NC; c++) {
        const slot = a * NC + c;
        const count = sums.count(slot);
        if (count === 0) continue;
        if (plain && sums.folded[slot] === undefined) {
          const total = sums.data[slot * 2 + 1];
          yield `${head}${CURRENCY_PART[c]}${count},"amount":"${formatMinorNumber(total, MINOR_DIGITS[c])}","amountMinor":"${total}"}\n`;
        } else {
          const total = sums.total(slot);
          yield JSON.stringify({ accountId, currency: CURRENCY_CODES[c], count, amount: formatMinor(total, CURRENCY_CODES[c]), amountMinor: total.toString() }) + '\n';
        }
      }
    }
  }

  /** [account id, index] in code-unit order of the ids. */
  private accountOrder(): (readonly [string, number])[] {
    return this.accounts.keys.map((k, i) => [k, i] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

/** Key characters that JSON.stringify writes as they are (printable ASCII other than quote and backslash). */
const PLAIN_JSON_KEY = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const MINOR_DIGITS = CURRENCY_CODES.map((c) => CURRENCIES[c].minorDigits);
const CURRENCY_PART = CURRENCY_CODES.map((c) => `","currency":"${c}","count":`);

/** An independent running sum (used for the reconciliation's "sum of accepted amounts"). */
export class Accumulator {
  private readonly sums = new SlotSums(1);

  add(minor: number): void {
    this.sums.add(0, minor);
  }

  get count(): number {
    return this.sums.count(0);
  }

  get total(): bigint {
    return this.sums.total(0);
  }
}
