/**
 * report-deliver, report-confirm and report-failure end to end: moto SES v2 (real SendEmail with a
 * configuration set) and the DynamoDB idempotency table, MariaDB for report_log/delivery_log. SES
 * throttling and rejection are forced with aws-sdk-client-mock on SES only (moto can't produce them);
 * the handler, the idempotency store and the database stay real.
 */
import './quiet-logs';
import { CreateConfigurationSetCommand, CreateEmailIdentityCommand, SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import * as crypto from 'crypto';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { handler as migrateHandler } from '../../lambda-src/report-migrate';
import { handler as generateHandler } from '../../lambda-src/report-generate';
import { handler as validateHandler } from '../../lambda-src/report-validate';
import { handler as deliverHandler } from '../../lambda-src/report-deliver';
import { handler as confirmHandler } from '../../lambda-src/report-confirm';
import { handler as failureHandler } from '../../lambda-src/report-failure';
import { captureEmf, clients, expectRejectsNamed, KMS_KEY_ARN } from './support';
import { IDEMPOTENCY_TABLE, markLoaded, ReportingFixture, REPORTS_BUCKET, startReporting } from './reporting-support';
import { raw } from './support';

// Tests send raw JSON, malformed on purpose too, and partial contexts: the handlers parse what arrives.
const migrate = raw(migrateHandler);
const generate = raw(generateHandler);
const validate = raw(validateHandler);
const deliver = raw(deliverHandler);
const confirm = raw(confirmHandler);
const failure = raw(failureHandler);

let fx: ReportingFixture;
const RUN_STARTED = '2026-11-24T01:00:00.000Z'; // Tuesday -> report date Monday 2026-11-23
const item = (jurisdiction: string, entityId: string) => ({ jurisdiction, reportType: 'TRANSACTION', entityId, runStartedAt: RUN_STARTED });
const lambdaContext = { getRemainingTimeInMillis: () => 60_000 };
/**
 * Messages moto's SES accepted (simple and raw). Not GetSendQuota's SentLast24Hours: moto counts a raw
 * message once per address it finds in the header and in the destination, i.e. twice.
 */
async function sentCount(): Promise<number> {
  const data = await (await fetch(`${fx.moto.endpoint}/moto-api/data.json`)).json() as { ses?: { RawMessage?: unknown[]; Message?: unknown[] } };
  return (data.ses?.RawMessage ?? []).length + (data.ses?.Message ?? []).length;
}
const dump = (table: string) => fx.db.query<Array<Record<string, unknown>>>(`SELECT * FROM \`${fx.db.database}\`.${table} ORDER BY 1`);


async function generated(jurisdiction: string, entityId: string) {
  const report = await generate(item(jurisdiction, entityId));
  const validation = await validate(report);
  return { report, validation };
}

function sesEvent(detailType: string, reportId: string, messageId: string) {
  return {
    version: '0', id: `evt-${detailType}-${messageId}`, source: 'aws.ses', 'detail-type': detailType, time: '2026-11-24T01:05:00Z',
    detail: { eventType: detailType.split(' ')[1], mail: { messageId, destination: ['esma-reports@example.eu'], tags: { reportId: [reportId], 'ses:configuration-set': ['finbatch-test-reports'] } } },
  };
}

beforeAll(async () => {
  fx = await startReporting();
  await migrate();
  // report-generate reports only dates a loaded nightly run feeds.
  await markLoaded(fx.db, '2026-11-23');
  const ses = new SESv2Client(fx.moto.clientConfig);
  await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'reports@example.com' }));
  await ses.send(new CreateConfigurationSetCommand({ ConfigurationSetName: 'finbatch-test-reports' }));
});
afterAll(async () => {
  await fx?.stop();
});

