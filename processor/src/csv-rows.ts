/**
 * The order-free half of the CSV record stage: split, validate and fingerprint whole lines into rows
 * (`CsvRowChecker`), and on a worker thread also encode each valid row's output line. Everything that
 * depends on input order (line numbers, dedupe, totals, which lines reach the output) is applied
 * afterwards by RecordProcessor, on the main thread, from these rows. The single-thread path and the
 * worker threads run this same code, so their outputs are the same bytes by construction.
 *
 * Rows live in one ArrayBuffer (`CheckedRows`) so a worker hands a block's rows to the main thread
 * by transfer, without a copy.
 */
import { isUtf8 } from 'buffer';
import { isIdentifierBytes, PAN_MIN_DIGITS } from '../../domain/field-bytes';
import { containsPanRange } from '../../domain/pan';
import { F_ACCOUNT_ID, F_COUNTERPARTY, F_TRANSACTION_ID, FIELDS, ParsedScalars, validateFieldBytes, ValidationReason } from '../../domain/transaction';
import { writeAcceptedFast } from './accepted-writer';
import { OutCursor, viewOf } from './byte-out';
import { CsvHeader } from './csv';
import { fingerprintBytes } from './dedupe';
import { MAX_LINE_BYTES } from './lines';
import { keyHash } from './totals';

export const NF = FIELDS.length;

/** Reasons the line structure gives (the fields' own are the domain's ValidationReason). */
type RowReason = 'COLUMN_COUNT' | 'BROKEN_QUOTE' | 'BLANK_LINE' | 'LINE_TOO_LONG' | 'INVALID_UTF8';

/** Reject reasons by code; code 0 is a valid row. A fixed table, so both sides of a transfer agree. */
export const REASONS = [
  '',
  'COLUMN_COUNT',
  'BROKEN_QUOTE',
  'BLANK_LINE',
  'LINE_TOO_LONG',
  'INVALID_UTF8',
  'PAN_DETECTED',
  'MISSING_FIELD',
  'UNKNOWN_FIELD',
  'TRANSACTION_ID_INVALID',
  'ACCOUNT_ID_INVALID',
  'ENTITY_ID_INVALID',
  'TIMESTAMP_INVALID',
  'COUNTERPARTY_INVALID',
  'JURISDICTION_INVALID',
  'TYPE_INVALID',
  'CARD_LAST4_INVALID',
  'CURRENCY_UNSUPPORTED',
  'AMOUNT_FORMAT',
  'AMOUNT_PRECISION',
  'AMOUNT_NOT_POSITIVE',
  'AMOUNT_OVER_LIMIT',
] as const;
// Every reason a checked line can get has a code (a compile error names the one missing).
type ReasonWithoutCode = Exclude<ValidationReason | RowReason, (typeof REASONS)[number]>;
const EVERY_REASON_HAS_A_CODE: [ReasonWithoutCode] extends [never] ? true : ReasonWithoutCode = true;
void EVERY_REASON_HAS_A_CODE;
const REASON_CODE = new Map<string, number>(REASONS.map((r, i) => [r, i]));
const PAN_DETECTED = REASON_CODE.get('PAN_DETECTED')!;

function codeOf(reason: string): number {
  const code = REASON_CODE.get(reason);
  if (code === undefined) throw new Error(`reject reason ${reason} has no row code (csv-rows.ts REASONS)`);
  return code;
}

/** Bytes per row: minor (8), NF starts and ends, line bytes, hi, lo, account hash, output end (4 each), 7 byte fields. */
const ROW_BYTES = 8 + 4 * (2 * NF + 5) + 7;

/**
 * A block's checked lines, one row each, in line order, all views of one ArrayBuffer. Field ranges
 * index the input block, or the checker's arena for a row with `inArena` (a line with quotes, whose
 * fields were unescaped). `outEnd[k]`: end of row k's encoded line in the block's output (rows that
 * are not valid add nothing), when the rows were encoded.
 */
export class CheckedRows {
  n = 0;
  readonly buffer: ArrayBuffer;
  readonly minor: Float64Array;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly lineBytes: Int32Array;
  readonly hi: Uint32Array;
  readonly lo: Uint32Array;
  readonly accountHash: Int32Array;
  readonly outEnd: Int32Array;
  /** Reject reason code (REASONS); 0 = valid. */
  readonly code: Uint8Array;
  /** Field index of the refusal; -1 when no field is named. */
  readonly field: Int8Array;
  /** Whether the rejected row's transactionId may be echoed. */
  readonly echo: Uint8Array;
  readonly inArena: Uint8Array;
  readonly currency: Uint8Array;
  readonly jurisdiction: Uint8Array;
  readonly type: Uint8Array;

