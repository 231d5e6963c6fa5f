/**
 * report-failure: records a failed report item `{item, stage, error: {Error, Cause}}` in report_log
 * (status FAILED, the stage, the error name and a short cause). Both strings come from the workflow's
 * error output, i.e. from whatever threw: each is scrubbed and bounded (shared/safe-text.ts) to its
 * column, so neither a card-number-like value nor an oversized message is stored or logged. A report
 * that was already confirmed delivered is never marked failed.
 */
import { reportDateOf, reportIdOf, ReportItem } from '../../domain/reporting/report';
import { withConnection } from '../shared/db';
import { PermanentError } from '../shared/errors';
import { createLogger, powertoolsHandler } from '../shared/powertools';
import { parseItem, sqlNow } from '../shared/report-payloads';
import { safeText } from '../shared/safe-text';

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

/** error_cause: VARCHAR(1000); 1,000 bytes of UTF-8 are at most 1,000 characters. */
export function safeCause(cause: unknown): string | null {
  if (typeof cause !== 'string') return null;
  return safeText(cause, 1000) ?? null;
}

/** error_name: VARCHAR(128). */
export function safeErrorName(name: unknown): string {
  if (typeof name !== 'string') return 'Unknown';
  return safeText(name, 128) ?? 'Unknown';
}

/** The workflow's Catch output for a report item (contracts.md); parsed strictly, the type checks nothing. */
export interface ReportFailureEvent {
  item: ReportItem;
  stage: 'GENERATE' | 'VALIDATE' | 'DELIVER' | 'CONFIRM';
  error: { Error: string; Cause?: string };
}

export const handler = powertoolsHandler('report-failure', logger, async (event: ReportFailureEvent): Promise<{ recorded: true }> => {
  const e = (event ?? {}) as { item?: unknown; stage?: unknown; error?: { Error?: unknown; Cause?: unknown } };
  const item = parseItem(e.item, 'item');
  if (typeof e.stage !== 'string' || !STAGES.has(e.stage)) throw new PermanentError('stage must be one of GENERATE, VALIDATE, DELIVER, CONFIRM');
  const errorName = safeErrorName(e.error?.Error);
  const reportDate = reportDateOf(item);
  const reportId = reportIdOf(item.jurisdiction, item.reportType, item.entityId, reportDate);
  await withConnection(`report-failure ${reportId}`, async (conn) => {
    await conn.query(UPSERT, [reportId, item.jurisdiction, item.reportType, item.entityId, reportDate, e.stage, errorName,
      safeCause(e.error?.Cause), sqlNow()]);
  });
  logger.warn('report failed', { reportId, stage: e.stage, error: errorName });
  return { recorded: true };
});
