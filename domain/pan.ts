/**
 * Card-number (PAN) detection. A field holding a Luhn-valid run of 13–19 digits is treated as a full
 * card number: the record is rejected and the value is never logged or written (PCI DSS 3.3/3.4).
 * A run may contain single spaces or dashes between digits ("4111 1111 1111 1111"), the way card
 * numbers are usually written by hand; a run longer than 19 digits is not a card number.
 */

/** True when `s[start, end)` contains a Luhn-valid 13–19 digit run. Allocation-free. */
export function containsPanRange(s: string, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    let c = s.charCodeAt(i);
    if (c < 48 || c > 57) {
      i++;
      continue;
    }
    // Collect one run; at most 19 digits are kept in `digits` (a longer run is not a PAN).
    const runStart = i;
    let count = 0;
    while (i < end) {
      c = s.charCodeAt(i);
      if (c >= 48 && c <= 57) {
        count++;
        i++;
      } else if ((c === 32 || c === 45) && i + 1 < end && isDigit(s.charCodeAt(i + 1)) && count > 0) {
        i++;
      } else {
        break;
      }
    }
    if (count >= 13 && count <= 19 && luhnRange(s, runStart, i)) return true;
  }
  return false;
}

export function containsPan(text: string): boolean {
  return containsPanRange(text, 0, text.length);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
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