  constructor(
    readonly capacity: number,
    buffer?: ArrayBuffer,
  ) {
    this.buffer = buffer && buffer.byteLength >= capacity * ROW_BYTES ? buffer : new ArrayBuffer(capacity * ROW_BYTES);
    const b = this.buffer;
    let at = 0;
    const take = (bytes: number): number => {
      const here = at;
      at += bytes;
      return here;
    };
    this.minor = new Float64Array(b, take(8 * capacity), capacity);
    this.starts = new Int32Array(b, take(4 * NF * capacity), NF * capacity);
    this.ends = new Int32Array(b, take(4 * NF * capacity), NF * capacity);
    this.lineBytes = new Int32Array(b, take(4 * capacity), capacity);
    this.hi = new Uint32Array(b, take(4 * capacity), capacity);
    this.lo = new Uint32Array(b, take(4 * capacity), capacity);
    this.accountHash = new Int32Array(b, take(4 * capacity), capacity);
    this.outEnd = new Int32Array(b, take(4 * capacity), capacity);
    this.code = new Uint8Array(b, take(capacity), capacity);
    this.field = new Int8Array(b, take(capacity), capacity);
    this.echo = new Uint8Array(b, take(capacity), capacity);
    this.inArena = new Uint8Array(b, take(capacity), capacity);
    this.currency = new Uint8Array(b, take(capacity), capacity);
    this.jurisdiction = new Uint8Array(b, take(capacity), capacity);
    this.type = new Uint8Array(b, take(capacity), capacity);
  }

  /** A copy with room for `capacity` rows. */
  grown(capacity: number): CheckedRows {
    const g = new CheckedRows(capacity);
    const n = this.n;
    g.n = n;
    g.minor.set(this.minor.subarray(0, n));
    g.starts.set(this.starts.subarray(0, n * NF));
    g.ends.set(this.ends.subarray(0, n * NF));
    for (const k of ['lineBytes', 'hi', 'lo', 'accountHash', 'outEnd', 'code', 'field', 'echo', 'inArena', 'currency', 'jurisdiction', 'type'] as const) {
      (g[k] as Int32Array).set((this[k] as Int32Array).subarray(0, n));
    }
    return g;
  }

  /** Start of row k's encoded line (end of the previous row's). */
  outStart(k: number): number {
    return k === 0 ? 0 : this.outEnd[k - 1];
  }
}

/** Scalars of a valid row, for the output writer. */
export function rowScalars(rows: CheckedRows, k: number, s: ParsedScalars): ParsedScalars {
  s.minor = rows.minor[k];
  s.currency = rows.currency[k];
  s.jurisdiction = rows.jurisdiction[k];
  s.type = rows.type[k];
  return s;
}

export class CsvRowChecker {
  rows: CheckedRows;
  /** The unescaped fields of the rows' lines with quotes, back to back (grows; offsets stay valid). */
  arena: Buffer;
  arenaUsed = 0;
  /** CSV records: the current line's field ranges by field index (a field the header lacks stays empty). */
  private readonly starts = new Int32Array(NF);
  private readonly ends = new Int32Array(NF);
  /** Positions of a line's first commas (one per column boundary). */
  private cuts = new Int32Array(NF);
  private readonly scalars: ParsedScalars = { minor: 0, currency: 0, jurisdiction: 0, type: 0 };
  private readonly failed = { index: -1 };

  constructor(
    readonly header: CsvHeader,
    readonly limits: Float64Array,
    capacity: number,
    arenaBytes: number,
  ) {
    this.rows = new CheckedRows(capacity);
    this.arena = Buffer.allocUnsafeSlow(arenaBytes + MAX_LINE_BYTES + 16);
    if (this.cuts.length < header.columnToField.length) this.cuts = new Int32Array(header.columnToField.length);
  }

  /** Empties the rows and the arena (their contents were applied). */
  reset(): void {
    this.rows.n = 0;
    this.arenaUsed = 0;
  }

  /**
   * Starts a block whose rows go elsewhere once checked: fresh rows with room for `capacity` (in
   * `memory` when it is large enough) and an empty arena.
   */
  startBlock(capacity: number, memory?: ArrayBuffer): void {
    this.rows = new CheckedRows(capacity, memory);
    this.arenaUsed = 0;
  }

