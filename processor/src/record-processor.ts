/**
 * The per-record stage: split -> validate -> dedupe -> totals -> output lines. It works on decoded
 * text blocks of whole lines and keeps field values as ranges of the block, so a valid CSV record costs
 * only the handful of strings that end up in its output line.
 */
import { isIdentifierBytes, PAN_MIN_DIGITS } from '../../domain/field-bytes';
import { isIdentifier } from '../../domain/fields';
import { containsPanRange } from '../../domain/pan';
import { CURRENCIES, CURRENCY_CODES, DEFAULT_MAX_AMOUNT } from '../../domain/money';
import {
  F_ACCOUNT_ID,
  F_CARD_LAST4,
  F_COUNTERPARTY,
  F_ENTITY_ID,
  F_TIMESTAMP,
  F_TRANSACTION_ID,
  FIELDS,
  JURISDICTIONS,
  limitTable,
  ParsedScalars,
  toOutputRecord,
  TRANSACTION_TYPES,
  validateFieldBytes,
  validateTransaction,
} from '../../domain/transaction';
import { writeAcceptedFast } from './accepted-writer';
import { ByteOut, lit, viewOf } from './byte-out';
import { CHECK_FP, CHECK_INTS, CHECK_MAIN, CHECK_OUT, CHECK_RANGES, CHECK_REASONS, CHECK_VALID, CheckedBlock, CsvChecker } from './csv-check';
import { CsvHeader, loneCrError, parseHeader } from './csv';
import { FingerprintSet, fingerprintBytes } from './dedupe';
import { AcceptedIndex } from './fingerprints';
import { MAX_LINE_BYTES } from './lines';
import { BadInputError } from './errors';
import { Accumulator, ControlTotals, keyHash } from './totals';

export type InputFormat = 'csv' | 'jsonl';

/** Reasons produced by parsing (in addition to the domain's ValidationReason). */
export type ParseReason = 'COLUMN_COUNT' | 'BROKEN_QUOTE' | 'INVALID_UTF8' | 'BLANK_LINE' | 'JSON_INVALID' | 'DUPLICATE' | 'LINE_TOO_LONG';

function headerTooLong(): BadInputError {
  return new BadInputError('HEADER_TOO_LONG', `the first line is longer than ${MAX_LINE_BYTES} bytes: it is not a header or a JSON Lines record`);
}

export interface RecordProcessorOptions {
  maxAmount?: string;
  /** Known format/header (shards > 0 read them from the object's head); otherwise the first line decides. */
  format?: InputFormat;
  header?: CsvHeader;
  expectedRecords?: number;
}

const MINOR_DIGITS = CURRENCY_CODES.map((c) => CURRENCIES[c].minorDigits);
const NF = FIELDS.length;
/** Lines checked before a batch is applied (see `csvBytes`). */
const BATCH = 256;
/** Unescaped bytes of quoted lines a batch may hold before it is applied early. */
const ARENA_BYTES = 1 << 17;

// Output literals, pre-encoded; field order follows contracts.md.
const L_TRANSACTION_ID = lit('{"transactionId":"');
const L_ACCOUNT_ID = lit('","accountId":"');
const L_ENTITY_ID = lit('","entityId":"');
const L_AMOUNT = lit('","amount":"');
const L_AMOUNT_MINOR = lit('","amountMinor":"');
const L_CURRENCY = CURRENCY_CODES.map((c) => lit(`","currency":"${c}`));
const L_TIMESTAMP = lit('","timestamp":"');
const L_COUNTERPARTY = lit(',"counterparty":');
const L_QUOTE = lit('"');
const L_JURISDICTION_TYPE = JURISDICTIONS.map((j) => TRANSACTION_TYPES.map((t) => lit(`,"jurisdiction":"${j}","type":"${t}"`)));
const L_CARD_LAST4 = lit(',"cardLast4":"');
const L_END_CARD = lit('"}\n');
const L_END = lit('}\n');

