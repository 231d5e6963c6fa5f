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
