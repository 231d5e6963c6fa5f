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

/** The account table's hash of the key `b[start, end)` (FNV-1a over its bytes). */
export function keyHash(b: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h;
}

/** Bytes per account record (two cache lines): sums, then hash, index, key length and the key. */
const REC = 128;
const REC_F64 = REC / 8;
const REC_I32 = REC / 4;
/** Int32 word of the hash, of index + 1 (0: empty slot) and of the key length within a record. */
const W_HASH = 16;
const W_INDEX = 17;
const W_LEN = 18;
/** Byte offset of the key within a record, and the longest key kept there (longer keys: `keys` only). */
const KEY_AT = 76;
const KEY_INLINE = REC - KEY_AT;

/**
 * Per-account sums keyed by the account id's bytes, as one open-addressing table of 128-byte records:
 * a record holds the account's four (count, pending sum) pairs, the key's hash, its dense index, its
 * length and (up to 52 bytes, every valid account id) the key itself. A lookup and its update touch
 * one record, two adjacent cache lines whose addresses are both known from the slot, instead of a
 * probe table, a key-offset array, a key arena and a separate sums array one after the other (four
 * dependent reads of tables larger than the cache, per record). Keys are byte strings (account ids are
 * validated ASCII identifiers; the processor's text is one char per byte); `indexOf` (text) and
 * `indexOfBytes` hash and compare the same values, so a key gets one index whichever way it arrives.
 * Keys are also kept back to back by index (`keys`), for the end-of-run files.
 */
export class AccountSums {
  private f64: Float64Array;
  private i32: Int32Array;
  private u8: Uint8Array;
  private mask: number;
  private count = 0;
  /** Key i is keys[keyStart[i], keyStart[i + 1]); its record is at slot slotOf[i]. */
  private keys = new Uint8Array(1 << 16);
  private keyStart = new Int32Array(1 << 12);
  private slotOf = new Int32Array(1 << 12);
  /** Folded remainders by index * NC + currency (see SlotSums). */
  private readonly folded: bigint[] = [];
  private strings: string[] = [];

  constructor(slots = 1 << 12) {
    this.mask = slots - 1;
    const buf = new ArrayBuffer(slots * REC);
    this.f64 = new Float64Array(buf);
    this.i32 = new Int32Array(buf);
    this.u8 = new Uint8Array(buf);
  }

  get size(): number {
    return this.count;
  }

  /** Key `i` as a string (built once per key, on first request). */
  key(i: number): string {
    for (let k = this.strings.length; k <= i; k++) this.strings.push(Buffer.from(this.keys.buffer, this.keys.byteOffset + this.keyStart[k], this.keyStart[k + 1] - this.keyStart[k]).toString('latin1'));
    return this.strings[i];
  }

  /** Every key, in index order. */
  get keyList(): string[] {
    if (this.count > 0) this.key(this.count - 1);
    return this.strings.slice(0, this.count);
  }

  indexOf(s: string, start: number, end: number): number {
    for (let i = start; i < end; i++) if (s.charCodeAt(i) > 255) throw new RangeError('account keys are byte strings (one char per byte)');
    return this.indexOfBytes(Buffer.from(s.slice(start, end), 'latin1'), 0, end - start);
  }

  indexOfBytes(b: Uint8Array, start: number, end: number): number {
    return this.indexAt(this.find(keyHash(b, start, end), b, start, end));
  }

  private indexAt(slot: number): number {
    return this.i32[slot * REC_I32 + W_INDEX] - 1;
  }

  /**
   * Reads both cache lines of the record each hash in `hashes` (k < n, `keyHash` of an account id)
   * lands on first, and nothing else (see FingerprintSet.touch): the records of a batch are then
   * loaded together before `addHashed` reads them one by one.
   */
  touch(hashes: Int32Array, n: number): number {
    const i32 = this.i32;
    const f64 = this.f64;
    const mask = this.mask;
    let t = 0;
    for (let k = 0; k < n; k++) {
      const h = hashes[k];
      const slot = (h ^ (h >>> 15)) & mask;
      t += i32[slot * REC_I32 + W_INDEX] + f64[slot * REC_F64];
    }
    return t;
  }

