/**
 * The report email. It names the report, its S3 location and SHA-256 and never carries a pre-signed
 * link: a URL signed with the Lambda role's temporary credentials dies with them (the document's
 * 7-day link cannot work), and a bearer link to regulated data is weak anyway. Recipients fetch the
 * object through their authenticated access to the reports bucket and check the hash.
 */
import type { GenerateResult, ValidationResult } from '../shared/report-payloads';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function subjectOf(report: GenerateResult): string {
  return `Regulatory Report Submission - ${report.jurisdiction} - ${report.reportType} - ${report.reportDate}`;
}

export function bodyOf(report: GenerateResult, validation: ValidationResult): { text: string; html: string } {
  const rows: Array<[string, string]> = [
    ['Report ID', report.reportId],
    ['Jurisdiction', report.jurisdiction],
    ['Report type', report.reportType],
    ['Entity', report.entityId],
    ['Report date', report.reportDate],
    ['Transactions', String(report.transactionCount)],
    ['Location', `s3://${report.bucket}/${report.key}`],
    ['SHA-256', report.sha256],
    ['Validation warnings', validation.warnings.length ? validation.warnings.map((w) => w.split(':')[0]).join(', ') : 'none'],
  ];
  const text = `${rows.map(([k, v]) => `${k}: ${v}`).join('\n')}\n\nRetrieve the report with your authenticated access to the location above and verify its SHA-256.\n`;
  const html = `<html><body><table>${rows.map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`
    + '<p>Retrieve the report with your authenticated access to the location above and verify its SHA-256.</p></body></html>';
  return { text, html };
}
