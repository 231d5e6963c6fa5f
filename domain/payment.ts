/**
 * Payment files (the documents' payment processor, 002): one JSON object or an array of them, each
 * `{transactionId, amount, currency, cardLast4, timestamp?}`.
 * Rules: the four fields are required; amount is a decimal STRING (> 0, <= max amount, at most the
 * currency's minor digits; a JSON number is refused because JSON.parse has already turned it into a
 * float); currency USD/EUR/GBP/JPY; cardLast4 exactly 4 digits; timestamp, when present, ISO 8601 with
 * a zone. Any other field is refused (free-form metadata is how card numbers end up stored), and a
 * Luhn-valid 13-19 digit run anywhere in the file rejects it without echoing the value.
 */
import { isFourDigits, isIdentifier, isIsoTimestamp } from './fields';
import { AmountReason, Currency, DEFAULT_MAX_AMOUNT, formatMinor, parseAmount } from './money';
import { containsPan } from './pan';

export const PAYMENT_FIELDS = ['transactionId', 'amount', 'currency', 'cardLast4', 'timestamp'] as const;
const REQUIRED = ['transactionId', 'amount', 'currency', 'cardLast4'] as const;
/** Files are small documents, not batches: bigger inputs belong to the Batch pipeline. */
export const MAX_PAYMENTS_PER_FILE = 1000;

export type PaymentReason =
  | AmountReason
  | 'PAN_DETECTED'
  | 'NOT_JSON'
  | 'NOT_AN_OBJECT'
  | 'EMPTY_FILE'
  | 'TOO_MANY_PAYMENTS'
  | 'MISSING_FIELD'
  | 'UNKNOWN_FIELD'
  | 'FIELD_NOT_STRING'
  | 'TRANSACTION_ID_INVALID'
  | 'CARD_LAST4_INVALID'
  | 'TIMESTAMP_INVALID';

export interface Payment {
  transactionId: string;
  /** Canonical decimal string. */
  amount: string;
  amountMinor: bigint;
  currency: Currency;
  cardLast4: string;
  timestamp?: string;
}

export type PaymentResult = { ok: true; payment: Payment } | { ok: false; reason: PaymentReason; field?: string };
export type PaymentFileResult =
  | { ok: true; payments: Payment[] }
  | { ok: false; reason: PaymentReason; field?: string; index?: number };

export function validatePayment(value: unknown, maxAmount: string = DEFAULT_MAX_AMOUNT): PaymentResult {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: 'NOT_AN_OBJECT' };
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (containsPan(key)) return { ok: false, reason: 'PAN_DETECTED' };
    if (!(PAYMENT_FIELDS as readonly string[]).includes(key)) return { ok: false, reason: 'UNKNOWN_FIELD', field: key.slice(0, 64) };
    const v = obj[key];
    if (v !== undefined && v !== null && containsPan(String(v))) return { ok: false, reason: 'PAN_DETECTED', field: key };
  }
  for (const key of REQUIRED) {
    if (obj[key] === undefined || obj[key] === null || obj[key] === '') return { ok: false, reason: 'MISSING_FIELD', field: key };
  }
  for (const key of PAYMENT_FIELDS) {
    if (obj[key] !== undefined && typeof obj[key] !== 'string') {
      return { ok: false, reason: key === 'amount' ? 'AMOUNT_FORMAT' : 'FIELD_NOT_STRING', field: key };
    }
  }
  const s = obj as Record<string, string | undefined>;
  const id = s.transactionId!;
  if (!isIdentifier(id, 0, id.length, 1, 64, true, false)) return { ok: false, reason: 'TRANSACTION_ID_INVALID', field: 'transactionId' };
  const amount = parseAmount(s.amount!, s.currency!, maxAmount);
  if (!amount.ok) return { ok: false, reason: amount.reason, field: amount.reason === 'CURRENCY_UNSUPPORTED' ? 'currency' : 'amount' };
  if (!isFourDigits(s.cardLast4!, 0, s.cardLast4!.length)) return { ok: false, reason: 'CARD_LAST4_INVALID', field: 'cardLast4' };
  if (s.timestamp !== undefined && !isIsoTimestamp(s.timestamp, 0, s.timestamp.length)) {
    return { ok: false, reason: 'TIMESTAMP_INVALID', field: 'timestamp' };
  }
  const currency = s.currency as Currency;
  const payment: Payment = {
    transactionId: id,
    amount: formatMinor(amount.minor, currency),
    amountMinor: amount.minor,
    currency,
    cardLast4: s.cardLast4!,
  };
  if (s.timestamp !== undefined) payment.timestamp = s.timestamp;
  return { ok: true, payment };
}

/** Parses and validates a whole payment file; the first invalid payment rejects the file. */
export function parsePaymentFile(text: string, maxAmount: string = DEFAULT_MAX_AMOUNT): PaymentFileResult {
  // Checked on the raw text first: a card number anywhere (even in a malformed file) must stop here.
  if (containsPan(text)) return { ok: false, reason: 'PAN_DETECTED' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'NOT_JSON' };
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  if (items.length === 0) return { ok: false, reason: 'EMPTY_FILE' };
  if (items.length > MAX_PAYMENTS_PER_FILE) return { ok: false, reason: 'TOO_MANY_PAYMENTS' };
  const payments: Payment[] = [];
  for (let i = 0; i < items.length; i++) {
    const r = validatePayment(items[i], maxAmount);
    if (!r.ok) return { ok: false, reason: r.reason, field: r.field, index: i };
    payments.push(r.payment);
  }
  return { ok: true, payments };
}
