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

/** Exact sums in slots: counts and pending sums in Float64Arrays, folded remainders in bigints. */
export class SlotSums {
  counts: Float64Array;
  pending: Float64Array;
  folded: bigint[] = [];

  constructor(slots: number) {
    this.counts = new Float64Array(slots);
    this.pending = new Float64Array(slots);
  }

  add(slot: number, minor: number): void {
    this.counts[slot]++;
    const next = this.pending[slot] + minor;
    if (next >= FOLD_AT) {
      this.folded[slot] = (this.folded[slot] ?? 0n) + BigInt(this.pending[slot]);
      this.pending[slot] = minor;
    } else {
      this.pending[slot] = next;
    }
  }

  total(slot: number): bigint {
    return (this.folded[slot] ?? 0n) + BigInt(this.pending[slot]);
  }

  grow(slots: number): void {
    const counts = new Float64Array(slots);
    counts.set(this.counts);
    const pending = new Float64Array(slots);
    pending.set(this.pending);
    this.counts = counts;
    this.pending = pending;
  }
}

/** String-range -> dense index, without creating a string for keys already seen. */
export class KeyIndex {
  readonly keys: string[] = [];
  private table = new Int32Array(1 << 12).fill(-1);
  private hashes = new Int32Array(1 << 10);

  indexOf(s: string, start: number, end: number): number {
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    const mask = this.table.length - 1;
    let slot = (h ^ (h >>> 15)) & mask;
    for (;;) {
      const index = this.table[slot];
      if (index < 0) break;
      if (this.hashes[index] === h && this.equals(this.keys[index], s, start, end)) return index;
      slot = (slot + 1) & mask;
    }
    const index = this.keys.length;
    this.keys.push(s.slice(start, end));
    if (index >= this.hashes.length) {
      const hashes = new Int32Array(this.hashes.length * 2);
      hashes.set(this.hashes);
      this.hashes = hashes;
    }
    this.hashes[index] = h;
    this.table[slot] = index;
    if (this.keys.length * 2 > this.table.length) this.rehash();
    return index;
  }

  private equals(key: string, s: string, start: number, end: number): boolean {
    if (key.length !== end - start) return false;
    for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) !== s.charCodeAt(start + i)) return false;
    return true;
  }

  private rehash(): void {
    this.table = new Int32Array(this.table.length * 2).fill(-1);
    const mask = this.table.length - 1;
    for (let index = 0; index < this.keys.length; index++) {
      const h = this.hashes[index];
      let slot = (h ^ (h >>> 15)) & mask;
      while (this.table[slot] >= 0) slot = (slot + 1) & mask;
      this.table[slot] = index;
    }
  }
}

export interface TotalEntry {
  count: number;
  amount: string;
  amountMinor: string;
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

  /** Adds one accepted amount; the account id is `s[start, end)`. */
  add(s: string, start: number, end: number, currency: number, jurisdiction: number, minor: number): void {
    this.currency.add(currency, minor);
    this.jurisdiction.add(currency * NJ + jurisdiction, minor);
    const a = this.accounts.indexOf(s, start, end);
    if ((a + 1) * NC > this.account.counts.length) this.account.grow(this.account.counts.length * 2);
    this.account.add(a * NC + currency, minor);
  }

  get accountCount(): number {
    return this.accounts.keys.length;
  }

  /** Per-currency [count, total] of each grouping, for the reconciliation check. */
  groupSums(): { currency: [number, bigint][]; jurisdiction: [number, bigint][]; account: [number, bigint][] } {
    const currency = CURRENCY_CODES.map((_, c): [number, bigint] => [this.currency.counts[c], this.currency.total(c)]);
    const jurisdiction = CURRENCY_CODES.map((_, c): [number, bigint] => {
      const sum: [number, bigint] = [0, 0n];
      for (let j = 0; j < NJ; j++) {
        sum[0] += this.jurisdiction.counts[c * NJ + j];
        sum[1] += this.jurisdiction.total(c * NJ + j);
      }
      return sum;
    });
    const account = CURRENCY_CODES.map((_, c): [number, bigint] => {
      const sum: [number, bigint] = [0, 0n];
      for (let a = 0; a < this.accounts.keys.length; a++) {
        if (this.account.counts[a * NC + c] === 0) continue;
        sum[0] += this.account.counts[a * NC + c];
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
      return { count: sums.counts[slot], amount: formatMinor(total, CURRENCY_CODES[c]), amountMinor: total.toString() };
    };
    const byCurrency: TotalsJson['byCurrency'] = {};
    const byJurisdiction: TotalsJson['byJurisdiction'] = {};
    CURRENCY_CODES.forEach((code, c) => {
      if (this.currency.counts[c] === 0) return;
      byCurrency[code] = entry(this.currency, c, c);
      JURISDICTIONS.forEach((j, k) => {
        if (this.jurisdiction.counts[c * NJ + k] > 0) (byJurisdiction[code] ??= {})[j] = entry(this.jurisdiction, c * NJ + k, c);
      });
    });
    const byAccount: TotalsJson['byAccount'] = {};
    const order = this.accounts.keys.map((k, i) => [k, i] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [key, a] of order) {
      const row: Record<string, TotalEntry> = {};
      CURRENCY_CODES.forEach((code, c) => {
        if (this.account.counts[a * NC + c] > 0) row[code] = entry(this.account, a * NC + c, c);
      });
      byAccount[key] = row;
    }
    return { byCurrency, byJurisdiction, byAccount };
  }
}

/** An independent running sum (used for the reconciliation's "sum of accepted amounts"). */
export class Accumulator {
  private readonly sums = new SlotSums(1);

  add(minor: number): void {
    this.sums.add(0, minor);
  }

  get count(): number {
    return this.sums.counts[0];
  }

  get total(): bigint {
    return this.sums.total(0);
  }
}
