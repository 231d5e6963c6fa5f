/**
 * The shard's fingerprints.tsv (format in domain/run-dedupe.ts): one line per accepted record, sorted
 * by the 64-bit fingerprint of its transactionId, carrying what run-level de-duplication across shards
 * needs to subtract a later occurrence exactly (accepted line, currency, amount, jurisdiction,
 * account). Records are kept packed in one typed array (16 bytes each) and sorted by a bucket pass
 * plus per-bucket insertion sort (stable: equal fingerprints stay in line order).
 */
import { CURRENCY_CODES } from '../../domain/money';
import { JURISDICTIONS } from '../../domain/transaction';
import { decimal } from './byte-out';

const NJ = JURISDICTIONS.length;

/**
 * Words per record: fingerprint hi, lo; the groups word (account index in bits 0-26, currency*NJ +
 * jurisdiction in bits 27-30, bit 31 set when the amount needs more than 32 bits); the amount's low
 * 32 bits. The high bits of the rare amounts of 2^32 minor units or more are kept aside (`high`).
 */
const W = 4;
/** Words per sorted record: the W fields and the record's index (its accepted line - 1). */
const S = 5;
export const SORTED_RECORD_WORDS = S;
const TWO32 = 2 ** 32;
const ACCOUNT_BITS = 27;
const ACCOUNT_MASK = (1 << ACCOUNT_BITS) - 1;
const BIG = 0x80000000;
if (CURRENCY_CODES.length * NJ > 16) throw new Error('currency and jurisdiction no longer fit the 4 bits fingerprints.ts gives them');
/**
 * Above this many records, chunks() sorts one top bucket at a time from an index of the records
 * (4 bytes each) instead of one sorted copy of all of them (20 bytes each): 10M records then need
 * about 40 MB instead of 200 MB next to the unsorted records, for random reads of those records while
 * copying (about 30-60 ms per million; a typical shard stays below the threshold and pays nothing).
 */
export const BUCKETED_SORT_ABOVE = 4_000_000;

export class AcceptedIndex {
  /** Records packed side by side, so writing one sorted line costs one cache miss, not four. */
  private rec: Uint32Array;
  size = 0;
  /** Amount bits above the low 32, by record index, for the records whose groups word has BIG set. */
  private high = new Map<number, number>();

  constructor(expected = 1 << 16) {
    this.rec = new Uint32Array(Math.max(1024, expected) * W);
  }

  add(hi: number, lo: number, currency: number, jurisdiction: number, minor: number, account: number): void {
    if ((this.size + 1) * W > this.rec.length) {
      const grown = new Uint32Array(this.rec.length * 2);
      grown.set(this.rec);
      this.rec = grown;
    }
    if (account > ACCOUNT_MASK) throw new Error(`more than ${ACCOUNT_MASK + 1} accounts in one shard`);
    const i = this.size++;
    const o = i * W;
    const r = this.rec;
    r[o] = hi;
    r[o + 1] = lo;
    r[o + 2] = (account | ((currency * NJ + jurisdiction) << ACCOUNT_BITS)) >>> 0;
    r[o + 3] = minor % TWO32;
    if (minor >= TWO32) {
      r[o + 2] = (r[o + 2] | BIG) >>> 0;
      this.high.set(i, Math.floor(minor / TWO32));
    }
  }

  /** Record indices (0-based lines) in (fingerprint, line) order (does not consume the index). */
  sortedOrder(): Uint32Array {
    return new SortableRecords(this.rec, this.size, this.high).sortedOrder();
  }

  /**
   * The file's bytes, in chunks of about `chunkBytes` (written digit by digit: no per-line strings).
   * `accountKey(a)` is called once per account index, in index order (ids are ASCII identifiers).
   * Consumes the index: call it once, after the last `add`.
   */
  *chunks(accountKey: (index: number) => string, accounts: number, chunkBytes = 1 << 20, bucketedAbove = BUCKETED_SORT_ABOVE): Generator<Buffer> {
    yield* this.take().chunks(packAccountKeys(accountKey, accounts), chunkBytes, bucketedAbove);
  }

  /** Hands the records over (e.g. to another thread, see SortableRecords) and empties the index. */
  take(): SortableRecords {
    const taken = new SortableRecords(this.rec, this.size, this.high);
    this.rec = new Uint32Array(0);
    this.size = 0;
    this.high = new Map();
    return taken;
  }
}

/** Account ids packed back to back (latin1) with where each starts: what fingerprints.tsv lines need of them. */
export interface PackedKeys {
  keys: Buffer;
  keyStart: Int32Array;
}

