/**
 * The map item contract of report-generate: the scheduled run carries `reportDate: null` (derive the
 * previous business day of runStartedAt), a backfill carries the date to report.
 */
import { parseItem } from '../../lambda-src/shared/report-payloads';
import { reportDateOf, reportIdOf } from '../../domain/reporting/report';

const base = { jurisdiction: 'EU', reportType: 'TRANSACTION', entityId: 'ENTITY-A', runStartedAt: '2026-11-23T01:00:00.000Z' };

describe('parseItem reportDate', () => {
  it('treats null as absent: the report date is the previous business day of runStartedAt', () => {
    const item = parseItem({ ...base, reportDate: null });
    expect('reportDate' in item).toBe(false);
    expect(reportDateOf(item)).toBe('2026-11-20');
    expect(reportIdOf(item.jurisdiction, item.reportType, item.entityId, reportDateOf(item))).toBe('EU-TRANSACTION-ENTITY-A-2026-11-20');
  });

  it('uses a given date (backfill) instead of deriving one', () => {
    const item = parseItem({ ...base, reportDate: '2026-11-18' });
    expect(reportDateOf(item)).toBe('2026-11-18');
  });

  it('derives the date when the field is missing altogether', () => {
    expect(reportDateOf(parseItem(base))).toBe('2026-11-20');
  });

  it.each([['2026-11-31'], ['20-11-2026'], [''], [20261118], [{}]])('rejects reportDate %p as a PermanentError naming the field', (reportDate) => {
    expect(() => parseItem({ ...base, reportDate })).toThrow(expect.objectContaining({ name: 'PermanentError', message: 'item.reportDate must be a date YYYY-MM-DD' }));
  });
});

describe('parseItem runStartedAt and reportDate are strict (domain/dates.ts)', () => {
  // Each of these passes Date.parse and would report another day (or a year that makes no row).
  it.each([['1'], ['12/01/2026'], ['+202600-11-23T01:00:00Z'], ['2026-11-23'], ['2026-11-23T01:00:00'], ['2026-02-30T01:00:00Z'],
    ['1999-12-31T23:00:00Z'], ['Mon, 23 Nov 2026 01:00:00 GMT']])('refuses runStartedAt %p before anything is derived', (runStartedAt) => {
    expect(() => parseItem({ ...base, runStartedAt })).toThrow(expect.objectContaining({ name: 'PermanentError', message: expect.stringMatching(/^item\.runStartedAt must be an ISO 8601 instant/) }));
  });

  it.each([['1999-12-31'], ['2101-01-01'], ['+20261-11-18']])('refuses reportDate %p outside 2000-2100', (reportDate) => {
    expect(() => parseItem({ ...base, reportDate })).toThrow(expect.objectContaining({ name: 'PermanentError', message: 'item.reportDate must be a date YYYY-MM-DD' }));
  });

  it('accepts an instant with an offset and reports the previous business day of its UTC date', () => {
    expect(reportDateOf(parseItem({ ...base, runStartedAt: '2026-11-23T00:30:00+01:00' }))).toBe('2026-11-20'); // Sunday 22nd UTC -> Friday
  });

  it('never repeats the refused value in the error', () => {
    let message = '';
    try {
      parseItem({ ...base, entityId: '4111 1111 1111 1111' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^item\.entityId/);
    expect(message).not.toMatch(/4111/);
  });
});
