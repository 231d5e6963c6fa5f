import * as fieldBytes from '../../domain/field-bytes';
import * as fields from '../../domain/fields';
import * as money from '../../domain/money';
import * as pan from '../../domain/pan';
import * as tx from '../../domain/transaction';
import { FIELDS, validateTransaction } from '../../domain/transaction';
import { cleanRecord, fakePan, rng } from '../../scripts/generate-transactions';

const valid = {
  transactionId: 'TX-0001_a',
  accountId: 'GB-ACC-12345',
  entityId: 'BANK-EU-01',
  amount: '1250.5',
  currency: 'EUR',
  timestamp: '2026-11-22T10:15:30.123+01:00',
  counterparty: 'Müller & Söhne, "KG"',
  jurisdiction: 'EU',
  type: 'TRANSACTION',
  cardLast4: '4242',
};

describe('validateTransaction', () => {
  it('accepts a complete record and normalises the amount', () => {
    const r = validateTransaction(valid);
    expect(r).toEqual({ ok: true, tx: { ...valid, amount: '1250.50', amountMinor: 125050n } });
  });

  it('accepts a record without the optional fields', () => {
    const { counterparty: _c, cardLast4: _l, ...rest } = valid;
    const r = validateTransaction(rest);
    expect(r.ok).toBe(true);
    if (r.ok) expect(Object.keys(r.tx)).not.toContain('counterparty');
  });

  it.each([
    [{ transactionId: '' }, 'MISSING_FIELD', 'transactionId'],
    [{ transactionId: 'a'.repeat(65) }, 'TRANSACTION_ID_INVALID', 'transactionId'],
    [{ transactionId: 'tx 1' }, 'TRANSACTION_ID_INVALID', 'transactionId'],
    [{ accountId: 'acc_1' }, 'ACCOUNT_ID_INVALID', 'accountId'],
    [{ accountId: 'A'.repeat(35) }, 'ACCOUNT_ID_INVALID', 'accountId'],
    [{ entityId: 'bank-eu' }, 'ENTITY_ID_INVALID', 'entityId'],
    [{ entityId: 'B' }, 'ENTITY_ID_INVALID', 'entityId'],
    [{ amount: '1e3' }, 'AMOUNT_FORMAT', 'amount'],
    [{ amount: '-0' }, 'AMOUNT_NOT_POSITIVE', 'amount'],
    [{ amount: '12.345' }, 'AMOUNT_PRECISION', 'amount'],
    [{ amount: '1.5', currency: 'JPY', jurisdiction: 'APAC' }, 'AMOUNT_PRECISION', 'amount'],
    [{ amount: '1000000.01' }, 'AMOUNT_OVER_LIMIT', 'amount'],
    [{ currency: 'CHF' }, 'CURRENCY_UNSUPPORTED', 'currency'],
    [{ timestamp: '2026-11-22T10:15:30' }, 'TIMESTAMP_INVALID', 'timestamp'],
    [{ timestamp: '2026-11-22 10:15:30Z' }, 'TIMESTAMP_INVALID', 'timestamp'],
    [{ timestamp: '2026-02-29T10:15:30Z' }, 'TIMESTAMP_INVALID', 'timestamp'],
    [{ timestamp: '2026-11-22T24:00:00Z' }, 'TIMESTAMP_INVALID', 'timestamp'],
    [{ counterparty: 'x'.repeat(141) }, 'COUNTERPARTY_INVALID', 'counterparty'],
    [{ counterparty: 'tab\there' }, 'COUNTERPARTY_INVALID', 'counterparty'],
    [{ jurisdiction: 'CH' }, 'JURISDICTION_INVALID', 'jurisdiction'],
    [{ type: 'TRADE' }, 'TYPE_INVALID', 'type'],
    [{ cardLast4: '123' }, 'CARD_LAST4_INVALID', 'cardLast4'],
    [{ cardLast4: '12345' }, 'CARD_LAST4_INVALID', 'cardLast4'],
    [{ cardLast4: '12a4' }, 'CARD_LAST4_INVALID', 'cardLast4'],
  ])('rejects %j with %s on %s', (patch, reason, field) => {
    expect(validateTransaction({ ...valid, ...patch })).toEqual({ ok: false, reason, field });
  });

  it('accepts leap days and zone offsets', () => {
    expect(validateTransaction({ ...valid, timestamp: '2024-02-29T23:59:59Z' }).ok).toBe(true);
    expect(validateTransaction({ ...valid, timestamp: '2026-11-22T10:15:30-05:00' }).ok).toBe(true);
  });

  it.each(FIELDS.map((f) => [f]))('rejects a PAN in %s before any other rule', (field) => {
    const r = validateTransaction({ ...valid, [field]: '4111111111111111' });
    expect(r).toEqual({ ok: false, reason: 'PAN_DETECTED', field });
  });

  it('rejects a PAN embedded in free text and never echoes it', () => {
    const r = validateTransaction({ ...valid, counterparty: 'paid with 4111 1111 1111 1111' });
    expect(r).toEqual({ ok: false, reason: 'PAN_DETECTED', field: 'counterparty' });
    expect(JSON.stringify(r)).not.toContain('4111');
  });

  it('rejects unknown fields (free-form extras are how PANs leak)', () => {
    expect(validateTransaction({ ...valid, note: 'x' })).toEqual({ ok: false, reason: 'UNKNOWN_FIELD' });
    expect(validateTransaction({ ...valid, '4111111111111111': 'x' })).toEqual({ ok: false, reason: 'PAN_DETECTED' });
  });

  it('refuses a JSON number amount: it has already been through a float', () => {
    expect(validateTransaction({ ...valid, amount: 12.5 })).toEqual({ ok: false, reason: 'AMOUNT_FORMAT', field: 'amount' });
  });

  it('applies a configured maximum', () => {
    expect(validateTransaction({ ...valid, amount: '500.01' }, { maxAmount: '500' })).toEqual({ ok: false, reason: 'AMOUNT_OVER_LIMIT', field: 'amount' });
  });
});

