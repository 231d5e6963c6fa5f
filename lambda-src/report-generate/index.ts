/**
 * report-generate: builds one report (jurisdiction, type, entity, previous business day of the run)
 * from the reporting database with an indexed range query, writes it to
 * `reports/<jurisdiction>/<reportDate>/<reportId>.json` with SSE-KMS and records it in report_log.
 * Deterministic: same data -> same bytes and SHA-256; a re-run with unchanged data rewrites nothing
 * (the stored object's sha256 metadata matches) and leaves report_log unchanged.
 * Only loaded nights: the report date must have a `run_load` row (a complete, successful nightly run
 * committed by report-loader, domain/reporting/run-dates.ts); otherwise PermanentError
 * `RUN_NOT_LOADED` before anything is written (no object, no report_log row).
 */
import * as crypto from 'crypto';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { buildReport, reportDateOf, reportIdOf, reportKeyOf, reportPeriod, ReportItem, TransactionRow } from '../../domain/reporting/report';
import { s3 } from '../shared/clients';
import { withConnection } from '../shared/db';
import { environmentOf } from '../shared/env';
import { classifyError, PermanentError } from '../shared/errors';
import { createLogger, powertoolsHandler } from '../shared/powertools';
import { GenerateResult, parseItem, sqlNow } from '../shared/report-payloads';

const logger = createLogger('report-generate');

const QUERY = `SELECT transaction_id AS transactionId, amount_minor AS amountMinor, currency,
    DATE_FORMAT(\`timestamp\`, '%Y-%m-%d %H:%i:%s.%f') AS ts, counterparty
  FROM transactions
  WHERE jurisdiction = ? AND report_type = ? AND entity_id = ? AND \`timestamp\` >= ? AND \`timestamp\` < ?
  ORDER BY \`timestamp\`, transaction_id`;

/** A committed load of a run feeding the date (report-loader writes it with the run's rows). */
const LOADED_SQL = 'SELECT run_id FROM run_load WHERE report_date = ? LIMIT 1';

/**
 * Upsert that never moves a report backwards: a delivered/confirmed report keeps its status, and an
 * unchanged report (same SHA-256) keeps its status and generated_at. Assignments run left to right on
 * both engines, so the ones reading the old sha256 come before sha256 itself.
 */
const UPSERT = `INSERT INTO report_log (report_id, jurisdiction, report_type, entity_id, report_date, status, framework,
    framework_version, s3_bucket, s3_key, sha256, transaction_count, generated_at)
  VALUES (?, ?, ?, ?, ?, 'GENERATED', ?, ?, ?, ?, ?, ?, ?)
  ON DUPLICATE KEY UPDATE
    status = IF(status IN ('DELIVERED', 'CONFIRMED', 'DELIVERY_FAILED') OR (sha256 <=> VALUES(sha256) AND status <> 'FAILED'), status, VALUES(status)),
    generated_at = IF(sha256 <=> VALUES(sha256), generated_at, VALUES(generated_at)),
    framework = VALUES(framework), framework_version = VALUES(framework_version),
    s3_bucket = VALUES(s3_bucket), s3_key = VALUES(s3_key), transaction_count = VALUES(transaction_count),
    sha256 = VALUES(sha256)`;

/** The workflow's report item (contracts.md); parsed strictly, the type checks nothing. */
export const handler = powertoolsHandler('report-generate', logger, async (event: ReportItem): Promise<GenerateResult> => {
  const item = parseItem(event);
  const { REPORTS_BUCKET: bucket, REPORTS_KMS_KEY_ARN: kmsKeyArn } = environmentOf('report-generate');
  const reportDate = reportDateOf(item);
  const reportId = reportIdOf(item.jurisdiction, item.reportType, item.entityId, reportDate);
  const period = reportPeriod(reportDate);

  const rows = await withConnection(`report-generate ${reportId}: query`, async (conn) => {
    const [loads] = await conn.query(LOADED_SQL, [reportDate]);
    if ((loads as unknown[]).length === 0) {
      throw new PermanentError(`RUN_NOT_LOADED: no loaded nightly run feeds report date ${reportDate}; nothing generated`);
    }
    const [result] = await conn.query(QUERY, [item.jurisdiction, item.reportType, item.entityId, period.start, period.end]);
    return (result as Array<{ transactionId: string; amountMinor: string; currency: string; ts: string; counterparty: string | null }>)
      .map((r): TransactionRow => ({
        transactionId: r.transactionId, amountMinor: String(r.amountMinor), currency: r.currency,
        timestamp: r.ts.slice(0, 23), counterparty: r.counterparty,
      }));
  });
  const report = buildReport(item, rows);
  const body = JSON.stringify(report);
  const sha256 = crypto.createHash('sha256').update(body).digest('hex');
  const key = reportKeyOf(item.jurisdiction, reportDate, reportId);

  let unchanged = false;
  try {
    const head = await s3().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    unchanged = head.Metadata?.sha256 === sha256 && head.ServerSideEncryption === 'aws:kms' && head.SSEKMSKeyId === kmsKeyArn;
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    // 404: first generation. 403: the role may write but not read reports (then every run rewrites
    // an identical object version; granting s3:GetObject on reports/ restores the skip).
    if (status !== 404 && status !== 403) throw classifyError(err, `HeadObject ${key}`);
  }
  if (!unchanged) {
    try {
      await s3().send(new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentType: 'application/json',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: kmsKeyArn,
        BucketKeyEnabled: true,
        Metadata: { sha256, 'report-id': reportId, 'transaction-count': String(report.totalTransactions) },
      }));
    } catch (err) {
      throw classifyError(err, `PutObject ${key}`);
    }
  }
  await withConnection(`report-generate ${reportId}: report_log`, async (conn) => {
    await conn.query(UPSERT, [reportId, item.jurisdiction, item.reportType, item.entityId, reportDate, report.framework,
      report.frameworkVersion, bucket, key, sha256, report.totalTransactions, sqlNow()]);
  });
  logger.info('report generated', { reportId, transactionCount: report.totalTransactions, rewritten: !unchanged });
  return {
    reportId, jurisdiction: item.jurisdiction, reportType: item.reportType, entityId: item.entityId, reportDate,
    bucket, key, sha256, transactionCount: report.totalTransactions,
  };
});
