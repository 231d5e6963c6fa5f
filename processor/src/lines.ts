/**
 * Byte-level framing of one shard: take the shard's line-aligned byte range out of a chunk stream,
 * hash exactly those bytes, and hand out blocks that end on a line boundary so each block can be
 * UTF-8-checked and decoded in one native call.
 *
 * Ownership rule (shared with the orchestrator's sizing): shard [start, end) owns every line whose first
 * byte q satisfies start < q <= end (start = 0: 0 <= q <= end). So a shard skips through the first
 * newline at/after `start` (unless start = 0) and stops after the first newline at/after `end`.
 * Adjacent shards therefore never overlap and never leave a gap.
 */
import { isUtf8 } from 'buffer';
import { createHash } from 'crypto';

const NL = 0x0a;

export interface ShardWindow {
  /** Absolute offset of the first byte of `chunks`. */
  start: number;
  /** Stop after the first newline at/after this offset (Infinity: read to EOF). */
  end: number;
  /** False for shards > 0: the bytes up to the first newline belong to the previous shard. */
  ownsFirstLine: boolean;
}

/**
 * Longest line accepted, in bytes before its LF. A longer line is a counted reject (LINE_TOO_LONG);
 * it is never buffered: once a line that spans chunks passes this length, its bytes are hashed and
 * dropped up to the next LF, so memory stays bounded on any input (a 120 MB file without a newline
 * costs one read chunk, not 120 MB).
 */
export const MAX_LINE_BYTES = 64 * 1024;

/**
 * Stands for one overlong line in the block stream, in its place. `head` holds its first
 * MAX_LINE_BYTES bytes (copied) so the first line can still be diagnosed (lone CR, header too long).
 */
export class LongLine {
  constructor(readonly head: Buffer) {}
}

/** Where the owned bytes go to be hashed; a returned promise means "wait before giving more". */
export interface ByteHash {
  update(data: Uint8Array): unknown;
}

export interface FramedInput {
  /** Blocks of whole lines, with a LongLine in place of each line longer than MAX_LINE_BYTES that spans blocks. */
  blocks: AsyncGenerator<Buffer | LongLine>;
  /** Hash of the owned bytes; final once `blocks` is exhausted. */
  hash: ByteHash;
  /** Owned bytes so far. */
  bytes(): number;
}

export function frameLines(chunks: AsyncIterable<Buffer>, window: ShardWindow, hash: ByteHash = createHash('sha256'), maxLine = MAX_LINE_BYTES): FramedInput {
  const update = async (data: Uint8Array): Promise<void> => {
    const wait = hash.update(data);
    if (wait instanceof Promise) await wait;
  };
  let owned = 0;
  async function* run(): AsyncGenerator<Buffer | LongLine> {
    let pos = window.start;
    let skipping = !window.ownsFirstLine;
    let atStart = window.start === 0;
    /** Start of the current line when it spans chunks (at most maxLine bytes). */
    let carry: Buffer | undefined;
    /** Inside an overlong line: drop bytes up to the next LF. */
    let dropping = false;
    let done = false;
    const longLine = (a: Buffer | undefined, b: Buffer): LongLine => {
      const head = Buffer.allocUnsafe(Math.min(maxLine, (a?.length ?? 0) + b.length));
      const n = a ? a.copy(head, 0, 0, Math.min(a.length, head.length)) : 0;
      if (n < head.length) b.copy(head, n, 0, head.length - n);
      return new LongLine(head);
    };
    for await (let chunk of chunks) {
      if (skipping) {
        const k = chunk.indexOf(NL);
        if (k < 0) {
          pos += chunk.length;
          continue;
        }
        skipping = false;
        pos += k + 1;
        chunk = chunk.subarray(k + 1);
        if (pos > window.end) return;
      }
      if (atStart && chunk.length > 0) {
        atStart = false;
        // A UTF-8 byte-order mark is hashed (it is part of the object) but not parsed.
        if (chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) {
          await update(chunk.subarray(0, 3));
          owned += 3;
          pos += 3;
          chunk = chunk.subarray(3);
        }
      }
      if (pos + chunk.length > window.end) {
        const k = chunk.indexOf(NL, Math.max(0, window.end - pos));
        if (k >= 0) {
          chunk = chunk.subarray(0, k + 1);
          done = true;
        }
      }
      await update(chunk);
      owned += chunk.length;
      pos += chunk.length;
      if (dropping) {
        const k = chunk.indexOf(NL);
        if (k < 0) {
          if (done) break;
          continue;
        }
        dropping = false;
        chunk = chunk.subarray(k + 1);
      }
      const last = chunk.lastIndexOf(NL);
      if (last < 0) {
        if ((carry?.length ?? 0) + chunk.length > maxLine) {
          yield longLine(carry, chunk);
          carry = undefined;
          dropping = true;
        } else {
          carry = carry ? Buffer.concat([carry, chunk]) : chunk;
        }
      } else {
        if (carry) {
          const first = chunk.indexOf(NL);
          if (carry.length + first > maxLine) yield longLine(carry, chunk);
          else yield Buffer.concat([carry, chunk.subarray(0, first + 1)]);
          carry = undefined;
          if (first < last) yield chunk.subarray(first + 1, last + 1);
        } else {
          yield chunk.subarray(0, last + 1);
        }
        if (chunk.length - (last + 1) > maxLine) {
          yield longLine(undefined, chunk.subarray(last + 1));
          dropping = true;
        } else if (last + 1 < chunk.length) {
          carry = chunk.subarray(last + 1);
        }
      }
      if (done) break;
    }
    if (carry && carry.length > 0) yield carry;
  }
  return { blocks: run(), hash, bytes: () => owned };
}

/** Merges small network chunks into blocks of at least `size` bytes (fewer decode calls). */
export async function* coalesce(chunks: AsyncIterable<Buffer>, size = 1 << 20): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let length = 0;
  for await (const chunk of chunks) {
    if (length === 0 && chunk.length >= size) {
      yield chunk;
      continue;
    }
    parts.push(chunk);
    length += chunk.length;
    if (length >= size) {
      yield parts.length === 1 ? parts[0] : Buffer.concat(parts, length);
      parts = [];
      length = 0;
    }
  }
  if (length > 0) yield parts.length === 1 ? parts[0] : Buffer.concat(parts, length);
}

/**
 * Splits `block[start, end)` (whole lines) into runs of valid UTF-8 lines, each handed to `valid` as
 * one view (a run between two invalid lines may come in several pieces), and its lines that are not
 * valid UTF-8, each reported to `invalid`, all in order.
 * Halves a failing range at a line break until it is valid or a single line, so a block with a few
 * invalid lines costs a few dozen checks, not one per line. (A line break cannot be inside a valid
 * multi-byte sequence, so a range is valid exactly when each of its lines is.)
 */
export function splitInvalidUtf8(block: Buffer, start: number, end: number, valid: (run: Buffer) => void, invalid: () => void): void {
  if (start >= end) return;
  const range = block.subarray(start, end);
  if (isUtf8(range)) {
    valid(range);
    return;
  }
  const half = start + ((end - start) >> 1);
  let cut = block.indexOf(NL, half);
  if (cut < 0 || cut + 1 >= end) cut = half > start ? block.lastIndexOf(NL, half - 1) : -1;
  if (cut < start || cut + 1 >= end) {
    invalid(); // one line
    return;
  }
  splitInvalidUtf8(block, start, cut + 1, valid, invalid);
  splitInvalidUtf8(block, cut + 1, end, valid, invalid);
}