export function packAccountKeys(accountKey: (index: number) => string, accounts: number): PackedKeys {
  const keyStart = new Int32Array(accounts + 1);
  const parts: string[] = [];
  for (let a = 0; a < accounts; a++) {
    parts.push(accountKey(a));
    keyStart[a + 1] = keyStart[a] + parts[a].length;
  }
  return { keys: Buffer.from(parts.join(''), 'latin1'), keyStart };
}

/** Thrown inside `chunks` when `nextBuffer` gives nothing: whoever takes the chunks stopped. */
export class ChunksCancelled extends Error {}

/** An index's records, taken out of it to be sorted and written (on this thread or a worker's). */
export class SortableRecords {
  constructor(
    private rec: Uint32Array,
    readonly size: number,
    /** Amount bits above the low 32 of the records flagged BIG, by record index. */
    readonly high: ReadonlyMap<number, number>,
  ) {}

  /** The records' memory (to transfer to another thread). */
  get buffer(): ArrayBuffer {
    return this.rec.buffer as ArrayBuffer;
  }

  /**
   * The records in (fingerprint, line) order, moved into a new array of S-word records (W fields + the
   * line index) so the writer reads memory in order. Two stable bucket passes (on the top 8 bits,
   * then within each of those buckets on the next 8: each pass writes to 256 places at a time, which
   * stay in cache, where one pass on 16 bits would write 65,536 places, each a cache miss), then a
   * stable insertion sort inside each bucket (fingerprints are uniform: a handful of records each), so
   * equal fingerprints stay in line order.
   */
  sorted(): Uint32Array {
    const n = this.size;
    const r = this.rec;
    const out = new Uint32Array(n * S);
    const starts = topBucketStarts(r, n);
    const fill = starts.slice(0, 256);
    for (let i = 0; i < n; i++) copyRecord(r, i, out, fill[r[i * W] >>> 24]++);
    // Each top bucket in turn: copied out, then put back by the next 8 bits and insertion-sorted.
    const scratch = { temp: new Uint32Array(1024 * S), sub: new Uint32Array(257) };
    for (let b = 0; b < 256; b++) subSort(out, starts[b], starts[b + 1] - starts[b], scratch);
    return out;
  }

  /** Record indices (0-based lines) in (fingerprint, line) order. */
  sortedOrder(): Uint32Array {
    const s = this.sorted();
    const order = new Uint32Array(this.size);
    for (let k = 0; k < order.length; k++) order[k] = s[k * S + W];
    return order;
  }

  /**
   * fingerprints.tsv, in chunks of about `chunkBytes`; `keys`: the account ids by index. Consumes the
   * records: call it once.
   */
  *chunks(
    keys: PackedKeys,
    chunkBytes = 1 << 20,
    bucketedAbove = BUCKETED_SORT_ABOVE,
    /** Memory for the next chunk (chunkBytes + 256 bytes; undefined: stop); by default new memory each time. */
    nextBuffer?: () => Buffer | undefined,
    /** Memory the one-bucket-at-a-time sort may use for its index (4 bytes per record) instead of new memory. */
    scratch?: ArrayBuffer,
  ): Generator<Buffer> {
    const lines = new FingerprintLines(keys, this.high, chunkBytes, nextBuffer);
    if (this.size <= bucketedAbove) {
      const sorted = this.sorted();
      // The records now live in `sorted`; dropping the unsorted copy lets its memory go while writing.
      this.rec = new Uint32Array(0);
      yield* lines.add(sorted, this.size);
    } else {
      for (const [bucket, count] of this.bucketsInOrder(scratch)) yield* lines.add(bucket, count);
      this.rec = new Uint32Array(0);
    }
    yield* lines.end();
  }

  /**
   * The sorted records one top bucket at a time, each in the memory `into(count)` gives (count S-word
   * records; by default one array reused, valid until the next bucket). `memory`: see `chunks`.
   * Consumes the records.
   */
  *sortedBuckets(memory?: ArrayBuffer, into?: (count: number) => Uint32Array): Generator<[Uint32Array, number]> {
    yield* this.bucketsInOrder(memory, into);
    this.rec = new Uint32Array(0);
  }

  /** The most records any top bucket holds (for sizing memory that must hold any one bucket). */
  largestBucket(): number {
    const starts = topBucketStarts(this.rec, this.size);
    let most = 0;
    for (let b = 0; b < 256; b++) most = Math.max(most, starts[b + 1] - starts[b]);
    return most;
  }

