import { FIELDS, validateTransaction } from '../../domain/transaction';

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
