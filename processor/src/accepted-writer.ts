/**
 * The hot path of the output: one accepted record whose fields are all byte ranges of the input block
 * (no quoted field on the line), written as the contract's JSON line with local copy loops. Field order
 * and literals follow contracts.md; adjacent literals are pre-merged so a record is ~10 copies.
 */
import { CURRENCIES, CURRENCY_CODES } from '../../domain/money';
import { F_ACCOUNT_ID, F_CARD_LAST4, F_COUNTERPARTY, F_ENTITY_ID, F_TIMESTAMP, F_TRANSACTION_ID, JURISDICTIONS, ParsedScalars, TRANSACTION_TYPES } from '../../domain/transaction';
import { ByteOut } from './byte-out';

const lit = (s: string) => Buffer.from(s, 'latin1');
const P_TRANSACTION_ID = lit('{"transactionId":"');
const P_ACCOUNT_ID = lit('","accountId":"');
const P_ENTITY_ID = lit('","entityId":"');
const P_AMOUNT = lit('","amount":"');
const P_AMOUNT_MINOR = lit('","amountMinor":"');
const P_CURRENCY_TIMESTAMP = CURRENCY_CODES.map((c) => lit(`","currency":"${c}","timestamp":"`));
const P_COUNTERPARTY = lit('","counterparty":"');
const P_JURISDICTION_TYPE = JURISDICTIONS.map((j) => TRANSACTION_TYPES.map((t) => lit(`","jurisdiction":"${j}","type":"${t}"`)));
const P_CARD_LAST4 = lit(',"cardLast4":"');
const P_END_CARD = lit('"}\n');
const P_END = lit('}\n');
const SCALE = CURRENCY_CODES.map((c) => CURRENCIES[c].minorDigits);
const UNIT = SCALE.map((d) => 10 ** d);

function copy(b: Uint8Array, p: number, src: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) b[p++] = src[i];
  return p;
}

function digits(b: Uint8Array, p: number, n: number): number {
  let len = 1;
  for (let v = n; v >= 10; v = Math.floor(v / 10)) len++;
  let q = p + len;
  do {
    b[--q] = 48 + (n % 10);
    n = Math.floor(n / 10);
  } while (n > 0);
  return p + len;
}

/** Writes the record; the caller has reserved 320 + 2 × line length bytes. */
export function writeAcceptedFast(o: ByteOut, src: Uint8Array, starts: Int32Array, ends: Int32Array, s: ParsedScalars): void {
  const b = o.buf;
  let p = o.pos;
  p = copy(b, p, P_TRANSACTION_ID, 0, P_TRANSACTION_ID.length);
  p = copy(b, p, src, starts[F_TRANSACTION_ID], ends[F_TRANSACTION_ID]);
  p = copy(b, p, P_ACCOUNT_ID, 0, P_ACCOUNT_ID.length);
  p = copy(b, p, src, starts[F_ACCOUNT_ID], ends[F_ACCOUNT_ID]);
  p = copy(b, p, P_ENTITY_ID, 0, P_ENTITY_ID.length);
  p = copy(b, p, src, starts[F_ENTITY_ID], ends[F_ENTITY_ID]);
  p = copy(b, p, P_AMOUNT, 0, P_AMOUNT.length);
  const minor = s.minor;
  const scale = SCALE[s.currency];
  if (scale === 0) {
    p = digits(b, p, minor);
  } else {
    p = digits(b, p, Math.floor(minor / UNIT[s.currency]));
    b[p++] = 46; // .
    let frac = minor % UNIT[s.currency];
    for (let k = scale - 1; k >= 0; k--) {
      b[p + k] = 48 + (frac % 10);
      frac = Math.floor(frac / 10);
    }
    p += scale;
  }
  p = copy(b, p, P_AMOUNT_MINOR, 0, P_AMOUNT_MINOR.length);
  p = digits(b, p, minor);
  const ct = P_CURRENCY_TIMESTAMP[s.currency];
  p = copy(b, p, ct, 0, ct.length);
  p = copy(b, p, src, starts[F_TIMESTAMP], ends[F_TIMESTAMP]);
  if (ends[F_COUNTERPARTY] > starts[F_COUNTERPARTY]) {
    p = copy(b, p, P_COUNTERPARTY, 0, P_COUNTERPARTY.length);
    // An unquoted CSV field cannot hold '"' (that is BROKEN_QUOTE) and control characters were
    // rejected, so backslash is the only byte JSON needs escaped here.
    for (let i = starts[F_COUNTERPARTY]; i < ends[F_COUNTERPARTY]; i++) {
      const c = src[i];
      if (c === 92) b[p++] = 92;
      b[p++] = c;
    }
  }
  const jt = P_JURISDICTION_TYPE[s.jurisdiction][s.type];
  p = copy(b, p, jt, 0, jt.length);
  if (ends[F_CARD_LAST4] > starts[F_CARD_LAST4]) {
    p = copy(b, p, P_CARD_LAST4, 0, P_CARD_LAST4.length);
    p = copy(b, p, src, starts[F_CARD_LAST4], ends[F_CARD_LAST4]);
    p = copy(b, p, P_END_CARD, 0, P_END_CARD.length);
  } else {
    p = copy(b, p, P_END, 0, P_END.length);
  }
  o.pos = p;
}
