/**
 * The transaction record (see docs/contracts.md) and its validation rules. `validateTransaction`
 * is the API for single records (Lambdas); `validateFieldView` is the same rule set over ranges of a
 * decoded buffer, and `validateFieldBytes` over ranges of a byte buffer (the processor's hot loop:
 * no string per record or field).
 */
import {
  containsPanBytes,
  isFourDigitsBytes,
  isFreeTextBytes,
  isIdentifierBytes,
  isIsoTimestampBytes,
  matchWordBytes,
  PAN_MIN_DIGITS,
  scanAmountBytes,
  wordBytes,
} from './field-bytes';
import { isFourDigits, isFreeText, isIdentifier, isIsoTimestamp, matchWord } from './fields';
import {
  AMOUNT_CODE_REASON,
  AmountReason,
  amountLimits,
  Currency,
  CURRENCY_CODES,
  CURRENCIES,
  DEFAULT_MAX_AMOUNT,
  formatMinorNumber,
  scanAmount,
} from './money';
import { containsPanRange } from './pan';

export const FIELDS = [
  'transactionId',
  'accountId',
  'entityId',
  'amount',
  'currency',
  'timestamp',
  'counterparty',
  'jurisdiction',
  'type',
  'cardLast4',
] as const;
export type FieldName = (typeof FIELDS)[number];
export const OPTIONAL_FIELDS: ReadonlySet<FieldName> = new Set<FieldName>(['counterparty', 'cardLast4']);
export const REQUIRED_FIELDS = FIELDS.filter((f) => !OPTIONAL_FIELDS.has(f));

export const F_TRANSACTION_ID = 0;
export const F_ACCOUNT_ID = 1;
export const F_ENTITY_ID = 2;
export const F_AMOUNT = 3;
export const F_CURRENCY = 4;
export const F_TIMESTAMP = 5;
export const F_COUNTERPARTY = 6;
export const F_JURISDICTION = 7;
export const F_TYPE = 8;
export const F_CARD_LAST4 = 9;

export const JURISDICTIONS = ['EU', 'US', 'UK', 'APAC'] as const;
export type Jurisdiction = (typeof JURISDICTIONS)[number];
export const TRANSACTION_TYPES = ['TRANSACTION', 'POSITION', 'COLLATERAL', 'MARGIN'] as const;
export type TransactionType = (typeof TRANSACTION_TYPES)[number];

export type ValidationReason =
  | AmountReason
  | 'PAN_DETECTED'
  | 'MISSING_FIELD'
  | 'UNKNOWN_FIELD'
  | 'TRANSACTION_ID_INVALID'
  | 'ACCOUNT_ID_INVALID'
  | 'ENTITY_ID_INVALID'
  | 'TIMESTAMP_INVALID'
  | 'COUNTERPARTY_INVALID'
  | 'JURISDICTION_INVALID'
  | 'TYPE_INVALID'
  | 'CARD_LAST4_INVALID';

export interface Transaction {
  transactionId: string;
  accountId: string;
  entityId: string;
  /** Canonical decimal string (formatMinor of amountMinor). */
  amount: string;
  amountMinor: bigint;
  currency: Currency;
  timestamp: string;
  counterparty?: string;
  jurisdiction: Jurisdiction;
  type: TransactionType;
  cardLast4?: string;
}

export interface ValidationOptions {
  /** Inclusive per-amount limit in major units (decimal string); default 1000000. */
  maxAmount?: string;
}

export type ValidationResult =
  | { ok: true; tx: Transaction }
  | { ok: false; reason: ValidationReason; field?: FieldName };

/** Field values as ranges: field k is `strs[k].slice(starts[k], ends[k])`; absent = empty range. */
export interface FieldView {
  strs: string[];
  starts: Int32Array;
  ends: Int32Array;
}

/** Parsed scalars written by validateFieldView on success (reused across records). */
export interface ParsedScalars {
  minor: number;
  currency: number;
  jurisdiction: number;
  type: number;
}

