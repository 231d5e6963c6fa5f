/**
 * The field checks of `fields.ts` and `money.ts` over bytes: `b[start, end)` of a Uint8Array holding
 * one character per byte (the processor's input block: UTF-8 bytes, never decoded). Each function
 * gives exactly the answer its string twin gives for the latin1 string of the same bytes (char code =
 * byte), which `__tests__/domain/transaction.test.ts` checks on a large generated corpus; the processor
 * uses these so a CSV record is validated in place, without a string per line or per field.
 */
import { AMOUNT_FORMAT, AMOUNT_NOT_POSITIVE, AMOUNT_OVER_LIMIT, AMOUNT_PRECISION } from './money';
import { containsPanRange } from './pan';

/** Character classes of identifiers, one bit each. */
const DIGIT = 1;
const UPPER = 2;
const LOWER = 4;
const DASH = 8;
const UNDERSCORE = 16;
const CLASS = new Uint8Array(256);
for (let c = 48; c <= 57; c++) CLASS[c] = DIGIT;
for (let c = 65; c <= 90; c++) CLASS[c] = UPPER;
for (let c = 97; c <= 122; c++) CLASS[c] = LOWER;
CLASS[45] = DASH;
CLASS[95] = UNDERSCORE;

/** `isIdentifier` over bytes. */
export function isIdentifierBytes(b: Uint8Array, start: number, end: number, min: number, max: number, underscore: boolean, upperOnly: boolean): boolean {
  const len = end - start;
  if (len < min || len > max) return false;
  const allowed = DIGIT | UPPER | DASH | (upperOnly ? 0 : LOWER) | (underscore ? UNDERSCORE : 0);
  for (let i = start; i < end; i++) if ((CLASS[b[i]] & allowed) === 0) return false;
  return true;
}

/** `isFourDigits` over bytes. */
export function isFourDigitsBytes(b: Uint8Array, start: number, end: number): boolean {
  if (end - start !== 4) return false;
  for (let i = start; i < end; i++) if (CLASS[b[i]] !== DIGIT) return false;
  return true;
}

/** `isFreeText(s, start, end, max, true)` over bytes: UTF-8 continuation bytes are not counted. */
export function isFreeTextBytes(b: Uint8Array, start: number, end: number, max: number): boolean {
  let chars = 0;
  for (let i = start; i < end; i++) {
    const c = b[i];
    if (c < 32 || c === 127) return false;
    if ((c & 0xc0) !== 0x80) chars++;
  }
  return chars >= 1 && chars <= max;
}

/** Index of the word in `words` (ASCII, as bytes) equal to `b[start, end)`, or -1 (`matchWord` over bytes). */
export function matchWordBytes(b: Uint8Array, start: number, end: number, words: readonly Uint8Array[]): number {
  const len = end - start;
  outer: for (let w = 0; w < words.length; w++) {
    const word = words[w];
    if (word.length !== len) continue;
    for (let i = 0; i < len; i++) if (b[start + i] !== word[i]) continue outer;
    return w;
  }
  return -1;
}

/** ASCII words as bytes, for `matchWordBytes`. */
export function wordBytes(words: readonly string[]): Uint8Array[] {
  return words.map((w) => Uint8Array.from(w, (ch) => ch.charCodeAt(0)));
}

