/**
 * ingest end to end on moto: S3 objects with real SSE headers, the transaction-metadata and
 * idempotency tables, audit entries; EventBridge and SQS (partial batch failure) event shapes.
 */
import './quiet-logs';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { handler as ingestHandler } from '../../lambda-src/ingest';
import { MotoServer } from '../../test-support/moto-server';
import { clients, createBucket, createTables, expectRejectsNamed, KMS_KEY_ARN, OTHER_KMS_KEY_ARN, startLocalAws } from './support';
import { raw } from './support';

// Tests send raw JSON, malformed on purpose too, and partial contexts: the handlers parse what arrives.
const ingest = raw(ingestHandler);

const INPUT = 'transactiondata-test';
const PAYMENTS = 'payment-files-test';
const TX_TABLE = 'finbatch-test-transaction-metadata';
const AUDIT = 'finbatch-test-audit-log';
let moto: MotoServer;
let s3: ReturnType<typeof clients>['s3'];
let dynamo: ReturnType<typeof clients>['dynamo'];

const PAN = '4111111111111111';
const payment = (id: string, extra: Record<string, unknown> = {}) => ({ transactionId: id, amount: '125.50', currency: 'EUR', cardLast4: '4242', timestamp: '2026-11-22T10:00:00Z', ...extra });