/** Per-currency limits (minor units, as numbers: always < 2^50) in CURRENCY_CODES order. */
export function limitTable(maxAmount: string = DEFAULT_MAX_AMOUNT): Float64Array {
  const limits = amountLimits(maxAmount);
  return Float64Array.from(CURRENCY_CODES.map((c) => Number(limits[c])));
}

const MINOR_DIGITS = CURRENCY_CODES.map((c) => CURRENCIES[c].minorDigits);

/** The first required field that is empty (counterparty and cardLast4 are optional), or -1. */
function firstMissingField(starts: Int32Array, ends: Int32Array): number {
  for (let f = 0; f < FIELDS.length; f++) {
    if (f !== F_COUNTERPARTY && f !== F_CARD_LAST4 && ends[f] === starts[f]) return f;
  }
  return -1;
}

/**
 * Validates one record. Returns null when valid (scalars in `out`), else the reason; `failedField`
 * receives the offending field index. The PAN check runs first over every field so that no other
 * code path ever looks at, echoes or stores a card number.
 */
export function validateFieldView(
  view: FieldView,
  limits: Float64Array,
  out: ParsedScalars,
  failedField: { index: number },
  /** Values are latin1-decoded UTF-8 bytes (the processor's byte strings), not UTF-16 text. */
  utf8Bytes = false,
): ValidationReason | null {
  const { strs, starts, ends } = view;
  for (let f = 0; f < FIELDS.length; f++) {
    if (ends[f] - starts[f] >= 13 && containsPanRange(strs[f], starts[f], ends[f])) {
      failedField.index = f;
      return 'PAN_DETECTED';
    }
  }
  const missing = firstMissingField(starts, ends);
  if (missing >= 0) {
    failedField.index = missing;
    return 'MISSING_FIELD';
  }
  failedField.index = F_TRANSACTION_ID;
  if (!isIdentifier(strs[0], starts[0], ends[0], 1, 64, true, false)) return 'TRANSACTION_ID_INVALID';
  failedField.index = F_ACCOUNT_ID;
  if (!isIdentifier(strs[1], starts[1], ends[1], 1, 34, false, false)) return 'ACCOUNT_ID_INVALID';
  failedField.index = F_ENTITY_ID;
  if (!isIdentifier(strs[2], starts[2], ends[2], 2, 40, false, true)) return 'ENTITY_ID_INVALID';
  failedField.index = F_CURRENCY;
  const currency = matchWord(strs[F_CURRENCY], starts[F_CURRENCY], ends[F_CURRENCY], CURRENCY_CODES);
  if (currency < 0) return 'CURRENCY_UNSUPPORTED';
  failedField.index = F_AMOUNT;
  const minor = scanAmount(strs[F_AMOUNT], starts[F_AMOUNT], ends[F_AMOUNT], MINOR_DIGITS[currency], limits[currency]);
  if (minor < 0) return AMOUNT_CODE_REASON[minor];
  failedField.index = F_TIMESTAMP;
  if (!isIsoTimestamp(strs[F_TIMESTAMP], starts[F_TIMESTAMP], ends[F_TIMESTAMP])) return 'TIMESTAMP_INVALID';
  failedField.index = F_COUNTERPARTY;
  if (ends[F_COUNTERPARTY] > starts[F_COUNTERPARTY] && !isFreeText(strs[F_COUNTERPARTY], starts[F_COUNTERPARTY], ends[F_COUNTERPARTY], 140, utf8Bytes)) {
    return 'COUNTERPARTY_INVALID';
  }
  failedField.index = F_JURISDICTION;
  const jurisdiction = matchWord(strs[F_JURISDICTION], starts[F_JURISDICTION], ends[F_JURISDICTION], JURISDICTIONS);
  if (jurisdiction < 0) return 'JURISDICTION_INVALID';
  failedField.index = F_TYPE;
  const type = matchWord(strs[F_TYPE], starts[F_TYPE], ends[F_TYPE], TRANSACTION_TYPES);
  if (type < 0) return 'TYPE_INVALID';
  failedField.index = F_CARD_LAST4;
  if (ends[F_CARD_LAST4] > starts[F_CARD_LAST4] && !isFourDigits(strs[F_CARD_LAST4], starts[F_CARD_LAST4], ends[F_CARD_LAST4])) {
    return 'CARD_LAST4_INVALID';
  }
  failedField.index = -1;
  out.minor = minor;
  out.currency = currency;
  out.jurisdiction = jurisdiction;
  out.type = type;
  return null;
}

