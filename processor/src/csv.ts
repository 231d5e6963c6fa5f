/**
 * CSV header handling and single-line field splitting (RFC 4180 quoting, one record per line).
 * A quoted field may contain commas and doubled quotes but not a line break: records must be
 * line-aligned so that shards can split a file at any newline; a quote left open at the end of a line
 * is therefore BROKEN_QUOTE.
 */
import { FIELDS, FieldName, FieldView, REQUIRED_FIELDS } from '../../domain/transaction';
import { BadInputError } from './errors';

export interface CsvHeader {
  /** csv column index -> canonical field index */
  readonly columnToField: Int32Array;
  readonly columns: readonly FieldName[];
}

/** Parses the header line; unknown, duplicate or missing required columns fail the job (exit 2). */
export function parseHeader(line: string): CsvHeader {
  const names = line.split(',').map((n) => n.trim().replace(/^"(.*)"$/, '$1'));
  const known = new Set<string>(FIELDS);
  if (!names.some((n) => known.has(n))) {
    throw new BadInputError('HEADER_MISSING', `the first line is not a header: it names none of the columns ${FIELDS.join(',')}`);
  }
  // Column names are never echoed (a header can hold anything, a card number included): errors name
  // 1-based column positions and our own field names only.
  const unknown = names.flatMap((n, i) => (known.has(n) ? [] : [i + 1]));
  if (unknown.length > 0) {
    const shown = unknown.slice(0, 10).join(', ') + (unknown.length > 10 ? ` and ${unknown.length - 10} more` : '');
    throw new BadInputError('HEADER_UNKNOWN_COLUMN', `header column(s) ${shown} of ${names.length} are not known columns; allowed: ${FIELDS.join(',')}`);
  }
  const seen = new Map<string, number>();
  names.forEach((n, i) => {
    const first = seen.get(n);
    if (first !== undefined) throw new BadInputError('HEADER_DUPLICATE_COLUMN', `header columns ${first} and ${i + 1} both name the ${n} column`);
    seen.set(n, i + 1);
  });
  const missing = REQUIRED_FIELDS.filter((f) => !seen.has(f));
  if (missing.length > 0) throw new BadInputError('HEADER_MISSING_COLUMN', `header lacks required column(s): ${missing.join(', ')}`);
  return {
    columns: names as FieldName[],
    columnToField: Int32Array.from(names.map((n) => (FIELDS as readonly string[]).indexOf(n))),
  };
}

/**
 * A carriage return inside the first line means lone-CR line endings (the whole file would otherwise
 * be read as one header line). `offset` is the 1-based byte position of the CR in that line.
 */
export function loneCrError(offset: number): BadInputError {
  return new BadInputError(
    'LINE_ENDINGS_CR',
    `the first line holds a carriage return that is not followed by a line feed (byte ${offset} of the line): lone-CR line endings are not supported; use LF or CRLF`,
  );
}

export type SplitResult = 'OK' | 'COLUMN_COUNT' | 'BROKEN_QUOTE';

/**
 * Splits `text[start, end)` into `view` (which must be cleared by the caller). The fast path (no quote
 * on the line) only records ranges; quoted fields are unescaped into new strings.
 */
export function splitLine(text: string, start: number, end: number, hasQuote: boolean, header: CsvHeader, view: FieldView): SplitResult {
  const map = header.columnToField;
  const columns = map.length;
  if (!hasQuote) {
    let pos = start;
    for (let col = 0; col < columns; col++) {
      let comma = text.indexOf(',', pos);
      if (comma < 0 || comma > end) comma = end;
      if (col === columns - 1) {
        if (comma !== end) return 'COLUMN_COUNT';
      } else if (comma === end) {
        return 'COLUMN_COUNT';
      }
      const f = map[col];
      view.strs[f] = text;
      view.starts[f] = pos;
      view.ends[f] = comma;
      pos = comma + 1;
    }
    return 'OK';
  }
  return splitQuoted(text, start, end, header, view);
}

function splitQuoted(text: string, start: number, end: number, header: CsvHeader, view: FieldView): SplitResult {
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
