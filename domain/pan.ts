/**
 * Card-number (PAN) detection. A field that holds a full card number is rejected and the value is
 * never logged or written (PCI DSS 3.3/3.4). This is the project's one detector: the processor,
 * the handlers and the log scrubber all call it.
 *
 * What counts as a card number
 * ----------------------------
 * 1. Runs. Letters (ASCII A-Z, a-z) break a run. Every other character joins the digit groups
 *    around it: any number of spaces, dots, dashes, slashes, underscores, tabs, and any non-ASCII
 *    character (U+00A0, U+2007, U+2009, U+202F, U+3000 ... and, in the processor's byte strings,
 *    the latin1-decoded UTF-8 bytes of those spaces). So "4111.1111.1111.1111",
 *    "4111\u00a01111\u00a01111\u00a01111" and "qty 3 4111-1111-1111-1111 77" are one run each.
 * 2. Windows. Every 13-19 digit window of a run's digits is a candidate, also inside longer
 *    sequences ("inv 2026 4111 1111 1111 1111", "20264111111111111111"). One refinement keeps
 *    written dates, times and grouped numbers from producing windows no human would write: a
 *    window may begin or end strictly inside a digit group only when that group has 7 or more
 *    digits (no written card number has a group longer than 6, so a longer group must be digits
 *    glued together). A window may not start at a group written right after "+" (an
 *    international phone number such as "+49 30 123456789").
 * 3. Brand. The window's leading digits (IIN) must belong to a card brand with that length:
 *      Visa 4 (13, 16, 19) | Mastercard 51-55, 2221-2720 (16) | American Express 34, 37 (15) |
 *      Discover 6011, 644-649, 65, 622126-622925 (16-19) | JCB 3528-3589 (16-19) |
 *      Diners Club 300-305, 3095, 36, 38, 39 (14-19) | UnionPay 62 (16-19) |
 *      Mir 2200-2204 (16-19) | Maestro 50, 56-69 (12-19; 13-19 here, see below).
 *    Source of truth: the IIN table of ISO/IEC 7812 registrations as published in the brands'
 *    acquirer documentation and summarised in the "Payment card number" IIN-range table
 *    (Wikipedia, checked 2026-12); Maestro uses Mastercard's broad allocation 50 and 56-69 rather
 *    than the handful of published sub-ranges, to err on the side of detection.
 * 4. Luhn. The window passes the Luhn (mod 10) check.
 *
 * Not card numbers (checked only after a window matched, so they cost nothing on clean data):
 * - Amounts: a run that, without its leading and trailing non-digit characters, is one amount:
 *   1-15 integer digits, plain or in thousands with one mark throughout ("1,234,567",
 *   "1.234.567", "1 234 567", "1'234'567"), then "." or "," and 1-4 fraction digits (required
 *   for a plain integer part: a bare digit string is never exempt). E.g. "1234567890123.45" and
 *   "4,111,111,111,111.11" are amounts. 15 integer digits is the largest amount the platform
 *   accepts (batch.maxAmount). "4111.1111.1111.1111" (groups of 4) and "4111111111111111.00"
 *   (16 integer digits) are still flagged. The other side of the rule: a 13-15 digit card number
 *   written as a plain decimal ("4222222222222.00") reads as an amount and is not flagged.
 * - IBANs: a match lying inside a valid IBAN (ISO 13616 mod-97, compact or printed in groups).
 * - UUIDs: a match lying inside an 8-4-4-4-12 hex token.
 *
 * Known limits (trade-offs, chosen to favour detection over silence):
 * - A glued digit sequence longer than 19 digits, or one of 14-19 digits that is not a card (a
 *   long reference, two numbers glued together, a compact timestamp with milliseconds such as
 *   "20261120100000123"), may contain a window that is a valid IIN + Luhn match: about one in ten
 *   windows that pass the IIN check also pass Luhn (measured: ~10% of compact 17-digit
 *   timestamps). Such a field is rejected as a suspected card number; that is the intended
 *   direction of the error. Dates, times, phone numbers and invoice numbers written with
 *   separators are not affected (their groups are short, so windows must align with them).
 * - 12-digit Maestro numbers are not detected (13 is the floor: a 12-digit floor would flag too
 *   many ordinary numbers). Non-ASCII digits (e.g. fullwidth ０-９) are not read as digits.
 *
 * Performance: one pass, no allocation (module-level ring buffers), and no Luhn work at all for a
 * field with fewer than 13 digits in one run. Callers on the hot path may skip fields shorter
 * than 13 characters.
 */

