/**
 * report-confirm records delivery outcomes. Two inputs:
 * - the workflow's delivery result `{reportId, messageId, recipient, status, deliveries?}`: report_log
 *   -> DELIVERED (first recipient, its message id, time) and one SENT row in delivery_log per delivery
 *   (recipient, mode, requested mode, message id, SHA-256); returns PENDING until SES reports, or the
 *   outcome if SES already did;
 * - SES events via EventBridge ("Email Delivered" / "Bounced" / "Complaint Received" / "Rejected",
 *   tagged by report-deliver with reportId, deliveryMode and, for reports sent per recipient, sha256
 *   and recipientCount): a delivery_log row, then report_log -> CONFIRMED or DELIVERY_FAILED, and
 *   ReportsDelivered (namespace RegulatoryReporting) with all three dimensions
 *   Jurisdiction/ReportType/Status, emitted once per report when the outcome is first recorded.
 *
 * When a report counts as CONFIRMED: when every recipient has it, i.e. "Email Delivered" events for
 * `recipientCount` distinct messages of the same report and SHA-256. One bounce, complaint or
 * rejection of any recipient makes it DELIVERY_FAILED at once (a regulator that did not get the
 * report is a failed filing, whatever the others got). The count comes from the tags of the SES
 * events themselves, so the outcome does not depend on whether the workflow's SENT rows or the SES
 * events arrive first. Events without the recipientCount tag (one recipient per report) settle the
 * report with the first event, as before.
 * delivery_log is unique on (message_id, event), so redelivered events change nothing.
 */
import type { EventBridgeEvent } from 'aws-lambda';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { PoolConnection } from 'mysql2/promise';
import { DateFormatError, parseInstant } from '../../domain/dates';
import { inTransaction } from '../shared/db';
import { PermanentError } from '../shared/errors';
import { createLogger, createMetrics, powertoolsHandler } from '../shared/powertools';
import { DeliveryResult, parseDelivery, sqlNow } from '../shared/report-payloads';
import { safeText } from '../shared/safe-text';
import { DELIVERY_MODES, MAX_RECIPIENTS_PER_JURISDICTION } from '../../domain/reporting/recipients';

const logger = createLogger('report-confirm');
const metrics = createMetrics('report-confirm');

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

/** What delivery_log records of one message beyond the event: how it was delivered and what content. */
interface MessageFacts { mode: string | null; requestedMode: string | null; sha256: string | null }
const NO_FACTS: MessageFacts = { mode: null, requestedMode: null, sha256: null };

async function recordEvent(conn: PoolConnection, reportId: string, event: string, messageId: string, recipient: string | null, at: string,
  facts: MessageFacts = NO_FACTS): Promise<void> {
  await conn.query(`INSERT INTO delivery_log (report_id, event, recipient, message_id, method, occurred_at, mode, requested_mode, sha256)
    VALUES (?, ?, ?, ?, 'SES', ?, ?, ?, ?) ON DUPLICATE KEY UPDATE id = id`,
  [reportId, event, recipient, messageId, at, facts.mode, facts.requestedMode, facts.sha256]);
}

const SHA256 = /^[0-9a-f]{64}$/;
const MODE = (v: unknown): v is string => (DELIVERY_MODES as readonly unknown[]).includes(v);

interface WorkflowDelivery extends MessageFacts { recipient: string; messageId: string }

/** The per-recipient deliveries of the workflow's delivery result (report-deliver `deliveries`). */
function parseDeliveries(value: unknown): WorkflowDelivery[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length < 1 || value.length > MAX_RECIPIENTS_PER_JURISDICTION) {
    throw new PermanentError(`delivery.deliveries must list 1 to ${MAX_RECIPIENTS_PER_JURISDICTION} deliveries`);
  }
  return value.map((d, i) => {
    const o = (d ?? {}) as Record<string, unknown>;
    const at = `delivery.deliveries.${i}`;
    if (typeof o.recipient !== 'string' || !o.recipient || o.recipient.length > 254 || /[\u0000-\u001f\u007f]/.test(o.recipient)) {
      throw new PermanentError(`${at}.recipient must be an address of at most 254 characters`);
    }
    if (typeof o.messageId !== 'string' || !o.messageId || o.messageId.length > 255) throw new PermanentError(`${at}.messageId is required (at most 255 characters)`);
    if (!MODE(o.mode) || !MODE(o.requestedMode)) throw new PermanentError(`${at}.mode and requestedMode must be one of ${DELIVERY_MODES.join(', ')}`);
    if (typeof o.sha256 !== 'string' || !SHA256.test(o.sha256)) throw new PermanentError(`${at}.sha256 must be 64 lowercase hex digits`);
    return { recipient: o.recipient, messageId: o.messageId, mode: o.mode, requestedMode: o.requestedMode, sha256: o.sha256 };
  });
}

