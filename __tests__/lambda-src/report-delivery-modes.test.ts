/**
 * Report delivery modes: the MIME builder (deterministic, CRLF, base64 in 76-character lines, RFC 2047
 * subjects, header injection refused), the SES v2 SendEmail input per mode, and a real moto SES v2
 * round trip: the raw message moto captured (`/moto-api/data.json`, ses.RawMessage) is parsed back
 * with the small parser below and the attachment compared byte for byte with the report.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { CreateConfigurationSetCommand, CreateEmailIdentityCommand, SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { findExecutable, MotoServer, startMoto } from '../../test-support/moto-server';
import { buildReport, reportKeyOf } from '../../domain/reporting/report';
import { MAX_ATTACHMENT_BYTES, Recipient, SES_MAX_MESSAGE_BYTES } from '../../domain/reporting/recipients';
import { base64Lines, buildMimeMessage, MimeError, MimeMessage, rfc5322Date } from '../../lambda-src/report-deliver/mime';
import { deliveryEmail, DeliveryEmailArgs, needsReportBytes, reportContentType, reportFileName } from '../../lambda-src/report-deliver/modes';
import type { GenerateResult } from '../../lambda-src/shared/report-payloads';

// ---------------------------------------------------------------------------------------------
// A small MIME parser, independent of the builder: enough for multipart/mixed with 7bit/base64 parts.
interface ParsedPart { headers: Record<string, string>; body: string }
interface ParsedMessage { headers: Record<string, string>; preamble: string; parts: ParsedPart[] }

function splitHead(text: string): { headers: Record<string, string>; body: string } {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) throw new Error('no blank line between header and body');
  const headers: Record<string, string> = {};
  // Unfold (CRLF followed by whitespace), then one header per line.
  for (const line of text.slice(0, end).replace(/\r\n(?=[ \t])/g, '').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`malformed header line: ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).toLowerCase();
    if (name in headers) throw new Error(`header ${name} appears twice`);
    headers[name] = line.slice(colon + 1).trim();
  }
  return { headers, body: text.slice(end + 4) };
}

function parseMime(raw: string): ParsedMessage {
  if (/\r(?!\n)|(?<!\r)\n/.test(raw)) throw new Error('bare CR or LF: every line must end with CRLF');
  const { headers, body } = splitHead(raw);
  const m = /^multipart\/mixed;\s*boundary="([^"]+)"$/i.exec(headers['content-type'] ?? '');
  if (!m) throw new Error(`not multipart/mixed: ${headers['content-type']}`);
  const delimiter = `--${m[1]}`;
  const closing = `\r\n${delimiter}--\r\n`;
  const endAt = body.indexOf(closing);
  if (endAt < 0 || body.slice(endAt + closing.length) !== '') throw new Error('no closing delimiter at the end');
  const chunks = `\r\n${body.slice(0, endAt)}`.split(`\r\n${delimiter}\r\n`);
  return { headers, preamble: chunks[0], parts: chunks.slice(1).map((c) => splitHead(c)) };
}

function decodePart(p: ParsedPart): Buffer {
  const enc = (p.headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  if (enc === 'base64') {
    for (const line of p.body.split('\r\n')) {
      if (line.length > 76) throw new Error(`base64 line of ${line.length} characters`);
      if (!/^[A-Za-z0-9+/=]*$/.test(line)) throw new Error('non-base64 character in a base64 part');
    }
    return Buffer.from(p.body.replace(/\r\n/g, ''), 'base64');
  }
  if (enc === '7bit') return Buffer.from(p.body, 'ascii');
  throw new Error(`unexpected transfer encoding ${enc}`);
}

/** A header value made only of RFC 2047 B words of UTF-8 (the whitespace between them is dropped). */
function decodeWords(v: string): string {
  return Buffer.concat(v.split(/\s+/).map((w) => {
    const m = /^=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=$/i.exec(w);
    if (!m) throw new Error(`not an encoded word: ${w}`);
    return Buffer.from(m[1], 'base64');
  })).toString('utf8');
}

/** The error `fn` throws (fails the test when it throws nothing). */
function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error, none was thrown');
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

