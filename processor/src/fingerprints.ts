/**
 * The shard's fingerprints.tsv (format in domain/run-dedupe.ts): one line per accepted record, sorted
 * by the 64-bit fingerprint of its transactionId, carrying what run-level de-duplication across shards
 * needs to subtract a later occurrence exactly (accepted line, currency, amount, jurisdiction,
 * account). Records are kept packed in one typed array (24 bytes each) and sorted by a bucket pass
 * plus per-bucket insertion sort (stable: equal fingerprints stay in line order).
 */
import { CURRENCY_CODES } from '../../domain/money';
import { JURISDICTIONS } from '../../domain/transaction';

const NJ = JURISDICTIONS.length;

/** Words per record: fingerprint hi, lo, account index, currency*NJ+jurisdiction, amount low 32, amount high bits. */
const W = 6;
/** Words per sorted record: the W fields and the record's index (its accepted line - 1). */
const S = 7;
const TWO32 = 2 ** 32;

export class AcceptedIndex {
  /** Records packed side by side, so writing one sorted line costs one cache miss, not six. */
  private rec: Uint32Array;
  size = 0;

  constructor(expected = 1 << 16) {
    this.rec = new Uint32Array(Math.max(1024, expected) * W);
  }

  add(hi: number, lo: number, currency: number, jurisdiction: number, minor: number, account: number): void {
    if ((this.size + 1) * W > this.rec.length) {
      const grown = new Uint32Array(this.rec.length * 2);
      grown.set(this.rec);
      this.rec = grown;
    }
    const o = this.size++ * W;
    const r = this.rec;
    r[o] = hi;
    r[o + 1] = lo;
    r[o + 2] = account;
    r[o + 3] = currency * NJ + jurisdiction;
    r[o + 4] = minor % TWO32;
    r[o + 5] = Math.floor(minor / TWO32);
  }

  /**
   * The records in (fingerprint, line) order, moved into a new array of S-word records (W fields + the
   * line index) so the writer reads memory in order: one bucket pass on the top 16 bits (fingerprints
   * are uniform, so buckets hold a handful of records), then a stable insertion sort inside each
   * bucket, so equal fingerprints stay in line order.
   */
  sorted(): Uint32Array {
    const n = this.size;
    const r = this.rec;
    const starts = new Uint32Array((1 << 16) + 1);
    for (let i = 0; i < n; i++) starts[(r[i * W] >>> 16) + 1]++;
    for (let b = 1; b < starts.length; b++) starts[b] += starts[b - 1];
    const fill = starts.slice(0, 1 << 16);
    const out = new Uint32Array(n * S);
    for (let i = 0; i < n; i++) {
      const o = i * W;
      const t = fill[r[o] >>> 16]++ * S;
      out[t] = r[o];
      out[t + 1] = r[o + 1];
      out[t + 2] = r[o + 2];
      out[t + 3] = r[o + 3];
      out[t + 4] = r[o + 4];
      out[t + 5] = r[o + 5];
      out[t + 6] = i;
    }
    const tmp = new Uint32Array(S);
    for (let b = 0; b < 1 << 16; b++) {
      const first = starts[b];
      const end = starts[b + 1];
      for (let k = first + 1; k < end; k++) {
        const h = out[k * S];
        const l = out[k * S + 1];
        let j = k - 1;
        while (j >= first && (out[j * S] > h || (out[j * S] === h && out[j * S + 1] > l))) j--;
        if (j === k - 1) continue;
        tmp.set(out.subarray(k * S, k * S + S));
        out.copyWithin((j + 2) * S, (j + 1) * S, k * S);
        out.set(tmp, (j + 1) * S);
      }
    }
    return out;
  }

  /** Record indices (0-based lines) in (fingerprint, line) order. */
  sortedOrder(): Uint32Array {
    const s = this.sorted();
    const order = new Uint32Array(this.size);
    for (let k = 0; k < order.length; k++) order[k] = s[k * S + 6];
    return order;
  }

  /** The file's bytes, in chunks of about `chunkBytes` (written digit by digit: no per-line strings). */
  *chunks(accountKey: (index: number) => string, chunkBytes = 1 << 20): Generator<Buffer> {
    const sorted = this.sorted();
    const keys: Buffer[] = [];
    const key = (a: number): Buffer => keys[a] ?? (keys[a] = Buffer.from(accountKey(a), 'latin1'));
    for (let k = 0; k < this.size; ) {
      const buf = Buffer.allocUnsafe(chunkBytes + 256);
      const filled = fillLines(buf, chunkBytes, sorted, this.size, k, key);
      k = filled.next;
      yield buf.subarray(0, filled.bytes);
    }
  }
}

const TAIL_CURRENCY = CURRENCY_CODES.map((c) => Buffer.from(`\t${c}\t`, 'latin1'));
const TAIL_JURISDICTION = JURISDICTIONS.map((j) => Buffer.from(`\t${j}\t`, 'latin1'));

/**
 * Writes sorted lines from position `k` into `buf` until `limit` bytes are passed (a plain function,
 * not the generator: generator locals live on the heap). A line is at most ~100 bytes (account ids are
 * validated to 34 characters), so the caller's 256 bytes of headroom past `limit` always hold it.
 */
function fillLines(buf: Buffer, limit: number, s: Uint32Array, n: number, k: number, key: (a: number) => Buffer): { next: number; bytes: number } {
  let p = 0;
  while (k < n && p < limit) {
    const o = k * S;
    p = hex8(buf, p, s[o]);
    p = hex8(buf, p, s[o + 1]);
    buf[p++] = 9;
    p = decimal(buf, p, s[o + 6] + 1);
    const cj = s[o + 3];
    p = put(buf, p, TAIL_CURRENCY[(cj / NJ) | 0]);
    p = decimal(buf, p, s[o + 5] * TWO32 + s[o + 4]);
    p = put(buf, p, TAIL_JURISDICTION[cj % NJ]);
    p = put(buf, p, key(s[o + 2]));
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

function hex8(b: Buffer, p: number, v: number): number {
  let w = HEX_PAIRS[v >>> 24];
  b[p] = w & 255;
  b[p + 1] = w >> 8;
  w = HEX_PAIRS[(v >>> 16) & 255];
  b[p + 2] = w & 255;
  b[p + 3] = w >> 8;
  w = HEX_PAIRS[(v >>> 8) & 255];
  b[p + 4] = w & 255;
  b[p + 5] = w >> 8;
  w = HEX_PAIRS[v & 255];
  b[p + 6] = w & 255;
  b[p + 7] = w >> 8;
  return p + 8;
}

function decimal(b: Buffer, p: number, v: number): number {
  if (v > 0x7fffffff) {
    // Amounts above 2^31 minor units: double arithmetic (exact below 2^53).
    const high = Math.floor(v / 1e9);
    p = decimal(b, p, high);
    let low = v - high * 1e9;
    for (let q = p + 8; q >= p; q--) {
      const d = low % 10;
      b[q] = 48 + d;
      low = (low - d) / 10;
    }
    return p + 9;
  }
  // Small integers: int32 arithmetic, far cheaper than double modulo.
  let len = 1;
  for (let x = v; x >= 10; x = (x / 10) | 0) len++;
  let q = p + len;
  let x = v | 0;
  do {
    const t = (x / 10) | 0;
    b[--q] = 48 + x - t * 10;
    x = t;
  } while (x > 0);
  return p + len;
}

/** Short pieces are copied byte by byte: Buffer#copy's call overhead exceeds the copy at this size. */
function put(b: Buffer, p: number, src: Buffer): number {
  for (let j = 0; j < src.length; j++) b[p++] = src[j];
  return p;
}