/** Card brand of a detected number (never the digits). */
export type PanBrand = 'visa' | 'mastercard' | 'amex' | 'discover' | 'jcb' | 'diners' | 'unionpay' | 'mir' | 'maestro';

const BRANDS: readonly PanBrand[] = ['visa', 'mastercard', 'amex', 'discover', 'jcb', 'diners', 'unionpay', 'mir', 'maestro'];

/** Where a card number was found: UTF-16 offsets of its first digit and one past its last digit. */
export interface PanMatch {
  start: number;
  end: number;
  brand: PanBrand;
}

const MIN_LEN = 13;
const MAX_LEN = 19;
/** A group at least this long may be cut by a window edge (no written card has a longer group). */
const GLUED_GROUP = 7;
const RING = 32;
const MASK = RING - 1;

// Ring buffers over the last RING digits of the current run, indexed by (run digit index & MASK).
const DIG = new Uint8Array(RING);
/** Char offset of each digit. */
const POS = new Int32Array(RING);
/** Run digit index at which this digit's group starts. */
const GSTART = new Int32Array(RING);
/** Length of this digit's group once the group is complete (0 while it is open). */
const GLEN = new Int32Array(RING);
/** 1 when this digit's group is written right after "+". */
const PLUS = new Uint8Array(RING);

// Result of the last hit (read by findPan).
let hitStart = -1;
let hitEnd = -1;
let hitBrand = 0;

/**
 * Brand code (1-based index into BRANDS) for a window of `len` digits starting at run digit index
 * `s`, or 0 when no brand issues that prefix at that length.
 */
function brandAt(s: number, len: number): number {
  const d0 = DIG[s & MASK];
  const d1 = DIG[(s + 1) & MASK];
  const p2 = d0 * 10 + d1;
  switch (d0) {
    case 4:
      return len === 13 || len === 16 || len === 19 ? 1 : 0;
    case 3: {
      if (p2 === 34 || p2 === 37) return len === 15 ? 3 : 0;
      if (len < 14) return 0;
      const p4 = p2 * 100 + DIG[(s + 2) & MASK] * 10 + DIG[(s + 3) & MASK];
      if (p4 >= 3528 && p4 <= 3589) return len >= 16 ? 5 : 0;
      if ((p4 >= 3000 && p4 <= 3059) || p4 === 3095 || p2 === 36 || p2 === 38 || p2 === 39) return 6;
      return 0;
    }
    case 5:
      if (p2 >= 51 && p2 <= 55) return len === 16 ? 2 : 0;
      if (p2 === 50 || p2 >= 56) return 9; // Maestro, 12-19 digits
      return 0;
    case 2: {
      if (len < 16) return 0;
      const p4 = p2 * 100 + DIG[(s + 2) & MASK] * 10 + DIG[(s + 3) & MASK];
      if (p4 >= 2221 && p4 <= 2720) return len === 16 ? 2 : 0;
      if (p4 >= 2200 && p4 <= 2204) return 8;
      return 0;
    }
    case 6: {
      if (len >= 16) {
        const p3 = p2 * 10 + DIG[(s + 2) & MASK];
        const p4 = p3 * 10 + DIG[(s + 3) & MASK];
        if (p4 === 6011 || (p3 >= 644 && p3 <= 649) || p2 === 65) return 4;
        if (p2 === 62) {
          const p6 = p4 * 100 + DIG[(s + 4) & MASK] * 10 + DIG[(s + 5) & MASK];
          return p6 >= 622126 && p6 <= 622925 ? 4 : 7;
        }
      }
      return 9; // Maestro 56-69 covers every 6x, 12-19 digits
    }
    default:
      return 0;
  }
}