// ---------------------------------------------------------------------------------------------
// A real report (domain/reporting/report.ts), with non-ASCII counterparties so the bytes are UTF-8.
const ROLE = 'arn:aws:iam::111122223333:role/esma-reader';
const reportJson = JSON.stringify(buildReport(
  { jurisdiction: 'EU', reportType: 'TRANSACTION', entityId: 'ENTITY-M', runStartedAt: '2026-11-24T01:00:00.000Z' },
  [
    { transactionId: 'TX-CONTENT-0001', amountMinor: '123456', currency: 'EUR', timestamp: '2026-11-23 10:00:00.000', counterparty: 'Société Générale' },
    { transactionId: 'TX-CONTENT-0002', amountMinor: '5000', currency: 'JPY', timestamp: '2026-11-23 11:30:00.250', counterparty: '株式会社みずほ銀行' },
  ],
));
const reportBytes = Buffer.from(reportJson, 'utf8');
const report: GenerateResult = {
  reportId: 'EU-TRANSACTION-ENTITY-M-2026-11-23',
  jurisdiction: 'EU',
  reportType: 'TRANSACTION',
  entityId: 'ENTITY-M',
  reportDate: '2026-11-23',
  bucket: 'finbatch-test-reports',
  key: reportKeyOf('EU', '2026-11-23', 'EU-TRANSACTION-ENTITY-M-2026-11-23'),
  sha256: sha256(reportBytes),
  transactionCount: 2,
};
const VERSION = '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY';
const attachRecipient: Recipient = { email: 'esma-reports@example.eu', mode: 'attachment' };
const s3Recipient: Recipient = { email: 'esma-reports@example.eu', mode: 's3-access', principalArn: ROLE };
const DATE = new Date('2026-11-24T01:05:09.000Z');
const args = (over: Partial<DeliveryEmailArgs> = {}): DeliveryEmailArgs => ({
  report,
  object: { size: reportBytes.length, versionId: VERSION, bytes: reportBytes },
  recipient: attachRecipient,
  attachmentMaxBytes: 10 * 1024 * 1024,
  sourceEmail: 'reports@example.com',
  configurationSetName: 'finbatch-test-reports',
  date: DATE,
  region: 'eu-west-1',
  ...over,
});
const rawOf = (d: ReturnType<typeof deliveryEmail>) => Buffer.from(d.input.Content!.Raw!.Data!).toString('ascii');
const textOf = (d: ReturnType<typeof deliveryEmail>) => d.input.Content!.Simple!.Body!.Text!.Data!;
const message = (over: Partial<MimeMessage> = {}): MimeMessage => ({
  from: 'reports@example.com',
  to: ['esma-reports@example.eu'],
  subject: 'Regulatory Report Submission - EU - TRANSACTION - 2026-11-23',
  date: DATE,
  text: 'Report ID: X\nSHA-256: abc\n',
  attachments: [{ filename: 'X.json', contentType: 'application/json', content: Buffer.from('{"a":1}') }],
  boundary: '=_test_boundary',
  ...over,
});