/**
 * The byte path (`validateFieldBytes`, domain/field-bytes.ts) must give the string path's answer for
 * every record: same reason, same failed field, same scalars. Generated records, damaged one field
 * at a time with pieces aimed at every rule's edges, are checked both ways; the corpus must reach
 * every reason the field view can give, so a rule the byte path got wrong shows up as a mismatch.
 */
describe('validateFieldBytes agrees with validateFieldView', () => {

  const PIECES = [
    '', '0', '00', '9', '-', '_', '.', ',', '"', '\\', ' ', 'Z', 'z', 'T', ':', '+', '\t', '\r', '\u0000', '\u001f', '\u007f', '~', 'é', 'Ü', '東京', '—',
    '\u00a0', 'USD', 'usd', 'JPY', 'EUR', 'GBP', 'US', 'EU', 'UK', 'APAC', 'TRANSACTION', 'MARGIN', 'POSITION', 'COLLATERAL',
    '1.005', '0.00', '-5', '1e3', '12.', '.5', '1000000', '1000000.01', '99999999999999999', '0.001', '12.500',
    '2024-02-29T00:00:00Z', '2023-02-29T00:00:00Z', '1969-12-31T23:59:59Z', '2026-13-01T00:00:00Z', '2026-11-20T24:00:00Z',
    '2026-11-20T10:00:00.1234567890Z', '2026-11-20T10:00:00+15:00', '2026-11-20T10:00:00-14:59', '2026-11-20T10:00:00',
    '4111111111111111', '4111 1111 1111 1111', '4111-1111-1111-1111', 'ref 20264111111111111111', '1234567890123.45',
    '4111\u00a01111\u00a01111\u00a01111', 'x'.repeat(65), 'A'.repeat(35), 'B'.repeat(41), 'c'.repeat(141), 'é'.repeat(140), 'é'.repeat(141),
  ];

  interface Case {
    /** Field values as text (UTF-8 on the byte side, its latin1 byte string on the string side). */
    values: string[];
    /** Fields left out (empty range). */
    absent: boolean[];
  }

  function corpus(count: number, seed: number): Case[] {
    const random = rng(seed);
    const cases: Case[] = [];
    for (let i = 0; i < count; i++) {
      const { rec } = cleanRecord(i, random);
      const values = tx.FIELDS.map((f) => rec[f] ?? '');
      const absent = tx.FIELDS.map(() => false);
      const damage = Math.floor(random() * 3);
      for (let d = 0; d < damage; d++) {
        const f = Math.floor(random() * values.length);
        const op = random();
        const piece = PIECES[Math.floor(random() * PIECES.length)];
        const at = Math.floor(random() * (values[f].length + 1));
        if (op < 0.35) values[f] = values[f].slice(0, at) + piece + values[f].slice(at);
        else if (op < 0.55) values[f] = piece;
        else if (op < 0.7) values[f] = values[f].slice(0, at) + values[f].slice(at + 1 + Math.floor(random() * 3));
        else if (op < 0.8) absent[f] = true;
        else if (op < 0.9) values[f] = values[f].slice(0, at) + fakePan(random) + values[f].slice(at);
        else values[f] = values[f].replace(/[0-9]/, String.fromCharCode(48 + Math.floor(random() * 10)));
      }
      cases.push({ values, absent });
    }
    return cases;
  }

  /** The record's fields laid out in a shuffled order in one buffer, with filler between them. */
  function layout(c: Case, random: () => number): { bytes: Buffer; text: string; starts: Int32Array; ends: Int32Array } {
    const n = tx.FIELDS.length;
    const order = Array.from({ length: n }, (_, k) => k).sort(() => random() - 0.5);
    const parts: Buffer[] = [];
    const starts = new Int32Array(n);
    const ends = new Int32Array(n);
    let pos = 0;
    for (const f of order) {
      const filler = Buffer.from(random() < 0.5 ? ',' : ',4111111111111111,');
      parts.push(filler);
      pos += filler.length;
      if (c.absent[f]) continue;
      const v = Buffer.from(c.values[f], 'utf8');
      parts.push(v);
      starts[f] = pos;
      ends[f] = pos + v.length;
      pos += v.length;
    }
    const bytes = Buffer.concat(parts);
    return { bytes, text: bytes.toString('latin1'), starts, ends };
  }

  /** Independent of field-bytes: 13 digits with nothing but non-letters between them. */
  const longRun = (s: string) => /[0-9]{13}/.test(s.replace(/[^0-9A-Za-z]/g, ''));

  it('gives the same reason, field and scalars on a large damaged corpus (every reason reached)', () => {
    const limits = tx.limitTable();
    const random = rng(99);
    const seen = new Map<string, number>();
    const mismatches: string[] = [];
    for (const c of corpus(60_000, 7)) {
      const { bytes, text, starts, ends } = layout(c, random);
      const view = { strs: new Array<string>(tx.FIELDS.length).fill(text), starts, ends };
      const a = { minor: -1, currency: -1, jurisdiction: -1, type: -1 };
      const fa = { index: -2 };
      const expected = tx.validateFieldView(view, limits, a, fa, true);
      const noRun = tx.FIELDS.every((_, f) => !longRun(text.slice(starts[f], ends[f])));
      for (const skip of noRun ? [false, true] : [false]) {
        const b = { minor: -1, currency: -1, jurisdiction: -1, type: -1 };
        const fb = { index: -2 };
        const got = tx.validateFieldBytes(bytes, starts, ends, limits, b, fb, skip);
        const same = got === expected && fb.index === fa.index && (expected !== null || JSON.stringify(a) === JSON.stringify(b));
        if (!same && mismatches.length < 5) mismatches.push(`${JSON.stringify(c.values)}: ${expected}/${fa.index} vs ${got}/${fb.index}${skip ? ' (detector skipped)' : ''}`);
      }
      seen.set(String(expected), (seen.get(String(expected)) ?? 0) + 1);
    }
    expect(mismatches).toEqual([]);
    const reasons = [
      'null', 'PAN_DETECTED', 'MISSING_FIELD', 'TRANSACTION_ID_INVALID', 'ACCOUNT_ID_INVALID', 'ENTITY_ID_INVALID', 'CURRENCY_UNSUPPORTED',
      'AMOUNT_FORMAT', 'AMOUNT_PRECISION', 'AMOUNT_NOT_POSITIVE', 'AMOUNT_OVER_LIMIT', 'TIMESTAMP_INVALID', 'COUNTERPARTY_INVALID',
      'JURISDICTION_INVALID', 'TYPE_INVALID', 'CARD_LAST4_INVALID',
    ];
    // Each reason is reached many times, not once by luck.
    for (const r of reasons) expect([r, (seen.get(r) ?? 0) >= 20]).toEqual([r, true]);
  });

  it('has byte twins that answer like the string checks, piece by piece', () => {
    const random = rng(3);
    const samples: string[] = [...PIECES];
    for (let i = 0; i < 20_000; i++) {
      let s = '';
      const k = 1 + Math.floor(random() * 4);
      for (let j = 0; j < k; j++) s += PIECES[Math.floor(random() * PIECES.length)];
      samples.push(s, s.slice(Math.floor(random() * s.length)));
    }
    const limits = tx.limitTable('250000.5');
    const words = fieldBytes.wordBytes(money.CURRENCY_CODES);
    for (const sample of samples) {
      const bytes = Buffer.from(`#${sample}#`, 'utf8');
      const text = bytes.toString('latin1');
      const [s, e] = [1, bytes.length - 1];
      const pairs: [string, unknown, unknown][] = [
        ['identifier', fields.isIdentifier(text, s, e, 1, 64, true, false), fieldBytes.isIdentifierBytes(bytes, s, e, 1, 64, true, false)],
        ['upper identifier', fields.isIdentifier(text, s, e, 2, 40, false, true), fieldBytes.isIdentifierBytes(bytes, s, e, 2, 40, false, true)],
        ['four digits', fields.isFourDigits(text, s, e), fieldBytes.isFourDigitsBytes(bytes, s, e)],
        ['free text', fields.isFreeText(text, s, e, 140, true), fieldBytes.isFreeTextBytes(bytes, s, e, 140)],
        ['timestamp', fields.isIsoTimestamp(text, s, e), fieldBytes.isIsoTimestampBytes(bytes, s, e)],
        ['amount', money.scanAmount(text, s, e, 2, limits[0]), fieldBytes.scanAmountBytes(bytes, s, e, 2, limits[0])],
        ['amount JPY', money.scanAmount(text, s, e, 0, limits[3]), fieldBytes.scanAmountBytes(bytes, s, e, 0, limits[3])],
        ['word', fields.matchWord(text, s, e, money.CURRENCY_CODES), fieldBytes.matchWordBytes(bytes, s, e, words)],
        ['card number', pan.containsPanRange(text, s, e), fieldBytes.containsPanBytes(bytes, s, e)],
        ['long run', longRun(text.slice(s, e)), fieldBytes.hasLongDigitRunBytes(bytes, s, e)],
        ['latin1', text.slice(s, e), fieldBytes.latin1(bytes, s, e)],
      ];
      for (const [name, want, got] of pairs) if (want !== got) throw new Error(`${name} differs on ${JSON.stringify(sample)}: ${String(want)} vs ${String(got)}`);
    }
  });
});
