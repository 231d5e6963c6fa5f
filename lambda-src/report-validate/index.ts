/**
 * report-validate: the check between generation and delivery, and the only writer of the delivery
 * permit. It reads the report's report_log row (the record generate wrote: bucket, key, SHA-256),
 * reads the object back from S3, and requires all three to agree: the row's SHA-256, the payload's,
 * and the SHA-256 of the bytes actually stored. Then it applies the jurisdiction rules
 * (domain/reporting/validate.ts) and records VALIDATED or VALIDATION_FAILED with errors and warnings
 * in report_log. Invalid is a result, not an exception: the workflow's Choice routes it.
 *
 * The permit: on VALIDATED, the exact object version that was read is tagged
 * `validated-sha256=<hex>` (REPORT_VALIDATED_TAG); on VALIDATION_FAILED that tag is set to `none`. report-deliver runs outside the VPC without database access and sends only when the
 * object it reads now hashes to that tag (see lambda-src/README.md, "Delivery permit").
 */
import * as crypto from 'crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { validateReport } from '../../domain/reporting/validate';
import { s3 } from '../shared/clients';
import { withConnection } from '../shared/db';
import { environmentOf } from '../shared/env';
import { classifyError, PermanentError } from '../shared/errors';
import { createLogger, powertoolsHandler } from '../shared/powertools';
import { GenerateResult, parseGenerateResult, sqlNow, ValidationResult } from '../shared/report-payloads';
import { putTags } from '../shared/s3-object';
import { safeText } from '../shared/safe-text';

const logger = createLogger('report-validate');
export const REPORT_VALIDATED_TAG = 'validated-sha256';
const MAX_REPORT_BYTES = 512 * 1024 * 1024;
/**
 * Findings kept per list: they are stored in a TEXT column (64 KB) and travel in the workflow's state
 * (256 KB), so a report with a million bad rows lists the first ones and counts the rest.
 */
export const MAX_FINDINGS = 40;
const MAX_FINDING_BYTES = 512;

export function boundFindings(list: string[]): string[] {
  const kept = list.slice(0, MAX_FINDINGS).map((f) => safeText(f, MAX_FINDING_BYTES) ?? '');
  if (list.length > MAX_FINDINGS) kept.push(`TRUNCATED: ${list.length - MAX_FINDINGS} more finding(s) not listed (${list.length} in total)`);
  return kept;
}

/** validated_at changes only when the outcome does, so a re-run with the same outcome changes nothing. */
const UPDATE = `UPDATE report_log SET
    validated_at = IF(status = ? AND validation_errors <=> ? AND validation_warnings <=> ?, validated_at, ?),
    status = IF(status IN ('DELIVERED', 'CONFIRMED', 'DELIVERY_FAILED'), status, ?),
    validation_errors = ?, validation_warnings = ?
  WHERE report_id = ?`;

interface LogRow { s3_bucket: string | null; s3_key: string | null; sha256: string | null }

async function readReport(bucket: string, key: string): Promise<{ body: Buffer; versionId?: string }> {
  try {
    const res = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if ((res.ContentLength ?? 0) > MAX_REPORT_BYTES) throw new PermanentError(`s3://${bucket}/${key}: larger than ${MAX_REPORT_BYTES} bytes`);
    return { body: Buffer.from(await res.Body!.transformToByteArray()), versionId: res.VersionId };
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchKey') throw new PermanentError(`s3://${bucket}/${key}: object not found`, { cause: err });
    throw classifyError(err, `GetObject s3://${bucket}/${key}`);
  }
}

/** report-generate's result (contracts.md); parsed strictly, the type checks nothing. */
export const handler = powertoolsHandler('report-validate', logger, async (event: GenerateResult): Promise<ValidationResult> => {
  const input = parseGenerateResult(event);
  const bucket = environmentOf('report-validate').REPORTS_BUCKET;
  if (input.bucket !== bucket) throw new PermanentError(`report.bucket must be the reports bucket (REPORTS_BUCKET)`);
  const row = await withConnection(`report-validate ${input.reportId}: report_log`, async (conn) => {
    const [rows] = await conn.query('SELECT s3_bucket, s3_key, sha256 FROM report_log WHERE report_id = ?', [input.reportId]);
    return (rows as LogRow[])[0];
  });
  if (!row) throw new PermanentError(`report_log has no row for ${input.reportId}: generate must run first`);
  const errors: string[] = [];
  const warnings: string[] = [];
  if (row.s3_bucket !== input.bucket || row.s3_key !== input.key) errors.push('INTEGRITY: the payload names another object than report_log records');
  if (row.sha256 !== input.sha256) errors.push('INTEGRITY: the payload SHA-256 differs from the one report_log records');
  const { body, versionId } = await readReport(bucket, input.key);
  if (crypto.createHash('sha256').update(body).digest('hex') !== input.sha256) {
    errors.push('INTEGRITY: the stored report does not match the SHA-256 recorded at generation');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
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
  const errorList = boundFindings(errors);
  const warningList = boundFindings(warnings);
  const errorsJson = JSON.stringify(errorList);
  const warningsJson = JSON.stringify(warningList);
  await withConnection(`report-validate ${input.reportId}`, async (conn) => {
    const [res] = await conn.query(UPDATE, [status, errorsJson, warningsJson, sqlNow(), status, errorsJson, warningsJson, input.reportId]);
    if ((res as { affectedRows: number }).affectedRows === 0) {
      throw new PermanentError(`report_log has no row for ${input.reportId}: generate must run first`);
    }
  });
  // The permit goes on the version that was read and hashed, after report_log holds the outcome.
  // A failed validation clears a permit an earlier validation of these bytes may have left, but only on
  // the object report_log names (a payload naming another object must not touch it).
  if (isValid) await putTags(bucket, input.key, versionId, { [REPORT_VALIDATED_TAG]: input.sha256 });
  // (`none`, not an empty tag set: one PutObjectTagging permission covers both, and it reads as revoked.)
  else if (row.s3_bucket === input.bucket && row.s3_key === input.key) await putTags(bucket, input.key, versionId, { [REPORT_VALIDATED_TAG]: 'none' });
  logger.info('report validated', { reportId: input.reportId, isValid, errors: errors.length, warnings: warnings.length });
  return { reportId: input.reportId, isValid, errors: errorList, warnings: warningList };
});