// ---------------------------------------------------------------------------------------------
describe('MIME builder', () => {
  test('exact bytes for a small message: headers, CRLF, boundary, base64 attachment', () => {
    const raw = buildMimeMessage(message({ messageId: '<report-1@example.com>' })).toString('ascii');
    expect(raw).toBe([
      'From: reports@example.com',
      'To: esma-reports@example.eu',
      'Subject: Regulatory Report Submission - EU - TRANSACTION - 2026-11-23',
      'Date: Tue, 24 Nov 2026 01:05:09 +0000',
      'Message-ID: <report-1@example.com>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="=_test_boundary"',
      '',
      '--=_test_boundary',
      'Content-Type: text/plain; charset=UTF-8',
      'Content-Transfer-Encoding: 7bit',
      '',
      'Report ID: X',
      'SHA-256: abc',
      '--=_test_boundary',
      'Content-Type: application/json; name="X.json"',
      'Content-Disposition: attachment; filename="X.json"',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('{"a":1}').toString('base64'),
      '--=_test_boundary--',
      '',
    ].join('\r\n'));
  });

  test('deterministic: same input, same bytes; the derived boundary depends on the content', () => {
    const a = buildMimeMessage(message({ boundary: undefined }));
    expect(buildMimeMessage(message({ boundary: undefined })).equals(a)).toBe(true);
    const other = buildMimeMessage(message({ boundary: undefined, attachments: [{ filename: 'X.json', contentType: 'application/json', content: Buffer.from('{"a":2}') }] }));
    const boundaryOf = (b: Buffer) => /boundary="([^"]+)"/.exec(b.toString('ascii'))![1];
    expect(boundaryOf(a)).toMatch(/^=_part_[0-9a-f]{32}$/);
    expect(boundaryOf(other)).not.toBe(boundaryOf(a));
  });

  test.each([0, 1, 2, 3, 56, 57, 58, 114, 1000, 65_537])('a %i-byte attachment survives the round trip; base64 lines are 76 characters', (n) => {
    const content = Buffer.from(Array.from({ length: n }, (_, i) => (i * 131 + 7) % 256));
    const parsed = parseMime(buildMimeMessage(message({ attachments: [{ filename: 'r.json', contentType: 'application/json', content }] })).toString('ascii'));
    // The CRLF before the next delimiter belongs to the delimiter (RFC 2046), so the parsed body lacks it.
    const body = parsed.parts[1].body;
    const lines = body.split('\r\n');
    expect(lines.slice(0, -1).every((l) => l.length === 76)).toBe(true);
    expect(lines[lines.length - 1].length).toBeLessThanOrEqual(76);
    expect(decodePart(parsed.parts[1]).equals(content)).toBe(true);
    expect(`${body}\r\n`).toBe(base64Lines(content) || '\r\n');
  });

  test('a non-ASCII subject is RFC 2047 encoded in words of at most 75 characters, folded, and decodes back', () => {
    const subject = 'Rapport réglementaire – 株式会社みずほ銀行 – ' + 'é'.repeat(60);
    const raw = buildMimeMessage(message({ subject })).toString('ascii');
    const { headers } = splitHead(raw);
    expect(decodeWords(headers.subject)).toBe(subject);
    const folded = raw.slice(0, raw.indexOf('\r\n\r\n')).split('\r\n');
    expect(folded.every((l) => l.length <= 78)).toBe(true);
    for (const w of headers.subject.split(' ')) expect(w.length).toBeLessThanOrEqual(75);
    // Long ASCII subjects are encoded too rather than overflowing the 78-character line.
    const long = 'x'.repeat(90);
    expect(decodeWords(splitHead(buildMimeMessage(message({ subject: long })).toString('ascii')).headers.subject)).toBe(long);
  });

  test('display names: ASCII quoted (quotes escaped), Unicode encoded', () => {
    const raw = buildMimeMessage(message({
      from: { address: 'reports@example.com', name: 'Reports "Desk"' },
      to: [{ address: 'a@example.eu', name: 'Autorité' }, 'b@example.eu'],
    })).toString('ascii');
    const { headers } = splitHead(raw);
    expect(headers.from).toBe('"Reports \\"Desk\\"" <reports@example.com>');
    expect(headers.to).toBe(`=?UTF-8?B?${Buffer.from('Autorité').toString('base64')}?= <a@example.eu>, b@example.eu`);
  });

  test('a non-ASCII body is sent base64 of its UTF-8; line endings become CRLF', () => {
    const text = 'Rapport réglementaire\nSHA-256: abc\r\nfin\n';
    const parsed = parseMime(buildMimeMessage(message({ text })).toString('ascii'));
    expect(parsed.parts[0].headers['content-transfer-encoding']).toBe('base64');
    expect(decodePart(parsed.parts[0]).toString('utf8')).toBe('Rapport réglementaire\r\nSHA-256: abc\r\nfin\r\n');
  });

  test.each<[string, Partial<MimeMessage>, RegExp]>([
    ['CRLF in the subject', { subject: 'Report\r\nBcc: attacker@evil.test' }, /Subject header must not contain CR, LF/],
    ['a bare LF in the subject', { subject: 'Report\nBcc: attacker@evil.test' }, /Subject header must not contain CR, LF/],
    ['a bare CR in the subject', { subject: 'Report\rBcc: attacker@evil.test' }, /Subject header must not contain CR, LF/],
    ['NUL in the subject', { subject: 'Report\u0000' }, /Subject header must not contain/],
    ['CRLF in From', { from: 'reports@example.com\r\nBcc: attacker@evil.test' }, /From address must not contain CR, LF/],
    ['CRLF in a To address', { to: ['esma@example.eu\r\nBcc: attacker@evil.test'] }, /To address must not contain CR, LF/],
    ['a second address smuggled into To', { to: ['esma@example.eu, attacker@evil.test'] }, /To address is not a plain ASCII email address/],
    ['LF in a display name', { from: { address: 'reports@example.com', name: 'Desk\nBcc: attacker@evil.test' } }, /From display name must not contain CR, LF/],
    ['CRLF in the Message-ID', { messageId: '<a@b>\r\nBcc: attacker@evil.test' }, /Message-ID must not contain CR, LF/],
    ['a malformed Message-ID', { messageId: 'a@b' }, /Message-ID must look like/],
    ['CRLF in the boundary', { boundary: 'b\r\nBcc: attacker@evil.test' }, /boundary must not contain CR, LF/],
    ['a quote in the boundary', { boundary: 'b"; x="y' }, /boundary must be 1-70 characters/],
    ['CRLF in an attachment filename', { attachments: [{ filename: 'r.json\r\nContent-Type: text/html', contentType: 'application/json', content: Buffer.alloc(1) }] }, /attachment filename must not contain CR, LF/],
    ['a quote in an attachment filename', { attachments: [{ filename: 'r".json', contentType: 'application/json', content: Buffer.alloc(1) }] }, /attachment filename must be 1-200 characters/],
    ['CRLF in a content type', { attachments: [{ filename: 'r.json', contentType: 'application/json\r\nX: y', content: Buffer.alloc(1) }] }, /attachment content type must not contain CR, LF/],
    ['a control character in the text body', { text: 'ok\u0007' }, /text body must not contain/],
    ['the boundary inside the text', { text: 'a\n--=_test_boundary\nb' }, /boundary occurs in the content/],
    ['no recipient', { to: [] }, /at least one To address/],
  ])('refuses %s', (_name, over, error) => {
    expect(() => buildMimeMessage(message(over))).toThrow(MimeError);
    expect(() => buildMimeMessage(message(over))).toThrow(error);
  });

  test('RFC 5322 dates in UTC', () => {
    expect(rfc5322Date(new Date('2026-02-01T23:59:59.999Z'))).toBe('Sun, 01 Feb 2026 23:59:59 +0000');
    expect(() => rfc5322Date(new Date('nope'))).toThrow(MimeError);
  });

  test('an independent parser (Python\'s email package) reads the same attachment bytes and headers', () => {
    const raw = deliveryEmail(args()).input.Content!.Raw!.Data!;
    const script = [
      'import sys, json, hashlib, email, email.policy',
      'm = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)',
      'parts = [p for p in m.iter_attachments()]',
      'body = m.get_body(preferencelist=("plain",))',
      'print(json.dumps({"defects": [str(d) for p in m.walk() for d in p.defects] + [str(d) for d in m.defects],',
      '  "subject": str(m["subject"]), "to": str(m["to"]), "from": str(m["from"]),',
      '  "attachments": [{"name": p.get_filename(), "type": p.get_content_type(), "sha256": hashlib.sha256(p.get_payload(decode=True)).hexdigest()} for p in parts],',
      '  "text": body.get_content()}))',
    ].join('\n');
    const run = spawnSync(findExecutable('python'), ['-c', script], { input: Buffer.from(raw) });
    expect(run.stderr.toString()).toBe('');
    const out = JSON.parse(run.stdout.toString());
    expect(out.defects).toEqual([]);
    expect(out.subject).toBe('Regulatory Report Submission - EU - TRANSACTION - 2026-11-23');
    expect(out.to).toBe('esma-reports@example.eu');
    expect(out.attachments).toEqual([{ name: 'EU-TRANSACTION-ENTITY-M-2026-11-23.json', type: 'application/json', sha256: report.sha256 }]);
    expect(out.text).toContain(`SHA-256: ${report.sha256}`);
  });
});