  /**
   * The sorted records one top bucket at a time (each S-word records, valid until the next one):
   * one stable pass writes every record's index into its top bucket's place (4 bytes a record), then
   * each bucket is copied out by those indices and sorted like sorted() does it.
   */
  private *bucketsInOrder(memory?: ArrayBuffer, into?: (count: number) => Uint32Array): Generator<[Uint32Array, number]> {
    const n = this.size;
    const r = this.rec;
    const starts = topBucketStarts(r, n);
    const fill = starts.slice(0, 256);
    const order = memory && memory.byteLength >= 4 * n ? new Uint32Array(memory, 0, n) : new Uint32Array(n);
    for (let i = 0; i < n; i++) order[fill[r[i * W] >>> 24]++] = i;
    const scratch = { temp: new Uint32Array(1024 * S), sub: new Uint32Array(257) };
    let own = new Uint32Array(1024 * S);
    for (let b = 0; b < 256; b++) {
      const first = starts[b];
      const count = starts[b + 1] - first;
      if (count === 0) continue;
      if (!into && own.length < count * S) own = new Uint32Array(count * S * 2);
      const bucket = into ? into(count) : own;
      for (let k = 0; k < count; k++) copyRecord(r, order[first + k], bucket, k);
      subSort(bucket, 0, count, scratch);
      yield [bucket, count];
    }
  }
}

/** Where each top-8-bit bucket starts among the `n` records of `r` (257 entries; the last is n). */
function topBucketStarts(r: Uint32Array, n: number): Uint32Array {
  const starts = new Uint32Array(257);
  for (let i = 0; i < n; i++) starts[(r[i * W] >>> 24) + 1]++;
  for (let b = 1; b < 257; b++) starts[b] += starts[b - 1];
  return starts;
}

/** Record `i` of the W-word records `r` as S-word record `k` of `out` (its fields, then `i`). */
function copyRecord(r: Uint32Array, i: number, out: Uint32Array, k: number): void {
  const o = i * W;
  const t = k * S;
  out[t] = r[o];
  out[t + 1] = r[o + 1];
  out[t + 2] = r[o + 2];
  out[t + 3] = r[o + 3];
  out[t + 4] = i;
}

/**
 * Sorts the `count` S-word records of `out` from record `first` (one top bucket: equal top 8 bits,
 * in line order) by the next 8 bits (a stable bucket pass through `scratch.temp`), then by the whole
 * fingerprint with a stable insertion sort per sub-bucket: (fingerprint, line) order.
 */
function subSort(out: Uint32Array, first: number, count: number, scratch: { temp: Uint32Array; sub: Uint32Array }): void {
  if (count < 2) return;
  if (scratch.temp.length < count * S) scratch.temp = new Uint32Array(count * S * 2);
  const { temp, sub } = scratch;
  for (let w = 0, from = first * S; w < count * S; w++) temp[w] = out[from + w];
  sub.fill(0);
  for (let k = 0; k < count; k++) sub[((temp[k * S] >>> 16) & 255) + 1]++;
  for (let x = 1; x < 257; x++) sub[x] += sub[x - 1];
  for (let k = 0; k < count; k++) {
    const f = k * S;
    const t = (first + sub[(temp[f] >>> 16) & 255]++) * S;
    for (let w = 0; w < S; w++) out[t + w] = temp[f + w];
  }
  // `sub` now holds each sub-bucket's end (relative to `first`); its start is the previous end.
  for (let x = 0; x < 256; x++) insertionSort(out, first + (x === 0 ? 0 : sub[x - 1]), first + sub[x]);
}

/**
 * fingerprints.tsv lines of sorted S-word records, given run by run (`add`), in chunks of about
 * `chunkBytes` (each chunk a buffer from `nextBuffer`, chunkBytes + 256 bytes: the last line started
 * may run past chunkBytes).
 */
export class FingerprintLines {
  private buf: Buffer;
  private dv: DataView;
  private p = 0;

