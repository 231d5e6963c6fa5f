/**
 * The per-record stage: split -> validate -> dedupe -> totals -> output lines. CSV records are checked
 * as bytes into rows (csv-rows.ts), in place in the input block, then applied in input order; a valid
 * record costs no strings at all.
 */
import { isIdentifier } from '../../domain/fields';
import { CURRENCY_CODES, DEFAULT_MAX_AMOUNT } from '../../domain/money';
import { F_ACCOUNT_ID, F_TRANSACTION_ID, FIELDS, JURISDICTIONS, limitTable, ParsedScalars, toOutputRecord, validateTransaction } from '../../domain/transaction';
import { writeAcceptedFast } from './accepted-writer';
import { ByteOut, viewOf } from './byte-out';
import { CheckedRows, CsvRowChecker, NF, REASONS, rowScalars } from './csv-rows';
import { CsvHeader, loneCrError, parseHeader } from './csv';
import { FingerprintSet } from './dedupe';
import { AcceptedIndex } from './fingerprints';
import { MAX_LINE_BYTES } from './lines';
import { BadInputError } from './errors';
import { Accumulator, ControlTotals } from './totals';

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

/** Rows checked before they are applied (see `applyRows`). */
export const BATCH = 256;
/** Unescaped bytes of quoted lines the single-thread checker may hold before its rows are applied early. */
export const ARENA_BYTES = 1 << 17;

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

  readonly maxAmount: string;
  readonly limits: Float64Array;
  private readonly seen: FingerprintSet;
  private checkerInstance: CsvRowChecker | undefined;
  /** The input block being worked on. */
  private src: Buffer = Buffer.alloc(0);
  private readonly scalars: ParsedScalars = { minor: 0, currency: 0, jurisdiction: 0, type: 0 };
  /** Per row of the batch being applied: whether the id is new, and the account's index. */
  private readonly rowFresh = new Uint8Array(BATCH);
  private readonly rowAccount = new Int32Array(BATCH);
  /** Fresh rows' account hashes, packed, for the totals' touch pass. */
  private readonly freshAccountHash = new Int32Array(BATCH);
  /** Results of the touch passes (kept so the reads are not optimised away). */
  touched = 0;
  /** Rows encoded elsewhere (`applyChecked`): the run of output bytes to hand on next, [runStart, runEnd) of `encoded`. */
  private encoded: Buffer | undefined;
  private runStart = -1;
  private runEnd = -1;

  constructor(options: RecordProcessorOptions = {}) {
    this.maxAmount = options.maxAmount ?? DEFAULT_MAX_AMOUNT;
    this.limits = limitTable(this.maxAmount);
    this.format = options.format;
    this.header = options.header;
    this.seen = new FingerprintSet(options.expectedRecords ?? 1 << 16);
    this.index = new AcceptedIndex(options.expectedRecords ?? 1 << 16);
  }

  /** The split-and-validate stage for CSV lines on this thread (created once the header is known). */
  private get checker(): CsvRowChecker {
    return (this.checkerInstance ??= new CsvRowChecker(this.header!, this.limits, BATCH, ARENA_BYTES));
  }

  get dedupeBytes(): number {
    return this.seen.bytes;
  }

  /**
   * The input is done: drops the dedupe table and returns its memory (at least 8 bytes per accepted
   * record), to be reused by the end-of-shard work rather than left to the collector.
   */
  endOfInput(): ArrayBuffer {
    return this.seen.release();
  }

  /**
   * Processes `text`, a byte string (latin1-decoded valid UTF-8): whole lines separated by "\n" (CRLF
   * tolerated); a final line may lack its "\n".
   */
  processText(text: string, bytes: Buffer = Buffer.from(text, 'latin1')): void {
    this.src = bytes;
    const n = text.length;
    let pos = 0;
    while (pos < n) {
      if (this.format === 'csv') {
        // Once the header is known, CSV records are checked as bytes (csvBytes).
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
   * `processText` of a block given as bytes only (whole lines): CSV records are handled as bytes
   * without decoding the block (a line that is not UTF-8 is refused on its own); the first line and
   * JSON Lines go through `processText`, which needs valid UTF-8 (see `readsCsvRecords`).
   */
  processBytes(bytes: Buffer): void {
    if (this.format === 'csv') this.csvBytes(bytes, 0);
    else this.processText(bytes.toString('latin1'), bytes);
  }

  /**
   * Whether the next lines are CSV records (the header is read): `processBytes` then takes bytes that
   * are not valid UTF-8, and blocks may be checked elsewhere (a worker) and applied with `applyChecked`.
   */
  get readsCsvRecords(): boolean {
    return this.format === 'csv' && this.header !== undefined;
  }

  /**
   * CSV records of `b` from `pos` on: checked in batches of up to BATCH rows on this thread, each
   * batch applied right after (its lines are still in the cache).
   */
  private csvBytes(b: Buffer, pos: number): void {
    const checker = this.checker;
    while (pos < b.length) {
      pos = checker.check(b, pos, BATCH, ARENA_BYTES);
      this.applyRows(checker.rows, 0, checker.rows.n, b, checker.arena);
      checker.reset();
    }
  }

  /**
   * Applies the rows of `block` that a CsvRowChecker checked elsewhere (a worker thread): `arena` is
   * that checker's arena and `out`, when given, its encoded output lines (see CheckedRows.outEnd),
   * handed on as runs of accepted rows without a copy; without `out` the lines are encoded here.
   * Everything else is exactly what `processBytes` of the same block does.
   */
  applyChecked(block: Buffer, checked: { rows: CheckedRows; arena: Buffer; out?: Buffer; free?: () => void }): void {
    const { rows, arena, out } = checked;
    this.encoded = out;
    for (let from = 0; from < rows.n; from += BATCH) this.applyRows(rows, from, Math.min(rows.n, from + BATCH), block, arena);
    if (out) {
      this.flushRun();
      this.acceptedOut.externalDone(out, checked.free);
    }
    this.encoded = undefined;
  }

  private flushRun(): void {
    if (this.runStart >= 0 && this.runEnd > this.runStart) this.acceptedOut.external(this.encoded!.subarray(this.runStart, this.runEnd));
    this.runStart = -1;
  }

  /**
   * Applies rows [from, to) (at most BATCH) in passes over them, in line order within each pass:
   * dedupe (which occurrence is first depends only on that order), totals (account indices are
   * assigned in order of first use, as one record at a time would), then line numbers, rejects and
   * output. Each pass is a short loop, so the table probes of consecutive records (random reads of
   * tables larger than the cache) overlap instead of waiting one after another.
   */
  private applyRows(rows: CheckedRows, from: number, to: number, src: Buffer, arena: Buffer): void {
    if (to <= from) return;
    const codes = rows.code;
    const his = rows.hi;
    const los = rows.lo;
    const starts = rows.starts;
    const ends = rows.ends;
    const inArena = rows.inArena;
    const minors = rows.minor;
    const currencies = rows.currency;
    const hashes = rows.accountHash;
    const fresh = this.rowFresh;
    const accounts = this.rowAccount;
    const seen = this.seen;
    // Each pass first touches the table lines its rows will need (see FingerprintSet.touch).
    this.touched += seen.touch(his, los, from, to);
    for (let k = from; k < to; k++) fresh[k - from] = codes[k] === 0 && seen.addFingerprint(his[k], los[k]) ? 1 : 0;
    const totals = this.totals;
    let m = 0;
    for (let k = from; k < to; k++) if (fresh[k - from] !== 0) this.freshAccountHash[m++] = hashes[k];
    this.touched += totals.touchAccounts(this.freshAccountHash, m);
    for (let k = from; k < to; k++) {
      if (fresh[k - from] === 0) continue;
      const b = inArena[k] ? arena : src;
      accounts[k - from] = totals.addHashed(hashes[k], b, starts[k * NF + F_ACCOUNT_ID], ends[k * NF + F_ACCOUNT_ID], currencies[k], rows.jurisdiction[k], minors[k]);
      this.acceptedSums[currencies[k]].add(minors[k]);
    }
    const o = this.acceptedOut;
    const encoded = this.encoded !== undefined;
    const srcView = encoded ? undefined : viewOf(src);
    const arenaView = encoded ? undefined : viewOf(arena);
    for (let k = from; k < to; k++) {
      this.lineNo++;
      const code = codes[k];
      const b = inArena[k] ? arena : src;
      const id = k * NF + F_TRANSACTION_ID;
      if (code !== 0) {
        const field = rows.field[k];
        if (field < 0) this.reject(REASONS[code]);
        else this.reject(REASONS[code], FIELDS[field], rows.echo[k] ? b.toString('latin1', starts[id], ends[id]) : undefined);
        continue;
      }
      if (fresh[k - from] === 0) {
        if (encoded) this.flushRun();
        this.duplicate(b.toString('latin1', starts[id], ends[id]));
        continue;
      }
      if (encoded) {
        if (this.runStart < 0) this.runStart = rows.outStart(k);
        this.runEnd = rows.outEnd[k];
      } else {
        // Every output byte comes from the line (at most doubled by JSON escaping) or from the literals.
        o.reserve(320 + 2 * rows.lineBytes[k]);
        writeAcceptedFast(o, b, inArena[k] ? arenaView! : srcView!, starts, ends, rowScalars(rows, k, this.scalars), k * NF);
      }
      this.read++;
      this.accepted++;
      this.index.add(his[k], los[k], currencies[k], rows.jurisdiction[k], minors[k], accounts[k - from]);
    }
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
      return;
    }
    this.format = 'csv';
    this.header = parseHeader(Buffer.from(text.slice(start, end), 'latin1').toString('utf8'));
    this.checkerInstance = undefined;
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
    const currency = CURRENCY_CODES.indexOf(tx.currency);
    const jurisdiction = (JURISDICTIONS as readonly string[]).indexOf(tx.jurisdiction);
    const minor = Number(tx.amountMinor);
    this.read++;
    this.accepted++;
    this.acceptedSums[currency].add(minor);
    const a = this.totals.add(tx.accountId, 0, tx.accountId.length, currency, jurisdiction, minor);
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