export class RecordProcessor {
  format: InputFormat | undefined;
  header: CsvHeader | undefined;
  /** Number of the last line seen (1-based, header included). */
  lineNo = 0;
  read = 0;
  accepted = 0;
  rejected = 0;
  duplicates = 0;
  readonly byReason: Record<string, number> = {};
  readonly totals = new ControlTotals();
  /** Every accepted record's fingerprint, amount and groups, in accepted-line order (fingerprints.tsv). */
  readonly index: AcceptedIndex;
  /** Independent per-currency sum of what was written to accepted output, for reconciliation. */
  readonly acceptedSums = CURRENCY_CODES.map(() => new Accumulator());
  /** Accepted output not yet handed to the sink (bytes). */
  readonly acceptedOut = new ByteOut();
  rejectsOut = '';

  private readonly maxAmount: string;
  private readonly limits: Float64Array;
  private readonly seen: FingerprintSet;
  private checkerInstance: CsvChecker | undefined;
  /** The input block that `processText` is working on (same offsets as its text). */
  private src: Buffer = Buffer.alloc(0);
  private srcView: DataView = viewOf(this.src);
  private srcText = '';
  /** CSV records on the byte path: the current line's field ranges by field index (a field the header lacks stays empty). */
  private readonly starts = new Int32Array(NF);
  private readonly ends = new Int32Array(NF);
  /** Positions of a line's first commas (one per column boundary). */
  private cuts = new Int32Array(NF);
  private readonly scalars: ParsedScalars = { minor: 0, currency: 0, jurisdiction: 0, type: 0 };
  private readonly failed = { index: -1 };
  /**
   * A batch of checked lines (see `csvBytes`): per row its reject reason (null: valid), failed field,
   * whether the id may be echoed, whether its fields are in `arena`, its field ranges, scalars, line
   * length, id fingerprint, and (filled when the batch is applied) whether the id is new and the
   * account's index.
   */
  private readonly rowReason: (string | null)[] = new Array<string | null>(BATCH).fill(null);
  private readonly rowField = new Int8Array(BATCH);
  private readonly rowEcho = new Uint8Array(BATCH);
  private readonly rowInArena = new Uint8Array(BATCH);
  private readonly rowStarts = new Int32Array(BATCH * NF);
  private readonly rowEnds = new Int32Array(BATCH * NF);
  private readonly rowMinor = new Float64Array(BATCH);
  private readonly rowCurrency = new Uint8Array(BATCH);
  private readonly rowJurisdiction = new Uint8Array(BATCH);
  private readonly rowType = new Uint8Array(BATCH);
  private readonly rowBytes = new Int32Array(BATCH);
  private readonly rowHi = new Uint32Array(BATCH);
  private readonly rowLo = new Uint32Array(BATCH);
  private readonly rowFresh = new Uint8Array(BATCH);
  private readonly rowAccount = new Int32Array(BATCH);
  /** keyHash of the row's account id (valid rows). */
  private readonly rowAccountHash = new Int32Array(BATCH);
  /** Fresh rows' account hashes, packed, for the totals' touch pass. */
  private readonly freshAccountHash = new Int32Array(BATCH);
  /** Results of the touch passes (kept so the reads are not optimised away). */
  touched = 0;
  private rows = 0;
  /** The unescaped fields of the batch's lines with quotes, back to back (a line is at most MAX_LINE_BYTES). */
  private readonly arena = Buffer.allocUnsafeSlow(ARENA_BYTES + MAX_LINE_BYTES + 16);
  private readonly arenaView = viewOf(this.arena);
  private arenaUsed = 0;

  constructor(options: RecordProcessorOptions = {}) {
    this.maxAmount = options.maxAmount ?? DEFAULT_MAX_AMOUNT;
    this.limits = limitTable(this.maxAmount);
    this.format = options.format;
    this.header = options.header;
    this.seen = new FingerprintSet(options.expectedRecords ?? 1 << 16);
    this.index = new AcceptedIndex(options.expectedRecords ?? 1 << 16);
  }