describe('report-deliver', () => {
  test('sends a valid report once to the configured recipient; a repeat is ALREADY_SENT with the same message id', async () => {
    const { report, validation } = await generated('EU', 'ENTITY-D');
    expect(validation.isValid).toBe(true);
    const sentBefore = await sentCount();
    const first = await deliver({ report, validation }, lambdaContext);
    expect(await sentCount()).toBe(sentBefore + 1);
    expect(first).toEqual({
      reportId: report.reportId, messageId: expect.any(String), recipient: 'esma-reports@example.eu', status: 'SENT',
      deliveries: [{ recipient: 'esma-reports@example.eu', mode: 'attachment', requestedMode: 'attachment', messageId: first.messageId, sha256: report.sha256, status: 'SENT' }],
    });
    const again = await deliver({ report, validation }, lambdaContext);
    expect(again).toEqual({ ...first, status: 'ALREADY_SENT', deliveries: [{ ...first.deliveries[0], status: 'ALREADY_SENT' }] });
    expect(await sentCount()).toBe(sentBefore + 1);
    const records = await clients(fx.moto).dynamo.send(new ScanCommand({ TableName: IDEMPOTENCY_TABLE }));
    expect(records.Items).toHaveLength(1);
    expect(records.Items![0].status.S).toBe('COMPLETED');
  });

  test('a corrected report (same id, new content) is delivered again as a resubmission; the original is not', async () => {
    const { report, validation } = await generated('EU', 'ENTITY-R');
    const sentBefore = await sentCount();
    expect(await deliver({ report, validation }, lambdaContext)).toMatchObject({ status: 'SENT' });
    // Late data: the report is regenerated (new content, new object version) and validated again.
    await fx.db.query(`INSERT INTO \`${fx.db.database}\`.transactions (transaction_id, account_id, entity_id, amount, amount_minor, currency, \`timestamp\`, counterparty, jurisdiction, report_type, run_id)
      VALUES ('LATE-R1', 'ACC-1', 'ENTITY-R', 10.0000, 1000, 'EUR', '2026-11-23 12:00:00.000', 'Bank AG', 'EU', 'TRANSACTION', 'late')`);
    const corrected = await generated('EU', 'ENTITY-R');
    expect(corrected.report.sha256).not.toBe(report.sha256);
    expect(await deliver(corrected, lambdaContext)).toMatchObject({ status: 'SENT', reportId: report.reportId });
    expect(await deliver(corrected, lambdaContext)).toMatchObject({ status: 'ALREADY_SENT' });
    expect(await deliver({ report, validation }, lambdaContext)).toMatchObject({ status: 'ALREADY_SENT' });
    expect(await sentCount()).toBe(sentBefore + 2);
  });

  test('tampered: an object changed after validation is not sent', async () => {
    const { report, validation } = await generated('EU', 'ENTITY-TAMPER');
    const original = await fx.s3.send(new GetObjectCommand({ Bucket: report.bucket, Key: report.key }));
    const text = (await original.Body!.transformToString()).replace('"totalTransactions":', '"totalTransactions": ');
    await fx.s3.send(new PutObjectCommand({ Bucket: report.bucket, Key: report.key, Body: text, Metadata: original.Metadata }));
    const sentBefore = await sentCount();
    await expectRejectsNamed(deliver({ report, validation }, lambdaContext), 'PermanentError', /does not match the payload SHA-256/);
    // The payload rewritten to the new bytes' hash: the new version carries no permit.
    const sha256 = crypto.createHash('sha256').update(text).digest('hex');
    await expectRejectsNamed(deliver({ report: { ...report, sha256 }, validation }, lambdaContext), 'PermanentError', /no validation permit/);
    expect(await sentCount()).toBe(sentBefore);
    const records = await clients(fx.moto).dynamo.send(new ScanCommand({ TableName: IDEMPOTENCY_TABLE }));
    expect(records.Items!.filter((i) => i.id.S!.includes(report.reportId))).toEqual([]);
  });

  test('tampered: a payload claiming isValid for a report with no report_log row (never validated) is not sent', async () => {
    const body = JSON.stringify({ reportId: 'EU-TRANSACTION-ENTITY-GHOST-2026-11-23', transactions: [] });
    const key = 'reports/EU/2026-11-23/EU-TRANSACTION-ENTITY-GHOST-2026-11-23.json';
    await fx.s3.send(new PutObjectCommand({ Bucket: REPORTS_BUCKET, Key: key, Body: body, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KMS_KEY_ARN }));
    const report = {
      reportId: 'EU-TRANSACTION-ENTITY-GHOST-2026-11-23', jurisdiction: 'EU', reportType: 'TRANSACTION', entityId: 'ENTITY-GHOST', reportDate: '2026-11-23',
      bucket: REPORTS_BUCKET, key, sha256: crypto.createHash('sha256').update(body).digest('hex'), transactionCount: 0,
    };
    const validation = { reportId: report.reportId, isValid: true, errors: [], warnings: [] };
    const sentBefore = await sentCount();
    await expectRejectsNamed(deliver({ report, validation }, lambdaContext), 'PermanentError', /no validation permit/);
    // validate refuses it too: no report_log row, no permit written.
    await expectRejectsNamed(validate(report), 'PermanentError', /report_log has no row/);
    await expectRejectsNamed(deliver({ report, validation }, lambdaContext), 'PermanentError', /no validation permit/);
    // A report in another bucket is never read.
    await expectRejectsNamed(deliver({ report: { ...report, bucket: 'someone-elses-bucket' }, validation }, lambdaContext), 'PermanentError', /reports bucket/);
    expect(await sentCount()).toBe(sentBefore);
  });

  test('a report that fails validation after a valid one loses its permit', async () => {
    const { report, validation } = await generated('EU', 'ENTITY-REVOKE');
    expect(validation.isValid).toBe(true);
    // The same bytes, validated against a payload report_log disagrees with: invalid, permit cleared.
    const again = await validate({ ...report, sha256: 'e'.repeat(64) });
    expect(again.isValid).toBe(false);
    await expectRejectsNamed(deliver({ report, validation }, lambdaContext), 'PermanentError', /no validation permit/);
  });

  test('recipient falls back to DEFAULT_RECIPIENT for a jurisdiction without one', async () => {
    const { report, validation } = await generated('APAC', 'ENTITY-D');
    expect((await deliver({ report, validation })).recipient).toBe('default-regulatory@example.com');
  });

  test('refuses an invalid report with PermanentError and sends nothing', async () => {
    const { report } = await generated('UK', 'ENTITY-X');
    const sentBefore = await sentCount();
    const invalid = { reportId: report.reportId, isValid: false, errors: ['MISSING_COUNTERPARTY: T1'], warnings: [] };
    await expectRejectsNamed(deliver({ report, validation: invalid }), 'PermanentError', /failed validation/);
    await expectRejectsNamed(deliver({ report, validation: { ...invalid, isValid: true, reportId: 'OTHER' } }), 'PermanentError', /does not match/);
    await expectRejectsNamed(deliver({ report }), 'PermanentError', /validation must be a JSON object/);
    expect(await sentCount()).toBe(sentBefore);
  });

  test('SES throttling is RetryableError and leaves no send-once record; the retry sends', async () => {
    const { report, validation } = await generated('US', 'ENTITY-T');
    const sentBefore = await sentCount();
    const sesMock = mockClient(SESv2Client);
    try {
      sesMock.on(SendEmailCommand).rejects(Object.assign(new Error('Maximum sending rate exceeded.'), { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } }));
      await expectRejectsNamed(deliver({ report, validation }, lambdaContext), 'RetryableError', /TooManyRequestsException/);
      sesMock.on(SendEmailCommand).rejects(Object.assign(new Error('Email address is not verified.'), { name: 'MessageRejected', $metadata: { httpStatusCode: 400 } }));
      await expectRejectsNamed(deliver({ report, validation }, lambdaContext), 'PermanentError', /MessageRejected/);
    } finally {
      sesMock.restore();
    }
    expect(await sentCount()).toBe(sentBefore);
    expect(await deliver({ report, validation }, lambdaContext)).toMatchObject({ status: 'SENT', recipient: 'sec-reports@example.gov' });
    expect(await sentCount()).toBe(sentBefore + 1);
  });
});

