/**
 * report-deliver per recipient and mode through the real handler: moto S3 (versioned reports bucket),
 * SES v2 and the DynamoDB idempotency table, MariaDB for report_log/delivery_log. The raw message moto's
 * SES backend kept (`/moto-api/data.json`, ses.RawMessage) is parsed back and its attachment compared
 * byte for byte with the stored report; over the cap the recipient gets the s3-access e-mail; an
 * s3-access recipient gets bucket, key, version and the get-object command; the permit still refuses
 * tampered objects; report-confirm records every recipient and confirms only when all have the report.
 */
import './quiet-logs';
import * as crypto from 'crypto';
import { CreateConfigurationSetCommand, CreateEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { GetObjectCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createConnection } from 'mysql2/promise';
import { handler as migrateHandler } from '../../lambda-src/report-migrate';
import { MIGRATIONS } from '../../lambda-src/report-migrate/migrations';
import { handler as generateHandler } from '../../lambda-src/report-generate';
import { handler as validateHandler } from '../../lambda-src/report-validate';
import { handler as deliverHandler } from '../../lambda-src/report-deliver';
import { handler as confirmHandler } from '../../lambda-src/report-confirm';
import { expectRejectsNamed } from './support';
import { markLoaded, ReportingFixture, REPORTS_BUCKET, startReporting } from './reporting-support';
import { raw } from './support';

// Tests send raw JSON, malformed on purpose too, and partial contexts: the handlers parse what arrives.
const migrate = raw(migrateHandler);
const generate = raw(generateHandler);
const validate = raw(validateHandler);
const deliver = raw(deliverHandler);
const confirm = raw(confirmHandler);

let fx: ReportingFixture;
const RUN_STARTED = '2026-11-24T01:00:00.000Z'; // report date 2026-11-23
const ctx = { getRemainingTimeInMillis: () => 60_000 };
const ROLE = 'arn:aws:iam::444455556666:role/regulator/us-reader';
const sha256 = (b: Uint8Array | string) => crypto.createHash('sha256').update(b).digest('hex');

interface Captured { raw: Array<{ id: string; raw_data: string }>; simple: Array<{ id: string; subject: string; body: string; destinations?: { ToAddresses?: string[] } }> }
async function captured(): Promise<Captured> {
  const data = await (await fetch(`${fx.moto.endpoint}/moto-api/data.json`)).json() as { ses?: { RawMessage?: Captured['raw']; Message?: Captured['simple'] } };
  return { raw: data.ses?.RawMessage ?? [], simple: data.ses?.Message ?? [] };
}
const sentCount = async () => { const c = await captured(); return c.raw.length + c.simple.length; };

/** The attachment of a raw multipart/mixed message (CRLF, base64 part), decoded. */
function attachmentOf(raw: string): { filename: string; bytes: Buffer; text: string } {
  const boundary = /boundary="([^"]+)"/.exec(raw)![1];
  const parts = raw.split(`--${boundary}`).slice(1, -1).map((p) => {
    const at = p.indexOf('\r\n\r\n');
    return { head: p.slice(0, at), body: p.slice(at + 4).replace(/\r\n$/, '') };
  });
  const att = parts.find((p) => /Content-Disposition: attachment;/i.test(p.head))!;
  const text = parts.find((p) => p !== att)!;
  const decode = (p: { head: string; body: string }) => (/base64/i.test(p.head) ? Buffer.from(p.body.replace(/\r\n/g, ''), 'base64') : Buffer.from(p.body, 'ascii'));
  return { filename: /filename="([^"]+)"/.exec(att.head)![1], bytes: decode(att), text: decode(text).toString('utf8') };
}

async function generated(jurisdiction: string, entityId: string) {
  const report = await generate({ jurisdiction, reportType: 'TRANSACTION', entityId, runStartedAt: RUN_STARTED });
  const validation = await validate(report);
  expect(validation.isValid).toBe(true);
  return { report, validation };
}

const dump = (table: string) => fx.db.query<Array<Record<string, unknown>>>(`SELECT * FROM \`${fx.db.database}\`.${table} ORDER BY 1`);

