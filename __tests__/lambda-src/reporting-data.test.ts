/**
 * report-migrate, report-loader, report-generate and report-validate end to end against a real
 * MariaDB and moto (S3, Secrets Manager): schema, bulk load, indexed report query, SSE-KMS report
 * objects, report_log, and re-runs that change nothing.
 */
import './quiet-logs';
import { GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { handler as migrateHandler } from '../../lambda-src/report-migrate';
import { handler as loadHandler } from '../../lambda-src/report-loader';
import { handler as generateHandler } from '../../lambda-src/report-generate';
import { handler as validateHandler } from '../../lambda-src/report-validate';
import { closeDb } from '../../lambda-src/shared/db';
import { KMS_KEY_ARN, expectRejectsNamed } from './support';
import { acceptedRecord, markLoaded, nightlyRun, putAccepted, ReportingFixture, REPORTS_BUCKET, startReporting } from './reporting-support';
import { raw } from './support';

// Tests send raw JSON, malformed on purpose too, and partial contexts: the handlers parse what arrives.
const migrate = raw(migrateHandler);
const load = raw(loadHandler);
const generate = raw(generateHandler);
const validate = raw(validateHandler);

let fx: ReportingFixture;
const RUN_STARTED = '2026-11-23T01:00:00.000Z'; // a Monday: previous business day is Friday 2026-11-20
const item = (jurisdiction: string, entityId = 'ENTITY-A', reportType = 'TRANSACTION') => ({ jurisdiction, reportType, entityId, runStartedAt: RUN_STARTED });
const dump = (table: string) => fx.db.query<unknown[]>(`SELECT * FROM \`${fx.db.database}\`.${table} ORDER BY 1`);

beforeAll(async () => {
  fx = await startReporting();
});
afterAll(async () => {
  await fx?.stop();
});

describe('report-migrate', () => {
  test('applies the versioned schema once; a re-run applies nothing', async () => {
    expect(await migrate()).toEqual({ applied: [1, 2, 3, 4], current: 4 });
    const before = await dump('schema_migrations');
    expect(await migrate()).toEqual({ applied: [], current: 4 });
    expect(await dump('schema_migrations')).toEqual(before);
    const index = await fx.db.query<Array<{ Column_name: string; Seq_in_index: string }>>(
      `SHOW INDEX FROM \`${fx.db.database}\`.transactions WHERE Key_name = 'idx_report_query'`);
    expect(index.map((r) => r.Column_name)).toEqual(['jurisdiction', 'report_type', 'entity_id', 'timestamp']);
    const fk = await fx.db.query<unknown[]>(`SELECT * FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = '${fx.db.database}' AND CONSTRAINT_NAME = 'fk_delivery_report'`);
    expect(fk).toHaveLength(1);
    const loadIndex = await fx.db.query<Array<{ Column_name: string }>>(`SHOW INDEX FROM \`${fx.db.database}\`.run_load WHERE Key_name = 'idx_run_load_date'`);
    expect(loadIndex.map((r) => r.Column_name)).toEqual(['report_date']);
  });
});

test('local override: with AWS_ENDPOINT_URL set, DB_USER + DB_PASSWORD replace the secret lookup', async () => {
  const saved = { arn: process.env.DB_SECRET_ARN };
  await closeDb();
  Object.assign(process.env, { DB_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:does-not-exist', DB_USER: fx.db.user, DB_PASSWORD: fx.db.password });
  try {
    expect(await migrate()).toEqual({ applied: [], current: 4 });
    await closeDb();
    delete process.env.DB_PASSWORD;
    await expectRejectsNamed(migrate(), 'PermanentError', /GetSecretValue DB_SECRET_ARN: ResourceNotFoundException/);
  } finally {
    process.env.DB_SECRET_ARN = saved.arn;
    delete process.env.DB_USER;
    delete process.env.DB_PASSWORD;
    await closeDb();
  }
});

describe('report-loader', () => {
  const RUN = '2026-11-20';
  // Every run loaded below is a complete nightly run without failed jobs (the loader's gate).
  beforeAll(async () => {
    for (const run of [RUN, 'run-bad', 'run-atomic', 'run-down', 'run-sns', 'run-uncommitted', 'run-half', 'run-sha', 'run-size', 'run-short', 'run-nosha']) {
      await nightlyRun(run, { ok: 1 });
    }
  });
  const records = Array.from({ length: 1203 }, (_, i) => acceptedRecord({
    id: `TX-${String(i).padStart(5, '0')}`,
    amount: `${1 + (i % 97)}.${String(i % 100).padStart(2, '0')}`,
    timestamp: `2026-11-20T${String(i % 24).padStart(2, '0')}:15:00.250+00:00`,
    jurisdiction: i % 3 === 0 ? 'US' : 'EU',
  }));

  test('bulk-loads every accepted shard of the run in batches; a re-run changes nothing', async () => {
    process.env.LOADER_BATCH_SIZE = '500';
    await putAccepted(fx.s3, RUN, 'job-a', 'shard-0-of-2', records.slice(0, 700));
    await putAccepted(fx.s3, RUN, 'job-a', 'shard-1-of-2', records.slice(700));
    await putAccepted(fx.s3, 'other-run', 'job-z', 'shard-0-of-1', [acceptedRecord({ id: 'NOT-THIS-RUN' })]);
    expect(await load({ runId: RUN })).toEqual({
      runId: RUN, files: 2, rows: 1203, batches: 4, uncommittedShards: 0, crossShardDuplicates: 0, runSummaryKey: `processed/${RUN}/run-summary.json`, reportDate: '2026-11-19',
      reporting: { status: 'STARTED', executionName: 'report-2026-11-19-run-2026-11-20', executionArn: expect.stringContaining(':execution:') },
    });
    const [count] = await fx.db.query<Array<{ n: string; total: string }>>(`SELECT COUNT(*) n, SUM(amount) total FROM \`${fx.db.database}\`.transactions`);
    expect(Number(count.n)).toBe(1203);
    const expectedTotal = records.reduce((s, r) => s + BigInt(r.amountMinor), 0n);
    expect(count.total).toBe(`${expectedTotal / 100n}.${String(expectedTotal % 100n).padStart(2, '0')}00`);
    const [one] = await fx.db.query<Array<Record<string, string>>>(`SELECT amount, amount_minor, \`timestamp\` ts, run_id FROM \`${fx.db.database}\`.transactions WHERE transaction_id = 'TX-00005'`);
    expect(one).toEqual({ amount: '6.0500', amount_minor: '605', ts: '2026-11-20 05:15:00.250', run_id: RUN });
    const before = await dump('transactions');
    expect(await load({ runId: RUN })).toMatchObject({ rows: 1203 });
    expect(await dump('transactions')).toEqual(before);
  });

  test('a corrupt file is refused whole (PermanentError naming file and line), nothing of it is written', async () => {
    const bad = [acceptedRecord({ id: 'BAD-1' }), { ...acceptedRecord({ id: 'BAD-2' }), amount: '12.345' }];
    await putAccepted(fx.s3, 'run-bad', 'job-b', 'shard-0-of-1', bad);
    await expectRejectsNamed(load({ runId: 'run-bad' }), 'PermanentError', /shard-0-of-1\/accepted.jsonl line 2: AMOUNT_PRECISION/);
    expect(await fx.db.query(`SELECT * FROM \`${fx.db.database}\`.transactions WHERE transaction_id LIKE 'BAD-%'`)).toEqual([]);
  });

  test('a batch the database refuses is rolled back whole: no partial batch', async () => {
    await fx.db.query(`CREATE TRIGGER \`${fx.db.database}\`.refuse_boom BEFORE INSERT ON \`${fx.db.database}\`.transactions FOR EACH ROW
      BEGIN IF NEW.transaction_id = 'ATOM-3' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused'; END IF; END`);
    try {
      process.env.LOADER_BATCH_SIZE = '5';
      const recs = Array.from({ length: 8 }, (_, i) => acceptedRecord({ id: `ATOM-${i}` }));
      await putAccepted(fx.s3, 'run-atomic', 'job-c', 'shard-0-of-1', recs);
      await expect(load({ runId: 'run-atomic' })).rejects.toThrow(/batch 0/);
      expect(await fx.db.query(`SELECT * FROM \`${fx.db.database}\`.transactions WHERE transaction_id LIKE 'ATOM-%'`)).toEqual([]);
    } finally {
      await fx.db.query(`DROP TRIGGER \`${fx.db.database}\`.refuse_boom`);
      process.env.LOADER_BATCH_SIZE = '500';
    }
  });

  test('database down: RetryableError and no rows; the retry after recovery loads everything', async () => {
    await putAccepted(fx.s3, 'run-down', 'job-d', 'shard-0-of-1', [acceptedRecord({ id: 'DOWN-1' }), acceptedRecord({ id: 'DOWN-2' })]);
    await closeDb();
    await fx.db.stop();
    try {
      await expectRejectsNamed(load({ runId: 'run-down' }), 'RetryableError', /connect/);
    } finally {
      await fx.db.restart();
    }
    expect(await fx.db.query(`SELECT * FROM \`${fx.db.database}\`.transactions WHERE transaction_id LIKE 'DOWN-%'`)).toEqual([]);
    expect(await load({ runId: 'run-down' })).toMatchObject({ rows: 2 });
  });

  test('runs from the batch-alerts RUN_COMPLETED notification (SNS subscription)', async () => {
    await putAccepted(fx.s3, 'run-sns', 'job-s', 'shard-0-of-1', [acceptedRecord({ id: 'SNS-1' })]);
    const sns = (message: unknown) => ({ Records: [{ EventSource: 'aws:sns', Sns: { Message: JSON.stringify(message) } }] });
    expect(await load(sns({ event: 'RUN_COMPLETED', runId: 'run-sns', jobs: 1 }))).toMatchObject({ runId: 'run-sns', rows: 1 });
    await expectRejectsNamed(load(sns({ event: 'JOB_FAILED', runId: 'run-sns' })), 'PermanentError', /must be RUN_COMPLETED$/);
    await expectRejectsNamed(load({ Records: [{ Sns: { Message: 'not json' } }] }), 'PermanentError', /not JSON/);
  });

  const loadedIds = async (like: string) => (await fx.db.query<Array<{ id: string }>>(
    `SELECT transaction_id id FROM \`${fx.db.database}\`.transactions WHERE transaction_id LIKE ? ORDER BY 1`, [like])).map((r) => r.id);

  test('waits for the commit marker: an accepted.jsonl without summary.json is skipped, never loaded', async () => {
    await putAccepted(fx.s3, 'run-uncommitted', 'job-u', 'shard-0-of-2', [acceptedRecord({ id: 'UNC-1' })]);
    await putAccepted(fx.s3, 'run-uncommitted', 'job-u', 'shard-1-of-2', [acceptedRecord({ id: 'UNC-2' })], { summary: false });
    expect(await load({ runId: 'run-uncommitted' })).toEqual({
      runId: 'run-uncommitted', files: 1, rows: 1, batches: 1, uncommittedShards: 1, crossShardDuplicates: 0, runSummaryKey: 'processed/run-uncommitted/run-summary.json', reportDate: null, reporting: { status: 'NOT_STARTED', reason: 'NO_REPORT_DATE' },
    });
    expect(await loadedIds('UNC-%')).toEqual(['UNC-1']);
  });

  test('all or nothing: a corrupt second file leaves none of the first file\'s rows', async () => {
    await putAccepted(fx.s3, 'run-half', 'job-h', 'shard-0-of-2', Array.from({ length: 30 }, (_, i) => acceptedRecord({ id: `HALF-A${i}` })));
    await putAccepted(fx.s3, 'run-half', 'job-h', 'shard-1-of-2', [acceptedRecord({ id: 'HALF-B1' }), { ...acceptedRecord({ id: 'HALF-B2' }), currency: 'XXX' }]);
    process.env.LOADER_BATCH_SIZE = '10';
    try {
      await expectRejectsNamed(load({ runId: 'run-half' }), 'PermanentError', /shard-1-of-2\/accepted.jsonl line 2: CURRENCY/);
    } finally {
      process.env.LOADER_BATCH_SIZE = '500';
    }
    expect(await loadedIds('HALF-%')).toEqual([]);
  });

  test('a file that differs from its commit record (size or SHA-256) refuses the run; nothing is written', async () => {
    const recs = [acceptedRecord({ id: 'SHA-1' }), acceptedRecord({ id: 'SHA-2' })];
    await putAccepted(fx.s3, 'run-sha', 'job-s', 'shard-0-of-1', recs, { outputs: { acceptedSha256: 'a'.repeat(64) } });
    await expectRejectsNamed(load({ runId: 'run-sha' }), 'PermanentError', /SHA-256 differs/);
    await putAccepted(fx.s3, 'run-size', 'job-s', 'shard-0-of-1', recs, { outputs: { acceptedBytes: 10 } });
    await expectRejectsNamed(load({ runId: 'run-size' }), 'PermanentError', /longer than the 10 bytes/);
    await putAccepted(fx.s3, 'run-short', 'job-s', 'shard-0-of-1', recs, { outputs: { acceptedBytes: 100_000 } });
    await expectRejectsNamed(load({ runId: 'run-short' }), 'PermanentError', /bytes, its summary.json recorded 100000/);
    await putAccepted(fx.s3, 'run-nosha', 'job-s', 'shard-0-of-1', recs, { outputs: { acceptedSha256: undefined } });
    await expectRejectsNamed(load({ runId: 'run-nosha' }), 'PermanentError', /acceptedSha256/);
    expect(await loadedIds('SHA-%')).toEqual([]);
  });

  test.each([
    ['dots', '4111.1111.1111.1111'],
    ['slashes', '4111/1111/1111/1111'],
    ['no-break spaces', '4111\u00a01111\u00a01111\u00a01111'],
    ['next to another digit group', 'Bank 2026 4111 1111 1111 1111'],
  ])('a card number written with %s in a stored field refuses the run without echoing it', async (name, counterparty) => {
    const run = `run-pan-${name.replace(/ /g, '-')}`;
    await nightlyRun(run, { ok: 1 });
    await putAccepted(fx.s3, run, 'job-p', 'shard-0-of-1', [acceptedRecord({ id: 'PANX-1' }), acceptedRecord({ id: 'PANX-2', counterparty })]);
    const err = await expectRejectsNamed(load({ runId: run }), 'PermanentError', /line 2: PAN_DETECTED \(counterparty\)/);
    expect(err.message).not.toMatch(/4111/);
    expect(await loadedIds('PANX-%')).toEqual([]);
  });

  test('malformed events are PermanentErrors', async () => {
    await expectRejectsNamed(load({}), 'PermanentError', /runId/);
    await expectRejectsNamed(load({ runId: '../etc' }), 'PermanentError', /runId/);
    await expectRejectsNamed(load(null), 'PermanentError', /runId/);
  });
});

describe('report-generate and report-validate', () => {
  beforeAll(async () => {
    await markLoaded(fx.db, '2026-11-20');
    const rows: Array<[string, string, string, string, string, string | null, string, string]> = [
      // id, entity, amount_minor, currency, timestamp, counterparty, jurisdiction, type
      ['G-IN-1', 'ENTITY-G', '150000', 'EUR', '2026-11-20 00:00:00.000', 'Bank A', 'EU', 'TRANSACTION'],
      ['G-IN-2', 'ENTITY-G', '99', 'GBP', '2026-11-20 23:59:59.999', 'Bank B', 'EU', 'TRANSACTION'],
      ['G-OUT-BEFORE', 'ENTITY-G', '100', 'EUR', '2026-11-19 23:59:59.999', 'Bank C', 'EU', 'TRANSACTION'],
      ['G-OUT-AFTER', 'ENTITY-G', '100', 'EUR', '2026-11-21 00:00:00.000', 'Bank C', 'EU', 'TRANSACTION'],
      ['G-OTHER-ENTITY', 'ENTITY-H', '100', 'EUR', '2026-11-20 12:00:00.000', 'Bank C', 'EU', 'TRANSACTION'],
      ['G-OTHER-TYPE', 'ENTITY-G', '100', 'EUR', '2026-11-20 12:00:00.000', 'Bank C', 'EU', 'MARGIN'],
      ['G-NO-CP', 'ENTITY-N', '100', 'EUR', '2026-11-20 12:00:00.000', null, 'EU', 'TRANSACTION'],
      ['G-US-LARGE', 'ENTITY-G', '250000000', 'USD', '2026-11-20 15:00:00.000', null, 'US', 'TRANSACTION'],
      ['G-US-SMALL', 'ENTITY-G', '100000000', 'USD', '2026-11-20 16:00:00.000', null, 'US', 'TRANSACTION'],
    ];
    for (const r of rows) {
      await fx.db.query(`INSERT INTO \`${fx.db.database}\`.transactions (transaction_id, account_id, entity_id, amount, amount_minor, currency, \`timestamp\`, counterparty, jurisdiction, report_type, run_id)
        VALUES (?, 'ACC', ?, ? / 100, ?, ?, ?, ?, ?, ?, 'seed')`, [r[0], r[1], r[2], r[2], r[3], r[4], r[5], r[6], r[7]]);
    }
  });

  test('EU report: previous business day only, exact amounts, SSE-KMS object, report_log GENERATED; re-run rewrites nothing', async () => {
    const result = await generate(item('EU', 'ENTITY-G'));
    expect(result).toMatchObject({
      reportId: 'EU-TRANSACTION-ENTITY-G-2026-11-20', reportDate: '2026-11-20', bucket: REPORTS_BUCKET,
      key: 'reports/EU/2026-11-20/EU-TRANSACTION-ENTITY-G-2026-11-20.json', transactionCount: 2,
    });
    const obj = await fx.s3.send(new GetObjectCommand({ Bucket: REPORTS_BUCKET, Key: result.key }));
    expect(obj.ServerSideEncryption).toBe('aws:kms');
    expect(obj.SSEKMSKeyId).toBe(KMS_KEY_ARN);
    const report = JSON.parse(await obj.Body!.transformToString());
    expect(report).toMatchObject({ framework: 'MiFID II', frameworkVersion: '2.0', totalTransactions: 2, totalsByCurrency: { EUR: '1500.00', GBP: '0.99' } });
    expect(report.transactions.map((t: { transactionId: string }) => t.transactionId)).toEqual(['G-IN-1', 'G-IN-2']);
    expect(report.transactions[1]).toEqual({ transactionId: 'G-IN-2', amount: '0.99', currency: 'GBP', timestamp: '2026-11-20T23:59:59.999Z', counterparty: 'Bank B' });
    const logBefore = await dump('report_log');
    expect(logBefore).toEqual([expect.objectContaining({ report_id: result.reportId, status: 'GENERATED', sha256: result.sha256, transaction_count: 2 })]);

    const again = await generate(item('EU', 'ENTITY-G'));
    expect(again).toEqual(result);
    const versions = await fx.s3.send(new ListObjectVersionsCommand({ Bucket: REPORTS_BUCKET, Prefix: result.key }));
    expect(versions.Versions).toHaveLength(1);
    expect(await dump('report_log')).toEqual(logBefore);

    const validation = await validate(result);
    expect(validation).toEqual({ reportId: result.reportId, isValid: true, errors: [], warnings: [] });
    const [row] = await dump('report_log') as Array<Record<string, unknown>>;
    expect(row).toMatchObject({ status: 'VALIDATED', validation_errors: '[]', validation_warnings: '[]' });
    expect(await validate(result)).toEqual(validation);
    expect(await dump('report_log')).toEqual([row]);
  });

  test('US large trades are flagged at generation (> 1,000,000, exact)', async () => {
    const result = await generate(item('US', 'ENTITY-G'));
    const report = JSON.parse(await (await fx.s3.send(new GetObjectCommand({ Bucket: REPORTS_BUCKET, Key: result.key }))).Body!.transformToString());
    expect(report).toMatchObject({ framework: 'CAT', frameworkVersion: '1.3', largeTradeCount: 1 });
    expect(report.transactions.map((t: { transactionId: string; largeTradeFlag: boolean }) => [t.transactionId, t.largeTradeFlag]))
      .toEqual([['G-US-LARGE', true], ['G-US-SMALL', false]]);
    expect((await validate(result)).isValid).toBe(true);
  });

  test('zero transactions: a valid nil report with the NO_TRANSACTIONS warning', async () => {
    const result = await generate(item('UK', 'ENTITY-EMPTY'));
    expect(result.transactionCount).toBe(0);
    const v = await validate(result);
    expect(v.isValid).toBe(true);
    expect(v.warnings).toEqual([expect.stringMatching(/^NO_TRANSACTIONS/)]);
  });

  test('EU transaction without counterparty: invalid, VALIDATION_FAILED recorded', async () => {
    const result = await generate(item('EU', 'ENTITY-N'));
    const v = await validate(result);
    expect(v.isValid).toBe(false);
    expect(v.errors).toEqual(['MISSING_COUNTERPARTY: G-NO-CP (MiFID II requires a counterparty)']);
    const rows = await fx.db.query<Array<{ status: string; validation_errors: string }>>(`SELECT status, validation_errors FROM \`${fx.db.database}\`.report_log WHERE report_id = ?`, [result.reportId]);
    expect(rows).toEqual([{ status: 'VALIDATION_FAILED', validation_errors: JSON.stringify(v.errors) }]);
  });

  test('a report with thousands of findings records and returns a bounded list with the count', async () => {
    const values = Array.from({ length: 3000 }, (_, i) => `('MANY-${i}', 'ACC-1', 'ENTITY-MANY', 1.0000, 100, 'EUR', '2026-11-20 09:00:00.000', NULL, 'EU', 'TRANSACTION', 'r')`).join(', ');
    await fx.db.query(`INSERT INTO \`${fx.db.database}\`.transactions (transaction_id, account_id, entity_id, amount, amount_minor, currency, \`timestamp\`, counterparty, jurisdiction, report_type, run_id) VALUES ${values}`);
    const v = await validate(await generate(item('EU', 'ENTITY-MANY')));
    expect(v.isValid).toBe(false);
    expect(v.errors).toHaveLength(41);
    expect(v.errors[40]).toBe('TRUNCATED: 2960 more finding(s) not listed (3000 in total)');
    expect(Buffer.byteLength(JSON.stringify(v), 'utf8')).toBeLessThan(32 * 1024);
    const [row] = await fx.db.query<Array<{ status: string; validation_errors: string }>>(`SELECT status, validation_errors FROM \`${fx.db.database}\`.report_log WHERE report_id = 'EU-TRANSACTION-ENTITY-MANY-2026-11-20'`);
    expect(row).toEqual({ status: 'VALIDATION_FAILED', validation_errors: JSON.stringify(v.errors) });
  });

  test('a report changed after generation fails validation on its SHA-256', async () => {
    const result = await generate(item('APAC', 'ENTITY-G'));
    const head = await fx.s3.send(new HeadObjectCommand({ Bucket: REPORTS_BUCKET, Key: result.key }));
    expect(head.ServerSideEncryption).toBe('aws:kms');
    await fx.s3.send(new PutObjectCommand({ Bucket: REPORTS_BUCKET, Key: result.key, Body: '{"tampered":true}', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KMS_KEY_ARN }));
    const v = await validate(result);
    expect(v.isValid).toBe(false);
    expect(v.errors[0]).toMatch(/^INTEGRITY/);
  });

  test('malformed payloads are PermanentErrors naming the field', async () => {
    await expectRejectsNamed(generate({ ...item('EU'), jurisdiction: 'MARS' }), 'PermanentError', /item.jurisdiction/);
    await expectRejectsNamed(generate({ ...item('EU'), runStartedAt: 'yesterday' }), 'PermanentError', /runStartedAt/);
    await expectRejectsNamed(generate({ ...item('EU'), entityId: "x' OR 1=1" }), 'PermanentError', /entityId/);
    await expectRejectsNamed(generate('not an object'), 'PermanentError', /item must be a JSON object/);
    await expectRejectsNamed(validate({ reportId: 'X' }), 'PermanentError', /report.jurisdiction/);
    const ok = await generate(item('EU', 'ENTITY-G'));
    await expectRejectsNamed(validate({ ...ok, bucket: 'someone-elses-bucket' }), 'PermanentError', /REPORTS_BUCKET/);
  });
});
