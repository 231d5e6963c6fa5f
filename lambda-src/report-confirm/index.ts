/**
 * report-confirm records delivery outcomes. Two inputs:
 * - the workflow's delivery result `{reportId, messageId, recipient, status}`: report_log -> DELIVERED
 *   (recipient, message id, time) and a SENT row in delivery_log; returns PENDING until SES reports,
 *   or the outcome if SES already did;
 * - SES events via EventBridge ("Email Delivered" / "Bounced" / "Complaint Received" / "Rejected",
 *   tagged with reportId by report-deliver): delivery_log row, report_log -> CONFIRMED or
 *   DELIVERY_FAILED, and ReportsDelivered (namespace RegulatoryReporting) with all three dimensions
 *   Jurisdiction/ReportType/Status, emitted once per report when the outcome is first recorded.
 * delivery_log is unique on (message_id, event), so redelivered events change nothing.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { PoolConnection } from 'mysql2/promise';
import { DateFormatError, parseInstant } from '../../domain/dates';
import { inTransaction } from '../shared/db';
import { optionalEnv } from '../shared/env';
import { PermanentError } from '../shared/errors';
import { createLogger, createMetrics } from '../shared/powertools';
import { parseDelivery, sqlNow } from '../shared/report-payloads';
import { safeText } from '../shared/safe-text';

const logger = createLogger('report-confirm');
const metrics = createMetrics('report-confirm', optionalEnv('METRICS_NAMESPACE') ?? 'RegulatoryReporting');

export type ConfirmStatus = 'CONFIRMED' | 'DELIVERY_FAILED' | 'PENDING';
const SES_EVENTS: Record<string, { event: string; outcome: 'CONFIRMED' | 'DELIVERY_FAILED' }> = {
  'Email Delivered': { event: 'DELIVERY', outcome: 'CONFIRMED' },
  'Email Bounced': { event: 'BOUNCE', outcome: 'DELIVERY_FAILED' },
  'Email Complaint Received': { event: 'COMPLAINT', outcome: 'DELIVERY_FAILED' },
  'Email Rejected': { event: 'REJECT', outcome: 'DELIVERY_FAILED' },
};
const FINAL = new Set(['CONFIRMED', 'DELIVERY_FAILED']);

interface LogRow { status: string; jurisdiction: string; report_type: string }

async function lockRow(conn: PoolConnection, reportId: string): Promise<LogRow> {
  const [rows] = await conn.query('SELECT status, jurisdiction, report_type FROM report_log WHERE report_id = ? FOR UPDATE', [reportId]);
  const row = (rows as LogRow[])[0];
  if (!row) throw new PermanentError(`report_log has no row for ${reportId}`);
  return row;
}

async function recordEvent(conn: PoolConnection, reportId: string, event: string, messageId: string, recipient: string | null, at: string): Promise<void> {
  await conn.query(`INSERT INTO delivery_log (report_id, event, recipient, message_id, method, occurred_at)
    VALUES (?, ?, ?, ?, 'SES', ?) ON DUPLICATE KEY UPDATE id = id`, [reportId, event, recipient, messageId, at]);
}

function emitOutcome(row: LogRow, status: 'CONFIRMED' | 'DELIVERY_FAILED'): void {
  metrics.addDimensions({ Jurisdiction: row.jurisdiction, ReportType: row.report_type, Status: status });
  metrics.addMetric('ReportsDelivered', MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
}

async function fromWorkflow(event: unknown): Promise<{ reportId: string; status: ConfirmStatus }> {
  const delivery = parseDelivery(event);
  const status = await inTransaction(`report-confirm ${delivery.reportId}`, async (conn) => {
    const row = await lockRow(conn, delivery.reportId);
    const now = sqlNow();
    await conn.query(`UPDATE report_log SET delivered_at = IFNULL(delivered_at, ?), recipient = ?, message_id = ?,
        status = IF(status IN ('GENERATED', 'VALIDATED'), 'DELIVERED', status)
      WHERE report_id = ?`, [now, delivery.recipient, delivery.messageId, delivery.reportId]);
    await recordEvent(conn, delivery.reportId, 'SENT', delivery.messageId, delivery.recipient, now);
    return FINAL.has(row.status) ? (row.status as ConfirmStatus) : 'PENDING';
  });
  return { reportId: delivery.reportId, status };
}

interface SesEvent {
  'detail-type': string;
  detail: { mail?: { messageId?: string; timestamp?: string; destination?: string[]; tags?: Record<string, string[]> } };
  time?: string;
}

async function fromSes(e: SesEvent): Promise<{ reportId: string; status: ConfirmStatus }> {
  const kind = SES_EVENTS[e['detail-type']];
  const mail = e.detail?.mail;
  const reportId = mail?.tags?.reportId?.[0];
  if (!kind || typeof mail?.messageId !== 'string' || typeof reportId !== 'string') throw new PermanentError('SES event without messageId or reportId tag');
  if (!/^[A-Z0-9-]{1,200}$/.test(reportId) || mail.messageId.length > 255) throw new PermanentError('SES event reportId tag or messageId is malformed');
  let at: string;
  try {
    at = sqlNow(new Date(parseInstant(e.time, 'SES event time')));
  } catch (err) {
    if (err instanceof DateFormatError) throw new PermanentError(err.message);
    throw err;
  }
  const destination = safeText(mail.destination?.[0], 254) ?? null;
  const result = await inTransaction(`report-confirm ${reportId}`, async (conn) => {
    const row = await lockRow(conn, reportId);
    await recordEvent(conn, reportId, kind.event, mail.messageId!, destination, at);
    if (FINAL.has(row.status)) return { row, changed: false, status: row.status as ConfirmStatus };
    await conn.query(`UPDATE report_log SET status = ?, confirmed_at = ?, message_id = IFNULL(message_id, ?) WHERE report_id = ?`,
      [kind.outcome, at, mail.messageId, reportId]);
    return { row, changed: true, status: kind.outcome as ConfirmStatus };
  });
  if (result.changed) emitOutcome(result.row, result.status as 'CONFIRMED' | 'DELIVERY_FAILED');
  return { reportId, status: result.status };
}

export const handler = async (event: unknown): Promise<{ reportId: string; status: ConfirmStatus }> => {
  const e = (event ?? {}) as Record<string, unknown>;
  const result = e.source === 'aws.ses' && typeof e['detail-type'] === 'string'
    ? await fromSes(e as unknown as SesEvent)
    : e.source !== undefined
      ? (() => { throw new PermanentError('unsupported event source: expected aws.ses events or the workflow delivery result'); })()
      : await fromWorkflow(event);
  logger.info('delivery outcome', { ...result });
  return result;
};
