/**
 * The per-line split-and-validate stage for CSV records on the worker threads (validate-worker.ts,
 * opt-in with PROCESSOR_WORKERS), over the block's latin1 text (splitLine + validateFieldView). The
 * single-thread path checks the same lines as bytes (RecordProcessor.csvBytes, validateFieldBytes);
 * workers.test.ts and byte-path.test.ts hold the two byte-identical on every kind of bad record.
 * Order-dependent work (line numbers, dedupe, totals, output) stays with RecordProcessor.
 */
import { isUtf8 } from 'buffer';
import { isIdentifier } from '../../domain/fields';
import { containsPanRange } from '../../domain/pan';
import { writeAcceptedFast } from './accepted-writer';
import { ByteOut, viewOf } from './byte-out';
import { fingerprintOf } from './dedupe';
import { F_COUNTERPARTY, F_TRANSACTION_ID, FIELDS, FieldView, ParsedScalars, validateFieldView } from '../../domain/transaction';
import { CsvHeader, splitLine } from './csv';

export class CsvChecker {
  readonly view: FieldView = { strs: new Array<string>(FIELDS.length).fill(''), starts: new Int32Array(FIELDS.length), ends: new Int32Array(FIELDS.length) };
  readonly scalars: ParsedScalars = { minor: 0, currency: 0, jurisdiction: 0, type: 0 };
  /** Field index of the last refusal; -1 for a structural one (no field). */
  readonly failed = { index: -1 };

  constructor(
    readonly header: CsvHeader,
    readonly limits: Float64Array,
  ) {}

  /**
   * Splits and validates `text[start, end)`: null when valid (fields in `view`, scalars in `scalars`),
   * else the reject reason (`failed.index` names the field, -1 for COLUMN_COUNT / BROKEN_QUOTE).
   */
  check(text: string, start: number, end: number, hasQuote: boolean): string | null {
    const view = this.view;
    // No reset needed: splitLine assigns every header column, and fields absent from the header stay
    // the empty range they were created with.
    const split = splitLine(text, start, end, hasQuote, this.header, view);
    if (split !== 'OK') {
      this.failed.index = -1;
      return split;
    }
    const reason = validateFieldView(view, this.limits, this.scalars, this.failed, true);
    if (reason !== null) return reason;
    // validateFieldView ran the card-number detector over every field as UTF-8 bytes (one char per
    // byte). Identifiers, timestamps and codes are ASCII once valid, so for them bytes and text are the
    // same; free text may hold non-ASCII, and the detector is written for text (a separator or digit
    // outside ASCII is several unrelated chars as bytes), so such a field is scanned again decoded.
    const { strs, starts, ends } = view;
    if (ends[F_COUNTERPARTY] > starts[F_COUNTERPARTY] && hasNonAscii(strs[F_COUNTERPARTY], starts[F_COUNTERPARTY], ends[F_COUNTERPARTY])) {
      const decoded = Buffer.from(strs[F_COUNTERPARTY].slice(starts[F_COUNTERPARTY], ends[F_COUNTERPARTY]), 'latin1').toString('utf8');
      if (containsPanRange(decoded, 0, decoded.length)) {
        this.failed.index = F_COUNTERPARTY;
        return 'PAN_DETECTED';
      }
    }
    return null;
  }

  /** After refusing with `reason`: whether the transactionId may be echoed (no PAN anywhere, well-formed id). */
  echoId(reason: string): boolean {
    const { strs, starts, ends } = this.view;
    return reason !== 'PAN_DETECTED' && isIdentifier(strs[0], starts[0], ends[0], 1, 64, true, false);
  }
}

function hasNonAscii(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (s.charCodeAt(i) > 127) return true;
  return false;
}

/** Reasons by code in a checked block (0 and 1 are not reasons: valid, and "main thread does it"). */
export const CHECK_VALID = 0;
export const CHECK_MAIN = 1;
export const CHECK_REASONS: readonly string[] = [
  '',
  '',
  'BLANK_LINE',
  'LINE_TOO_LONG',
  'COLUMN_COUNT',
  'BROKEN_QUOTE',
  'PAN_DETECTED',
  'MISSING_FIELD',
  'TRANSACTION_ID_INVALID',
  'ACCOUNT_ID_INVALID',
  'ENTITY_ID_INVALID',
  'CURRENCY_UNSUPPORTED',
  'AMOUNT_FORMAT',
  'AMOUNT_PRECISION',
  'AMOUNT_NOT_POSITIVE',
  'AMOUNT_OVER_LIMIT',
  'TIMESTAMP_INVALID',
  'COUNTERPARTY_INVALID',
  'JURISDICTION_INVALID',
  'TYPE_INVALID',
  'CARD_LAST4_INVALID',
  'INVALID_UTF8',
];
const REASON_CODE = new Map(CHECK_REASONS.map((r, i) => [r, i] as const).filter(([r]) => r !== ''));

