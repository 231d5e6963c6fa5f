/** Pure rules behind the handlers: report dates/ids, report validation per jurisdiction, payments, error typing. */
import { parsePaymentFile, validatePayment } from '../../domain/payment';
import { buildReport, isLargeTrade, previousBusinessDay, reportPeriod } from '../../domain/reporting/report';
import { validateReport } from '../../domain/reporting/validate';
import { classifyError, PermanentError, RetryableError } from '../../lambda-src/shared/errors';
import { parseEnvironment } from '../../contracts/lambda-environment';
import { decodeKey } from '../../lambda-src/ingest/events';
import { parseRunRequest } from '../../lambda-src/orchestrator/plan';

describe('report dates', () => {
  test.each([
    ['2026-11-23T01:00:00Z', '2026-11-20'], // Monday -> Friday
    ['2026-11-24T01:00:00Z', '2026-11-23'], // Tuesday -> Monday
    ['2026-11-22T01:00:00Z', '2026-11-20'], // Sunday -> Friday
    ['2026-11-21T23:59:59Z', '2026-11-20'], // Saturday -> Friday
    ['2026-03-02T00:30:00+02:00', '2026-02-27'], // UTC Sunday 22:30 -> Friday
  ])('previous business day of %s is %s', (run, day) => expect(previousBusinessDay(run)).toBe(day));

  test('the period is [date 00:00, +1 day) UTC', () => {
    expect(reportPeriod('2026-12-31')).toEqual({ start: '2026-12-31 00:00:00.000', end: '2027-01-01 00:00:00.000' });
  });

  test('large trades are compared exactly in minor units', () => {
    expect(isLargeTrade('1000000.00', 'USD')).toBe(false);
    expect(isLargeTrade('1000000.01', 'USD')).toBe(true);
    expect(isLargeTrade('1000001', 'JPY')).toBe(true);
  });
});

describe('validateReport', () => {
  const item = (jurisdiction: 'EU' | 'US' | 'UK' | 'APAC') => ({ jurisdiction, reportType: 'TRANSACTION' as const, entityId: 'E1', runStartedAt: '2026-11-24T01:00:00Z' });
  const row = (i: number, extra: Partial<{ amountMinor: string; currency: string; counterparty: string | null; timestamp: string }> = {}) => ({
    transactionId: `T${i}`, amountMinor: '1000', currency: 'EUR', timestamp: '2026-11-23 10:00:00.000', counterparty: 'Bank', ...extra,
  });

  test('a generated report of every jurisdiction is valid', () => {
    for (const j of ['EU', 'US', 'UK', 'APAC'] as const) expect(validateReport(buildReport(item(j), [row(1), row(2)]))).toEqual({ isValid: true, errors: [], warnings: [] });
  });

  test('document rules: required fields, positive amounts, EU framework and counterparty', () => {
    expect(validateReport({}).errors).toEqual(expect.arrayContaining([expect.stringMatching(/^MISSING_REPORT_ID/), expect.stringMatching(/^MISSING_JURISDICTION/), expect.stringMatching(/^MISSING_TRANSACTIONS/)]));
    const eu = buildReport(item('EU'), [row(1), row(2, { counterparty: null })]);
    const tampered = { ...eu, framework: 'EMIR', transactions: [{ ...eu.transactions[0], amount: '-1.00' }, eu.transactions[1], { transactionId: 'T3', amount: null, currency: 'EUR', timestamp: null, counterparty: 'x' }], totalTransactions: 3 };
    const v = validateReport(tampered);
    expect(v.isValid).toBe(false);
    expect(v.errors).toEqual([
      'FRAMEWORK_MISMATCH: EU reports must use MiFID II',
      'AMOUNT_NOT_POSITIVE: T1',
      'MISSING_COUNTERPARTY: T2 (MiFID II requires a counterparty)',
      'MISSING_FIELD: T3 has no amount',
      'MISSING_FIELD: T3 has no timestamp',
    ]);
  });

  test('US: an unflagged large trade is a warning; UK: more than 1,000 transactions is a warning', () => {
    const us = buildReport(item('US'), [row(1, { currency: 'USD', amountMinor: '100000001' })]);
    expect(validateReport(us).warnings).toEqual([]);
    const unflagged = { ...us, transactions: [{ ...us.transactions[0], largeTradeFlag: false }] };
    expect(validateReport(unflagged)).toEqual({ isValid: true, errors: [], warnings: ['LARGE_TRADE_NOT_FLAGGED: T1 exceeds 1,000,000 without largeTradeFlag'] });
    const uk = buildReport(item('UK'), Array.from({ length: 1001 }, (_, i) => row(i)));
    expect(validateReport(uk)).toEqual({ isValid: true, errors: [], warnings: ['HIGH_VOLUME: 1001 transactions (> 1000)'] });
  });

  test('APAC Harmonised 1.0: counterparty required, whole yen, transactions inside the report date', () => {
    const apac = buildReport(item('APAC'), [row(1, { counterparty: null }), row(2, { currency: 'JPY', amountMinor: '500' })]);
    const outside = { ...apac, transactions: [...apac.transactions, { transactionId: 'T9', amount: '1.5', currency: 'JPY', timestamp: '2026-11-24T00:00:00.000Z', counterparty: 'x' }], totalTransactions: 3 };
    expect(validateReport(outside).errors).toEqual([
      'MISSING_COUNTERPARTY: T1 (APAC Harmonised requires a counterparty)',
      'AMOUNT_INVALID: T9 amount is not an exact decimal of its currency',
      'OUTSIDE_REPORT_DATE: T9',
      'JPY_FRACTION: T9 JPY amounts must be whole yen',
    ]);
  });

  test('zero transactions: valid nil report with a warning', () => {
    expect(validateReport(buildReport(item('EU'), []))).toEqual({ isValid: true, errors: [], warnings: ['NO_TRANSACTIONS: nil report (no transactions on the report date)'] });
  });
});

