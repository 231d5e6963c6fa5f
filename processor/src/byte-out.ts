/**
 * Append-only byte buffer for output lines: copies field bytes straight from the input block and
 * writes numbers digit by digit, so an accepted record costs no intermediate strings and no UTF-8
 * re-encoding. Flushing hands out views, never copies: `takeParts` returns the filled blocks plus the
 * written-but-unflushed part of the current block, and writing then continues in the current block
 * after that part (the sink may hold the view until its write completes, but nothing is ever written
 * into a range that was handed out). A new block is allocated only when the current one is full.
 */
const BLOCK = 1 << 20;

/** What the record writer needs of an output buffer: the buffer, a DataView over it, the position and room-making. */
export interface OutCursor {
  buf: Buffer;
  view: DataView;
  pos: number;
  reserve(n: number): void;
}
/** Released blocks kept for reuse (the sink holds a few MiB in flight). */
const MAX_SPARE = 8;

export class ByteOut {
  /** Current block and write position; the record writer fills them directly after `reserve`. */
  buf: Buffer = Buffer.allocUnsafe(BLOCK);
  /** DataView over exactly `buf` (for the accepted writer's word-at-a-time copies). */
  view = viewOf(this.buf);
  pos = 0;
  /** Start of the current block's bytes not yet handed out. */
  private from = 0;
  private full: Buffer[] = [];
  private fullBytes = 0;
  /** Per block (by its memory): how many of its parts are made and not yet released. */
  private readonly outstanding = new Map<ArrayBufferLike, number>();
  /** Blocks written elsewhere (`external`): parts not yet released, and what to call once none is left. */
  private readonly foreign = new Map<ArrayBufferLike, { parts: number; free?: () => void }>();
  /** Released blocks, reused before allocating. */
  private readonly spare: Buffer[] = [];
  /** Whether parts are counted and released blocks reused (see `release`); set before the first write. */
  recycling = false;

  get length(): number {
    return this.fullBytes + this.pos - this.from;
  }

  constructor(blockBytes = BLOCK) {
    if (blockBytes !== BLOCK) {
      this.buf = Buffer.allocUnsafeSlow(blockBytes);
      this.view = viewOf(this.buf);
    }
  }

  /** Appends bytes written elsewhere (a worker's output block) as a part of their own, without a copy. */
  external(part: Buffer): void {
    if (this.pos > this.from) {
      this.part(this.buf.subarray(this.from, this.pos), this.full);
      this.fullBytes += this.pos - this.from;
      this.from = this.pos;
    }
    if (this.recycling) {
      const f = this.foreign.get(part.buffer);
      if (f) f.parts++;
      else this.foreign.set(part.buffer, { parts: 1 });
    }
    this.full.push(part);
    this.fullBytes += part.length;
  }

  /**
   * No more parts will be taken from `block` (given to `external`): `free` is called once every part
   * made of it is released, or now if none was made. Without `recycling` parts are never released,
   * so `free` is never called and the memory is left to the garbage collector.
   */
  externalDone(block: Buffer, free?: () => void): void {
    if (!this.recycling || !free) {
      this.foreign.delete(block.buffer);
      return;
    }
    const f = this.foreign.get(block.buffer);
    if (f) f.free = free;
    else free();
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const old = this.buf;
    if (this.pos > this.from) this.part(this.buf.subarray(this.from, this.pos), this.full);
    this.fullBytes += this.pos - this.from;
    this.buf = (this.recycling && n <= BLOCK && this.spare.pop()) || Buffer.allocUnsafe(Math.max(BLOCK, n));
    this.view = viewOf(this.buf);
    this.pos = 0;
    this.from = 0;
    // No part of the old block alive (all handed out and released, or none made): reuse it now.
    if (this.recycling && !this.outstanding.get(old.buffer)) this.retire(old);
  }

  /**
   * A part returned by `takeParts` is no longer needed by whoever wrote it out (see Sink.write's
   * `written`). A block none of whose parts is alive any more, and that is no longer being written
   * into, is kept for reuse (with `recycling` on): fresh 1 MiB blocks cost page faults on first touch
   * and, as external memory, full garbage collections.
   */
  release(part: Buffer): void {
    const f = this.foreign.get(part.buffer);
    if (f) {
      if (--f.parts === 0) {
        this.foreign.delete(part.buffer);
        f.free?.();
      }
      return;
    }
    const n = this.outstanding.get(part.buffer);
    if (n === undefined) return; // not a part of this writer's blocks (e.g. a worker's buffer)
    if (n > 1) {
      this.outstanding.set(part.buffer, n - 1);
      return;
    }
    this.outstanding.delete(part.buffer);
    if (part.buffer !== this.buf.buffer) this.retire(Buffer.from(part.buffer, 0, part.buffer.byteLength));
  }

  private retire(block: Buffer): void {
    if (block.byteOffset === 0 && block.buffer.byteLength === BLOCK && this.spare.length < MAX_SPARE) this.spare.push(Buffer.from(block.buffer, 0, BLOCK));
  }