async function put(bucket: string, key: string, body: unknown, kms: string | null = KMS_KEY_ARN): Promise<void> {
  await s3.send(new PutObjectCommand({
    Bucket: bucket, Key: key, Body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    ...(kms ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: kms } : {}),
  }));
}
/** EventBridge "Object Created" as S3 sends it (key URL-encoded). */
const created = (bucket: string, key: string) => ({
  version: '0', id: `evt-${key}`, source: 'aws.s3', 'detail-type': 'Object Created', time: '2026-11-23T00:00:00Z',
  detail: { bucket: { name: bucket }, object: { key: encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/'), size: 1 } },
});
const sqsRecord = (messageId: string, body: unknown) => ({ messageId, receiptHandle: 'r', body: typeof body === 'string' ? body : JSON.stringify(body), eventSource: 'aws:sqs', attributes: {}, messageAttributes: {}, md5OfBody: '', eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:q', awsRegion: 'us-east-1' });
const s3Notification = (bucket: string, key: string) => ({ Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key: encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/') } } }] });
/** Invoked the way Lambda does: with a context (remaining time bounds the idempotency in-progress lock). */
const handler = (event: unknown) => ingest(event, { getRemainingTimeInMillis: () => 300_000 });
const table = async (name: string) => (await dynamo.send(new ScanCommand({ TableName: name }))).Items!.map((i) => unmarshall(i));

beforeAll(async () => {
  moto = await startLocalAws();
  ({ s3, dynamo } = clients(moto));
  await createBucket(s3, INPUT);
  await createBucket(s3, PAYMENTS);
  await createTables(dynamo, { transactions: TX_TABLE, audit: AUDIT, idempotency: 'finbatch-test-idempotency' });
  Object.assign(process.env, {
    INPUT_BUCKET: INPUT, PAYMENT_BUCKET: PAYMENTS, S3_KMS_KEY_ARN: KMS_KEY_ARN, TRANSACTIONS_TABLE: TX_TABLE,
    IDEMPOTENCY_TABLE: 'finbatch-test-idempotency', AUDIT_LOG_TABLE: AUDIT, MAX_AMOUNT: '1000000',
  });
});
afterAll(async () => {
  await moto?.stop();
});

describe('payment files', () => {
  test('valid file (URL-encoded key with spaces): stores allow-listed fields once; re-delivery changes nothing', async () => {
    await put(PAYMENTS, 'incoming/day 1/batch+1.json', [payment('PAY-1'), payment('PAY-2', { amount: '1000000.00', currency: 'USD', timestamp: undefined })]);
    const first = await handler(created(PAYMENTS, 'incoming/day 1/batch+1.json'));
    expect(first).toEqual({ kind: 'PAYMENT_FILE', key: 'incoming/day 1/batch+1.json', payments: 2, stored: 2, alreadyStored: 0, duplicates: 0 });
    const items = (await table(TX_TABLE)).sort((a, b) => a.transactionId.localeCompare(b.transactionId));
    expect(items.map((i) => Object.keys(i).sort())).toEqual(Array(2).fill(['amount', 'amountMinor', 'cardLast4', 'currency', 'processedAt', 'processingVersion', 'source', 'status', 'timestamp', 'transactionId']));
    expect(items[0]).toMatchObject({ transactionId: 'PAY-1', amount: '125.50', amountMinor: '12550', currency: 'EUR', cardLast4: '4242', status: 'processed', timestamp: Date.parse('2026-11-22T10:00:00Z') });
    expect(items[1]).toMatchObject({ transactionId: 'PAY-2', amount: '1000000.00', amountMinor: '100000000', currency: 'USD' });

    const again = await handler(created(PAYMENTS, 'incoming/day 1/batch+1.json'));
    expect(again).toMatchObject({ stored: 0, alreadyStored: 2, duplicates: 0 });
    expect((await table(TX_TABLE)).sort((a, b) => a.transactionId.localeCompare(b.transactionId))).toEqual(items);
    expect((await table(AUDIT)).filter((a) => a.event === 'FILE_PROCESSED')).toHaveLength(1);
  });

  test('the same payment in another file is a duplicate; the same id with different content is refused', async () => {
    await put(PAYMENTS, 'incoming/second.json', [payment('PAY-1'), payment('PAY-3')]);
    expect(await handler(created(PAYMENTS, 'incoming/second.json'))).toMatchObject({ stored: 1, duplicates: 1 });
    await put(PAYMENTS, 'incoming/conflict.json', payment('PAY-3', { amount: '999.99' }));
    await expectRejectsNamed(handler(created(PAYMENTS, 'incoming/conflict.json')), 'PermanentError', /conflicting duplicate/);
    expect((await table(TX_TABLE)).find((i) => i.transactionId === 'PAY-3')).toMatchObject({ amount: '125.50' });
  });

  test.each([
    ['missing cardLast4', { transactionId: 'B1', amount: '1.00', currency: 'EUR' }, /MISSING_FIELD \(cardLast4\)/],
    ['amount as a JSON number', payment('B2', { amount: 12.5 }), /AMOUNT_FORMAT \(amount\)/],
    ['amount over the maximum', payment('B3', { amount: '1000000.01' }), /AMOUNT_OVER_LIMIT/],
    ['amount zero', payment('B4', { amount: '0.00' }), /AMOUNT_NOT_POSITIVE/],
    ['currency outside the allow-list', payment('B5', { currency: 'CHF' }), /CURRENCY_UNSUPPORTED \(currency\)/],
    ['cardLast4 of 5 digits', payment('B6', { cardLast4: '42424' }), /CARD_LAST4_INVALID/],
    ['free-form metadata', payment('B7', { metadata: { note: 'hello' } }), /UNKNOWN_FIELD \(metadata\)/],
    ['a card number in metadata', payment('B8', { metadata: { card: PAN } }), /PAN_DETECTED/],
    ['a card number as cardLast4', payment('B9', { cardLast4: PAN }), /PAN_DETECTED/],
    ['not JSON', '{"transactionId": ', /NOT_JSON/],
    ['an empty array', [], /EMPTY_FILE/],
  ])('invalid payment JSON (%s) is refused whole, audited without content', async (name, body, reason) => {
    const key = `bad/${name.replace(/ /g, '-')}.json`;
    await put(PAYMENTS, key, body);
    const err = await expectRejectsNamed(handler(created(PAYMENTS, key)), 'PermanentError', reason);
    expect(err.message).not.toContain(PAN);
    const audit = (await table(AUDIT)).filter((a) => a.event === 'FILE_REJECTED' && JSON.parse(a.details).key === key);
    expect(audit).toHaveLength(1);
    expect(audit[0].details).not.toContain(PAN);
    expect((await table(TX_TABLE)).filter((i) => /^B[0-9]$/.test(i.transactionId))).toEqual([]);
  });

  // The detector's contract: these pass once domain/pan.ts reads dotted, slashed, NBSP-spaced numbers
  // and numbers written next to other digit groups.
  test.each([
    ['dots', '4111.1111.1111.1111'],
    ['slashes', '4111/1111/1111/1111'],
    ['no-break spaces', '4111\u00a01111\u00a01111\u00a01111'],
    ['next to another digit group', 'REF 2026 4111 1111 1111 1111'],
  ])('a payment id holding a card number written with %s is refused whole, never stored or audited', async (name, id) => {
    const key = `bad/pan-${name.replace(/ /g, '-')}.json`;
    await put(PAYMENTS, key, [payment('P-OK-1'), payment(id)]);
    const err = await expectRejectsNamed(handler(created(PAYMENTS, key)), 'PermanentError', /PAN_DETECTED/);
    expect(err.message).not.toMatch(/4111/);
    const stored = JSON.stringify([await table(AUDIT), await table(TX_TABLE)]);
    expect(stored).not.toMatch(/4111/);
    expect((await table(TX_TABLE)).find((i) => i.transactionId === 'P-OK-1')).toBeUndefined();
  });

  test('an object key holding a card number is never stored or returned: payments keep a withheld source', async () => {
    const key = 'incoming/card 4111.1111.1111.1111.json';
    await put(PAYMENTS, key, [payment('PAY-K1')]);
    const result = await handler(created(PAYMENTS, key));
    expect(result).toMatchObject({ kind: 'PAYMENT_FILE', stored: 1 });
    expect(JSON.stringify(result)).not.toMatch(/4111/);
    const stored = JSON.stringify([await table(AUDIT), await table(TX_TABLE)]);
    expect(stored).not.toMatch(/4111/);
    expect((await table(TX_TABLE)).find((i) => i.transactionId === 'PAY-K1')!.source).toMatch(/^\[withheld/);
  });

  test('unencrypted objects and objects under another KMS key are refused', async () => {
    await put(PAYMENTS, 'plain.json', payment('E1'), null);
    await put(PAYMENTS, 'other-key.json', payment('E2'), OTHER_KMS_KEY_ARN);
    await expectRejectsNamed(handler(created(PAYMENTS, 'plain.json')), 'PermanentError', /SSE-KMS \(aws:kms\), found none/);
    await expectRejectsNamed(handler(created(PAYMENTS, 'other-key.json')), 'PermanentError', /unexpected KMS key/);
    expect((await table(TX_TABLE)).filter((i) => i.transactionId.startsWith('E'))).toEqual([]);
  });
});

describe('input files and event shapes', () => {
  test('input file: registered once per version (audit), re-delivery changes nothing', async () => {
    await put(INPUT, 'transactions/2026-11-23 batch.csv', 'transactionId,amount\n');
    expect(await handler(created(INPUT, 'transactions/2026-11-23 batch.csv'))).toEqual({ kind: 'INPUT_FILE', key: 'transactions/2026-11-23 batch.csv', registered: true });
    expect(await handler(created(INPUT, 'transactions/2026-11-23 batch.csv'))).toMatchObject({ registered: false });
    expect((await table(AUDIT)).filter((a) => a.event === 'FILE_REGISTERED')).toHaveLength(1);
    await expectRejectsNamed(handler(created(INPUT, 'elsewhere/x.csv')), 'PermanentError', /under transactions\//);
  });

  test('SQS batch: partial failures name exactly the failed messages', async () => {
    await put(PAYMENTS, 'sqs/good file.json', payment('SQS-1'));
    await put(PAYMENTS, 'sqs/wrong-key.json', payment('SQS-2'), OTHER_KMS_KEY_ARN);
    const result = await handler({
      Records: [
        sqsRecord('m-good', s3Notification(PAYMENTS, 'sqs/good file.json')),
        sqsRecord('m-wrong-key', s3Notification(PAYMENTS, 'sqs/wrong-key.json')),
        sqsRecord('m-garbage', 'not json'),
        sqsRecord('m-test-event', { Service: 'Amazon S3', Event: 's3:TestEvent' }),
        sqsRecord('m-delete', { Records: [{ eventSource: 'aws:s3', eventName: 'ObjectRemoved:Delete', s3: { bucket: { name: PAYMENTS }, object: { key: 'x' } } }] }),
      ],
    });
    // Records are processed concurrently: failures are listed in completion order.
    const failed = (result as { batchItemFailures: Array<{ itemIdentifier: string }> }).batchItemFailures.map((f) => f.itemIdentifier).sort();
    expect(failed).toEqual(['m-delete', 'm-garbage', 'm-wrong-key']);
    expect((await table(TX_TABLE)).map((i) => i.transactionId)).toContain('SQS-1');
  });

  test('unknown event shapes and unknown buckets are PermanentErrors', async () => {
    await expectRejectsNamed(handler({ hello: 'world' }), 'PermanentError', /unsupported event/);
    await expectRejectsNamed(handler(null), 'PermanentError', /unsupported event/);
    await expectRejectsNamed(handler({ source: 'aws.s3', 'detail-type': 'Object Created', detail: {} }), 'PermanentError', /detail.bucket.name/);
    await expectRejectsNamed(handler(created('someone-elses-bucket', 'a.json')), 'PermanentError', /does not handle/);
  });
});