  /** `indexOfBytes` and `add` in one step (one record read), the key's hash already known (`keyHash(b, start, end)`). Returns the index. */
  addHashed(h: number, b: Uint8Array, start: number, end: number, currency: number, minor: number): number {
    const slot = this.find(h, b, start, end);
    const a = this.indexAt(slot);
    this.addAtSlot(slot, a, currency, minor);
    return a;
  }

  /** Adds one amount to account `a` (an index from `indexOf*`) in `currency`. */
  add(a: number, currency: number, minor: number): void {
    this.addAtSlot(this.slotOf[a], a, currency, minor);
  }

  countOf(a: number, currency: number): number {
    return this.f64[this.slotOf[a] * REC_F64 + currency * 2];
  }

  /** The pending (not folded) part of the sum, and whether anything was folded. */
  pending(a: number, currency: number): number {
    return this.f64[this.slotOf[a] * REC_F64 + currency * 2 + 1];
  }

  wasFolded(a: number, currency: number): boolean {
    return this.folded[a * NC + currency] !== undefined;
  }

  total(a: number, currency: number): bigint {
    return (this.folded[a * NC + currency] ?? 0n) + BigInt(this.pending(a, currency));
  }

  private addAtSlot(slot: number, a: number, currency: number, minor: number): void {
    const d = this.f64;
    const i = slot * REC_F64 + currency * 2;
    d[i]++;
    const next = d[i + 1] + minor;
    if (next >= FOLD_AT) {
      this.folded[a * NC + currency] = (this.folded[a * NC + currency] ?? 0n) + BigInt(d[i + 1]);
      d[i + 1] = minor;
    } else {
      d[i + 1] = next;
    }
  }

  /** The slot of the key `b[start, end)` with hash `h`, inserted (with zero sums) when new. */
  private find(h: number, b: Uint8Array, start: number, end: number): number {
    const i32 = this.i32;
    const u8 = this.u8;
    const n = end - start;
    const mask = this.mask;
    let slot = (h ^ (h >>> 15)) & mask;
    for (;;) {
      const w = slot * REC_I32;
      const stored = i32[w + W_INDEX];
      if (stored === 0) break;
      if (i32[w + W_HASH] === h && i32[w + W_LEN] === n) {
        let same = true;
        if (n <= KEY_INLINE) {
          const at = slot * REC + KEY_AT;
          for (let i = 0; i < n; i++) {
            if (u8[at + i] !== b[start + i]) {
              same = false;
              break;
            }
          }
        } else {
          const ks = this.keyStart[stored - 1];
          for (let i = 0; i < n; i++) {
            if (this.keys[ks + i] !== b[start + i]) {
              same = false;
              break;
            }
          }
        }
        if (same) return slot;
      }
      slot = (slot + 1) & mask;
    }
    return this.insert(slot, h, b, start, end);
  }

  /** Inserts the key at the empty `slot`; returns its slot (moved if the table grew). */
  private insert(slot: number, h: number, b: Uint8Array, start: number, end: number): number {
    const n = end - start;
    const index = this.count++;
    if (this.keyStart.length < index + 2) {
      const grown = new Int32Array(this.keyStart.length * 2);
      grown.set(this.keyStart);
      this.keyStart = grown;
      const slots = new Int32Array(this.slotOf.length * 2);
      slots.set(this.slotOf);
      this.slotOf = slots;
    }
    const used = this.keyStart[index];
    if (used + n > this.keys.length) {
      const grown = new Uint8Array(Math.max(this.keys.length * 2, used + n));
      grown.set(this.keys.subarray(0, used));
      this.keys = grown;
    }
    for (let i = 0; i < n; i++) this.keys[used + i] = b[start + i];
    this.keyStart[index + 1] = used + n;
    const w = slot * REC_I32;
    this.i32[w + W_HASH] = h;
    this.i32[w + W_INDEX] = index + 1;
    this.i32[w + W_LEN] = n;
    if (n <= KEY_INLINE) for (let i = 0; i < n; i++) this.u8[slot * REC + KEY_AT + i] = b[start + i];
    this.slotOf[index] = slot;
    // At most half full: a miss ends at an empty slot after a probe or two.
    if (this.count * 2 > this.mask + 1) this.rehash();
    return this.slotOf[index];
  }