/** Luhn over the `len` run digits ending at run digit index `e` (inclusive). */
function luhnRing(e: number, len: number): boolean {
  let sum = 0;
  for (let k = 0; k < len; k++) {
    const d = DIG[(e - k) & MASK];
    if (k & 1) sum += d > 4 ? d * 2 - 9 : d * 2;
    else sum += d;
  }
  return sum % 10 === 0;
}

/**
 * Checks every window ending at run digit index `e`. `curGroupStart`/`curLen` describe the open group
 * (its GLEN is not set yet); -2/0 when none is open.
 */
function windowsEndingAt(e: number, curGroupStart: number, curLen: number): boolean {
  const maxLen = e + 1 < MAX_LEN ? e + 1 : MAX_LEN;
  for (let len = MIN_LEN; len <= maxLen; len++) {
    const s = e - len + 1;
    const si = s & MASK;
    const gs = GSTART[si];
    if (gs !== s) {
      // The window starts inside a group: only allowed in a glued (long) group.
      const glen = gs === curGroupStart ? curLen : GLEN[si];
      if (glen < GLUED_GROUP) continue;
    } else if (PLUS[si]) {
      continue;
    }
    const brand = brandAt(s, len);
    if (brand === 0 || !luhnRing(e, len)) continue;
    hitStart = POS[si];
    hitEnd = POS[e & MASK] + 1;
    hitBrand = brand;
    return true;
  }
  return false;
}

function isLetter(c: number): boolean {
  const l = c | 32;
  return l >= 97 && l <= 122;
}

/** The digit at `i` or -1. */
function digitAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57 ? c - 48 : -1;
}

/** A thousands separator: "," "." "'" space, no-break space, narrow no-break space. */
function isGroupMark(c: number): boolean {
  return c === 44 || c === 46 || c === 39 || c === 32 || c === 0xa0 || c === 0x202f;
}

/**
 * True when `s[a, b)` without leading and trailing non-digits is one amount: 1-15 integer digits,
 * plain ("1234567890123") or in thousands ("1,234,567.89", "1.234.567,89", "1 234 567,89",
 * "1'234'567.89", one mark throughout), then a "." or "," and 1-4 fraction digits. A plain integer
 * needs the fraction (a bare digit string is never exempt); a grouped one may omit it.
 */
function isAmountRun(s: string, a: number, b: number): boolean {
  while (a < b && digitAt(s, a) < 0) a++;
  while (b > a && digitAt(s, b - 1) < 0) b--;
  let i = a;
  while (i < b && digitAt(s, i) >= 0) i++;
  let intDigits = i - a;
  if (intDigits < 1 || intDigits > 15) return false;
  let grouped = false;
  if (intDigits <= 3 && i < b && isGroupMark(s.charCodeAt(i))) {
    // Try thousands groups: the same mark before every group of exactly 3 digits.
    const mark = s.charCodeAt(i);
    let j = i;
    let digits = intDigits;
    while (j < b && s.charCodeAt(j) === mark && digitAt(s, j + 1) >= 0 && digitAt(s, j + 2) >= 0 && digitAt(s, j + 3) >= 0
      && (j + 4 >= b || digitAt(s, j + 4) < 0)) {
      j += 4;
      digits += 3;
    }
    if (j > i && digits <= 15 && (j === b || ((s.charCodeAt(j) === 46 || s.charCodeAt(j) === 44) && s.charCodeAt(j) !== mark))) {
      grouped = true;
      i = j;
      intDigits = digits;
    }
  }
  if (i === b) return grouped;
  const sep = s.charCodeAt(i);
  if (sep !== 46 && sep !== 44) return false;
  const fracStart = ++i;
  while (i < b && digitAt(s, i) >= 0) i++;
  return i === b && b - fracStart >= 1 && b - fracStart <= 4;
}

function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || isLetter(c);
}

/** Letter or digit value in IBAN arithmetic (0-9, A=10 ... Z=35). */
function ibanValue(c: number): number {
  return c <= 57 ? c - 48 : (c | 32) - 87;
}