describe('payments', () => {
  test('exact amounts and canonical strings', () => {
    const r = validatePayment({ transactionId: 'P1', amount: '10.5', currency: 'GBP', cardLast4: '0001' });
    expect(r).toEqual({ ok: true, payment: { transactionId: 'P1', amount: '10.50', amountMinor: 1050n, currency: 'GBP', cardLast4: '0001' } });
    expect(validatePayment({ transactionId: 'P1', amount: '10.5', currency: 'JPY', cardLast4: '0001' })).toMatchObject({ ok: false, reason: 'AMOUNT_PRECISION' });
  });

  test('a PAN anywhere in the raw file rejects it, even in a key name or malformed JSON', () => {
    expect(parsePaymentFile('{"4111111111111111": 1}')).toEqual({ ok: false, reason: 'PAN_DETECTED' });
    expect(parsePaymentFile('{"note": "4111-1111-1111-1111", ')).toEqual({ ok: false, reason: 'PAN_DETECTED' });
  });

  test('at most 1,000 payments per file', () => {
    const many = Array.from({ length: 1001 }, (_, i) => ({ transactionId: `P${i}`, amount: '1.00', currency: 'USD', cardLast4: '1234' }));
    expect(parsePaymentFile(JSON.stringify(many))).toEqual({ ok: false, reason: 'TOO_MANY_PAYMENTS' });
  });
});

describe('shared helpers', () => {
  test.each([
    [{ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }, 'RetryableError'],
    [{ name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } }, 'RetryableError'],
    [{ name: 'InternalFailure', $metadata: { httpStatusCode: 500 } }, 'RetryableError'],
    [{ name: 'Error', code: 'ECONNREFUSED' }, 'RetryableError'],
    [{ name: 'TimeoutError' }, 'RetryableError'],
    [Object.assign(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]), {}), 'RetryableError'],
    [{ name: 'ValidationException', $metadata: { httpStatusCode: 400 } }, 'PermanentError'],
    [{ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }, 'PermanentError'],
    [{ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }, 'PermanentError'],
    [{ name: 'MessageRejected', $metadata: { httpStatusCode: 400 } }, 'PermanentError'],
  ])('classifyError(%o) -> %s', (err, name) => {
    const typed = classifyError(err, 'op');
    expect(typed.name).toBe(name);
    expect(typed).toBeInstanceOf(name === 'RetryableError' ? RetryableError : PermanentError);
    expect(typed.message).toMatch(/^op: /);
  });

  test('env errors name the variable and the rule', () => {
    const schema = { SOME_MISSING_VAR: { type: 'string' }, SOME_INT_VAR: { type: 'integer', min: 1 } } as const;
    expect(() => parseEnvironment(schema, { SOME_INT_VAR: '1' })).toThrow('environment variable SOME_MISSING_VAR is required but not set');
    expect(() => parseEnvironment(schema, { SOME_MISSING_VAR: 'x', SOME_INT_VAR: '12x' })).toThrow('environment variable SOME_INT_VAR must be an integer >= 1, got "12x"');
  });

  test('S3 notification keys are URL-decoded', () => {
    expect(decodeKey('transactions/a+day/file%2B1%3A2.csv')).toBe('transactions/a day/file+1:2.csv');
    expect(() => decodeKey('bad%E0%A4%A')).toThrow(PermanentError);
  });

  test('orchestrator run ids come from the schedule time or the request', () => {
    expect(parseRunRequest({ source: 'aws.events', 'detail-type': 'Scheduled Event', time: '2026-11-23T00:00:00Z' })).toEqual({ runId: '2026-11-23', retryFailed: false });
    expect(parseRunRequest({}, new Date('2026-01-02T03:00:00Z'))).toEqual({ runId: '2026-01-02', retryFailed: false });
    expect(parseRunRequest({ runId: 'replay-1', retryFailed: true })).toEqual({ runId: 'replay-1', retryFailed: true });
  });
});
