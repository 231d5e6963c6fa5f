/**
 * The one strict date parser. Every date or time that arrives from outside (handler events, workflow
 * payloads, CLI options) goes through it, because `Date.parse` accepts far too much: "1", "12/01/2026"
 * and "+202600-01-01" all parse and produce a report for the wrong day. Two forms are accepted:
 *
 *  - calendar date: `YYYY-MM-DD`;
 *  - instant: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, ISO 8601 with an explicit zone (a time
 *    without a zone is ambiguous for a report date, so it is refused rather than guessed);
 *
 * with a four-digit year in [MIN_YEAR, MAX_YEAR] and a real calendar day (no 2026-02-30, no hour 24,
 * no leap second). An instant's UTC date must be in range too, so a derived report date always is.
 * Error messages say what is expected and never repeat the input (it is external text).
 *
 * The range functions are allocation-free so the processor can check millions of fields in place.
 */

export const MIN_YEAR = 2000;
export const MAX_YEAR = 2100;

const MS_PER_DAY = 86_400_000;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export class DateFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DateFormatError';
  }
}

function digitsAt(s: string, at: number, count: number): number {
  let v = 0;
  for (let i = at; i < at + count; i++) {
    const c = s.charCodeAt(i) - 48;
    if (!(c >= 0 && c <= 9)) return -1;
    v = v * 10 + c;
  }
  return v;
}

function isLeap(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

/** Epoch ms of UTC midnight of `YYYY-MM-DD` at `s[at, at + 10)`, or NaN. */
function dayAt(s: string, at: number): number {
  const year = digitsAt(s, at, 4);
  if (year < MIN_YEAR || year > MAX_YEAR || s.charCodeAt(at + 4) !== 45 /* - */) return NaN;
  const month = digitsAt(s, at + 5, 2);
  if (month < 1 || month > 12 || s.charCodeAt(at + 7) !== 45) return NaN;
  const day = digitsAt(s, at + 8, 2);
  const maxDay = month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1];
  if (day < 1 || day > maxDay) return NaN;
  return Date.UTC(year, month - 1, day);
}

/** Epoch ms of UTC midnight of the calendar date `s[start, end)`, or NaN when it is not one. */
export function calendarDateMsRange(s: string, start: number, end: number): number {
  if (end - start !== 10) return NaN;
  return dayAt(s, start);
}

/** Epoch ms of the instant `s[start, end)`, or NaN when it is not one. Allocation-free. */
export function instantMsRange(s: string, start: number, end: number): number {
  const len = end - start;
  if (len < 20 || len > 35) return NaN;
  const day = dayAt(s, start);
  if (Number.isNaN(day) || s.charCodeAt(start + 10) !== 84 /* T */) return NaN;
  const hour = digitsAt(s, start + 11, 2);
  if (hour < 0 || hour > 23 || s.charCodeAt(start + 13) !== 58 /* : */) return NaN;
  const minute = digitsAt(s, start + 14, 2);
  if (minute < 0 || minute > 59 || s.charCodeAt(start + 16) !== 58) return NaN;
  const second = digitsAt(s, start + 17, 2);
  if (second < 0 || second > 59) return NaN;
  let i = start + 19;
  let ms = 0;
  if (s.charCodeAt(i) === 46 /* . */) {
    i++;
    const fracStart = i;
    while (i < end && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    const n = i - fracStart;
    if (n === 0 || n > 9) return NaN;
    // Milliseconds: the first three fraction digits (truncated, as Date does).
    for (let k = 0; k < 3; k++) ms = ms * 10 + (k < n ? s.charCodeAt(fracStart + k) - 48 : 0);
  }
  let offsetMin = 0;
  if (i === end - 1) {
    if (s.charCodeAt(i) !== 90 /* Z */) return NaN;
  } else {
    if (i !== end - 6) return NaN;
    const sign = s.charCodeAt(i);
    if (sign !== 43 && sign !== 45) return NaN;
    const zh = digitsAt(s, i + 1, 2);
    const zm = digitsAt(s, i + 4, 2);
    if (zh < 0 || zh > 14 || s.charCodeAt(i + 3) !== 58 || zm < 0 || zm > 59) return NaN;
    offsetMin = (sign === 43 ? 1 : -1) * (zh * 60 + zm);
  }
  const t = day + ((hour * 60 + minute - offsetMin) * 60 + second) * 1000 + ms;
  const utcYear = new Date(t).getUTCFullYear();
  if (utcYear < MIN_YEAR || utcYear > MAX_YEAR) return NaN;
  return t;
}

export function isCalendarDate(text: unknown): text is string {
  return typeof text === 'string' && !Number.isNaN(calendarDateMsRange(text, 0, text.length));
}

export function isInstant(text: unknown): text is string {
  return typeof text === 'string' && !Number.isNaN(instantMsRange(text, 0, text.length));
}

const DATE_EXPECTED = `a calendar date YYYY-MM-DD (years ${MIN_YEAR}-${MAX_YEAR})`;
const INSTANT_EXPECTED = `an ISO 8601 instant YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM) (years ${MIN_YEAR}-${MAX_YEAR})`;

/** Returns `text` when it is a calendar date; throws DateFormatError naming `what` (never the value). */
export function parseCalendarDate(text: unknown, what = 'date'): string {
  if (!isCalendarDate(text)) throw new DateFormatError(`${what} must be ${DATE_EXPECTED}`);
  return text;
}

/** Epoch ms of an instant; throws DateFormatError naming `what` (never the value). */
export function parseInstant(text: unknown, what = 'time'): number {
  const t = typeof text === 'string' ? instantMsRange(text, 0, text.length) : NaN;
  if (Number.isNaN(t)) throw new DateFormatError(`${what} must be ${INSTANT_EXPECTED}`);
  return t;
}

export interface ParsedDate {
  kind: 'date' | 'instant';
  /** Epoch ms: UTC midnight for a calendar date, the instant itself otherwise. */
  epochMs: number;
  /** The UTC calendar date, YYYY-MM-DD. */
  utcDate: string;
}

/** Either form; throws DateFormatError naming `what` (never the value). */
export function parseDateOrInstant(text: unknown, what = 'date'): ParsedDate {
  if (typeof text === 'string') {
    const d = calendarDateMsRange(text, 0, text.length);
    if (!Number.isNaN(d)) return { kind: 'date', epochMs: d, utcDate: text };
    const t = instantMsRange(text, 0, text.length);
    if (!Number.isNaN(t)) return { kind: 'instant', epochMs: t, utcDate: utcDateOf(t) };
  }
  throw new DateFormatError(`${what} must be ${DATE_EXPECTED} or ${INSTANT_EXPECTED}`);
}

/** UTC calendar date (YYYY-MM-DD) of epoch ms. */
export function utcDateOf(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

/** Adds whole days to a calendar date (strictly parsed), returning YYYY-MM-DD. */
export function addDays(date: string, days: number): string {
  return utcDateOf(calendarDateMsRange(parseCalendarDate(date), 0, 10) + days * MS_PER_DAY);
}