const CURRENCY_WORDS = wordBytes(CURRENCY_CODES);
const JURISDICTION_WORDS = wordBytes(JURISDICTIONS);
const TYPE_WORDS = wordBytes(TRANSACTION_TYPES);

/**
 * `validateFieldView(view, limits, out, failedField, true)` over bytes: field k is `b[starts[k],
 * ends[k])` (one char per byte; an absent field is an empty range). Same checks in the same order,
 * same reason, failed field and scalars. `noLongDigitRun`: the caller has seen that no field holds
 * PAN_MIN_DIGITS digits uninterrupted by a letter (see `hasLongDigitRunBytes`), so the card-number
 * detector, which would find nothing, is skipped.
 */
export function validateFieldBytes(
  b: Uint8Array,
  starts: Int32Array,
  ends: Int32Array,
  limits: Float64Array,
  out: ParsedScalars,
  failedField: { index: number },
  noLongDigitRun = false,
): ValidationReason | null {
  if (!noLongDigitRun) {
    for (let f = 0; f < FIELDS.length; f++) {
      if (ends[f] - starts[f] >= PAN_MIN_DIGITS && containsPanBytes(b, starts[f], ends[f])) {
        failedField.index = f;
        return 'PAN_DETECTED';
      }
    }
  }
  const missing = firstMissingField(starts, ends);
  if (missing >= 0) {
    failedField.index = missing;
    return 'MISSING_FIELD';
  }
  failedField.index = F_TRANSACTION_ID;
  if (!isIdentifierBytes(b, starts[0], ends[0], 1, 64, true, false)) return 'TRANSACTION_ID_INVALID';
  failedField.index = F_ACCOUNT_ID;
  if (!isIdentifierBytes(b, starts[1], ends[1], 1, 34, false, false)) return 'ACCOUNT_ID_INVALID';
  failedField.index = F_ENTITY_ID;
  if (!isIdentifierBytes(b, starts[2], ends[2], 2, 40, false, true)) return 'ENTITY_ID_INVALID';
  failedField.index = F_CURRENCY;
  const currency = matchWordBytes(b, starts[F_CURRENCY], ends[F_CURRENCY], CURRENCY_WORDS);
  if (currency < 0) return 'CURRENCY_UNSUPPORTED';
  failedField.index = F_AMOUNT;
  const minor = scanAmountBytes(b, starts[F_AMOUNT], ends[F_AMOUNT], MINOR_DIGITS[currency], limits[currency]);
  if (minor < 0) return AMOUNT_CODE_REASON[minor];
  failedField.index = F_TIMESTAMP;
  if (!isIsoTimestampBytes(b, starts[F_TIMESTAMP], ends[F_TIMESTAMP])) return 'TIMESTAMP_INVALID';
  failedField.index = F_COUNTERPARTY;
  if (ends[F_COUNTERPARTY] > starts[F_COUNTERPARTY] && !isFreeTextBytes(b, starts[F_COUNTERPARTY], ends[F_COUNTERPARTY], 140)) {
    return 'COUNTERPARTY_INVALID';
  }
  failedField.index = F_JURISDICTION;
  const jurisdiction = matchWordBytes(b, starts[F_JURISDICTION], ends[F_JURISDICTION], JURISDICTION_WORDS);
  if (jurisdiction < 0) return 'JURISDICTION_INVALID';
  failedField.index = F_TYPE;
  const type = matchWordBytes(b, starts[F_TYPE], ends[F_TYPE], TYPE_WORDS);
  if (type < 0) return 'TYPE_INVALID';
  failedField.index = F_CARD_LAST4;
  if (ends[F_CARD_LAST4] > starts[F_CARD_LAST4] && !isFourDigitsBytes(b, starts[F_CARD_LAST4], ends[F_CARD_LAST4])) {
    return 'CARD_LAST4_INVALID';
  }
  failedField.index = -1;
  out.minor = minor;
  out.currency = currency;
  out.jurisdiction = jurisdiction;
  out.type = type;
  return null;
}

