import {
  addDays,
  DateFormatError,
  instantMsRange,
  isCalendarDate,
  isInstant,
  parseCalendarDate,
  parseDateOrInstant,
  parseInstant,
} from '../../domain/dates';

describe('strict dates', () => {
  it.each([
    ['2026-12-01'],
    ['2000-01-01'],
    ['2100-12-31'],
    ['2024-02-29'], // leap year
    ['2000-02-29'], // divisible by 400
  ])('accepts the calendar date %s', (text) => {
    expect(isCalendarDate(text)).toBe(true);
    expect(parseCalendarDate(text)).toBe(text);
  });

  it.each([
    ['1'],
    ['12/01/2026'],
    ['01.12.2026'],
    ['2026-2-1'],
    ['2026-02-30'],
    ['2026-02-29'], // not a leap year
    ['2100-02-29'], // not a leap year (divisible by 100)
    ['2026-13-01'],
    ['2026-00-10'],
    ['2026-12-00'],
    ['1999-12-31'],
    ['2101-01-01'],
    ['+202600-01-01'],
    ['202600-01-01'],
    ['2026-12-01T00:00:00Z'], // an instant is not a calendar date
    [' 2026-12-01'],
    ['2026-12-01\n'],
    ['２０２６-12-01'], // full-width digits
    [''],
  ])('refuses the calendar date %j', (text) => {
    expect(isCalendarDate(text)).toBe(false);
    expect(() => parseCalendarDate(text, 'reportDate')).toThrow(DateFormatError);
  });

  it.each([
    ['2026-12-01T02:00:00Z', Date.UTC(2026, 11, 1, 2)],
    ['2026-12-01T02:00:00.123Z', Date.UTC(2026, 11, 1, 2, 0, 0, 123)],
    ['2026-12-01T02:00:00.123456789Z', Date.UTC(2026, 11, 1, 2, 0, 0, 123)],
    ['2026-12-01T02:00:00.5Z', Date.UTC(2026, 11, 1, 2, 0, 0, 500)],
    ['2026-12-01T02:00:00+01:00', Date.UTC(2026, 11, 1, 1)],
    ['2026-12-01T02:00:00-05:30', Date.UTC(2026, 11, 1, 7, 30)],
    ['2026-12-01T00:30:00+01:00', Date.UTC(2026, 10, 30, 23, 30)],
    ['2024-02-29T23:59:59Z', Date.UTC(2024, 1, 29, 23, 59, 59)],
  ])('accepts the instant %s', (text, ms) => {
    expect(isInstant(text)).toBe(true);
    expect(parseInstant(text)).toBe(ms);
    expect(parseInstant(text)).toBe(Date.parse(text));
  });

  it.each([
    ['1'],
    ['12/01/2026'],
    ['2026-12-01'], // no time
    ['2026-12-01T02:00:00'], // no zone
    ['2026-12-01 02:00:00Z'],
    ['2026-12-01T02:00Z'],
    ['2026-12-01t02:00:00z'],
    ['2026-12-01T24:00:00Z'],
    ['2026-12-01T23:60:00Z'],
    ['2026-12-01T23:59:60Z'],
    ['2026-02-30T00:00:00Z'],
    ['2026-12-01T02:00:00.Z'],
    ['2026-12-01T02:00:00.1234567890Z'],
    ['2026-12-01T02:00:00+0100'],
    ['2026-12-01T02:00:00+15:00'],
    ['2026-12-01T02:00:00+01:60'],
    ['+202600-12-01T02:00:00Z'],
    ['1999-12-31T23:59:59Z'],
    ['2101-01-01T00:00:00Z'],
    ['2000-01-01T00:30:00+01:00'], // UTC date 1999-12-31
    ['2100-12-31T23:00:00-05:00'], // UTC date 2101-01-01
    ['Tue, 01 Dec 2026 02:00:00 GMT'],
    [''],
  ])('refuses the instant %j', (text) => {
    expect(isInstant(text)).toBe(false);
    expect(() => parseInstant(text, 'runStartedAt')).toThrow(DateFormatError);
  });

  it('refuses non-strings', () => {
    for (const v of [undefined, null, 20261201, new Date(), {}, ['2026-12-01']]) {
      expect(isCalendarDate(v)).toBe(false);
      expect(isInstant(v)).toBe(false);
      expect(() => parseDateOrInstant(v)).toThrow(DateFormatError);
    }
  });

  it('names the field and what is expected, never the value', () => {
    const secret = '4111111111111111-12-01';
    let message = '';
    try {
      parseCalendarDate(secret, 'reportDate');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^reportDate must be a calendar date YYYY-MM-DD/);
    expect(message).not.toContain('4111');
    expect(() => parseInstant('4111111111111111', 'runStartedAt')).toThrow(/^runStartedAt must be an ISO 8601 instant/);
  });

  it('parses either form with its UTC date', () => {
    expect(parseDateOrInstant('2026-12-01')).toEqual({ kind: 'date', epochMs: Date.UTC(2026, 11, 1), utcDate: '2026-12-01' });
    expect(parseDateOrInstant('2026-12-01T00:30:00+01:00')).toEqual({
      kind: 'instant',
      epochMs: Date.UTC(2026, 10, 30, 23, 30),
      utcDate: '2026-11-30',
    });
  });

  it('checks ranges of a larger string in place', () => {
    const line = 'x,2026-12-01T02:00:00Z,y';
    expect(instantMsRange(line, 2, 22)).toBe(Date.UTC(2026, 11, 1, 2));
    expect(instantMsRange(line, 2, 21)).toBeNaN();
  });

  it('adds days across months and leap days', () => {
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(() => addDays('2026-02-30', 1)).toThrow(DateFormatError);
  });
});
