/**
 * Memory-compact "seen transactionId" set: an open-addressing hash table of 64-bit fingerprints held
 * in one Uint32Array (two words per slot), 8 bytes per slot at 35–70% load (~11–23 bytes per id)
 * instead of a ~100-byte string in a Set.
 *
 * Trade-off: two different ids with the same 64-bit fingerprint are treated as duplicates. With n ids
 * the chance of any such collision is about n^2 / 2^65 (1e6 ids: ~3e-8; 1e7 ids: ~3e-6). A false
 * duplicate is never silently lost: it lands in rejects.jsonl with its transactionId and reason
 * DUPLICATE, where it can be audited. No false negatives: a real duplicate is always caught.
 */
export class FingerprintSet {
  private slots: Uint32Array;
  private mask: number;
  private count = 0;
  /** Fingerprint of the id given to the last `add` (high and low 32 bits). */
  lastHi = 0;
  lastLo = 0;
  private readonly scratch = new Uint32Array(2);

  /** Pre-sized for `expected` ids at the 0.7 maximum load, so a correctly sized run never rehashes. */
  constructor(expected = 1 << 16) {
    let capacity = 1 << 10;
    while (capacity * 0.7 < expected) capacity *= 2;
    this.slots = new Uint32Array(capacity * 2);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.count;
  }

  get bytes(): number {
    return this.released || this.slots.byteLength;
  }

  private released = 0;

  /**
   * Drops the table (the shard's input is done); `add` is refused after. Returns its memory, for the
   * caller to reuse (e.g. as the fingerprints sort's scratch) rather than leave to the collector.
   */
  release(): ArrayBuffer {
    const memory = this.slots.buffer as ArrayBuffer;
    this.released = this.slots.byteLength;
    this.slots = new Uint32Array(2);
    this.mask = 0;
    return memory;
  }

  /**
   * Reads the first slot each of the fingerprints `his[k], los[k]` (from <= k < to) would probe, and nothing
   * else: in a loop this short the reads of many rows are in flight at once, so the table lines (a
   * table larger than the cache) are loaded together before `addFingerprint` needs them one by one.
   * Returns a value made from the reads so they cannot be optimised away.
   */
  touch(his: Uint32Array, los: Uint32Array, from: number, to: number): number {
    const slots = this.slots;
    const mask = this.mask;
    let t = 0;
    for (let k = from; k < to; k++) t += slots[((his[k] ^ Math.imul(los[k], 0x9e3779b1)) & mask) * 2];
    return t;
  }

  /** Adds a fingerprint computed elsewhere (`fingerprintOf`, e.g. on a worker thread). */
  addFingerprint(hi: number, lo: number): boolean {
    this.lastHi = hi;
    this.lastLo = lo;
    return this.insert(hi, lo);
  }

  /** Adds the id in `s[start, end)`; returns false when it was already present. */
  add(s: string, start: number, end: number): boolean {
    fingerprintOf(s, start, end, this.scratch);
    return this.addFingerprint(this.scratch[0], this.scratch[1]);
  }

  private insert(hi: number, lo: number): boolean {
    if (this.released) throw new Error('FingerprintSet used after release()');
    if (hi === 0 && lo === 0) lo = 1; // (0,0) marks an empty slot
    const slots = this.slots;
    let i = (hi ^ Math.imul(lo, 0x9e3779b1)) & this.mask;
    for (;;) {
      const a = slots[i * 2];
      const b = slots[i * 2 + 1];
      if (a === 0 && b === 0) break;
      if (a === hi && b === lo) return false;
      i = (i + 1) & this.mask;
    }
    slots[i * 2] = hi;
    slots[i * 2 + 1] = lo;
    this.count++;
    if (this.count * 10 > (this.mask + 1) * 7) this.grow();
    return true;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    this.mask = old.length - 1;
    this.count = 0;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] !== 0 || old[i + 1] !== 0) this.insert(old[i], old[i + 1]);
    }
  }
}

/**
 * The fingerprint `FingerprintSet.add` uses for `s[start, end)`, written to out[0] (hi), out[1] (lo):
 * `fingerprintBytes` of the text's latin1 bytes (the processor's byte strings hold one char per byte,
 * and a valid id is ASCII), so an id has one fingerprint whichever way it arrives.
 */
export function fingerprintOf(s: string, start: number, end: number, out: Uint32Array): void {
  fingerprintBytes(Buffer.from(s.slice(start, end), 'latin1'), 0, end - start, out, out.subarray(1), 0);
}

/** The 64-bit fingerprint of the id in `b[start, end)`, written to his[k] (hi) and los[k] (lo). */
export function fingerprintBytes(b: Uint8Array, start: number, end: number, his: Uint32Array, los: Uint32Array, k: number): void {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  for (let i = start; i < end; i++) {
    const c = b[i];
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 13;
  }
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h2 = Math.imul(h2 ^ (end - start), 0xc2b2ae35);
  h2 ^= h2 >>> 16;
  his[k] = h1 >>> 0;
  los[k] = h2 >>> 0;
}