  /** Records a part of the current block (counted while recycling, until released). */
  private part(view: Buffer, into: Buffer[]): void {
    if (this.recycling) this.outstanding.set(view.buffer, (this.outstanding.get(view.buffer) ?? 0) + 1);
    into.push(view);
  }

  /** Copies `src[start, end)`; the caller has reserved the space. */
  bytes(src: Uint8Array, start: number, end: number): void {
    const b = this.buf;
    let p = this.pos;
    if (end - start > 64) {
      b.set(src.subarray(start, end), p);
      p += end - start;
    } else {
      for (let i = start; i < end; i++) b[p++] = src[i];
    }
    this.pos = p;
  }

  /** Writes a byte string (one char per byte); the caller has reserved the space. */
  latin1(s: string): void {
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }

  /** Writes a non-negative safe integer in decimal. */
  uint(n: number): void {
    let digits = 1;
    for (let v = n; v >= 10; v = Math.floor(v / 10)) digits++;
    const b = this.buf;
    let p = this.pos + digits;
    this.pos = p;
    do {
      b[--p] = 48 + (n % 10);
      n = Math.floor(n / 10);
    } while (n > 0);
  }

  /** Writes `minor` units as a canonical decimal with `scale` fraction digits. */
  decimal(minor: number, scale: number): void {
    if (scale === 0) {
      this.uint(minor);
      return;
    }
    const unit = 10 ** scale;
    this.uint(Math.floor(minor / unit));
    const b = this.buf;
    b[this.pos++] = 46; // .
    let frac = minor % unit;
    let p = this.pos + scale;
    this.pos = p;
    for (let k = 0; k < scale; k++) {
      b[--p] = 48 + (frac % 10);
      frac = Math.floor(frac / 10);
    }
  }

  /**
   * Everything written since the last take, in order, as views (no copy); resets the writer. Each
   * part may be given back with `release` once it is written out; one never given back is simply
   * not reused.
   */
  takeParts(): Buffer[] {
    const parts = this.full;
    if (this.pos > this.from) this.part(this.buf.subarray(this.from, this.pos), parts);
    this.from = this.pos;
    this.full = [];
    this.fullBytes = 0;
    return parts;
  }

  /** Everything written since the last take, as one Buffer; resets the writer. */
  take(): Buffer {
    const parts = this.takeParts();
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }
}

export function viewOf(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Pre-encoded ASCII literal. */
export function lit(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** Four decimal digits (zero-padded) per value 0-9999, as one 32-bit little-endian word. */
export const DEC4 = new Uint32Array(10000);
for (let v = 0; v < 10000; v++) {
  DEC4[v] = (48 + ((v / 1000) | 0)) | ((48 + (((v / 100) | 0) % 10)) << 8) | ((48 + (((v / 10) | 0) % 10)) << 16) | ((48 + (v % 10)) << 24);
}

/**
 * Writes v (a non-negative safe integer) in decimal at `p`; returns the end. Four digits per store
 * (one integer division per four digits); a store may write up to 3 bytes past the end, which the
 * caller's headroom absorbs and the next field overwrites.
 */
export function decimal(dv: DataView, p: number, v: number): number {
  if (v > 0x7fffffff) {
    // Amounts above 2^31 minor units: double arithmetic (exact below 2^53).
    const high = Math.floor(v / 1e8);
    p = decimal(dv, p, high);
    const low = v - high * 1e8;
    const mid = Math.floor(low / 1e4);
    dv.setUint32(p, DEC4[mid], true);
    dv.setUint32(p + 4, DEC4[low - mid * 1e4], true);
    return p + 8;
  }
  const x = v | 0;
  if (x < 10000) return lead(dv, p, x);
  const hi = (x / 10000) | 0;
  const lo = x - hi * 10000;
  if (hi < 10000) {
    p = lead(dv, p, hi);
  } else {
    const top = (hi / 10000) | 0;
    p = lead(dv, p, top);
    dv.setUint32(p, DEC4[hi - top * 10000], true);
    p += 4;
  }
  dv.setUint32(p, DEC4[lo], true);
  return p + 4;
}

/** The 1-4 digits of x < 10000 without leading zeros. */
function lead(dv: DataView, p: number, x: number): number {
  const len = x < 10 ? 1 : x < 100 ? 2 : x < 1000 ? 3 : 4;
  dv.setUint32(p, DEC4[x] >>> ((4 - len) * 8), true);
  return p + len;
}

/**
 * One contiguous, growing output buffer (a worker's encoded block: rows record offsets into it, so it
 * must not be split into blocks like ByteOut's). Same cursor fields as ByteOut for the record writer.
 */
export class GrowOut implements OutCursor {
  buf: Buffer;
  view: DataView;
  pos = 0;

  /** Writes into `reuse` when it holds `bytes`, else into new memory. */
  constructor(bytes: number, reuse?: ArrayBuffer) {
    this.buf = reuse && reuse.byteLength >= bytes ? Buffer.from(reuse) : Buffer.allocUnsafeSlow(bytes);
    this.view = viewOf(this.buf);
  }

  /** Makes room for `n` more bytes (copying what was written into a larger buffer). */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(2 * this.buf.length, this.pos + n));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
    this.view = viewOf(grown);
  }
}
