/**
 * Exact money: amounts are integer minor units (bigint) parsed from decimal strings, never floats.
 * The grammar is deliberately strict (`digits[.digits]`, no sign, exponent, spaces or grouping) so that
 * `1e3`, `-0`, `+5`, `1,000.00` and `.5` can never be misread; a value with more decimals than the
 * currency has minor units is rejected, not rounded.
 */

export const CURRENCIES = {
  USD: { minorDigits: 2 },
  EUR: { minorDigits: 2 },
  GBP: { minorDigits: 2 },
  JPY: { minorDigits: 0 },
} as const;

export type Currency = keyof typeof CURRENCIES;
export const CURRENCY_CODES = Object.keys(CURRENCIES) as Currency[];

/** Upper bound of a single amount in major units, per the payment rules. */
export const DEFAULT_MAX_AMOUNT = '1000000';

export type AmountReason =
  | 'CURRENCY_UNSUPPORTED'
  | 'AMOUNT_FORMAT'
  | 'AMOUNT_PRECISION'
  | 'AMOUNT_NOT_POSITIVE'
  | 'AMOUNT_OVER_LIMIT';

export type AmountResult = { ok: true; minor: bigint } | { ok: false; reason: AmountReason };

export function isCurrency(text: string): text is Currency {
  return Object.prototype.hasOwnProperty.call(CURRENCIES, text);
}

export function minorDigits(currency: Currency): number {
  return CURRENCIES[currency].minorDigits;
}

/**
 * Largest limit we accept: keeps every single amount below 2^50 minor units, which lets hot loops sum
 * amounts in a double exactly before folding them into a bigint (see processor totals).
 */
export const MAX_LIMIT_MINOR = 2n ** 50n;

const limitCache = new Map<string, Record<Currency, bigint>>();

/** Per-currency limit in minor units for a maximum given in major units (e.g. "1000000" or "250000.50"). */
export function amountLimits(maxAmount: string = DEFAULT_MAX_AMOUNT): Record<Currency, bigint> {
  const cached = limitCache.get(maxAmount);
  if (cached) return cached;
  if (!/^[0-9]{1,16}(\.[0-9]{1,6})?$/.test(maxAmount)) {
    throw new Error(`MAX_AMOUNT must be a plain positive decimal string like "1000000", got "${maxAmount}"`);
  }
  const [whole, frac = ''] = maxAmount.split('.');
  const limits = {} as Record<Currency, bigint>;
  for (const c of CURRENCY_CODES) {
    const d = CURRENCIES[c].minorDigits;
    // A limit finer than the currency's minor unit is truncated: the limit is inclusive and an amount
    // can't be finer than its minor unit anyway.
    const minor = BigInt(whole + frac.slice(0, d).padEnd(d, '0'));
    if (minor <= 0n) throw new Error(`MAX_AMOUNT must be > 0 in every currency, got "${maxAmount}"`);
    if (minor > MAX_LIMIT_MINOR) throw new Error(`MAX_AMOUNT "${maxAmount}" exceeds the supported maximum for ${c}`);
    limits[c] = minor;
  }
  limitCache.set(maxAmount, limits);
  return limits;
}

/**
 * Validates the amount text in `s[start, end)` without allocating; returns the minor units as a number
 * (exact: limits are below 2^50) or a negative code. Shared by `parseAmount` and the processor's hot loop.
 */
export function scanAmount(s: string, start: number, end: number, digits: number, limitMinor: number): number {
  if (start >= end) return AMOUNT_FORMAT;
  let i = start;
  let negative = false;
  if (s.charCodeAt(i) === 45 /* - */) {
    negative = true;
    i++;
  }
  let value = 0;
  let intDigits = 0;
  for (; i < end; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    if (intDigits < 17) value = value * 10 + c;
    intDigits++;
  }
  if (intDigits === 0) return AMOUNT_FORMAT;
  let fracDigits = 0;
  if (i < end) {
    if (s.charCodeAt(i) !== 46 /* . */) return AMOUNT_FORMAT;
    i++;
    for (; i < end; i++) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return AMOUNT_FORMAT;
      if (fracDigits < digits) value = value * 10 + c;
      else if (c !== 0 || fracDigits >= 6) return negative ? AMOUNT_NOT_POSITIVE : AMOUNT_PRECISION;
      fracDigits++;
    }
    if (fracDigits === 0) return AMOUNT_FORMAT;
    // Trailing zeros beyond the minor unit ("12.500") are still an over-precise literal: reject, so
    // a file never silently means something finer than the currency allows.
    if (fracDigits > digits) return negative ? AMOUNT_NOT_POSITIVE : AMOUNT_PRECISION;
  }
  if (negative) return AMOUNT_NOT_POSITIVE;
  for (let k = fracDigits; k < digits; k++) value *= 10;
  if (intDigits > 16) return AMOUNT_OVER_LIMIT;
  if (value <= 0) return AMOUNT_NOT_POSITIVE;
  if (value > limitMinor) return AMOUNT_OVER_LIMIT;
  return value;
}

export const AMOUNT_FORMAT = -1;
export const AMOUNT_PRECISION = -2;
export const AMOUNT_NOT_POSITIVE = -3;
export const AMOUNT_OVER_LIMIT = -4;

export const AMOUNT_CODE_REASON: Record<number, AmountReason> = {
  [AMOUNT_FORMAT]: 'AMOUNT_FORMAT',
  [AMOUNT_PRECISION]: 'AMOUNT_PRECISION',
  [AMOUNT_NOT_POSITIVE]: 'AMOUNT_NOT_POSITIVE',
  [AMOUNT_OVER_LIMIT]: 'AMOUNT_OVER_LIMIT',
};

/** Parses a decimal amount string for `currency`; `maxAmount` is the inclusive limit in major units. */
export function parseAmount(text: string, currency: string, maxAmount: string = DEFAULT_MAX_AMOUNT): AmountResult {
  if (!isCurrency(currency)) return { ok: false, reason: 'CURRENCY_UNSUPPORTED' };
  const limit = amountLimits(maxAmount)[currency];
  const code = scanAmount(text, 0, text.length, CURRENCIES[currency].minorDigits, Number(limit));
  if (code < 0) return { ok: false, reason: AMOUNT_CODE_REASON[code] };
  return { ok: true, minor: BigInt(code) };
}

/** Canonical decimal string of `minor` units: 1250n USD -> "12.50", 1250n JPY -> "1250". */
export function formatMinor(minor: bigint, currency: Currency): string {
  const digits = CURRENCIES[currency].minorDigits;
  const negative = minor < 0n;
  const abs = (negative ? -minor : minor).toString();
  if (digits === 0) return negative ? `-${abs}` : abs;
  const padded = abs.padStart(digits + 1, '0');
  const text = `${padded.slice(0, padded.length - digits)}.${padded.slice(padded.length - digits)}`;
  return negative ? `-${text}` : text;
}

/** Same as formatMinor for a non-negative safe integer; avoids bigint in the per-record path. */
export function formatMinorNumber(minor: number, digits: number): string {
  if (digits === 0) return String(minor);
  const padded = String(minor).padStart(digits + 1, '0');
  return `${padded.slice(0, padded.length - digits)}.${padded.slice(padded.length - digits)}`;
}