  /**
   * Checks the lines of `b` from `pos` to `end`, one row each, until `maxRows` rows are held, or the
   * arena holds more than `arenaLimit` bytes after a line with quotes; returns where it stopped.
   * One pass per line finds its end, its commas, whether it holds a quote, a byte outside ASCII (then
   * the line must be valid UTF-8, or it is refused as INVALID_UTF8) and whether any field holds a run
   * of PAN_MIN_DIGITS digits (the only fields the card-number detector can flag); the fields are then
   * checked in place (`validateFieldBytes`); a line with a quote is unescaped into the arena first
   * (`quoted`). The bytes need not be valid UTF-8.
   */
  check(b: Buffer, pos: number, maxRows: number, arenaLimit: number, end = b.length): number {
    const map = this.header.columnToField;
    const columns = map.length;
    const cuts = this.cuts;
    const starts = this.starts;
    const ends = this.ends;
    const n = end;
    while (pos < n && this.rows.n < maxRows) {
      let commas = 0;
      let quote = false;
      let run = 0;
      let longRun = false;
      let nonAscii = false;
      let i = pos;
      for (; i < n; i++) {
        const c = b[i];
        if (c === 10) break;
        if (c === 44) {
          if (commas < columns) cuts[commas] = i;
          commas++;
          run = 0;
        } else if ((c - 48) >>> 0 < 10) {
          if (++run >= PAN_MIN_DIGITS) longRun = true;
        } else if (((c | 32) - 97) >>> 0 < 26) {
          run = 0;
        } else if (c === 34) {
          quote = true;
        } else if (c > 127) {
          nonAscii = true;
        }
      }
      const nl = i;
      let end = nl;
      if (end > pos && b[end - 1] === 13) end--;
      if (nonAscii && !isUtf8(b.subarray(pos, nl))) {
        // Checked first: a line that is not UTF-8 is refused whatever else is wrong with it.
        this.refuse(codeOf('INVALID_UTF8'));
      } else if (nl - pos > MAX_LINE_BYTES) {
        this.refuse(codeOf('LINE_TOO_LONG'));
      } else if (end === pos) {
        this.refuse(codeOf('BLANK_LINE'));
      } else if (quote) {
        this.quoted(b, pos, end);
      } else if (commas !== columns - 1) {
        this.refuse(codeOf('COLUMN_COUNT'));
      } else {
        let s = pos;
        for (let col = 0; col < columns; col++) {
          const e = col === columns - 1 ? end : cuts[col];
          const f = map[col];
          starts[f] = s;
          ends[f] = e;
          s = e + 1;
        }
        this.fields(b, false, end - pos, !longRun);
      }
      pos = nl + 1;
      if (quote && this.arenaUsed > arenaLimit) break;
    }
    return pos;
  }

  /**
   * Writes every valid row's output line into `out` (rows from `from` on, whose fields are ranges of
   * `src` or of the arena) and records where each row's bytes end.
   */
  encode(src: Buffer, out: OutCursor, from = 0): void {
    const rows = this.rows;
    const srcView = viewOf(src);
    const arenaView = viewOf(this.arena);
    const s = this.scalars;
    let at = out.pos;
    for (let k = from; k < rows.n; k++) {
      if (rows.code[k] === 0) {
        // Every output byte comes from the line (at most doubled by JSON escaping) or from the literals.
        out.reserve(320 + 2 * rows.lineBytes[k]);
        const inArena = rows.inArena[k] !== 0;
        writeAcceptedFast(out, inArena ? this.arena : src, inArena ? arenaView : srcView, rows.starts, rows.ends, rowScalars(rows, k, s), k * NF);
        at = out.pos;
      }
      rows.outEnd[k] = at;
    }
  }

  /** A row for a line refused before its fields were checked (no field named). */
  private refuse(code: number): void {
    const k = this.nextRow();
    this.rows.code[k] = code;
    this.rows.field[k] = -1;
  }

  private nextRow(): number {
    if (this.rows.n === this.rows.capacity) this.rows = this.rows.grown(this.rows.capacity * 2);
    return this.rows.n++;
  }