// ---------------------------------------------------------------------------------------------
describe('SendEmail input per mode', () => {
  test('attachment: raw MIME with the report attached, SHA-256 in the body, tags for report-confirm', () => {
    const d = deliveryEmail(args());
    expect(d).toMatchObject({ mode: 'attachment', requestedMode: 'attachment', sha256: report.sha256 });
    expect(d.fallbackReason).toBeUndefined();
    expect(d.input).toMatchObject({
      FromEmailAddress: 'reports@example.com',
      Destination: { ToAddresses: ['esma-reports@example.eu'] },
      ConfigurationSetName: 'finbatch-test-reports',
      EmailTags: [
        { Name: 'reportId', Value: report.reportId },
        { Name: 'jurisdiction', Value: 'EU' },
        { Name: 'reportType', Value: 'TRANSACTION' },
        { Name: 'deliveryMode', Value: 'attachment' },
      ],
    });
    expect(d.input.Content!.Simple).toBeUndefined();
    const parsed = parseMime(rawOf(d));
    expect(d.messageBytes).toBe(Buffer.byteLength(rawOf(d)));
    expect(parsed.parts).toHaveLength(2);
    expect(parsed.parts[1].headers).toEqual({
      'content-type': 'application/json; name="EU-TRANSACTION-ENTITY-M-2026-11-23.json"',
      'content-disposition': 'attachment; filename="EU-TRANSACTION-ENTITY-M-2026-11-23.json"',
      'content-transfer-encoding': 'base64',
    });
    const attached = decodePart(parsed.parts[1]);
    expect(attached.equals(reportBytes)).toBe(true);
    expect(sha256(attached)).toBe(report.sha256);
    const text = decodePart(parsed.parts[0]).toString('utf8');
    expect(text).toContain(`SHA-256: ${report.sha256}`);
    expect(text).toContain(`Size: ${reportBytes.length} bytes`);
    expect(text).toContain(`sha256sum ${report.reportId}.json`);
  });

  test('the body carries only id, size, SHA-256 and location, never report content', () => {
    for (const d of [deliveryEmail(args()), deliveryEmail(args({ recipient: s3Recipient }))]) {
      const text = d.mode === 'attachment' ? decodePart(parseMime(rawOf(d)).parts[0]).toString('utf8') : textOf(d);
      for (const content of ['TX-CONTENT-0001', 'TX-CONTENT-0002', 'Société', 'みずほ', '1234.56', 'EUR', 'JPY']) expect(text).not.toContain(content);
      const fields = text.split('\n').filter((l) => /^[A-Z][A-Za-z0-9 -]*: /.test(l)).map((l) => l.split(':')[0]);
      expect(fields.length).toBeGreaterThanOrEqual(4);
      expect(fields.filter((f) => !['Report ID', 'File', 'Size', 'SHA-256', 'Stored at', 'Bucket', 'Key', 'Version ID', 'Region'].includes(f))).toEqual([]);
    }
  });

  test('s3-access: bucket, key, version id, SHA-256 and the get-object command for the recipient\'s principal', () => {
    const d = deliveryEmail(args({ recipient: s3Recipient, object: { size: reportBytes.length, versionId: VERSION } }));
    expect(d).toMatchObject({ mode: 's3-access', requestedMode: 's3-access', sha256: report.sha256 });
    expect(d.input.Content!.Raw).toBeUndefined();
    expect(d.input.Content!.Simple!.Subject).toEqual({ Data: 'Regulatory Report Submission - EU - TRANSACTION - 2026-11-23', Charset: 'UTF-8' });
    expect(d.input.EmailTags).toContainEqual({ Name: 'deliveryMode', Value: 's3-access' });
    const text = textOf(d);
    expect(text).toContain('Bucket: finbatch-test-reports\n');
    expect(text).toContain(`Key: ${report.key}\n`);
    expect(text).toContain(`Version ID: ${VERSION}\n`);
    expect(text).toContain(`SHA-256: ${report.sha256}\n`);
    expect(text).toContain(`Fetch it with the AWS credentials of ${ROLE}, which may read reports/EU/ of this bucket`);
    expect(text).toContain(`  aws s3api get-object --region eu-west-1 --bucket finbatch-test-reports --key ${report.key} --version-id ${VERSION} ${report.reportId}.json\n`);
    expect(text).not.toMatch(/X-Amz-Signature|https?:\/\//); // never a pre-signed link
    expect(text).not.toContain('Delivery changed');
  });

  test('over the cap: an attachment recipient gets the s3-access e-mail, which names the fallback', () => {
    const cap = reportBytes.length - 1;
    expect(needsReportBytes([{ ...attachRecipient, principalArn: ROLE }], reportBytes.length, cap)).toBe(false);
    const d = deliveryEmail(args({ recipient: { ...attachRecipient, principalArn: ROLE }, attachmentMaxBytes: cap, object: { size: reportBytes.length, versionId: VERSION } }));
    expect(d).toMatchObject({ mode: 's3-access', requestedMode: 'attachment' });
    expect(d.fallbackReason).toBe(`The report is ${reportBytes.length} bytes, over the attachment limit of ${cap} bytes, so it is not attached.`);
    expect(textOf(d)).toContain(`Delivery changed from attachment to S3 access: ${d.fallbackReason}`);
    expect(textOf(d)).toContain(`--version-id ${VERSION}`);
    expect(d.input.EmailTags).toContainEqual({ Name: 'deliveryMode', Value: 's3-access' });
  });

  test('over the cap without a registered principal the e-mail says access has to be arranged', () => {
    const d = deliveryEmail(args({ attachmentMaxBytes: 10, object: { size: reportBytes.length, versionId: VERSION } }));
    expect(d.mode).toBe('s3-access');
    expect(textOf(d)).toContain('No AWS principal is registered for esma-reports@example.eu to read this location');
    expect(textOf(d)).not.toContain('aws s3api get-object');
  });

  test('needsReportBytes: only when some recipient gets an attachment', () => {
    expect(needsReportBytes([s3Recipient], 100, 1000)).toBe(false);
    expect(needsReportBytes([s3Recipient, attachRecipient], 100, 1000)).toBe(true);
    expect(needsReportBytes([attachRecipient], 1001, 1000)).toBe(false);
  });

  test('refuses bytes that are not the validated report, and an attachment without bytes', () => {
    const tampered = Buffer.from(reportBytes);
    tampered[10] ^= 1;
    expect(() => deliveryEmail(args({ object: { size: tampered.length, versionId: VERSION, bytes: tampered } }))).toThrow(/not the validated report/);
    expect(() => deliveryEmail(args({ object: { size: reportBytes.length + 1, versionId: VERSION, bytes: reportBytes } }))).toThrow(/not the validated report/);
    expect(() => deliveryEmail(args({ object: { size: reportBytes.length, versionId: VERSION } }))).toThrow(/needs the report bytes/);
    expect(errorOf(() => deliveryEmail(args({ object: { size: tampered.length, bytes: tampered } }))).name).toBe('PermanentError');
  });

  test('header injection through the recipient or sender is a PermanentError in both modes', () => {
    const evil = 'esma-reports@example.eu\r\nBcc: attacker@evil.test';
    for (const recipient of [{ ...attachRecipient, email: evil }, { ...s3Recipient, email: evil }]) {
      expect(errorOf(() => deliveryEmail(args({ recipient })))).toMatchObject({ name: 'PermanentError', message: expect.stringMatching(/must not contain CR, LF|control characters/) });
    }
    expect(() => deliveryEmail(args({ sourceEmail: 'reports@example.com\nBcc: attacker@evil.test' }))).toThrow(/From address must not contain CR, LF/);
  });

  test('file name and content type come from the report id and format', () => {
    expect(reportFileName(report)).toBe('EU-TRANSACTION-ENTITY-M-2026-11-23.json');
    expect(reportContentType(report.key)).toBe('application/json');
    expect(() => reportContentType('reports/EU/2026-11-23/x.exe')).toThrow(/no known report format/);
  });

  test('the largest allowed attachment still makes a message within the SES limit', () => {
    const big = Buffer.alloc(MAX_ATTACHMENT_BYTES, 0x5a);
    const bigReport = { ...report, sha256: sha256(big) };
    const d = deliveryEmail(args({ report: bigReport, attachmentMaxBytes: MAX_ATTACHMENT_BYTES, object: { size: big.length, versionId: VERSION, bytes: big } }));
    expect(d.mode).toBe('attachment');
    expect(d.messageBytes!).toBeLessThanOrEqual(SES_MAX_MESSAGE_BYTES);
  });
});

// ---------------------------------------------------------------------------------------------
describe('through moto SES v2', () => {
  let moto: MotoServer;
  let ses: SESv2Client;

  beforeAll(async () => {
    moto = await startMoto();
    ses = new SESv2Client(moto.clientConfig);
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'reports@example.com' }));
    await ses.send(new CreateConfigurationSetCommand({ ConfigurationSetName: 'finbatch-test-reports' }));
  });
  afterAll(async () => {
    await moto?.stop();
  });

  /** What moto's SES keeps of sent messages (RawMessage: raw_data; Message: subject/body). */
  async function captured(): Promise<{ raw: Array<{ id: string; raw_data: string }>; simple: Array<{ id: string; subject: string; body: string }> }> {
    const res = await fetch(`${moto.endpoint}/moto-api/data.json`);
    const data = await res.json() as { ses?: { RawMessage?: Array<{ id: string; raw_data: string }>; Message?: Array<{ id: string; subject: string; body: string }> } };
    return { raw: data.ses?.RawMessage ?? [], simple: data.ses?.Message ?? [] };
  }

  test('an attachment-mode report parses back out of the sent raw message byte for byte', async () => {
    const d = deliveryEmail(args());
    const res = await ses.send(new SendEmailCommand(d.input));
    expect(res.MessageId).toEqual(expect.any(String));
    const sent = (await captured()).raw.find((m) => m.id === res.MessageId);
    expect(sent).toBeDefined();
    const parsed = parseMime(sent!.raw_data);
    expect(parsed.headers.to).toBe('esma-reports@example.eu');
    const attachment = parsed.parts.find((p) => /^attachment;/.test(p.headers['content-disposition'] ?? ''));
    expect(attachment).toBeDefined();
    const bytes = decodePart(attachment!);
    expect(bytes.equals(reportBytes)).toBe(true);
    expect(sha256(bytes)).toBe(report.sha256);
    expect(decodePart(parsed.parts[0]).toString('utf8')).toContain(`SHA-256: ${report.sha256}`);
  });

  test('over the cap the sent message is the s3-access e-mail naming the fallback', async () => {
    const d = deliveryEmail(args({ recipient: { ...attachRecipient, principalArn: ROLE }, attachmentMaxBytes: 100, object: { size: reportBytes.length, versionId: VERSION } }));
    const res = await ses.send(new SendEmailCommand(d.input));
    const { raw, simple } = await captured();
    expect(raw.find((m) => m.id === res.MessageId)).toBeUndefined();
    const sent = simple.find((m) => m.id === res.MessageId);
    expect(sent).toBeDefined();
    expect(sent!.subject).toBe('Regulatory Report Submission - EU - TRANSACTION - 2026-11-23');
    expect(sent!.body).toContain(`Delivery changed from attachment to S3 access: The report is ${reportBytes.length} bytes, over the attachment limit of 100 bytes`);
    expect(sent!.body).toContain(`--version-id ${VERSION}`);
    expect(sent!.body).toContain(`SHA-256: ${report.sha256}`);
  });

  test('header injection is refused before anything reaches SES', async () => {
    const before = await captured();
    for (const email of ['esma-reports@example.eu\r\nBcc: attacker@evil.test', 'esma-reports@example.eu\nBcc: attacker@evil.test']) {
      expect(() => deliveryEmail(args({ recipient: { ...attachRecipient, email } }))).toThrow(/must not contain CR, LF/);
    }
    const after = await captured();
    expect(after.raw).toHaveLength(before.raw.length);
    expect(after.simple).toHaveLength(before.simple.length);
    expect(JSON.stringify(after)).not.toContain('attacker@evil.test');
  });
});