function sesEvent(detailType: string, reportId: string, messageId: string, tags: Record<string, string>, to: string) {
  return {
    version: '0', id: `evt-${detailType}-${messageId}`, source: 'aws.ses', 'detail-type': detailType, time: '2026-11-24T01:05:00Z',
    detail: { mail: { messageId, destination: [to], tags: Object.fromEntries(Object.entries({ reportId, 'ses:configuration-set': 'finbatch-test-reports', ...tags }).map(([k, v]) => [k, [v]])) } },
  };
}

beforeAll(async () => {
  fx = await startReporting();
  // Versioned like the real bucket: the e-mail names the version and the attachment is read from it.
  await fx.s3.send(new PutBucketVersioningCommand({ Bucket: REPORTS_BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
  await migrate();
  await markLoaded(fx.db, '2026-11-23');
  const ses = new SESv2Client(fx.moto.clientConfig);
  await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'reports@example.com' }));
  await ses.send(new CreateConfigurationSetCommand({ ConfigurationSetName: 'finbatch-test-reports' }));
  process.env.AWS_REGION = 'us-east-1';
  // The normalized shape the stack writes.
  process.env.RECIPIENTS_JSON = JSON.stringify({
    EU: [{ email: 'esma-reports@example.eu', mode: 'attachment' }],
    US: [
      { email: 'sec-reports@example.gov', mode: 'attachment', principalArn: ROLE },
      { email: 'cat-reports@example.gov', mode: 's3-access', principalArn: ROLE },
    ],
  });
  delete process.env.ATTACHMENT_MAX_BYTES;
});
afterAll(async () => {
  await fx?.stop();
});