  /**
   * A line with a quote (RFC 4180 quoting within the line): every field, quoted or not, is copied
   * unescaped into the arena, so all of them are ranges of one buffer; then `fields` on it.
   */
  private quoted(b: Buffer, start: number, end: number): void {
    const map = this.header.columnToField;
    // The unescaped fields are never longer than the line.
    if (this.arenaUsed + (end - start) + 16 > this.arena.length) {
      const grown = Buffer.allocUnsafeSlow(2 * (this.arenaUsed + (end - start) + 16));
      this.arena.copy(grown, 0, 0, this.arenaUsed);
      this.arena = grown;
    }
    const out = this.arena;
    const starts = this.starts;
    const ends = this.ends;
    let w = this.arenaUsed;
    let col = 0;
    let pos = start;
    for (;;) {
      if (col >= map.length) return this.refuse(codeOf('COLUMN_COUNT'));
      const f = map[col];
      if (pos < end && b[pos] === 34 /* " */) {
        const from = w;
        let i = pos + 1;
        let closed = false;
        while (i < end) {
          const c = b[i];
          if (c !== 34) {
            out[w++] = c;
            i++;
          } else if (i + 1 < end && b[i + 1] === 34) {
            out[w++] = 34;
            i += 2;
          } else {
            i++;
            closed = true;
            break;
          }
        }
        if (!closed) return this.refuse(codeOf('BROKEN_QUOTE'));
        if (i < end && b[i] !== 44 /* , */) return this.refuse(codeOf('BROKEN_QUOTE'));
        starts[f] = from;
        ends[f] = w;
        col++;
        if (i >= end) break;
        pos = i + 1;
      } else {
        const from = w;
        let i = pos;
        for (; i < end; i++) {
          const c = b[i];
          if (c === 44) break;
          if (c === 34) return this.refuse(codeOf('BROKEN_QUOTE')); // quote inside an unquoted field
          out[w++] = c;
        }
        starts[f] = from;
        ends[f] = w;
        col++;
        if (i >= end) break;
        pos = i + 1;
      }
    }
    if (col !== map.length) return this.refuse(codeOf('COLUMN_COUNT'));
    this.arenaUsed = w;
    this.fields(out, true, end - start, false);
  }

  /**
   * Validates the record whose fields are `b[starts[f], ends[f])` into the next row.
   * `noLongRun`: no field holds a run of PAN_MIN_DIGITS digits, so the detector cannot flag one.
   */
  private fields(b: Buffer, inArena: boolean, lineBytes: number, noLongRun: boolean): void {
    const starts = this.starts;
    const ends = this.ends;
    const s = this.scalars;
    const failed = this.failed;
    let reason: string | null = validateFieldBytes(b, starts, ends, this.limits, s, failed, noLongRun);
    // Free text holding non-ASCII is scanned again as decoded text: the detector is written for text
    // (a separator or digit outside ASCII is several unrelated chars as bytes).
    if (reason === null && ends[F_COUNTERPARTY] > starts[F_COUNTERPARTY] && hasNonAsciiByte(b, starts[F_COUNTERPARTY], ends[F_COUNTERPARTY])) {
      const decoded = b.toString('utf8', starts[F_COUNTERPARTY], ends[F_COUNTERPARTY]);
      if (containsPanRange(decoded, 0, decoded.length)) {
        failed.index = F_COUNTERPARTY;
        reason = 'PAN_DETECTED';
      }
    }
    const k = this.nextRow();
    const rows = this.rows;
    rows.inArena[k] = inArena ? 1 : 0;
    const o = k * NF;
    for (let f = 0; f < NF; f++) {
      rows.starts[o + f] = starts[f];
      rows.ends[o + f] = ends[f];
    }
    if (reason !== null) {
      const code = codeOf(reason);
      rows.code[k] = code;
      rows.field[k] = failed.index;
      rows.echo[k] = code !== PAN_DETECTED && isIdentifierBytes(b, starts[F_TRANSACTION_ID], ends[F_TRANSACTION_ID], 1, 64, true, false) ? 1 : 0;
      return;
    }
    rows.code[k] = 0;
    rows.minor[k] = s.minor;
    rows.currency[k] = s.currency;
    rows.jurisdiction[k] = s.jurisdiction;
    rows.type[k] = s.type;
    rows.lineBytes[k] = lineBytes;
    fingerprintBytes(b, starts[F_TRANSACTION_ID], ends[F_TRANSACTION_ID], rows.hi, rows.lo, k);
    rows.accountHash[k] = keyHash(b, starts[F_ACCOUNT_ID], ends[F_ACCOUNT_ID]);
  }
}

function hasNonAsciiByte(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i] > 127) return true;
  return false;
}
