/**
 * A plain, string-based reading of a CSV block, line by line, written for clarity rather than speed
 * (a line that is not valid UTF-8 is refused first, whatever else is wrong with it):
 * the reference the processor's byte path (csv-rows.ts, RecordProcessor) is held to. Lines are split
 * with `splitLine` (RFC 4180 quoting, one record per line), validated with the domain's
 * `validateFieldView` over the latin1 "byte strings" the processor works on (free text holding
 * non-ASCII is scanned for card numbers again as decoded text), de-duplicated with a Set of ids, and
 * written with JSON.stringify in the contract's field order.
 */
import { isUtf8 } from 'buffer';
import { isIdentifier } from '../domain/fields';
import { containsPanRange } from '../domain/pan';
import { CURRENCY_CODES, formatMinor } from '../domain/money';
import { F_COUNTERPARTY, F_TRANSACTION_ID, FIELDS, FieldView, JURISDICTIONS, limitTable, ParsedScalars, TRANSACTION_TYPES, validateFieldView } from '../domain/transaction';
import { CsvHeader, parseHeader } from '../processor/src/csv';
import { MAX_LINE_BYTES } from '../processor/src/lines';

export type SplitResult = 'OK' | 'COLUMN_COUNT' | 'BROKEN_QUOTE';

/** Splits `text[start, end)` into `view`: unquoted fields as ranges of `text`, quoted ones unescaped into new strings. */
export function splitLine(text: string, start: number, end: number, header: CsvHeader, view: FieldView): SplitResult {
  const map = header.columnToField;
  let col = 0;
  let pos = start;
  for (;;) {
    if (col >= map.length) return 'COLUMN_COUNT';
    const f = map[col];
    if (pos < end && text.charCodeAt(pos) === 34 /* " */) {
      let value = '';
      let i = pos + 1;
      let closed = false;
      while (i < end) {
        const q = text.indexOf('"', i);
        if (q < 0 || q >= end) break;
        value += text.slice(i, q);
        if (q + 1 < end && text.charCodeAt(q + 1) === 34) {
          value += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        closed = true;
        break;
      }
      if (!closed) return 'BROKEN_QUOTE';
      if (i < end && text.charCodeAt(i) !== 44 /* , */) return 'BROKEN_QUOTE';
      view.strs[f] = value;
      view.starts[f] = 0;
      view.ends[f] = value.length;
      col++;
      if (i >= end) break;
      pos = i + 1;
    } else {
      let comma = text.indexOf(',', pos);
      if (comma < 0 || comma > end) comma = end;
      const quote = text.indexOf('"', pos);
      if (quote >= 0 && quote < comma) return 'BROKEN_QUOTE'; // quote inside an unquoted field
      view.strs[f] = text;
      view.starts[f] = pos;
      view.ends[f] = comma;
      col++;
      if (comma >= end) break;
      pos = comma + 1;
    }
  }
  return col === map.length ? 'OK' : 'COLUMN_COUNT';
}

export interface ReferenceResult {
  /** accepted.jsonl and rejects.jsonl, as latin1 strings of their bytes. */
  accepted: string;
  rejects: string;
  /** Lines (header included), read, accepted, rejected, duplicates. */
  counts: number[];
  byReason: Record<string, number>;
}

/** Reads `headerLine` and then the lines of `body` (UTF-8 bytes as a latin1 string; LF or CRLF) as the processor should. */
export function referenceCsv(headerLine: string, body: string, maxAmount?: string): ReferenceResult {
  const header = parseHeader(headerLine);
  const limits = limitTable(maxAmount);
  const seen = new Set<string>();
  const r: ReferenceResult = { accepted: '', rejects: '', counts: [1, 0, 0, 0, 0], byReason: {} };
  const reject = (reason: string, field?: string, id?: string) => {
    r.counts[3]++;
    r.byReason[reason] = (r.byReason[reason] ?? 0) + 1;
    r.rejects += `{"line":${r.counts[0]},"reason":"${reason}"${field ? `,"field":"${field}"` : ''}${id !== undefined ? `,"transactionId":"${id}"` : ''}}\n`;
  };
  let pos = 0;
  while (pos < body.length) {
    let nl = body.indexOf('\n', pos);
    if (nl < 0) nl = body.length;
    const end = nl > pos && body.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    r.counts[0]++;
    r.counts[1]++;
    const line = { start: pos, end };
    pos = nl + 1;
    if (!isUtf8(Buffer.from(body.slice(line.start, nl), 'latin1'))) {
      reject('INVALID_UTF8');
      continue;
    }
    if (nl - line.start > MAX_LINE_BYTES) {
      reject('LINE_TOO_LONG');
      continue;
    }
    if (line.end === line.start) {
      reject('BLANK_LINE');
      continue;
    }
    const view: FieldView = { strs: new Array<string>(FIELDS.length).fill(''), starts: new Int32Array(FIELDS.length), ends: new Int32Array(FIELDS.length) };
    const split = splitLine(body, line.start, line.end, header, view);
    if (split !== 'OK') {
      reject(split);
      continue;
    }
    const value = (f: number) => view.strs[f].slice(view.starts[f], view.ends[f]);
    const scalars: ParsedScalars = { minor: 0, currency: 0, jurisdiction: 0, type: 0 };
    const failed = { index: -1 };
    let reason: string | null = validateFieldView(view, limits, scalars, failed, true);
    const counterparty = Buffer.from(value(F_COUNTERPARTY), 'latin1').toString('utf8');
    if (reason === null && /[^\x00-\x7f]/.test(counterparty) && containsPanRange(counterparty, 0, counterparty.length)) {
      reason = 'PAN_DETECTED';
      failed.index = F_COUNTERPARTY;
    }
    const id = value(F_TRANSACTION_ID);
    if (reason !== null) {
      const echo = reason !== 'PAN_DETECTED' && failed.index >= 0 && isIdentifier(id, 0, id.length, 1, 64, true, false);
      reject(reason, failed.index >= 0 ? FIELDS[failed.index] : undefined, echo ? id : undefined);
      continue;
    }
    if (seen.has(id)) {
      r.counts[4]++;
      r.byReason.DUPLICATE = (r.byReason.DUPLICATE ?? 0) + 1;
      r.rejects += `{"line":${r.counts[0]},"reason":"DUPLICATE","transactionId":"${id}"}\n`;
      continue;
    }
    seen.add(id);
    r.counts[2]++;
    const text = (f: string) => Buffer.from(value(FIELDS.indexOf(f as never)), 'latin1').toString('utf8');
    const currency = CURRENCY_CODES[scalars.currency];
    const rec: Record<string, string> = {
      transactionId: id,
      accountId: text('accountId'),
      entityId: text('entityId'),
      amount: formatMinor(BigInt(scalars.minor), currency),
      amountMinor: String(scalars.minor),
      currency,
      timestamp: text('timestamp'),
    };
    if (counterparty !== '') rec.counterparty = counterparty;
    rec.jurisdiction = JURISDICTIONS[scalars.jurisdiction];
    rec.type = TRANSACTION_TYPES[scalars.type];
    if (text('cardLast4') !== '') rec.cardLast4 = text('cardLast4');
    r.accepted += Buffer.from(JSON.stringify(rec) + '\n', 'utf8').toString('latin1');
  }
  return r;
}
