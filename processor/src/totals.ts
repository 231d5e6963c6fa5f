/**
 * Control totals per currency, per currency+jurisdiction and per currency+account, exact. Amounts are
 * summed in doubles while the running sum stays below 2^52 (each amount is < 2^50, so every
 * intermediate is an exact integer) and folded into a bigint before it could lose precision; this keeps
 * bigint arithmetic and per-record objects out of the hot path without ever rounding.
 */
import { CURRENCY_CODES, formatMinor } from '../../domain/money';
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
 * String-range -> dense index, without creating a string for keys already seen. The probe table holds
 * (hash, index + 1) pairs side by side, so a lookup reads one table line and then the key string only
 * when the full 32-bit hash matches (0 in the index word marks an empty slot).
 */
export class KeyIndex {
  readonly keys: string[] = [];
  private table = new Int32Array(2 << 12);
  private mask = (1 << 12) - 1;

  indexOf(s: string, start: number, end: number): number {
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    const table = this.table;
    const mask = this.mask;
    let slot = (h ^ (h >>> 15)) & mask;
    for (;;) {
      const stored = table[slot * 2 + 1];
      if (stored === 0) break;
      if (table[slot * 2] === h && this.equals(this.keys[stored - 1], s, start, end)) return stored - 1;
      slot = (slot + 1) & mask;
    }
    const index = this.keys.length;
    // Flattened copy: a slice of the block text could otherwise keep the whole 1 MB block alive.
    this.keys.push(flat(s.slice(start, end)));
    table[slot * 2] = h;
    table[slot * 2 + 1] = index + 1;
    if (this.keys.length * 2 > mask + 1) this.rehash();
    return index;
  }

  private equals(key: string, s: string, start: number, end: number): boolean {
    if (key.length !== end - start) return false;
    for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) !== s.charCodeAt(start + i)) return false;
    return true;
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

/**
 * A string that does not share storage with the string it was sliced from: V8 makes slices of 13+
 * characters views of their parent, and the parent here is a whole ~1 MB input block. UTF-16 code
 * units round-trip exactly (the JSON Lines path passes real UTF-16 strings, not byte strings).
 */
function flat(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'ucs2').toString('ucs2');
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
    this.currency.add(currency, minor);
    this.jurisdiction.add(currency * NJ + jurisdiction, minor);
    const a = this.accounts.indexOf(s, start, end);
    if ((a + 1) * NC > this.account.slots) this.account.grow(this.account.slots * 2);
    this.account.add(a * NC + currency, minor);
    return a;
  }

  /** The account id of index `a` (as returned by `add`). */
  accountKey(a: number): string {
    return this.accounts.keys[a];
  }

  get accountCount(): number {
    return this.accounts.keys.length;
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
      for (let a = 0; a < this.accounts.keys.length; a++) {
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
    const byAccount: TotalsJson['byAccount'] = {};
    for (const r of this.accountRows()) (byAccount[r.accountId] ??= {})[r.currency] = { count: r.count, amount: r.amount, amountMinor: r.amountMinor };
    return { byCurrency, byJurisdiction, byAccount };
  }

  /**
   * One row per account and currency, accounts in code-unit order and currencies in CURRENCY_CODES
   * order (an array, not an object: integer-like keys would reorder an object).
   */
  *accountRows(): Generator<AccountTotalRow> {
    const order = this.accounts.keys.map((k, i) => [k, i] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [accountId, a] of order) {
      for (let c = 0; c < NC; c++) {
        const slot = a * NC + c;
        if (this.account.count(slot) === 0) continue;
        const total = this.account.total(slot);
        yield { accountId, currency: CURRENCY_CODES[c], count: this.account.count(slot), amount: formatMinor(total, CURRENCY_CODES[c]), amountMinor: total.toString() };
      }
    }
  }
}

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