  /** The split-and-validate stage for CSV lines (created once the header is known). */
  private get checker(): CsvChecker {
    return (this.checkerInstance ??= new CsvChecker(this.header!, this.limits));
  }

  get dedupeBytes(): number {
    return this.seen.bytes;
  }

  /** The input is done: drops the dedupe table (its memory can go before the end-of-run files are built). */
  endOfInput(): void {
    this.seen.release();
  }

  /**
   * Processes `text`, a byte string (latin1-decoded valid UTF-8): whole lines separated by "\n" (CRLF
   * tolerated); a final line may lack its "\n". Output strings are byte strings too.
   */
  processText(text: string, bytes: Buffer = Buffer.from(text, 'latin1')): void {
    this.src = bytes;
    this.srcView = viewOf(bytes);
    this.srcText = text;
    const n = text.length;
    let pos = 0;
    while (pos < n) {
      if (this.format === 'csv') {
        // Once the header is known, CSV records are split and validated as bytes (csvBytes).
        this.csvBytes(bytes, pos);
        return;
      }
      let nl = text.indexOf('\n', pos);
      if (nl < 0) nl = n;
      let end = nl;
      if (end > pos && text.charCodeAt(end - 1) === 13) end--;
      this.lineNo++;
      if (this.format === undefined) {
        this.detect(text, pos, end);
      } else if (nl - pos > MAX_LINE_BYTES) {
        this.reject('LINE_TOO_LONG');
      } else if (end === pos) {
        this.reject('BLANK_LINE');
      } else {
        this.jsonRecord(text.slice(pos, end));
      }
      pos = nl + 1;
    }
  }

  /**
   * `processText` of a block given as bytes only (valid UTF-8, whole lines): CSV records are handled
   * as bytes without decoding the block; the first line and JSON Lines go through `processText`.
   */
  processBytes(bytes: Buffer): void {
    if (this.format === 'csv') this.csvBytes(bytes, 0);
    else this.processText(bytes.toString('latin1'), bytes);
  }

