/**
 * Allocation-free checks of single field values held in `s[start, end)`. The processor validates
 * millions of records by pointing these at ranges of one decoded chunk; `validateTransaction` uses the
 * same functions on whole strings, so both paths enforce exactly the same rules.
 */

/** Index of the word in `words` equal to `s[start, end)`, or -1. */
export function matchWord(s: string, start: number, end: number, words: readonly string[]): number {
  const len = end - start;
  outer: for (let w = 0; w < words.length; w++) {
    const word = words[w];
    if (word.length !== len) continue;
    for (let i = 0; i < len; i++) if (s.charCodeAt(start + i) !== word.charCodeAt(i)) continue outer;
    return w;
  }
  return -1;
}

/** `[A-Za-z0-9_-]` when `underscore`, else `[A-Za-z0-9-]`; `upperOnly` drops a-z. */
export function isIdentifier(s: string, start: number, end: number, min: number, max: number, underscore: boolean, upperOnly: boolean): boolean {
  const len = end - start;
  if (len < min || len > max) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) continue; // 0-9
    if (c >= 65 && c <= 90) continue; // A-Z
    if (!upperOnly && c >= 97 && c <= 122) continue; // a-z
    if (c === 45) continue; // -
    if (underscore && c === 95) continue; // _
    return false;
  }
  return true;
}

export function isFourDigits(s: string, start: number, end: number): boolean {
  if (end - start !== 4) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Free text of 1..max characters (code points) without control characters, which would corrupt logs
 * and reports. `utf8Bytes`: the range holds UTF-8 bytes one per char, so continuation bytes are not
 * counted; otherwise low surrogates are not counted.
 */
export function isFreeText(s: string, start: number, end: number, max: number, utf8Bytes = false): boolean {
  let chars = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 || c === 127) return false;
    if (utf8Bytes ? (c & 0xc0) !== 0x80 : c < 0xdc00 || c > 0xdfff) chars++;
  }
  return chars >= 1 && chars <= max;
}

function digitsAt(s: string, at: number, count: number): number {
  let v = 0;
  for (let i = at; i < at + count; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * ISO 8601 date-time with an explicit zone: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`. A timestamp
 * without a zone is ambiguous for a regulatory report date, so it is rejected rather than guessed.
 */
export function isIsoTimestamp(s: string, start: number, end: number): boolean {
  const len = end - start;
  if (len < 20 || len > 35) return false;
  const year = digitsAt(s, start, 4);
  if (year < 1970 || s.charCodeAt(start + 4) !== 45) return false;
  const month = digitsAt(s, start + 5, 2);
  if (month < 1 || month > 12 || s.charCodeAt(start + 7) !== 45) return false;
  const day = digitsAt(s, start + 8, 2);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const maxDay = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
  if (day < 1 || day > maxDay) return false;
  if (s.charCodeAt(start + 10) !== 84 /* T */) return false;
  const hour = digitsAt(s, start + 11, 2);
  if (hour < 0 || hour > 23 || s.charCodeAt(start + 13) !== 58) return false;
  const minute = digitsAt(s, start + 14, 2);
  if (minute < 0 || minute > 59 || s.charCodeAt(start + 16) !== 58) return false;
  const second = digitsAt(s, start + 17, 2);
  if (second < 0 || second > 59) return false;
  let i = start + 19;
  if (s.charCodeAt(i) === 46 /* . */) {
    i++;
    const fracStart = i;
    while (i < end && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    if (i === fracStart || i - fracStart > 9) return false;
  }
  if (i === end - 1) return s.charCodeAt(i) === 90; // Z
  if (i !== end - 6) return false;
  const sign = s.charCodeAt(i);
  if (sign !== 43 && sign !== 45) return false;
  const zh = digitsAt(s, i + 1, 2);
  const zm = digitsAt(s, i + 4, 2);
  return zh >= 0 && zh <= 14 && s.charCodeAt(i + 3) === 58 && zm >= 0 && zm <= 59;
}