describe('report-deliver per recipient', () => {
  test('attachment mode: the raw message moto sent holds the stored report byte for byte, with its SHA-256', async () => {
    const { report, validation } = await generated('EU', 'ENTITY-ATT');
    const stored = Buffer.from(await (await fx.s3.send(new GetObjectCommand({ Bucket: report.bucket, Key: report.key }))).Body!.transformToByteArray());
    const result = await deliver({ report, validation }, ctx);
    expect(result.deliveries).toEqual([{
      recipient: 'esma-reports@example.eu', mode: 'attachment', requestedMode: 'attachment', messageId: result.messageId, sha256: report.sha256, status: 'SENT',
    }]);
    const sent = (await captured()).raw.find((m) => m.id === result.messageId);
    expect(sent).toBeDefined();
    expect(sent!.raw_data).toMatch(/^To: esma-reports@example\.eu\r$/m);
    const att = attachmentOf(sent!.raw_data);
    expect(att.filename).toBe(`${report.reportId}.json`);
    expect(att.bytes.equals(stored)).toBe(true);
    expect(sha256(att.bytes)).toBe(report.sha256);
    expect(att.text).toContain(`SHA-256: ${report.sha256}`);
  });

  test('over the cap the attachment recipient falls back to s3-access; the s3-access recipient gets the get-object command; each once', async () => {
    process.env.ATTACHMENT_MAX_BYTES = '100';
    try {
      const { report, validation } = await generated('US', 'ENTITY-FALLBACK');
      const before = await sentCount();
      const result = await deliver({ report, validation }, ctx);
      expect(await sentCount()).toBe(before + 2);
      expect(result).toMatchObject({ reportId: report.reportId, status: 'SENT', recipient: 'sec-reports@example.gov', messageId: result.deliveries[0].messageId });
      expect(result.deliveries).toEqual([
        {
          recipient: 'sec-reports@example.gov', mode: 's3-access', requestedMode: 'attachment', messageId: expect.any(String), sha256: report.sha256, status: 'SENT',
          fallbackReason: expect.stringMatching(/over the attachment limit of 100 bytes/),
        },
        { recipient: 'cat-reports@example.gov', mode: 's3-access', requestedMode: 's3-access', messageId: expect.any(String), sha256: report.sha256, status: 'SENT' },
      ]);
      const { raw, simple } = await captured();
      for (const d of result.deliveries) {
        expect(raw.find((m) => m.id === d.messageId)).toBeUndefined();
        const mail = simple.find((m) => m.id === d.messageId)!;
        expect(mail.body).toContain(`SHA-256: ${report.sha256}`);
        expect(mail.body).toMatch(new RegExp(`aws s3api get-object --region us-east-1 --bucket ${REPORTS_BUCKET} --key ${report.key} --version-id \\S+ ${report.reportId}\\.json`));
        expect(mail.body).toContain(`Fetch it with the AWS credentials of ${ROLE}, which may read reports/US/ of this bucket`);
        expect(mail.body).toContain(`sha256sum ${report.reportId}.json`);
      }
      expect(simple.find((m) => m.id === result.deliveries[0].messageId)!.body).toContain('Delivery changed from attachment to S3 access');
      // Send-once per (report, SHA-256, recipient): a repeat sends nothing and returns the same deliveries.
      const again = await deliver({ report, validation }, ctx);
      expect(again.status).toBe('ALREADY_SENT');
      expect(again.deliveries.map((d) => [d.messageId, d.status])).toEqual(result.deliveries.map((d) => [d.messageId, 'ALREADY_SENT']));
      expect(await sentCount()).toBe(before + 2);
    } finally {
      delete process.env.ATTACHMENT_MAX_BYTES;
    }
  });

  test('invocations running side by side in one process keep their own permit and recipients', async () => {
    const a = await generated('EU', 'ENTITY-PAR-A');
    const b = await generated('US', 'ENTITY-PAR-B');
    const [ra, rb] = await Promise.all([deliver(a, ctx), deliver(b, ctx)]);
    expect(ra.deliveries.map((d) => [d.recipient, d.sha256, d.status])).toEqual([['esma-reports@example.eu', a.report.sha256, 'SENT']]);
    expect(rb.deliveries.map((d) => [d.recipient, d.sha256, d.status])).toEqual([
      ['sec-reports@example.gov', b.report.sha256, 'SENT'], ['cat-reports@example.gov', b.report.sha256, 'SENT'],
    ]);
    const sent = (await captured()).raw.find((m) => m.id === ra.messageId)!;
    expect(sha256(attachmentOf(sent.raw_data).bytes)).toBe(a.report.sha256);
  });

  test('the permit still refuses a tampered object for every recipient; nothing is sent', async () => {
    const { report, validation } = await generated('US', 'ENTITY-TAMPER2');
    const original = await fx.s3.send(new GetObjectCommand({ Bucket: report.bucket, Key: report.key }));
    const text = (await original.Body!.transformToString()).replace('"totalTransactions":', '"totalTransactions": ');
    await fx.s3.send(new PutObjectCommand({ Bucket: report.bucket, Key: report.key, Body: text }));
    const before = await sentCount();
    await expectRejectsNamed(deliver({ report, validation }, ctx), 'PermanentError', /does not match the payload SHA-256/);
    await expectRejectsNamed(deliver({ report: { ...report, sha256: sha256(text) }, validation }, ctx), 'PermanentError', /no validation permit/);
    expect(await sentCount()).toBe(before);
  });

  test('a bad RECIPIENTS_JSON is a PermanentError naming the problem; nothing is sent', async () => {
    const { report, validation } = await generated('EU', 'ENTITY-BADCFG');
    const saved = process.env.RECIPIENTS_JSON;
    const before = await sentCount();
    try {
      process.env.RECIPIENTS_JSON = JSON.stringify({ EU: [{ email: 'esma-reports@example.eu', mode: 's3-access' }] });
      await expectRejectsNamed(deliver({ report, validation }, ctx), 'PermanentError', /RECIPIENTS_JSON\.EU\.0\.principalArn: is required/);
    } finally {
      process.env.RECIPIENTS_JSON = saved;
    }
    expect(await sentCount()).toBe(before);
  });
});

describe('delivery_log migration', () => {
  test('adds mode, requested_mode and sha256 to delivery_log; its statements are safe to run again', async () => {
    const m = MIGRATIONS.find((x) => x.version === 3)!;
    expect(m.name).toMatch(/delivery_log/);
    const conn = await createConnection({ host: fx.db.host, port: fx.db.port, user: fx.db.user, password: fx.db.password, database: fx.db.database });
    try {
      // As if the migration had died after its statements ran but before it was recorded.
      for (const sql of m.statements) await conn.query(sql);
      const [cols] = await conn.query(`SELECT column_name AS c, column_type AS t FROM information_schema.columns
        WHERE table_schema = DATABASE() AND table_name = 'delivery_log' AND column_name IN ('mode', 'requested_mode', 'sha256') ORDER BY column_name`);
      expect((cols as Array<{ c: string; t: string }>).map((r) => [r.c, r.t])).toEqual([['mode', 'varchar(16)'], ['requested_mode', 'varchar(16)'], ['sha256', 'char(64)']]);
    } finally {
      await conn.end();
    }
  });
});