/**
 * Validates a record given as a plain object of strings (JSON Lines, Lambda events). Keys outside the
 * schema are rejected as UNKNOWN_FIELD: free-form extras are how card numbers leak into storage.
 */
export function validateTransaction(fields: Record<string, unknown>, options: ValidationOptions = {}): ValidationResult {
  const view: FieldView = { strs: new Array<string>(FIELDS.length).fill(''), starts: new Int32Array(FIELDS.length), ends: new Int32Array(FIELDS.length) };
  for (const key of Object.keys(fields)) {
    const index = (FIELDS as readonly string[]).indexOf(key);
    const value = fields[key];
    if (index < 0) {
      // The key itself could be a card number: never echo it.
      return { ok: false, reason: typeof key === 'string' && containsPanRange(key, 0, key.length) ? 'PAN_DETECTED' : 'UNKNOWN_FIELD' };
    }
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') {
      // Numbers are refused on purpose: a JSON number amount has already been through a float.
      const text = String(value);
      if (containsPanRange(text, 0, text.length)) return { ok: false, reason: 'PAN_DETECTED', field: FIELDS[index] };
      return { ok: false, reason: index === F_AMOUNT ? 'AMOUNT_FORMAT' : reasonForField(index), field: FIELDS[index] };
    }
    view.strs[index] = value;
    view.ends[index] = value.length;
  }
  const out: ParsedScalars = { minor: 0, currency: 0, jurisdiction: 0, type: 0 };
  const failed = { index: -1 };
  const reason = validateFieldView(view, limitTable(options.maxAmount), out, failed);
  if (reason !== null) return { ok: false, reason, field: failed.index >= 0 ? FIELDS[failed.index] : undefined };
  const get = (k: number) => view.strs[k];
  const currency = CURRENCY_CODES[out.currency];
  const tx: Transaction = {
    transactionId: get(F_TRANSACTION_ID),
    accountId: get(F_ACCOUNT_ID),
    entityId: get(F_ENTITY_ID),
    amount: formatMinorNumber(out.minor, CURRENCIES[currency].minorDigits),
    amountMinor: BigInt(out.minor),
    currency,
    timestamp: get(F_TIMESTAMP),
    jurisdiction: JURISDICTIONS[out.jurisdiction],
    type: TRANSACTION_TYPES[out.type],
  };
  if (get(F_COUNTERPARTY)) tx.counterparty = get(F_COUNTERPARTY);
  if (get(F_CARD_LAST4)) tx.cardLast4 = get(F_CARD_LAST4);
  return { ok: true, tx };
}

function reasonForField(index: number): ValidationReason {
  const reasons: ValidationReason[] = [
    'TRANSACTION_ID_INVALID',
    'ACCOUNT_ID_INVALID',
    'ENTITY_ID_INVALID',
    'AMOUNT_FORMAT',
    'CURRENCY_UNSUPPORTED',
    'TIMESTAMP_INVALID',
    'COUNTERPARTY_INVALID',
    'JURISDICTION_INVALID',
    'TYPE_INVALID',
    'CARD_LAST4_INVALID',
  ];
  return reasons[index];
}

/** The accepted-output shape (contracts.md): amounts as strings, never numbers. */
export function toOutputRecord(tx: Transaction): Record<string, string> {
  const rec: Record<string, string> = {
    transactionId: tx.transactionId,
    accountId: tx.accountId,
    entityId: tx.entityId,
    amount: tx.amount,
    amountMinor: tx.amountMinor.toString(),
    currency: tx.currency,
    timestamp: tx.timestamp,
  };
  if (tx.counterparty !== undefined) rec.counterparty = tx.counterparty;
  rec.jurisdiction = tx.jurisdiction;
  rec.type = tx.type;
  if (tx.cardLast4 !== undefined) rec.cardLast4 = tx.cardLast4;
  return rec;
}