  /**
   * CSV records of `b` from `pos` on, without strings. One pass per line finds its end, its commas,
   * whether it holds a quote and whether any field holds a run of PAN_MIN_DIGITS digits (the only
   * fields the card-number detector can flag); the fields are then checked in place
   * (`validateFieldBytes`); a line with a quote is unescaped into `arena` first (`csvQuoted`). Lines
   * are checked in batches of up to BATCH rows and each batch is then applied (`applyRows`) in passes:
   * dedupe, totals, output, each a short loop over the batch, so the table probes of
   * consecutive records (random reads of tables larger than the cache) overlap instead of waiting one
   * after another. Same reasons, order and output as the text path (`csvRecord`), which the worker
   * threads' main thread still uses for their lines with quotes.
   */
  private csvBytes(b: Buffer, pos: number): void {
    this.src = b;
    this.srcView = viewOf(b);
    const map = this.header!.columnToField;
    const columns = map.length;
    if (this.cuts.length < columns) this.cuts = new Int32Array(columns);
    const cuts = this.cuts;
    const starts = this.starts;
    const ends = this.ends;
    const n = b.length;
    while (pos < n) {
      let commas = 0;
      let quote = false;
      let run = 0;
      let longRun = false;
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
        }
      }
      const nl = i;
      let end = nl;
      if (end > pos && b[end - 1] === 13) end--;
      if (this.rows === BATCH || (quote && this.arenaUsed > ARENA_BYTES)) this.applyRows();
      if (nl - pos > MAX_LINE_BYTES) {
        this.rowReject('LINE_TOO_LONG');
      } else if (end === pos) {
        this.rowReject('BLANK_LINE');
      } else if (quote) {
        this.csvQuoted(b, pos, end);
      } else if (commas !== columns - 1) {
        this.rowReject('COLUMN_COUNT');
      } else {
        let s = pos;
        for (let col = 0; col < columns; col++) {
          const e = col === columns - 1 ? end : cuts[col];
          const f = map[col];
          starts[f] = s;
          ends[f] = e;
          s = e + 1;
        }
        this.csvFields(b, false, end - pos, !longRun);
      }
      pos = nl + 1;
    }
    this.applyRows();
  }

  /**
   * A line with a quote (`splitLine`'s quoted path over bytes): every field, quoted or not, is copied
   * unescaped into `arena`, so all of them are ranges of one buffer; then `csvFields` on it.
   */
  private csvQuoted(b: Buffer, start: number, end: number): void {
    const map = this.header!.columnToField;
    const out = this.arena;
    const starts = this.starts;
    const ends = this.ends;
    let w = this.arenaUsed;
    let col = 0;
    let pos = start;
    for (;;) {
      if (col >= map.length) return this.rowReject('COLUMN_COUNT');
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
        if (!closed) return this.rowReject('BROKEN_QUOTE');
        if (i < end && b[i] !== 44 /* , */) return this.rowReject('BROKEN_QUOTE');
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
          if (c === 34) return this.rowReject('BROKEN_QUOTE'); // quote inside an unquoted field
          out[w++] = c;
        }
        starts[f] = from;
        ends[f] = w;
        col++;
        if (i >= end) break;
        pos = i + 1;
      }
    }
    if (col !== map.length) return this.rowReject('COLUMN_COUNT');
    this.arenaUsed = w;
    this.csvFields(out, true, end - start, false);
  }

  /** A batch row for a line refused before its fields were checked (no field named). */
  private rowReject(reason: string): void {
    const k = this.rows++;
    this.rowReason[k] = reason;
    this.rowField[k] = -1;
  }

  /**
   * Validates the record whose fields are `b[starts[f], ends[f])` into the next batch row.
   * `noLongRun`: no field holds a run of PAN_MIN_DIGITS digits, so the detector cannot flag one.
   */
  private csvFields(b: Buffer, inArena: boolean, lineBytes: number, noLongRun: boolean): void {
    const starts = this.starts;
    const ends = this.ends;
    const s = this.scalars;
    const failed = this.failed;
    let reason: string | null = validateFieldBytes(b, starts, ends, this.limits, s, failed, noLongRun);
    // As in CsvChecker.check: free text holding non-ASCII is scanned again as decoded text.
    if (reason === null && ends[F_COUNTERPARTY] > starts[F_COUNTERPARTY] && hasNonAsciiByte(b, starts[F_COUNTERPARTY], ends[F_COUNTERPARTY])) {
      const decoded = b.toString('utf8', starts[F_COUNTERPARTY], ends[F_COUNTERPARTY]);
      if (containsPanRange(decoded, 0, decoded.length)) {
        failed.index = F_COUNTERPARTY;
        reason = 'PAN_DETECTED';
      }
    }
    const k = this.rows++;
    this.rowReason[k] = reason;
    this.rowInArena[k] = inArena ? 1 : 0;
    const o = k * NF;
    for (let f = 0; f < NF; f++) {
      this.rowStarts[o + f] = starts[f];
      this.rowEnds[o + f] = ends[f];
    }
    if (reason !== null) {
      this.rowField[k] = failed.index;
      this.rowEcho[k] = reason !== 'PAN_DETECTED' && isIdentifierBytes(b, starts[F_TRANSACTION_ID], ends[F_TRANSACTION_ID], 1, 64, true, false) ? 1 : 0;
      return;
    }
    this.rowMinor[k] = s.minor;
    this.rowCurrency[k] = s.currency;
    this.rowJurisdiction[k] = s.jurisdiction;
    this.rowType[k] = s.type;
    this.rowBytes[k] = lineBytes;
    fingerprintBytes(b, starts[F_TRANSACTION_ID], ends[F_TRANSACTION_ID], this.rowHi, this.rowLo, k);
    this.rowAccountHash[k] = keyHash(b, starts[F_ACCOUNT_ID], ends[F_ACCOUNT_ID]);
  }

  /**
   * Applies the checked batch in passes over its rows, in line order within each pass: dedupe (which
   * occurrence is first depends only on that order), totals (account indices are assigned in order of
   * first use, as one record at a time would), then line numbers, rejects and output.
   */
  private applyRows(): void {
    const n = this.rows;
    if (n === 0) return;
    const reasons = this.rowReason;
    const fresh = this.rowFresh;
    const his = this.rowHi;
    const los = this.rowLo;
    const starts = this.rowStarts;
    const ends = this.rowEnds;
    const seen = this.seen;
    // Each pass first touches the table lines its rows will need (see FingerprintSet.touch).
    this.touched += seen.touch(his, los, n);
    for (let k = 0; k < n; k++) fresh[k] = reasons[k] === null && seen.addFingerprint(his[k], los[k]) ? 1 : 0;
    const totals = this.totals;
    const accounts = this.rowAccount;
    const inArena = this.rowInArena;
    const minors = this.rowMinor;
    const currencies = this.rowCurrency;
    const jurisdictions = this.rowJurisdiction;
    const hashes = this.rowAccountHash;
    let m = 0;
    for (let k = 0; k < n; k++) if (fresh[k] !== 0) this.freshAccountHash[m++] = hashes[k];
    this.touched += totals.touchAccounts(this.freshAccountHash, m);
    for (let k = 0; k < n; k++) {
      if (fresh[k] === 0) continue;
      const src = inArena[k] ? this.arena : this.src;
      accounts[k] = totals.addHashed(hashes[k], src, starts[k * NF + F_ACCOUNT_ID], ends[k * NF + F_ACCOUNT_ID], currencies[k], jurisdictions[k], minors[k]);
      this.acceptedSums[currencies[k]].add(minors[k]);
    }
    const o = this.acceptedOut;
    const s = this.scalars;
    for (let k = 0; k < n; k++) {
      this.lineNo++;
      const reason = reasons[k];
      const src = inArena[k] ? this.arena : this.src;
      const id = k * NF + F_TRANSACTION_ID;
      if (reason !== null) {
        const field = this.rowField[k];
        if (field < 0) this.reject(reason);
        else this.reject(reason, FIELDS[field], this.rowEcho[k] ? src.toString('latin1', starts[id], ends[id]) : undefined);
        continue;
      }
      if (fresh[k] === 0) {
        this.duplicate(src.toString('latin1', starts[id], ends[id]));
        continue;
      }
      s.minor = minors[k];
      s.currency = currencies[k];
      s.jurisdiction = jurisdictions[k];
      s.type = this.rowType[k];
      // Every output byte comes from the line (at most doubled by JSON escaping) or from the literals.
      o.reserve(320 + 2 * this.rowBytes[k]);
      writeAcceptedFast(o, src, inArena[k] ? this.arenaView : this.srcView, starts, ends, s, k * NF);
      this.read++;
      this.accepted++;
      this.index.add(his[k], los[k], currencies[k], jurisdictions[k], minors[k], accounts[k]);
    }
    this.rows = 0;
    this.arenaUsed = 0;
  }

  /**
   * A line longer than MAX_LINE_BYTES that the framing dropped as it streamed (`head`: its first bytes,
   * used only to diagnose a first line). Counted, never decoded or echoed.
   */
  rejectLongLine(head: Buffer): void {
    this.lineNo++;
    if (this.format === undefined) {
      const cr = head.indexOf(0x0d);
      if (cr >= 0 && cr < head.length - 1) throw loneCrError(cr + 1);
      throw headerTooLong();
    }
    this.reject('LINE_TOO_LONG');
  }

  /** A line that is not valid UTF-8: counted, never decoded or echoed. */
  rejectInvalidUtf8(): void {
    this.lineNo++;
    if (this.format === undefined) throw new BadInputError('HEADER_INVALID_UTF8', 'the header line is not valid UTF-8');
    this.reject('INVALID_UTF8');
  }

  private detect(text: string, start: number, end: number): void {
    if (start === end) throw new BadInputError('HEADER_MISSING', 'the first line is empty: a CSV header (or a JSON Lines record) is required');
    const cr = text.indexOf('\r', start);
    if (cr >= 0 && cr < end) throw loneCrError(cr - start + 1);
    if (end - start > MAX_LINE_BYTES) throw headerTooLong();
    if (text.charCodeAt(start) === 123 /* { */) {
      this.format = 'jsonl';
      this.lineNo--; // JSON Lines has no header: re-read this line as a record
      const src = this.src;
      this.processText(text.slice(start, end), src.subarray(start, end));
      this.src = src;
      this.srcView = viewOf(src);
      this.srcText = text;
      return;
    }
    this.format = 'csv';
    this.header = parseHeader(Buffer.from(text.slice(start, end), 'latin1').toString('utf8'));
    this.checkerInstance = undefined;
  }

  private csvRecord(text: string, start: number, end: number, hasQuote: boolean): void {
    const reason = this.checker.check(text, start, end, hasQuote);
    if (reason !== null) {
      this.rejectChecked(reason);
      return;
    }
    this.acceptChecked(start, end, hasQuote);
  }

  /** Rejects the line the checker refused; the id is echoed only when the checker allows it. */
  private rejectChecked(reason: string): void {
    const c = this.checker;
    if (c.failed.index < 0) this.reject(reason);
    else this.reject(reason, FIELDS[c.failed.index], c.echoId(reason) ? c.view.strs[0].slice(c.view.starts[0], c.view.ends[0]) : undefined);
  }

  /**
   * Processes a block whose lines a worker thread already checked (`checked`, see csv-check.ts): the
   * worker's field ranges and scalars stand in for the split and validation; everything that depends
   * on order (line numbers, dedupe, totals, output) happens here, exactly as in `processText`.
   */
  processChecked(text: string, bytes: Buffer, checked: CheckedBlock): void {
    this.src = bytes;
    this.srcView = viewOf(bytes);
    this.srcText = text;
    const { ints, minors, lines, out } = checked;
    // Encoded lines of accepted records are handed on as runs of the worker's buffer.
    let runStart = -1;
    let runEnd = -1;
    const flushRun = () => {
      if (runStart >= 0 && out) this.acceptedOut.external(out.subarray(runStart, runEnd));
      runStart = -1;
    };
    for (let k = 0; k < lines; k++) {
      const o = k * CHECK_INTS;
      const pos = ints[o];
      const end = ints[o + 1];
      const code = ints[o + 2];
      this.lineNo++;
      if (code === CHECK_MAIN) {
        flushRun();
        this.csvRecord(text, pos, end, true);
      } else if (code === CHECK_VALID) {
        const fs = o + CHECK_RANGES;
        const fe = fs + FIELDS.length;
        if (!this.seen.addFingerprint(ints[o + CHECK_FP] >>> 0, ints[o + CHECK_FP + 1] >>> 0)) {
          flushRun();
          this.duplicate(text.slice(ints[fs + F_TRANSACTION_ID], ints[fe + F_TRANSACTION_ID]));
          continue;
        }
        const os = ints[o + CHECK_OUT];
        if (runStart < 0) runStart = os;
        runEnd = ints[o + CHECK_OUT + 1];
        this.countBytes(ints[fs + F_ACCOUNT_ID], ints[fe + F_ACCOUNT_ID], ints[o + 4], ints[o + 5], minors[k]);
      } else {
        const reason = CHECK_REASONS[code];
        const field = ints[o + 3];
        if (field < 0) this.reject(reason);
        else this.reject(reason, FIELDS[field], ints[o + 7] === 1 ? text.slice(ints[o + CHECK_RANGES], ints[o + CHECK_RANGES + FIELDS.length]) : undefined);
      }
    }
    flushRun();
  }

  /** Dedupe, output and totals of a line the checker accepted (its fields are in `checker.view`). */
  private acceptChecked(start: number, end: number, hasQuote: boolean): void {
    const c = this.checker;
    const view = c.view;
    const { strs, starts, ends } = view;
    const s = c.scalars;
    // Without a quote every field is a range of the input block: hash its bytes (cheaper than the text).
    const fresh = hasQuote
      ? this.seen.add(strs[F_TRANSACTION_ID], starts[F_TRANSACTION_ID], ends[F_TRANSACTION_ID])
      : this.seen.addBytes(this.src, starts[F_TRANSACTION_ID], ends[F_TRANSACTION_ID]);
    if (!fresh) {
      this.duplicate(strs[F_TRANSACTION_ID].slice(starts[F_TRANSACTION_ID], ends[F_TRANSACTION_ID]));
      return;
    }
    const minor = s.minor;
    const o = this.acceptedOut;
    // Every output byte comes from the line (at most doubled by JSON escaping) or from the literals.
    o.reserve(320 + 2 * (end - start));
    if (!hasQuote) {
      writeAcceptedFast(o, this.src, this.srcView, starts, ends, s);
      this.countBytes(starts[F_ACCOUNT_ID], ends[F_ACCOUNT_ID], s.currency, s.jurisdiction, minor);
      return;
    }
    // Slow path for lines with quoted fields: values may be unescaped strings, not input ranges.
    o.bytes(L_TRANSACTION_ID, 0, L_TRANSACTION_ID.length);
    this.field(F_TRANSACTION_ID);
    o.bytes(L_ACCOUNT_ID, 0, L_ACCOUNT_ID.length);
    this.field(F_ACCOUNT_ID);
    o.bytes(L_ENTITY_ID, 0, L_ENTITY_ID.length);
    this.field(F_ENTITY_ID);
    o.bytes(L_AMOUNT, 0, L_AMOUNT.length);
    o.decimal(minor, MINOR_DIGITS[s.currency]);
    o.bytes(L_AMOUNT_MINOR, 0, L_AMOUNT_MINOR.length);
    o.uint(minor);
    o.bytes(L_CURRENCY[s.currency], 0, L_CURRENCY[s.currency].length);
    o.bytes(L_TIMESTAMP, 0, L_TIMESTAMP.length);
    this.field(F_TIMESTAMP);
    o.bytes(L_QUOTE, 0, 1);
    if (ends[F_COUNTERPARTY] > starts[F_COUNTERPARTY]) {
      o.bytes(L_COUNTERPARTY, 0, L_COUNTERPARTY.length);
      this.textField(F_COUNTERPARTY);
    }
    const jt = L_JURISDICTION_TYPE[s.jurisdiction][s.type];
    o.bytes(jt, 0, jt.length);
    if (ends[F_CARD_LAST4] > starts[F_CARD_LAST4]) {
      o.bytes(L_CARD_LAST4, 0, L_CARD_LAST4.length);
      this.field(F_CARD_LAST4);
      o.bytes(L_END_CARD, 0, L_END_CARD.length);
    } else {
      o.bytes(L_END, 0, L_END.length);
    }
    this.count(strs[F_ACCOUNT_ID], starts[F_ACCOUNT_ID], ends[F_ACCOUNT_ID], s.currency, s.jurisdiction, minor);
  }

  /** Copies a validated field that needs no JSON escaping (identifiers, timestamps, digits). */
  private field(f: number): void {
    const { strs, starts, ends } = this.checker.view;
    if (strs[f] === this.srcText) this.acceptedOut.bytes(this.src, starts[f], ends[f]);
    else this.acceptedOut.latin1(strs[f].slice(starts[f], ends[f]));
  }

  /** Free text as a JSON string: quote and backslash escaped (control characters were rejected). */
  private textField(f: number): void {
    const { strs, starts, ends } = this.checker.view;
    const str = strs[f];
    let plain = true;
    for (let i = starts[f]; i < ends[f]; i++) {
      const c = str.charCodeAt(i);
      if (c === 34 || c === 92) {
        plain = false;
        break;
      }
    }
    const o = this.acceptedOut;
    if (plain) {
      o.bytes(L_QUOTE, 0, 1);
      this.field(f);
      o.bytes(L_QUOTE, 0, 1);
    } else {
      o.latin1(JSON.stringify(str.slice(starts[f], ends[f])));
    }
  }

  private jsonRecord(bytes: string): void {
    let obj: unknown;
    try {
      obj = JSON.parse(Buffer.from(bytes, 'latin1').toString('utf8'));
    } catch {
      this.reject('JSON_INVALID');
      return;
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      this.reject('JSON_INVALID');
      return;
    }
    const result = validateTransaction(obj as Record<string, unknown>, { maxAmount: this.maxAmount });
    if (!result.ok) {
      const id = (obj as Record<string, unknown>).transactionId;
      const safe = result.reason !== 'PAN_DETECTED' && result.reason !== 'UNKNOWN_FIELD' && typeof id === 'string' && isIdentifier(id, 0, id.length, 1, 64, true, false);
      this.reject(result.reason, result.field, safe ? id : undefined);
      return;
    }
    const tx = result.tx;
    if (!this.seen.add(tx.transactionId, 0, tx.transactionId.length)) {
      this.duplicate(tx.transactionId);
      return;
    }
    const line = Buffer.from(JSON.stringify(toOutputRecord(tx)) + '\n', 'utf8');
    this.acceptedOut.reserve(line.length);
    this.acceptedOut.bytes(line, 0, line.length);
    this.count(
      tx.accountId,
      0,
      tx.accountId.length,
      CURRENCY_CODES.indexOf(tx.currency),
      (JURISDICTIONS as readonly string[]).indexOf(tx.jurisdiction),
      Number(tx.amountMinor),
    );
  }

  private count(account: string, start: number, end: number, currency: number, jurisdiction: number, minor: number): void {
    this.read++;
    this.accepted++;
    this.acceptedSums[currency].add(minor);
    const a = this.totals.add(account, start, end, currency, jurisdiction, minor);
    this.index.add(this.seen.lastHi, this.seen.lastLo, currency, jurisdiction, minor, a);
  }

  /** `count` with the account id as a byte range of the current input block. */
  private countBytes(start: number, end: number, currency: number, jurisdiction: number, minor: number): void {
    this.read++;
    this.accepted++;
    this.acceptedSums[currency].add(minor);
    const a = this.totals.addBytes(this.src, start, end, currency, jurisdiction, minor);
    this.index.add(this.seen.lastHi, this.seen.lastLo, currency, jurisdiction, minor, a);
  }

  private duplicate(transactionId: string): void {
    this.read++;
    this.duplicates++;
    this.byReason.DUPLICATE = (this.byReason.DUPLICATE ?? 0) + 1;
    this.rejectsOut += '{"line":' + this.lineNo + ',"reason":"DUPLICATE","transactionId":"' + transactionId + '"}\n';
  }

  /** Records a reject by line number and reason only: the raw line is never copied (it may hold a PAN). */
  private reject(reason: string, field?: string, transactionId?: string): void {
    this.read++;
    this.rejected++;
    this.byReason[reason] = (this.byReason[reason] ?? 0) + 1;
    let line = '{"line":' + this.lineNo + ',"reason":"' + reason + '"';
    if (field !== undefined) line += ',"field":"' + field + '"';
    if (transactionId !== undefined) line += ',"transactionId":"' + transactionId + '"';
    this.rejectsOut += line + '}\n';
  }
}

function hasNonAsciiByte(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i] > 127) return true;
  return false;
}