describe('report-confirm', () => {
  test('workflow confirm -> PENDING + DELIVERED; SES delivery event -> CONFIRMED with ReportsDelivered (all 3 dimensions) once', async () => {
    const { report, validation } = await generated('EU', 'ENTITY-C');
    const delivery = await deliver({ report, validation }, lambdaContext);
    expect(await confirm(delivery)).toEqual({ reportId: report.reportId, status: 'PENDING' });
    const row = async () => (await dump('report_log')).find((r) => r.report_id === report.reportId)!;
    expect(await row()).toMatchObject({ status: 'DELIVERED', recipient: 'esma-reports@example.eu', message_id: delivery.messageId });

    const event = sesEvent('Email Delivered', report.reportId, delivery.messageId);
    const { result, emf } = await captureEmf(() => confirm(event));
    expect(result).toEqual({ reportId: report.reportId, status: 'CONFIRMED' });
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ Jurisdiction: 'EU', ReportType: 'TRANSACTION', Status: 'CONFIRMED', ReportsDelivered: 1 });
    const meta = emf[0]._aws as { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][] }> };
    expect(meta.CloudWatchMetrics[0].Namespace).toBe('RegulatoryReporting');
    expect(meta.CloudWatchMetrics[0].Dimensions).toEqual([['Jurisdiction', 'ReportType', 'Status']]);
    expect(await row()).toMatchObject({ status: 'CONFIRMED' });

    const logBefore = await dump('delivery_log');
    const reportLogBefore = await dump('report_log');
    const replay = await captureEmf(() => confirm(event));
    expect(replay.result.status).toBe('CONFIRMED');
    expect(replay.emf).toHaveLength(0);
    expect(await confirm(delivery)).toEqual({ reportId: report.reportId, status: 'CONFIRMED' });
    expect(await dump('delivery_log')).toEqual(logBefore);
    expect(await dump('report_log')).toEqual(reportLogBefore);
    expect(logBefore.filter((r) => r.report_id === report.reportId).map((r) => r.event).sort()).toEqual(['DELIVERY', 'SENT']);
  });

  test('a bounce before the workflow confirm records DELIVERY_FAILED and the metric the alarm watches', async () => {
    const { report, validation } = await generated('US', 'ENTITY-B');
    const delivery = await deliver({ report, validation });
    const { result, emf } = await captureEmf(() => confirm(sesEvent('Email Bounced', report.reportId, delivery.messageId)));
    expect(result.status).toBe('DELIVERY_FAILED');
    expect(emf[0]).toMatchObject({ Jurisdiction: 'US', ReportType: 'TRANSACTION', Status: 'DELIVERY_FAILED', ReportsDelivered: 1 });
    expect(await confirm(delivery)).toEqual({ reportId: report.reportId, status: 'DELIVERY_FAILED' });
  });

  test('unknown shapes and unknown reports are PermanentErrors', async () => {
    await expectRejectsNamed(confirm({ source: 'aws.s3', 'detail-type': 'Object Created', detail: {} }), 'PermanentError', /unsupported event source/);
    await expectRejectsNamed(confirm({ reportId: 'EU-X', messageId: 'm', recipient: 'r', status: 'MAYBE' }), 'PermanentError', /status/);
    await expectRejectsNamed(confirm(sesEvent('Email Delivered', 'NO-SUCH-REPORT', 'm-1')), 'PermanentError', /no row for NO-SUCH-REPORT/);
    await expectRejectsNamed(confirm({ source: 'aws.ses', 'detail-type': 'Email Delivered', detail: { mail: {} } }), 'PermanentError', /reportId tag/);
  });
});