/**
 * When `s[hitStart, hitEnd)` lies inside an IBAN (ISO 13616: 2-letter country, 2 check digits,
 * up to 30 letters/digits, optionally printed in groups separated by single spaces, mod-97 = 1),
 * returns the offset just past that IBAN; otherwise -1.
 */
function ibanEndCovering(s: string, hitStart: number, hitEnd: number, end: number): number {
  let lo = hitStart;
  for (let back = 0; back < 48 && lo > 0; back++) {
    const c = s.charCodeAt(lo - 1);
    if (!(isAlnum(c) || (c === 32 && lo > 1 && isAlnum(s.charCodeAt(lo - 2))))) break;
    lo--;
  }
  for (let p = lo; p + 2 <= hitStart; p++) {
    if (!(isUpper(s.charCodeAt(p)) && isUpper(s.charCodeAt(p + 1)) && digitAt(s, p + 2) >= 0 && digitAt(s, p + 3) >= 0)) continue;
    if (p > 0 && isAlnum(s.charCodeAt(p - 1))) continue;
    const head = ((ibanValue(s.charCodeAt(p)) * 100 + ibanValue(s.charCodeAt(p + 1))) * 100 + digitAt(s, p + 2) * 10 + digitAt(s, p + 3)) % 97;
    let r = 0;
    let count = 4;
    for (let q = p + 4; q < end && count < 34; q++) {
      const c = s.charCodeAt(q);
      if (c === 32) {
        if (q + 1 < end && isAlnum(s.charCodeAt(q + 1))) continue;
        break;
      }
      if (!isAlnum(c)) break;
      const v = ibanValue(c);
      r = (r * (v > 9 ? 100 : 10) + v) % 97;
      count++;
      const next = q + 1 < end ? s.charCodeAt(q + 1) : 32;
      if (count >= 15 && q + 1 >= hitEnd && !isAlnum(next) && (r * 1_000_000 + head) % 97 === 1) return q + 1;
    }
  }
  return -1;
}

function isHex(c: number): boolean {
  const l = c | 32;
  return (c >= 48 && c <= 57) || (l >= 97 && l <= 102);
}

/** When `s[hitStart, hitEnd)` lies inside a UUID (8-4-4-4-12 hex digits), the offset past it; else -1. */
function uuidEndCovering(s: string, hitStart: number, hitEnd: number, end: number): number {
  let a = hitStart;
  while (a > 0 && (isHex(s.charCodeAt(a - 1)) || s.charCodeAt(a - 1) === 45)) a--;
  let b = hitEnd;
  while (b < end && (isHex(s.charCodeAt(b)) || s.charCodeAt(b) === 45)) b++;
  if (b - a !== 36) return -1;
  for (let k = 0; k < 36; k++) {
    const c = s.charCodeAt(a + k);
    if (k === 8 || k === 13 || k === 18 || k === 23 ? c !== 45 : !isHex(c)) return -1;
  }
  return b;
}