  constructor(
    private readonly keys: PackedKeys,
    private readonly high: ReadonlyMap<number, number>,
    private readonly chunkBytes = 1 << 20,
    private readonly nextBuffer: () => Buffer | undefined = () => Buffer.allocUnsafeSlow(chunkBytes + 256),
  ) {
    this.buf = this.take();
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  private take(): Buffer {
    const b = this.nextBuffer();
    if (!b) throw new ChunksCancelled();
    return b;
  }

  /** The lines of `sorted`'s first `n` records, carried on in the current chunk; yields each chunk filled. */
  *add(sorted: Uint32Array, n: number): Generator<Buffer> {
    const { keys, keyStart } = this.keys;
    for (let k = 0; k < n; ) {
      const filled = fillLines(this.buf, this.dv, this.chunkBytes, sorted, n, k, keys, keyStart, this.high, this.p);
      k = filled.next;
      this.p = filled.bytes;
      if (this.p >= this.chunkBytes) {
        yield this.buf.subarray(0, this.p);
        this.buf = this.take();
        this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
        this.p = 0;
      }
    }
  }

  /** The last chunk, if it holds anything. */
  *end(): Generator<Buffer> {
    if (this.p > 0) yield this.buf.subarray(0, this.p);
    this.p = 0;
  }
}

const TAIL_CURRENCY = CURRENCY_CODES.map((c) => Buffer.from(`\t${c}\t`, 'latin1'));
const TAIL_JURISDICTION = JURISDICTIONS.map((j) => Buffer.from(`\t${j}\t`, 'latin1'));

/**
 * Writes sorted lines from position `k` into `buf` until `limit` bytes are passed (a plain function,
 * not the generator: generator locals live on the heap). A line is at most ~100 bytes (account ids are
 * validated to 34 characters), so the caller's 256 bytes of headroom past `limit` always hold it.
 * Hex and decimal digits go out two at a time as 16-bit stores (`dv` views exactly `buf`).
 */
function fillLines(
  buf: Buffer,
  dv: DataView,
  limit: number,
  s: Uint32Array,
  n: number,
  k: number,
  keys: Buffer,
  keyStart: Int32Array,
  high: ReadonlyMap<number, number>,
  start: number,
): { next: number; bytes: number } {
  let p = start;
  while (k < n && p < limit) {
    const o = k * S;
    const hi = s[o];
    const lo = s[o + 1];
    dv.setUint16(p, HEX_PAIRS[hi >>> 24], true);
    dv.setUint16(p + 2, HEX_PAIRS[(hi >>> 16) & 255], true);
    dv.setUint16(p + 4, HEX_PAIRS[(hi >>> 8) & 255], true);
    dv.setUint16(p + 6, HEX_PAIRS[hi & 255], true);
    dv.setUint16(p + 8, HEX_PAIRS[lo >>> 24], true);
    dv.setUint16(p + 10, HEX_PAIRS[(lo >>> 16) & 255], true);
    dv.setUint16(p + 12, HEX_PAIRS[(lo >>> 8) & 255], true);
    dv.setUint16(p + 14, HEX_PAIRS[lo & 255], true);
    buf[p + 16] = 9;
    const line = s[o + 4];
    p = decimal(dv, p + 17, line + 1);
    const groups = s[o + 2];
    const cj = (groups >>> ACCOUNT_BITS) & 15;
    p = put(buf, p, TAIL_CURRENCY[(cj / NJ) | 0]);
    p = decimal(dv, p, groups & BIG ? high.get(line)! * TWO32 + s[o + 3] : s[o + 3]);
    p = put(buf, p, TAIL_JURISDICTION[cj % NJ]);
    const a = groups & ACCOUNT_MASK;
    for (let j = keyStart[a], e = keyStart[a + 1]; j < e; j++) buf[p++] = keys[j];
    buf[p++] = 10;
    k++;
  }
  return { next: k, bytes: p };
}

/** Two lowercase hex digits per byte value, as one 16-bit little-endian word. */
const HEX_PAIRS = new Uint16Array(256);
for (let v = 0; v < 256; v++) {
  const d = (x: number) => (x < 10 ? 48 + x : 87 + x);
  HEX_PAIRS[v] = d(v >> 4) | (d(v & 15) << 8);
}

/** Short pieces are copied byte by byte: Buffer#copy's call overhead exceeds the copy at this size. */
function put(b: Buffer, p: number, src: Buffer): number {
  for (let j = 0; j < src.length; j++) b[p++] = src[j];
  return p;
}

/**
 * Stable insertion sort of the S-word records [first, end) of `out` by (word 0, word 1), moving words
 * by hand: typed-array set/copyWithin calls cost more than the few words they move.
 */
function insertionSort(out: Uint32Array, first: number, end: number): void {
  for (let k = first + 1; k < end; k++) {
    const h = out[k * S];
    const l = out[k * S + 1];
    let j = k - 1;
    while (j >= first && (out[j * S] > h || (out[j * S] === h && out[j * S + 1] > l))) j--;
    if (j === k - 1) continue;
    const t = k * S;
    const a2 = out[t + 2];
    const a3 = out[t + 3];
    const a4 = out[t + 4];
    for (let w = t - 1, stop = (j + 1) * S; w >= stop; w--) out[w + S] = out[w];
    const d = (j + 1) * S;
    out[d] = h;
    out[d + 1] = l;
    out[d + 2] = a2;
    out[d + 3] = a3;
    out[d + 4] = a4;
  }
}