describe('report-confirm with several recipients', () => {
  test('delivery_log records mode, recipient, message id and SHA-256; CONFIRMED only when every recipient has it', async () => {
    const { report, validation } = await generated('US', 'ENTITY-TWO');
    const delivery = await deliver({ report, validation }, ctx);
    expect(delivery.deliveries.map((d) => d.mode)).toEqual(['attachment', 's3-access']);
    expect(await confirm(delivery)).toEqual({ reportId: report.reportId, status: 'PENDING' });
    const rows = async () => (await dump('delivery_log')).filter((r) => r.report_id === report.reportId);
    expect((await rows()).map((r) => ({ event: r.event, recipient: r.recipient, message_id: r.message_id, mode: r.mode, requested_mode: r.requested_mode, sha256: r.sha256 }))).toEqual(
      delivery.deliveries.map((d) => ({ event: 'SENT', recipient: d.recipient, message_id: d.messageId, mode: d.mode, requested_mode: d.requestedMode, sha256: report.sha256 })),
    );
    const tags = (mode: string) => ({ deliveryMode: mode, requestedMode: mode, sha256: report.sha256, recipientCount: '2' });
    const [a, b] = delivery.deliveries;
    expect(await confirm(sesEvent('Email Delivered', report.reportId, a.messageId, tags(a.mode), a.recipient))).toEqual({ reportId: report.reportId, status: 'PENDING' });
    const status = async () => (await dump('report_log')).find((r) => r.report_id === report.reportId)!.status;
    expect(await status()).toBe('DELIVERED');
    // The same event again counts once.
    expect((await confirm(sesEvent('Email Delivered', report.reportId, a.messageId, tags(a.mode), a.recipient))).status).toBe('PENDING');
    expect(await confirm(sesEvent('Email Delivered', report.reportId, b.messageId, tags(b.mode), b.recipient))).toEqual({ reportId: report.reportId, status: 'CONFIRMED' });
    expect(await status()).toBe('CONFIRMED');
    expect((await rows()).filter((r) => r.event === 'DELIVERY').map((r) => [r.recipient, r.mode, r.sha256])).toEqual([
      [a.recipient, 'attachment', report.sha256], [b.recipient, 's3-access', report.sha256],
    ]);
  });

  test('one bounce among several recipients makes the report DELIVERY_FAILED, whatever arrives after', async () => {
    const { report, validation } = await generated('US', 'ENTITY-BOUNCE2');
    const delivery = await deliver({ report, validation }, ctx);
    const [a, b] = delivery.deliveries;
    const tags = { sha256: report.sha256, recipientCount: '2', deliveryMode: 'attachment' };
    expect((await confirm(sesEvent('Email Bounced', report.reportId, b.messageId, tags, b.recipient))).status).toBe('DELIVERY_FAILED');
    expect((await confirm(sesEvent('Email Delivered', report.reportId, a.messageId, tags, a.recipient))).status).toBe('DELIVERY_FAILED');
    expect(await confirm(delivery)).toEqual({ reportId: report.reportId, status: 'DELIVERY_FAILED' });
  });

  test('malformed tags and deliveries are PermanentErrors', async () => {
    const { report, validation } = await generated('EU', 'ENTITY-MALFORMED');
    const delivery = await deliver({ report, validation }, ctx);
    await expectRejectsNamed(confirm(sesEvent('Email Delivered', report.reportId, delivery.messageId, { recipientCount: '2' }, 'x@example.eu')), 'PermanentError', /tag is malformed/);
    await expectRejectsNamed(confirm(sesEvent('Email Delivered', report.reportId, delivery.messageId, { sha256: 'nope' }, 'x@example.eu')), 'PermanentError', /tag is malformed/);
    await expectRejectsNamed(confirm({ ...delivery, deliveries: [{ ...delivery.deliveries[0], sha256: 'x' }] }), 'PermanentError', /sha256/);
    await expectRejectsNamed(confirm({ ...delivery, deliveries: [] }), 'PermanentError', /1 to 10/);
  });
});