function digitsAt(b: Uint8Array, at: number, count: number): number {
  let v = 0;
  for (let i = at; i < at + count; i++) {
    const c = b[i] - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** `isIsoTimestamp` over bytes. */
export function isIsoTimestampBytes(b: Uint8Array, start: number, end: number): boolean {
  const len = end - start;
  if (len < 20 || len > 35) return false;
  const year = digitsAt(b, start, 4);
  if (year < 1970 || b[start + 4] !== 45) return false;
  const month = digitsAt(b, start + 5, 2);
  if (month < 1 || month > 12 || b[start + 7] !== 45) return false;
  const day = digitsAt(b, start + 8, 2);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const maxDay = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
  if (day < 1 || day > maxDay) return false;
  if (b[start + 10] !== 84 /* T */) return false;
  const hour = digitsAt(b, start + 11, 2);
  if (hour < 0 || hour > 23 || b[start + 13] !== 58) return false;
  const minute = digitsAt(b, start + 14, 2);
  if (minute < 0 || minute > 59 || b[start + 16] !== 58) return false;
  const second = digitsAt(b, start + 17, 2);
  if (second < 0 || second > 59) return false;
  let i = start + 19;
  if (b[i] === 46 /* . */) {
    i++;
    const fracStart = i;
    while (i < end && b[i] >= 48 && b[i] <= 57) i++;
    if (i === fracStart || i - fracStart > 9) return false;
  }
  if (i === end - 1) return b[i] === 90; // Z
  if (i !== end - 6) return false;
  const sign = b[i];
  if (sign !== 43 && sign !== 45) return false;
  const zh = digitsAt(b, i + 1, 2);
  const zm = digitsAt(b, i + 4, 2);
  return zh >= 0 && zh <= 14 && b[i + 3] === 58 && zm >= 0 && zm <= 59;
}

/** `scanAmount` over bytes: minor units (exact, below 2^50) or a negative AMOUNT_* code. */
export function scanAmountBytes(b: Uint8Array, start: number, end: number, digits: number, limitMinor: number): number {
  if (start >= end) return AMOUNT_FORMAT;
  let i = start;
  let negative = false;
  if (b[i] === 45 /* - */) {
    negative = true;
    i++;
  }
  let value = 0;
  let intDigits = 0;
  for (; i < end; i++) {
    const c = b[i] - 48;
    if (c < 0 || c > 9) break;
    if (intDigits < 17) value = value * 10 + c;
    intDigits++;
  }
  if (intDigits === 0) return AMOUNT_FORMAT;
  let fracDigits = 0;
  if (i < end) {
    if (b[i] !== 46 /* . */) return AMOUNT_FORMAT;
    i++;
    for (; i < end; i++) {
      const c = b[i] - 48;
      if (c < 0 || c > 9) return AMOUNT_FORMAT;
      if (fracDigits < digits) value = value * 10 + c;
      else if (c !== 0 || fracDigits >= 6) return negative ? AMOUNT_NOT_POSITIVE : AMOUNT_PRECISION;
      fracDigits++;
    }
    if (fracDigits === 0) return AMOUNT_FORMAT;
    if (fracDigits > digits) return negative ? AMOUNT_NOT_POSITIVE : AMOUNT_PRECISION;
  }
  if (negative) return AMOUNT_NOT_POSITIVE;
  for (let k = fracDigits; k < digits; k++) value *= 10;
  if (intDigits > 16) return AMOUNT_OVER_LIMIT;
  if (value <= 0) return AMOUNT_NOT_POSITIVE;
  if (value > limitMinor) return AMOUNT_OVER_LIMIT;
  return value;
}

/** Fewest digits of a card number (the detector's floor, see pan.ts). */
export const PAN_MIN_DIGITS = 13;

/**
 * The card-number detector's own pre-check over bytes: some run of PAN_MIN_DIGITS digits that only a
 * letter (ASCII A-Z, a-z) interrupts. Without one the detector finds nothing, so a caller may skip it.
 */
export function hasLongDigitRunBytes(b: Uint8Array, start: number, end: number): boolean {
  let run = 0;
  for (let i = start; i < end; i++) {
    const c = b[i];
    if (c >= 48 && c <= 57) {
      if (++run >= PAN_MIN_DIGITS) return true;
    } else if ((((c | 32) - 97) >>> 0) < 26) {
      run = 0;
    }
  }
  return false;
}

/** `containsPanRange` of the latin1 string of `b[start, end)`: the detector itself runs only after the pre-check. */
export function containsPanBytes(b: Uint8Array, start: number, end: number): boolean {
  if (end - start < PAN_MIN_DIGITS || !hasLongDigitRunBytes(b, start, end)) return false;
  return containsPanRange(latin1(b, start, end), 0, end - start);
}

/** The string of one char per byte (rare paths only: a suspected card number, an echoed id). */
export function latin1(b: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i += 4096) s += String.fromCharCode.apply(null, Array.from(b.subarray(i, Math.min(end, i + 4096))));
  return s;
}