function emitOutcome(row: LogRow, status: 'CONFIRMED' | 'DELIVERY_FAILED'): void {
  metrics.addDimensions({ Jurisdiction: row.jurisdiction, ReportType: row.report_type, Status: status });
  metrics.addMetric('ReportsDelivered', MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
}

async function fromWorkflow(event: unknown): Promise<{ reportId: string; status: ConfirmStatus }> {
  const delivery = parseDelivery(event);
  const deliveries = parseDeliveries((event as Record<string, unknown>).deliveries)
    ?? [{ recipient: delivery.recipient, messageId: delivery.messageId, ...NO_FACTS }];
  const status = await inTransaction(`report-confirm ${delivery.reportId}`, async (conn) => {
    const row = await lockRow(conn, delivery.reportId);
    const now = sqlNow();
    await conn.query(`UPDATE report_log SET delivered_at = IFNULL(delivered_at, ?), recipient = ?, message_id = ?,
        status = IF(status IN ('GENERATED', 'VALIDATED'), 'DELIVERED', status)
      WHERE report_id = ?`, [now, delivery.recipient, delivery.messageId, delivery.reportId]);
    for (const d of deliveries) await recordEvent(conn, delivery.reportId, 'SENT', d.messageId, d.recipient, now, d);
    return FINAL.has(row.status) ? (row.status as ConfirmStatus) : 'PENDING';
  });
  return { reportId: delivery.reportId, status };
}

/** SES event publishing through EventBridge (source aws.ses): the parts read here. */
export type SesEvent = EventBridgeEvent<'Email Delivered' | 'Email Bounced' | 'Email Complaint Received' | 'Email Rejected',
  { mail?: { messageId?: string; timestamp?: string; destination?: string[]; tags?: Record<string, string[]> } }>;

/** report-deliver's result as the workflow passes it on (contracts.md). */
export interface WorkflowDeliveryEvent extends DeliveryResult {
  deliveries?: Array<{ recipient: string; messageId: string; mode: string; requestedMode: string; sha256: string }>;
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
  const tag = (name: string) => mail.tags?.[name]?.[0];
  const facts: MessageFacts = { mode: tag('deliveryMode') ?? null, requestedMode: tag('requestedMode') ?? null, sha256: tag('sha256') ?? null };
  const countTag = tag('recipientCount');
  if ((facts.mode !== null && !MODE(facts.mode)) || (facts.requestedMode !== null && !MODE(facts.requestedMode))
    || (facts.sha256 !== null && !SHA256.test(facts.sha256))
    || (countTag !== undefined && !(/^[1-9][0-9]?$/.test(countTag) && Number(countTag) <= MAX_RECIPIENTS_PER_JURISDICTION && facts.sha256 !== null))) {
    throw new PermanentError('SES event deliveryMode, requestedMode, sha256 or recipientCount tag is malformed');
  }
  const recipientCount = countTag === undefined ? 1 : Number(countTag);
  const result = await inTransaction(`report-confirm ${reportId}`, async (conn) => {
    const row = await lockRow(conn, reportId);
    await recordEvent(conn, reportId, kind.event, mail.messageId!, destination, at, facts);
    if (FINAL.has(row.status)) return { row, changed: false, status: row.status as ConfirmStatus };
    if (kind.outcome === 'CONFIRMED' && recipientCount > 1) {
      // CONFIRMED only when every recipient of this content has it (distinct messages delivered).
      const [rows] = await conn.query(`SELECT COUNT(DISTINCT message_id) AS delivered FROM delivery_log
        WHERE report_id = ? AND sha256 = ? AND event = 'DELIVERY'`, [reportId, facts.sha256]);
      const delivered = Number((rows as Array<{ delivered: number }>)[0].delivered);
      if (delivered < recipientCount) return { row, changed: false, status: 'PENDING' as ConfirmStatus };
    }
    await conn.query(`UPDATE report_log SET status = ?, confirmed_at = ?, message_id = IFNULL(message_id, ?) WHERE report_id = ?`,
      [kind.outcome, at, mail.messageId, reportId]);
    return { row, changed: true, status: kind.outcome as ConfirmStatus };
  });
  if (result.changed) emitOutcome(result.row, result.status as 'CONFIRMED' | 'DELIVERY_FAILED');
  return { reportId, status: result.status };
}

export const handler = powertoolsHandler('report-confirm', logger, async (event: SesEvent | WorkflowDeliveryEvent): Promise<{ reportId: string; status: ConfirmStatus }> => {
  // The types describe what arrives; they check nothing: each shape is recognised and parsed here.
  const e = (event ?? {}) as unknown as Record<string, unknown>;
  const result = e.source === 'aws.ses' && typeof e['detail-type'] === 'string'
    ? await fromSes(e as unknown as SesEvent)
    : e.source !== undefined
      ? (() => { throw new PermanentError('unsupported event source: expected aws.ses events or the workflow delivery result'); })()
      : await fromWorkflow(event);
  logger.info('delivery outcome', { ...result });
  return result;
});
