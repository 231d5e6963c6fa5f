/**
 * Append-only byte buffer for output lines: copies field bytes straight from the input block and
 * writes numbers digit by digit, so an accepted record costs no intermediate strings and no UTF-8
 * re-encoding. Full buffers are handed out as they fill; a new one is allocated each time (the sink may
 * still hold the previous one).
 */
const BLOCK = 1 << 20;

export class ByteOut {
  /** Current block and write position; the record writer fills them directly after `reserve`. */
  buf = Buffer.allocUnsafe(BLOCK);
  pos = 0;
  private full: Buffer[] = [];
  private fullBytes = 0;

  get length(): number {
    return this.fullBytes + this.pos;
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.pos > 0) {
      this.full.push(this.buf.subarray(0, this.pos));
      this.fullBytes += this.pos;
    }
    this.buf = Buffer.allocUnsafe(Math.max(BLOCK, n));
    this.pos = 0;
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

  /** Everything written so far, as one Buffer; resets the writer. */
  take(): Buffer {
    const parts = this.full;
    if (this.pos > 0) parts.push(this.buf.subarray(0, this.pos));
    const out = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    this.buf = this.pos > 0 ? Buffer.allocUnsafe(BLOCK) : this.buf;
    this.pos = 0;
    this.full = [];
    this.fullBytes = 0;
    return out;
  }
}

/** Pre-encoded ASCII literal. */
export function lit(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}
