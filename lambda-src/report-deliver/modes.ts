/**
 * The report e-mail per delivery mode, as the SES v2 SendEmail input:
 * - attachment: `Content.Raw`, a multipart/mixed message (mime.ts) carrying the report itself; only
 *   after the bytes are checked against the SHA-256 the report was validated with.
 * - s3-access: `Content.Simple` text naming bucket, key, version id and SHA-256 and the
 *   `aws s3api get-object` command that fetches it with the recipient's own AWS principal. An
 *   attachment-mode recipient whose report is over the cap gets this e-mail too, saying why.
 * The body never carries report content beyond its id, size, SHA-256 and location.
 *
 * Pure apart from hashing: the caller reads the object (HeadObject for size and version, GetObject
 * pinned to that version when `needsReportBytes`), sends the input and records the result.
 */
import { createHash } from 'crypto';
import type { SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import { chooseDelivery, DeliveryMode, Recipient } from '../../domain/reporting/recipients';
import { PermanentError } from '../shared/errors';
import type { GenerateResult } from '../shared/report-payloads';
import { subjectOf } from './email';
import { buildMimeMessage, MimeError } from './mime';

/** Media types of the report formats (domain/reporting/report.ts writes JSON under reports/<j>/<date>/<id>.json). */
export const REPORT_CONTENT_TYPES: Readonly<Record<string, string>> = { json: 'application/json' };

/** What S3 says about the stored report. */
export interface StoredReport {
  /** ContentLength of the object version. */
  size: number;
  /** The object version the e-mail names (and the attachment was read from). */
  versionId?: string;
  /** The object's bytes: required when the recipient gets an attachment. */
  bytes?: Uint8Array;
}

export interface DeliveryEmailArgs {
  report: GenerateResult;
  object: StoredReport;
  recipient: Recipient;
  /** Attachment cap in bytes of the report itself (ATTACHMENT_MAX_BYTES). */
  attachmentMaxBytes: number;
  sourceEmail: string;
  configurationSetName: string;
  /** Date header of the raw message. */
  date: Date;
  /** The reports bucket's region, named in the fetch command. */
  region?: string;
  /** MIME boundary (tests); default derived from the content. */
  boundary?: string;
  /**
   * How many recipients this report (this SHA-256) goes to. When set, the message also carries the tags
   * `sha256` and `recipientCount`, so report-confirm can tell from the SES events alone when every
   * recipient has the report.
   */
  recipientCount?: number;
}

export interface DeliveryEmail {
  input: SendEmailCommandInput;
  /** The mode used. */
  mode: DeliveryMode;
  /** The recipient's configured mode. */
  requestedMode: DeliveryMode;
  /** Why mode differs from requestedMode (also written in the body). */
  fallbackReason?: string;
  /** The SHA-256 the e-mail states (and, with an attachment, that the attached bytes have). */
  sha256: string;
  /** Bytes of the raw message (attachment mode). */
  messageBytes?: number;
}

/** Whether any of `recipients` gets the report attached, i.e. whether the caller must read its bytes. */
export function needsReportBytes(recipients: Recipient[], size: number, attachmentMaxBytes: number): boolean {
  return recipients.some((r) => chooseDelivery(r, size, attachmentMaxBytes).mode === 'attachment');
}

export function reportFileName(report: Pick<GenerateResult, 'reportId' | 'key'>): string {
  return `${report.reportId}.${extensionOf(report.key)}`;
}

export function reportContentType(key: string): string {
  const type = REPORT_CONTENT_TYPES[extensionOf(key)];
  if (!type) throw new PermanentError(`report key ${key}: no known report format for its extension (known: ${Object.keys(REPORT_CONTENT_TYPES).join(', ')})`);
  return type;
}

function extensionOf(key: string): string {
  const m = /\.([A-Za-z0-9]{1,10})$/.exec(key);
  return m ? m[1].toLowerCase() : '';
}

const sha256Hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A word safe to paste into a POSIX shell. */
function shellWord(s: string): string {
  return /^[A-Za-z0-9._/:=@+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function tags(report: GenerateResult, mode: DeliveryMode, requestedMode: DeliveryMode, recipientCount?: number) {
  // Tags come back on the SES delivery events: report-confirm matches them to the report. SES tag
  // values allow only letters, digits, _ and -: ids, modes, hex digests and counts all qualify.
  const out = [
    { Name: 'reportId', Value: report.reportId },
    { Name: 'jurisdiction', Value: report.jurisdiction },
    { Name: 'reportType', Value: report.reportType },
    { Name: 'deliveryMode', Value: mode },
  ];
  if (recipientCount !== undefined) {
    if (!Number.isSafeInteger(recipientCount) || recipientCount < 1) throw new RangeError('recipientCount must be a whole number >= 1');
    out.push(
      { Name: 'requestedMode', Value: requestedMode },
      { Name: 'sha256', Value: report.sha256 },
      { Name: 'recipientCount', Value: String(recipientCount) },
    );
  }
  return out;
}

function location(report: GenerateResult, object: StoredReport): string {
  return `s3://${report.bucket}/${report.key}${object.versionId ? ` (version ${object.versionId})` : ''}`;
}

function attachmentText(report: GenerateResult, object: StoredReport, file: string, contentType: string): string {
  return [
    `Regulatory report ${report.reportId} is attached.`,
    '',
    `Report ID: ${report.reportId}`,
    `File: ${file} (${contentType})`,
    `Size: ${object.size} bytes`,
    `SHA-256: ${report.sha256}`,
    `Stored at: ${location(report, object)}`,
    '',
    'Before use, check that the attached file\'s SHA-256 equals the value above:',
    `  sha256sum ${file}`,
    `  (Windows PowerShell: Get-FileHash -Algorithm SHA256 ${file})`,
    '',
  ].join('\n');
}

function s3AccessText(report: GenerateResult, object: StoredReport, recipient: Recipient, file: string, region: string | undefined, fallbackReason?: string): string {
  const prefix = report.key.startsWith(`reports/${report.jurisdiction}/`) ? `reports/${report.jurisdiction}/` : undefined;
  const lines = [`Regulatory report ${report.reportId} is ready for you to fetch from Amazon S3.`];
  if (fallbackReason) lines.push('', `Delivery changed from attachment to S3 access: ${fallbackReason}`);
  lines.push(
    '',
    `Report ID: ${report.reportId}`,
    `Size: ${object.size} bytes`,
    `SHA-256: ${report.sha256}`,
    `Bucket: ${report.bucket}`,
    `Key: ${report.key}`,
    `Version ID: ${object.versionId ?? '(none: the bucket keeps no versions)'}`,
  );
  if (region) lines.push(`Region: ${region}`);
  lines.push('');
  if (recipient.principalArn) {
    lines.push(
      `Fetch it with the AWS credentials of ${recipient.principalArn}`
        + `${prefix ? `, which may read ${prefix} of this bucket` : ''}; S3 decrypts the object for you:`,
      `  aws s3api get-object${region ? ` --region ${shellWord(region)}` : ''} --bucket ${shellWord(report.bucket)} --key ${shellWord(report.key)}`
        + `${object.versionId ? ` --version-id ${shellWord(object.versionId)}` : ''} ${shellWord(file)}`,
    );
  } else {
    lines.push(
      `No AWS principal is registered for ${recipient.email} to read this location, so the report cannot be fetched yet.`,
      'Contact the sender of this message to register an AWS account or IAM role for S3 access.',
    );
  }
  lines.push(
    '',
    'Then check that the file\'s SHA-256 equals the value above:',
    `  sha256sum ${shellWord(file)}`,
    '',
  );
  return lines.join('\n');
}

/**
 * The SendEmail input for one recipient. Throws PermanentError when the bytes needed for an attachment
 * are missing or are not the validated report (size or SHA-256 differ), or a header value is unsafe.
 */
export function deliveryEmail(args: DeliveryEmailArgs): DeliveryEmail {
  const { report, object, recipient } = args;
  if (object.bytes !== undefined) {
    if (object.bytes.byteLength !== object.size || sha256Hex(object.bytes) !== report.sha256) {
      throw new PermanentError(`report ${report.reportId}: the stored object is not the validated report (size or SHA-256 differ); refusing to send`);
    }
  }
  const decision = chooseDelivery(recipient, object.size, args.attachmentMaxBytes);
  const file = reportFileName(report);
  const contentType = reportContentType(report.key);
  const base = {
    FromEmailAddress: args.sourceEmail,
    Destination: { ToAddresses: [recipient.email] },
    ConfigurationSetName: args.configurationSetName,
    EmailTags: tags(report, decision.mode, decision.requestedMode, args.recipientCount),
  };
  if (decision.mode === 'attachment') {
    if (object.bytes === undefined) throw new PermanentError(`report ${report.reportId}: attachment delivery needs the report bytes`);
    let raw: Buffer;
    try {
      raw = buildMimeMessage({
        from: args.sourceEmail,
        to: [recipient.email],
        subject: subjectOf(report),
        date: args.date,
        text: attachmentText(report, object, file, contentType),
        attachments: [{ filename: file, contentType, content: object.bytes }],
        boundary: args.boundary,
      });
    } catch (err) {
      if (err instanceof MimeError) throw new PermanentError(`report ${report.reportId}: ${err.message}`);
      throw err;
    }
    return {
      input: { ...base, Content: { Raw: { Data: raw } } },
      mode: 'attachment',
      requestedMode: decision.requestedMode,
      sha256: report.sha256,
      messageBytes: raw.byteLength,
    };
  }
  const subject = subjectOf(report);
  // The same header rules as the raw message: no control characters anywhere in a header value.
  if (/[\u0000-\u001f\u007f]/.test(subject) || /[\u0000-\u001f\u007f]/.test(recipient.email)) {
    throw new PermanentError(`report ${report.reportId}: subject or recipient holds control characters`);
  }
  const text = s3AccessText(report, object, recipient, file, args.region, decision.fallbackReason);
  const result: DeliveryEmail = {
    input: {
      ...base,
      Content: { Simple: { Subject: { Data: subject, Charset: 'UTF-8' }, Body: { Text: { Data: text, Charset: 'UTF-8' } } } },
    },
    mode: 's3-access',
    requestedMode: decision.requestedMode,
    sha256: report.sha256,
  };
  if (decision.fallbackReason) result.fallbackReason = decision.fallbackReason;
  return result;
}