/**
 * Int32 words per line: [start, end (before CR/LF), code, failed field, currency, jurisdiction, type,
 * echo id (0/1), starts × FIELDS, ends × FIELDS]; amounts in a parallel Float64Array.
 */
export const CHECK_RANGES = 8;
/** After the ranges: fingerprint hi, lo, output start, output end (valid lines, when `out` is given). */
export const CHECK_FP = CHECK_RANGES + 2 * FIELDS.length;
export const CHECK_OUT = CHECK_FP + 2;
export const CHECK_INTS = CHECK_OUT + 2;

export interface CheckedBlock {
  ints: Int32Array;
  minors: Float64Array;
  lines: number;
  /** Output lines of the valid records, back to back (a line's range is in ints: CHECK_OUT, +1). */
  out?: Buffer;
}

/**
 * Checks every line of a block of a CSV shard, as RecordProcessor.processText would split it (LF,
 * CR before LF dropped, a last line without LF). Lines with a quote are left to the main thread
 * (CHECK_MAIN): their unescaped values are not ranges of the block.
 */
export function checkBlock(checker: CsvChecker, text: string, maxLine: number, bytes?: Buffer, encode = false): CheckedBlock {
  // A block that is not valid UTF-8 as a whole is checked line by line (bytes given), as the main
  // thread does: an invalid line is INVALID_UTF8 whatever else is wrong with it.
  const perLineUtf8 = bytes !== undefined && !isUtf8(bytes);
  let lines = 0;
  for (let p = text.indexOf('\n'); p >= 0; p = text.indexOf('\n', p + 1)) lines++;
  if (text.length > 0 && text.charCodeAt(text.length - 1) !== 10) lines++;
  const ints = new Int32Array(lines * CHECK_INTS);
  // Each output line is at most 320 bytes plus twice its input line (see RecordProcessor).
  const out = encode && bytes ? new ByteOut(lines * 320 + 2 * text.length + 64) : undefined;
  const srcView = out ? viewOf(bytes!) : undefined;
  const fp = new Uint32Array(2);
  const minors = new Float64Array(lines);
  const n = text.length;
  const nf = FIELDS.length;
  let pos = 0;
  let k = 0;
  let nextQuote = -2;
  while (pos < n) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = n;
    let end = nl;
    if (end > pos && text.charCodeAt(end - 1) === 13) end--;
    const o = k * CHECK_INTS;
    ints[o] = pos;
    ints[o + 1] = end;
    ints[o + 3] = -1;
    if (perLineUtf8 && !isUtf8(bytes!.subarray(pos, nl + 1 > n ? n : nl + 1))) ints[o + 2] = REASON_CODE.get('INVALID_UTF8')!;
    else if (nl - pos > maxLine) ints[o + 2] = REASON_CODE.get('LINE_TOO_LONG')!;
    else if (end === pos) ints[o + 2] = REASON_CODE.get('BLANK_LINE')!;
    else {
      if (nextQuote !== -1 && nextQuote < pos) nextQuote = text.indexOf('"', pos);
      if (nextQuote >= 0 && nextQuote < end) {
        ints[o + 2] = CHECK_MAIN;
      } else {
        const reason = checker.check(text, pos, end, false);
        const v = checker.view;
        for (let f = 0; f < nf; f++) {
          ints[o + CHECK_RANGES + f] = v.starts[f];
          ints[o + CHECK_RANGES + nf + f] = v.ends[f];
        }
        if (reason === null) {
          ints[o + 2] = CHECK_VALID;
          ints[o + 4] = checker.scalars.currency;
          ints[o + 5] = checker.scalars.jurisdiction;
          ints[o + 6] = checker.scalars.type;
          minors[k] = checker.scalars.minor;
          if (out) {
            fingerprintOf(text, v.starts[F_TRANSACTION_ID], v.ends[F_TRANSACTION_ID], fp);
            ints[o + CHECK_FP] = fp[0];
            ints[o + CHECK_FP + 1] = fp[1];
            ints[o + CHECK_OUT] = out.pos;
            writeAcceptedFast(out, bytes!, srcView!, v.starts, v.ends, checker.scalars);
            ints[o + CHECK_OUT + 1] = out.pos;
          }
        } else {
          ints[o + 2] = REASON_CODE.get(reason)!;
          ints[o + 3] = checker.failed.index;
          ints[o + 7] = checker.failed.index >= 0 && checker.echoId(reason) ? 1 : 0;
        }
      }
    }
    k++;
    pos = nl + 1;
  }
  return { ints, minors, lines: k, out: out ? out.buf.subarray(0, out.pos) : undefined };
}