  private rehash(): void {
    const oldF64 = this.f64;
    const oldI32 = this.i32;
    const oldSlots = this.mask + 1;
    const slots = oldSlots * 2;
    const buf = new ArrayBuffer(slots * REC);
    this.f64 = new Float64Array(buf);
    this.i32 = new Int32Array(buf);
    this.u8 = new Uint8Array(buf);
    this.mask = slots - 1;
    for (let s = 0; s < oldSlots; s++) {
      const stored = oldI32[s * REC_I32 + W_INDEX];
      if (stored === 0) continue;
      const h = oldI32[s * REC_I32 + W_HASH];
      let slot = (h ^ (h >>> 15)) & this.mask;
      while (this.i32[slot * REC_I32 + W_INDEX] !== 0) slot = (slot + 1) & this.mask;
      for (let i = 0; i < REC_F64; i++) this.f64[slot * REC_F64 + i] = oldF64[s * REC_F64 + i];
      this.slotOf[stored - 1] = slot;
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
  private readonly accounts = new AccountSums();

  /** Adds one accepted amount; the account id is `s[start, end)`. Returns the account's index. */
  add(s: string, start: number, end: number, currency: number, jurisdiction: number, minor: number): number {
    const a = this.accounts.indexOf(s, start, end);
    this.accounts.add(a, currency, minor);
    this.addGroups(currency, jurisdiction, minor);
    return a;
  }

  /** See AccountSums.touch. */
  touchAccounts(hashes: Int32Array, n: number): number {
    return this.accounts.touch(hashes, n);
  }

  /** `add` with the account id as bytes `b[start, end)` (same account index as the same text) and its `keyHash` already known. */
  addHashed(h: number, b: Uint8Array, start: number, end: number, currency: number, jurisdiction: number, minor: number): number {
    const a = this.accounts.addHashed(h, b, start, end, currency, minor);
    this.addGroups(currency, jurisdiction, minor);
    return a;
  }

  private addGroups(currency: number, jurisdiction: number, minor: number): void {
    this.currency.add(currency, minor);
    this.jurisdiction.add(currency * NJ + jurisdiction, minor);
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
        const count = this.accounts.countOf(a, c);
        if (count === 0) continue;
        sum[0] += count;
        sum[1] += this.accounts.total(a, c);
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
    const sums = this.accounts;
    for (const [accountId, a] of this.accountOrder()) {
      for (let c = 0; c < NC; c++) {
        const count = sums.countOf(a, c);
        if (count === 0) continue;
        const total = sums.total(a, c);
        yield { accountId, currency: CURRENCY_CODES[c], count, amount: formatMinor(total, CURRENCY_CODES[c]), amountMinor: total.toString() };
      }
    }
  }

  /**
   * `accountRows` as the lines of totals-by-account.jsonl, each exactly `JSON.stringify(row) + "\n"`,
   * without a row object, a bigint or a JSON.stringify call for the usual row (a plain key and a total
   * that never needed folding).
   */
  *accountLines(): Generator<string> {
    const sums = this.accounts;
    for (const [accountId, a] of this.accountOrder()) {
      const plain = PLAIN_JSON_KEY.test(accountId);
      const head = plain ? `{"accountId":"${accountId}` : '';
      for (let c = 0; c < NC; c++) {
        const count = sums.countOf(a, c);
        if (count === 0) continue;
        if (plain && !sums.wasFolded(a, c)) {
          const total = sums.pending(a, c);
          yield `${head}${CURRENCY_PART[c]}${count},"amount":"${formatMinorNumber(total, MINOR_DIGITS[c])}","amountMinor":"${total}"}\n`;
        } else {
          const total = sums.total(a, c);
          yield JSON.stringify({ accountId, currency: CURRENCY_CODES[c], count, amount: formatMinor(total, CURRENCY_CODES[c]), amountMinor: total.toString() }) + '\n';
        }
      }
    }
  }

  /** [account id, index] in code-unit order of the ids. */
  private accountOrder(): (readonly [string, number])[] {
    return this.accounts.keyList.map((k, i) => [k, i] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
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
