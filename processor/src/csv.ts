/**
 * CSV header handling. Records are split as bytes by csv-rows.ts (RFC 4180 quoting, one record per
 * line): a quoted field may contain commas and doubled quotes but not a line break, since records
 * must be line-aligned so that shards can split a file at any newline; a quote left open at the end
 * of a line is therefore BROKEN_QUOTE.
 */
import { FIELDS, FieldName, REQUIRED_FIELDS } from '../../domain/transaction';
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
