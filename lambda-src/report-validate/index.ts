/**
 * report-validate: reads the generated report back from S3, checks it is the object generate wrote
 * (bucket, key and SHA-256), applies the jurisdiction rules (domain/reporting/validate.ts) and records
 * VALIDATED or VALIDATION_FAILED with errors and warnings in report_log. Invalid is a result, not an
 * exception: the workflow's Choice routes it.
 */
import * as crypto from 'crypto';
import { validateReport } from '../../domain/reporting/validate';
import { withConnection } from '../shared/db';
import { requireEnv } from '../shared/env';
import { PermanentError } from '../shared/errors';
import { createLogger } from '../shared/powertools';
import { parseGenerateResult, sqlNow, ValidationResult } from '../shared/report-payloads';
import { readText } from '../shared/s3-object';

const logger = createLogger('report-validate');

/** validated_at changes only when the outcome does, so a re-run with the same outcome changes nothing. */
const UPDATE = `UPDATE report_log SET
    validated_at = IF(status = ? AND validation_errors <=> ? AND validation_warnings <=> ?, validated_at, ?),
    status = IF(status IN ('DELIVERED', 'CONFIRMED', 'DELIVERY_FAILED'), status, ?),
    validation_errors = ?, validation_warnings = ?
  WHERE report_id = ?`;

export const handler = async (event: unknown): Promise<ValidationResult> => {
  const input = parseGenerateResult(event);
  const bucket = requireEnv('REPORTS_BUCKET');
  if (input.bucket !== bucket) throw new PermanentError(`report.bucket must be the reports bucket (REPORTS_BUCKET)`);
  const body = await readText(bucket, input.key);
  const errors: string[] = [];
  const warnings: string[] = [];
  if (crypto.createHash('sha256').update(body).digest('hex') !== input.sha256) {
    errors.push('INTEGRITY: the stored report does not match the SHA-256 recorded at generation');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
    errors.push('NOT_JSON: the stored report is not valid JSON');
  }
  if (parsed !== undefined) {
    const result = validateReport(parsed);
    errors.push(...result.errors);
    warnings.push(...result.warnings);
    if ((parsed as { reportId?: unknown }).reportId !== input.reportId) errors.push('REPORT_ID_MISMATCH: stored report has another reportId');
  }
  const isValid = errors.length === 0;
  const status = isValid ? 'VALIDATED' : 'VALIDATION_FAILED';
  const errorsJson = JSON.stringify(errors);
  const warningsJson = JSON.stringify(warnings);
  await withConnection(`report-validate ${input.reportId}`, async (conn) => {
    const [res] = await conn.query(UPDATE, [status, errorsJson, warningsJson, sqlNow(), status, errorsJson, warningsJson, input.reportId]);
    if ((res as { affectedRows: number }).affectedRows === 0) {
      throw new PermanentError(`report_log has no row for ${input.reportId}: generate must run first`);
    }
  });
  logger.info('report validated', { reportId: input.reportId, isValid, errors: errors.length, warnings: warnings.length });
  return { reportId: input.reportId, isValid, errors, warnings };
};