/** Scans `s[start, end)`; on a hit sets hitStart/hitEnd/hitBrand and returns true. Allocation-free. */
function scan(s: string, start: number, end: number): boolean {
  let n = 0; // digits in the current run
  let runStart = start; // char offset where the current run began
  let groupStart = -1; // run digit index of the open group's first digit, -1 when no group is open
  let groupLen = 0;
  let prev = 0; // previous char code
  let i = start;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (groupStart < 0) {
        groupStart = n;
        groupLen = 0;
      }
      const k = n & MASK;
      DIG[k] = c - 48;
      POS[k] = i;
      GSTART[k] = groupStart;
      GLEN[k] = 0;
      PLUS[k] = groupLen === 0 ? (prev === 43 ? 1 : 0) : PLUS[groupStart & MASK];
      groupLen++;
      n++;
      if (n >= MIN_LEN && groupLen >= GLUED_GROUP) {
        // A glued group: window ends inside it are allowed. The group's first 6 digits become
        // eligible ends when the 7th arrives.
        let found = false;
        if (groupLen === GLUED_GROUP) {
          for (let e = n - GLUED_GROUP; e < n && !found; e++) if (e + 1 >= MIN_LEN) found = windowsEndingAt(e, groupStart, groupLen);
        } else {
          found = windowsEndingAt(n - 1, groupStart, groupLen);
        }
        if (found) {
          const skipTo = exemptRunEnd(s, runStart, i, end);
          if (skipTo < 0) return true;
          i = skipTo;
          n = 0;
          groupStart = -1;
          runStart = i;
          prev = 0;
          continue;
        }
      }
    } else {
      if (groupStart >= 0) {
        // The group just closed: record its length and check windows ending at its last digit.
        closeGroup(n, groupLen);
        if (n >= MIN_LEN && groupLen < GLUED_GROUP && windowsEndingAt(n - 1, -2, 0)) {
          const skipTo = exemptRunEnd(s, runStart, i, end);
          if (skipTo < 0) return true;
          i = skipTo;
          n = 0;
          groupStart = -1;
          runStart = i;
          prev = 0;
          continue;
        }
        groupStart = -1;
      }
      if (isLetter(c)) {
        n = 0;
        runStart = i + 1;
      }
    }
    prev = c;
    i++;
  }
  if (groupStart >= 0) {
    closeGroup(n, groupLen);
    if (n >= MIN_LEN && groupLen < GLUED_GROUP && windowsEndingAt(n - 1, -2, 0)) {
      return exemptRunEnd(s, runStart, end, end) < 0;
    }
  }
  return false;
}

/** Records the length of the group that just closed on its (at most RING) buffered digits. */
function closeGroup(n: number, groupLen: number): void {
  const from = groupLen < RING ? n - groupLen : n - RING;
  for (let k = from; k < n; k++) GLEN[k & MASK] = groupLen;
}

/**
 * After a hit inside the run that began at `runStart`: when the hit is not a card number (the whole
 * run is an amount, or the hit lies inside an IBAN or a UUID) returns the char offset where
 * scanning resumes; otherwise -1 (the hit stands).
 */
function exemptRunEnd(s: string, runStart: number, at: number, end: number): number {
  let runEnd = at;
  while (runEnd < end && !isLetter(s.charCodeAt(runEnd))) runEnd++;
  if (isAmountRun(s, runStart, runEnd)) return runEnd;
  const iban = ibanEndCovering(s, hitStart, hitEnd, end);
  if (iban >= 0) return iban;
  return uuidEndCovering(s, hitStart, hitEnd, end);
}

/**
 * Fast exit: true when some letter-free stretch of `s[start, end)` holds at least 13 digits (only
 * then can it hold a card number). Two comparisons per character, nothing written.
 */
function hasLongRun(s: string, start: number, end: number): boolean {
  let run = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++run >= MIN_LEN) return true;
    } else if ((((c | 32) - 97) >>> 0) < 26) {
      run = 0;
    }
  }
  return false;
}

/** True when `s[start, end)` contains a card number (see the module comment). Allocation-free. */
export function containsPanRange(s: string, start: number, end: number): boolean {
  return end - start >= MIN_LEN && hasLongRun(s, start, end) && scan(s, start, end);
}

/** True when `text` contains a card number. */
export function containsPan(text: string): boolean {
  return containsPanRange(text, 0, text.length);
}

/** The first card number in `text[start, end)`: its position and brand, never its digits; null when none. */
export function findPan(text: string, start = 0, end = text.length): PanMatch | null {
  if (!containsPanRange(text, start, end)) return null;
  return { start: hitStart, end: hitEnd, brand: BRANDS[hitBrand - 1] };
}

/** Luhn check over the digits of `s[start, end)`, skipping separators. */
function luhnRange(s: string, start: number, end: number): boolean {
  let sum = 0;
  let double = false;
  for (let i = end - 1; i >= start; i--) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) continue;
    if (double) {
      const d = c * 2;
      sum += d > 9 ? d - 9 : d;
    } else {
      sum += c;
    }
    double = !double;
  }
  return sum % 10 === 0;
}

/** Luhn check of a digit string (used by the generator and tests). */
export function luhnValid(digits: string): boolean {
  return /^[0-9]+$/.test(digits) && luhnRange(digits, 0, digits.length);
}
