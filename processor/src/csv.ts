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
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    // Column names are echoed only when they look like names, never a possible card number.
    const shown = unknown.map((n) => (/^[A-Za-z_][A-Za-z0-9_]{0,40}$/.test(n) ? n : '<redacted>'));
    throw new BadInputError('HEADER_UNKNOWN_COLUMN', `header has unknown column(s): ${shown.join(', ')}; allowed: ${FIELDS.join(',')}`);
  }
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new BadInputError('HEADER_DUPLICATE_COLUMN', `header names column "${n}" twice`);
    seen.add(n);
  }
  const missing = REQUIRED_FIELDS.filter((f) => !seen.has(f));
  if (missing.length > 0) throw new BadInputError('HEADER_MISSING_COLUMN', `header lacks required column(s): ${missing.join(', ')}`);
  return {
    columns: names as FieldName[],
    columnToField: Int32Array.from(names.map((n) => (FIELDS as readonly string[]).indexOf(n))),
  };
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
