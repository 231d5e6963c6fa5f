import { amountLimits, CURRENCIES, formatMinor, parseAmount } from '../../domain/money';

describe('parseAmount', () => {
  it.each([
    ['12.34', 'USD', 1234n],
    ['12.3', 'EUR', 1230n],
    ['12', 'GBP', 1200n],
    ['0.01', 'USD', 1n],
    ['1000000', 'USD', 100000000n],
    ['1000000.00', 'USD', 100000000n],
    ['1500', 'JPY', 1500n],
    ['1000000', 'JPY', 1000000n],
    ['007.50', 'USD', 750n],
  ])('accepts %s %s as %s minor units', (text, currency, minor) => {
    expect(parseAmount(text, currency)).toEqual({ ok: true, minor });
  });

  it.each([
    ['1e3', 'USD', 'AMOUNT_FORMAT'],
    ['1E3', 'USD', 'AMOUNT_FORMAT'],
    ['-0', 'USD', 'AMOUNT_NOT_POSITIVE'],
    ['-0.00', 'USD', 'AMOUNT_NOT_POSITIVE'],
    ['-5.00', 'EUR', 'AMOUNT_NOT_POSITIVE'],
    ['0', 'USD', 'AMOUNT_NOT_POSITIVE'],
    ['0.00', 'GBP', 'AMOUNT_NOT_POSITIVE'],
    ['12.345', 'USD', 'AMOUNT_PRECISION'],
    ['12.340', 'USD', 'AMOUNT_PRECISION'],
    ['1.5', 'JPY', 'AMOUNT_PRECISION'],
    ['1.0', 'JPY', 'AMOUNT_PRECISION'],
    ['1000000.01', 'USD', 'AMOUNT_OVER_LIMIT'],
    ['1000001', 'JPY', 'AMOUNT_OVER_LIMIT'],
    ['99999999999999999999', 'USD', 'AMOUNT_OVER_LIMIT'],
    ['+5', 'USD', 'AMOUNT_FORMAT'],
    ['.5', 'USD', 'AMOUNT_FORMAT'],
    ['5.', 'USD', 'AMOUNT_FORMAT'],
    ['1,000.00', 'USD', 'AMOUNT_FORMAT'],
    [' 5', 'USD', 'AMOUNT_FORMAT'],
    ['5 ', 'USD', 'AMOUNT_FORMAT'],
    ['', 'USD', 'AMOUNT_FORMAT'],
    ['-', 'USD', 'AMOUNT_FORMAT'],
    ['NaN', 'USD', 'AMOUNT_FORMAT'],
    ['Infinity', 'USD', 'AMOUNT_FORMAT'],
    ['0x10', 'USD', 'AMOUNT_FORMAT'],
    ['5', 'BTC', 'CURRENCY_UNSUPPORTED'],
    ['5', 'usd', 'CURRENCY_UNSUPPORTED'],
  ])('rejects %s %s with %s', (text, currency, reason) => {
    expect(parseAmount(text, currency)).toEqual({ ok: false, reason });
  });

  it('honours a configured limit per currency, inclusive', () => {
    expect(parseAmount('250.00', 'USD', '250')).toEqual({ ok: true, minor: 25000n });
    expect(parseAmount('250.01', 'USD', '250')).toEqual({ ok: false, reason: 'AMOUNT_OVER_LIMIT' });
    expect(parseAmount('251', 'JPY', '250.50')).toEqual({ ok: false, reason: 'AMOUNT_OVER_LIMIT' });
  });

  it('refuses a malformed or oversized limit with a message naming MAX_AMOUNT', () => {
    expect(() => amountLimits('1e6')).toThrow(/MAX_AMOUNT/);
    expect(() => amountLimits('-1')).toThrow(/MAX_AMOUNT/);
    expect(() => amountLimits('0')).toThrow(/MAX_AMOUNT must be > 0/);
    expect(() => amountLimits('9999999999999999')).toThrow(/exceeds the supported maximum/);
  });

  it('is exact where a float is not', () => {
    const a = parseAmount('0.10', 'USD');
    const b = parseAmount('0.20', 'USD');
    if (!a.ok || !b.ok) throw new Error('expected valid amounts');
    expect(formatMinor(a.minor + b.minor, 'USD')).toBe('0.30');
    expect(0.1 + 0.2).not.toBe(0.3);
  });
});

describe('formatMinor', () => {
  it.each([
    [1234n, 'USD', '12.34'],
    [5n, 'EUR', '0.05'],
    [0n, 'GBP', '0.00'],
    [-150n, 'USD', '-1.50'],
    [1500n, 'JPY', '1500'],
    [123456789012345678901234567890n, 'USD', '1234567890123456789012345678.90'],
  ] as const)('formats %s %s as %s', (minor, currency, text) => {
    expect(formatMinor(minor, currency)).toBe(text);
  });

  it('round-trips with parseAmount for every currency', () => {
    for (const c of Object.keys(CURRENCIES) as (keyof typeof CURRENCIES)[]) {
      for (const minor of [1n, 99n, 100n, 12345n, 999999n]) {
        expect(parseAmount(formatMinor(minor, c), c)).toEqual({ ok: true, minor });
      }
    }
  });
});