describe('report-failure', () => {
  test('records the failed stage and error; a re-run changes nothing; card-number-like causes are withheld', async () => {
    const failed = { item: item('UK', 'ENTITY-F'), stage: 'GENERATE', error: { Error: 'RetryableError', Cause: 'db down; card 4111 1111 1111 1111' } };
    expect(await failure(failed)).toEqual({ recorded: true });
    const rows = async () => (await dump('report_log')).filter((r) => r.report_id === 'UK-TRANSACTION-ENTITY-F-2026-11-23');
    const first = await rows();
    expect(first).toEqual([expect.objectContaining({ status: 'FAILED', failed_stage: 'GENERATE', error_name: 'RetryableError' })]);
    expect(String(first[0].error_cause)).not.toMatch(/4111/);
    await failure(failed);
    expect(await rows()).toEqual(first);
  });

  test.each([
    ['dots', '4111.1111.1111.1111'],
    ['slashes', '4111/1111/1111/1111'],
    ['no-break spaces', '4111\u00a01111\u00a01111\u00a01111'],
    ['next to another digit group', '2026 4111 1111 1111 1111'],
  ])('scrubs and bounds the stored error name and cause (card number written with %s)', async (name, pan) => {
    const entityId = `ENTITY-S${name.length}`;
    await failure({ item: item('UK', entityId), stage: 'VALIDATE', error: { Error: `Boom ${pan}`, Cause: `row ${pan} ${'z'.repeat(5000)}` } });
    const row = (await dump('report_log')).find((r) => r.report_id === `UK-TRANSACTION-${entityId}-2026-11-23`)!;
    expect(JSON.stringify(row)).not.toMatch(/4111/);
    expect(row.error_name).toMatch(/withheld/);
    expect(row.error_cause).toMatch(/withheld/);
  });

  test('an oversized error name and cause are cut to their columns, not refused by the database', async () => {
    await failure({ item: item('UK', 'ENTITY-BIG'), stage: 'GENERATE', error: { Error: 'E'.repeat(10_000), Cause: 'é'.repeat(19 * 1024 * 1024) } });
    const row = (await dump('report_log')).find((r) => r.report_id === 'UK-TRANSACTION-ENTITY-BIG-2026-11-23')!;
    expect(String(row.error_name).length).toBeLessThanOrEqual(128);
    expect(String(row.error_cause).length).toBeLessThanOrEqual(1000);
    expect(String(row.error_cause).endsWith('[truncated]')).toBe(true);
  });

  test('never marks a confirmed report failed', async () => {
    const { report, validation } = await generated('EU', 'ENTITY-OK');
    const delivery = await deliver({ report, validation });
    await confirm(sesEvent('Email Delivered', report.reportId, delivery.messageId));
    await failure({ item: item('EU', 'ENTITY-OK'), stage: 'CONFIRM', error: { Error: 'States.Timeout' } });
    expect((await dump('report_log')).find((r) => r.report_id === report.reportId)).toMatchObject({ status: 'CONFIRMED', failed_stage: null });
  });

  test('malformed input is PermanentError', async () => {
    await expectRejectsNamed(failure({ item: item('EU', 'ENTITY-F'), stage: 'LUNCH', error: {} }), 'PermanentError', /stage/);
    await expectRejectsNamed(failure({ stage: 'GENERATE' }), 'PermanentError', /item must be a JSON object/);
  });
});
