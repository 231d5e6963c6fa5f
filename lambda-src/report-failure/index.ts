/**
 * report-failure: records a failed report item `{item, stage, error: {Error, Cause}}` in report_log
 * (status FAILED, the stage, the error name and a truncated cause). The cause is kept short and
 * scrubbed of anything card-number-like: it can carry stack traces and report content. A report that
 * was already confirmed delivered is never marked failed.
 */
import { containsPan } from '../../domain/pan';
import { reportDateOf, reportIdOf } from '../../domain/reporting/report';
import { withConnection } from '../shared/db';
import { PermanentError } from '../shared/errors';
import { createLogger } from '../shared/powertools';
import { parseItem, sqlNow } from '../shared/report-payloads';

const logger = createLogger('report-failure');
const STAGES = new Set(['GENERATE', 'VALIDATE', 'DELIVER', 'CONFIRM']);

const UPSERT = `INSERT INTO report_log (report_id, jurisdiction, report_type, entity_id, report_date, status, failed_stage, error_name, error_cause, failed_at)
  VALUES (?, ?, ?, ?, ?, 'FAILED', ?, ?, ?, ?)
  ON DUPLICATE KEY UPDATE
    failed_at = IF(status = 'CONFIRMED' OR (status = 'FAILED' AND failed_stage <=> VALUES(failed_stage) AND error_name <=> VALUES(error_name)), failed_at, VALUES(failed_at)),
    failed_stage = IF(status = 'CONFIRMED', failed_stage, VALUES(failed_stage)),
    error_name = IF(status = 'CONFIRMED', error_name, VALUES(error_name)),
    error_cause = IF(status = 'CONFIRMED', error_cause, VALUES(error_cause)),
    status = IF(status = 'CONFIRMED', status, 'FAILED')`;

export function safeCause(cause: unknown): string | null {
  if (typeof cause !== 'string' || cause === '') return null;
  if (containsPan(cause)) return '[cause withheld: contained a card-number-like value]';
  return cause.slice(0, 1000);
}

export const handler = async (event: unknown): Promise<{ recorded: true }> => {
  const e = (event ?? {}) as { item?: unknown; stage?: unknown; error?: { Error?: unknown; Cause?: unknown } };
  const item = parseItem(e.item, 'item');
  if (typeof e.stage !== 'string' || !STAGES.has(e.stage)) throw new PermanentError('stage must be one of GENERATE, VALIDATE, DELIVER, CONFIRM');
  const errorName = typeof e.error?.Error === 'string' && e.error.Error ? e.error.Error.slice(0, 128) : 'Unknown';
  const reportDate = reportDateOf(item);
  const reportId = reportIdOf(item.jurisdiction, item.reportType, item.entityId, reportDate);
  await withConnection(`report-failure ${reportId}`, async (conn) => {
    await conn.query(UPSERT, [reportId, item.jurisdiction, item.reportType, item.entityId, reportDate, e.stage, errorName,
      safeCause(e.error?.Cause), sqlNow()]);
  });
  logger.warn('report failed', { reportId, stage: e.stage, error: errorName });
  return { recorded: true };
};
