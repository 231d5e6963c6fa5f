/**
 * orchestrator end to end on moto: S3 listing (all pages), encryption checks, DynamoDB job-status and
 * audit items, real Batch SubmitJob (array jobs), one SNS summary; re-runs submit nothing twice.
 */
import './quiet-logs';
import { DescribeJobsCommand, ListJobsCommand } from '@aws-sdk/client-batch';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { PutItemCommand, QueryCommand, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { handler as typedHandler } from '../../lambda-src/orchestrator';
import { jobIdOf, shardCountOf } from '../../lambda-src/orchestrator/plan';
import { mapSettled } from '../../lambda-src/shared/concurrency';
import { captureEmf, expectRejectsNamed, OTHER_KMS_KEY_ARN } from './support';
import { AUDIT_TABLE, ComputeFixture, startCompute, STATUS_TABLE } from './compute-support';
import { raw } from './support';

// Tests send raw JSON, malformed on purpose too, and partial contexts: the handlers parse what arrives.
const handler = raw(typedHandler);

let fx: ComputeFixture;
const RUN = '2026-11-23';

const jobItems = async () => (await fx.dynamo.send(new ScanCommand({ TableName: STATUS_TABLE }))).Items!.map((i) => unmarshall(i))
  .filter((i) => i.recordType !== 'RUN').sort((a, b) => String(a.inputKey).localeCompare(String(b.inputKey)));
const batchJobs = async () => {
  const all = [];
  for (const jobStatus of ['SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED', 'FAILED'] as const) {
    all.push(...((await fx.batch.send(new ListJobsCommand({ jobQueue: fx.jobQueueArn, jobStatus }))).jobSummaryList ?? []));
  }
  return all;
};

beforeAll(async () => {
  fx = await startCompute();
  // > 1,000 keys: the listing must follow continuation tokens. Empty objects are skipped (not jobs).
  await mapSettled(Array.from({ length: 1003 }, (_, i) => i), 16, (i) => fx.put(`transactions/empty/${String(i).padStart(4, '0')}.csv`, ''));
  await fx.put('transactions/a day/small file.csv', 'x'.repeat(500));
  await fx.put('transactions/big.csv', 'y'.repeat(3000));
  await fx.put('transactions/wrong-key.csv', 'z'.repeat(100), OTHER_KMS_KEY_ARN);
  await fx.put('transactions/unencrypted.csv', 'z'.repeat(100), null);
  await fx.put('elsewhere/not-input.csv', 'z'.repeat(100));
}, 120_000);
afterAll(async () => {
  await fx?.moto.stop();
});

test('shard planning: estimate from size and TRANSACTIONS_PER_JOB, or BYTES_PER_SHARD; capped at 10,000', () => {
  expect(shardCountOf(500, 10)).toBe(1);
  expect(shardCountOf(3000, 10)).toBe(3);
  expect(shardCountOf(100 * 1024 * 1024, 10_000)).toBe(105);
  expect(shardCountOf(3000, 10, 1000)).toBe(3);
  expect(shardCountOf(10 ** 12, 1)).toBe(10_000);
});

test('first run: submits one job per non-empty encrypted object (array job for the big one), status before submit, audit, one summary', async () => {
  const summary = await handler({ runId: RUN });
  expect(summary).toEqual({ runId: RUN, listed: 1007, empty: 1003, refused: 2, alreadyProcessed: 0, submitted: 2, arrayJobs: 1, failed: 0 });

  const items = await jobItems();
  expect(items.map((i) => [i.inputKey, i.status, i.shardCount, i.runId])).toEqual([
    ['transactions/a day/small file.csv', 'SUBMITTED', 1, RUN],
    ['transactions/big.csv', 'SUBMITTED', 3, RUN],
  ]);
  for (const i of items) {
    const head = await fx.s3.send(new HeadObjectCommand({ Bucket: 'transactiondata-test', Key: i.inputKey }));
    expect(i.jobId).toBe(jobIdOf('transactiondata-test', i.inputKey, head.VersionId, head.ETag));
  }
  const described = await fx.batch.send(new DescribeJobsCommand({ jobs: items.map((i) => i.batchJobId) }));
  const big = described.jobs!.find((j) => j.jobName === items[1].jobId)!;
  expect(big.arrayProperties?.size).toBe(3);
  const env = Object.fromEntries(big.container!.environment!.map((e) => [e.name, e.value]));
  expect(env).toMatchObject({ INPUT_BUCKET: 'transactiondata-test', INPUT_KEY: 'transactions/big.csv', RUN_ID: RUN, JOB_ID: items[1].jobId, SHARD_COUNT: '3', INPUT_VERSION_ID: items[1].inputVersionId });

  const audit = (await fx.dynamo.send(new ScanCommand({ TableName: AUDIT_TABLE }))).Items!.map((i) => unmarshall(i));
  expect(audit.map((a) => a.event)).toEqual(['JOB_SUBMITTED', 'JOB_SUBMITTED']);
  expect(audit.map((a) => a.auditId).sort()).toEqual(items.map((i) => `${i.jobId}#JOB_SUBMITTED#${i.batchJobId}`).sort());

  const alerts = await fx.alerts();
  expect(alerts).toHaveLength(1);
  expect(alerts[0].Subject).toBe(`Batch run ${RUN} started: 2 job(s)`);
  expect(JSON.parse(alerts[0].Message)).toEqual({ ...summary, errors: 0 });
  expect(alerts[0].Message).not.toMatch(/transactions\//);
});

test('re-run of the same run and the next night submit nothing twice', async () => {
  const before = { items: await jobItems(), jobs: (await batchJobs()).length };
  expect(await handler({ runId: RUN })).toMatchObject({ submitted: 0, alreadyProcessed: 2, failed: 0 });
  expect(await handler({ source: 'aws.events', 'detail-type': 'Scheduled Event', time: '2026-11-24T00:00:00Z', detail: {} }))
    .toMatchObject({ runId: '2026-11-24', submitted: 0, alreadyProcessed: 2 });
  expect(await jobItems()).toEqual(before.items);
  expect((await batchJobs()).length).toBe(before.jobs);
});

test('a replaced file (new version) is a new job', async () => {
  await fx.put('transactions/a day/small file.csv', 'w'.repeat(600));
  expect(await handler({ runId: '2026-11-25' })).toMatchObject({ submitted: 1, alreadyProcessed: 1 });
  const items = await jobItems();
  expect(items.filter((i) => i.inputKey === 'transactions/a day/small file.csv')).toHaveLength(2);
});

test('a failed submit leaves no orphan: FAILED_TO_SUBMIT, PermanentError thrown, resubmitted by the next run', async () => {
  await fx.put('transactions/late.csv', 'l'.repeat(200));
  const good = process.env.JOB_DEFINITION_ARN!;
  process.env.JOB_DEFINITION_ARN = `${good.replace(/:[0-9]+$/, '')}-missing:1`;
  const jobsBefore = (await batchJobs()).length;
  try {
    await expectRejectsNamed(handler({ runId: '2026-11-26' }), 'PermanentError', /SubmitJob/);
  } finally {
    process.env.JOB_DEFINITION_ARN = good;
  }
  expect((await batchJobs()).length).toBe(jobsBefore);
  const late = (await jobItems()).find((i) => i.inputKey === 'transactions/late.csv')!;
  expect(late).toMatchObject({ status: 'FAILED_TO_SUBMIT' });
  expect(late.batchJobId).toBeUndefined();
  const alerts = await fx.alerts();
  expect(alerts.at(-1)!.Subject).toBe('Batch run 2026-11-26: 1 error(s)');
  expect(alerts.at(-1)!.Message).not.toMatch(/at .*\.ts:|stack/i);

  expect(await handler({ runId: '2026-11-26' })).toMatchObject({ submitted: 1, failed: 0 });
  expect((await jobItems()).find((i) => i.inputKey === 'transactions/late.csv')).toMatchObject({ status: 'SUBMITTED', batchJobId: expect.any(String) });
});

test('a run with nothing new is complete at once: NightlyRunCompleted in FinancialBatch with Environment only', async () => {
  await fx.alerts();
  const { result, emf } = await captureEmf(() => handler({ runId: '2026-11-27' }));
  expect(result).toMatchObject({ submitted: 0 });
  expect(emf).toHaveLength(1);
  expect(emf[0]).toMatchObject({ Environment: 'test', NightlyRunCompleted: 1 });
  const meta = emf[0]._aws as { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][] }> };
  expect(meta.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'FinancialBatch', Dimensions: [['Environment']] });
  const again = await captureEmf(() => handler({ runId: '2026-11-27' }));
  expect(again.emf).toHaveLength(0);
  const runItem = await fx.dynamo.send(new QueryCommand({ TableName: STATUS_TABLE, KeyConditionExpression: 'jobId = :id', ExpressionAttributeValues: { ':id': { S: 'run#2026-11-27' } } }));
  expect(unmarshall(runItem.Items![0])).toMatchObject({ recordType: 'RUN', completedAt: expect.any(Number) });
  // A quiet night is announced like any other (the loader loads it, reporting sends nil reports): once.
  const completed = (await fx.alerts()).filter((m) => m.MessageAttributes?.event?.Value === 'RUN_COMPLETED');
  expect(completed).toHaveLength(1);
  expect(completed[0].Subject).toBe('Batch run 2026-11-27 completed');
  expect(JSON.parse(completed[0].Message)).toMatchObject({ event: 'RUN_COMPLETED', runId: '2026-11-27', jobs: 0, failed: 0, completedBy: 'orchestrator' });
});

test('a quiet night whose RUN_COMPLETED cannot be published is not left complete: the retry completes and announces it', async () => {
  await fx.alerts();
  const topic = process.env.ALERTS_TOPIC_ARN!;
  process.env.ALERTS_TOPIC_ARN = `${topic}-missing`;
  try {
    await expect(handler({ runId: '2026-11-29' })).rejects.toThrow(/error\(s\); first: SNS Publish RUN_COMPLETED/);
  } finally {
    process.env.ALERTS_TOPIC_ARN = topic;
  }
  const runItem = async () => unmarshall((await fx.dynamo.send(new QueryCommand({
    TableName: STATUS_TABLE, KeyConditionExpression: 'jobId = :id', ExpressionAttributeValues: { ':id': { S: 'run#2026-11-29' } },
  }))).Items![0]);
  expect((await runItem()).completedAt).toBeUndefined();
  expect(await handler({ runId: '2026-11-29' })).toMatchObject({ submitted: 0 });
  expect((await runItem()).completedAt).toEqual(expect.any(Number));
  expect((await fx.alerts()).filter((m) => m.MessageAttributes?.event?.Value === 'RUN_COMPLETED').map((m) => JSON.parse(m.Message).runId)).toEqual(['2026-11-29']);
});

test('FAILED jobs are resubmitted only on an explicit replay of their own run', async () => {
  const big = (await jobItems()).find((i) => i.inputKey === 'transactions/big.csv')!;
  await fx.dynamo.send(new UpdateItemCommand({ TableName: STATUS_TABLE, Key: { jobId: { S: big.jobId } }, UpdateExpression: 'SET #s = :f', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':f': { S: 'FAILED' } } }));
  expect(await handler({ runId: '2026-11-28', retryFailed: true })).toMatchObject({ submitted: 0 });
  expect(await handler({ runId: RUN })).toMatchObject({ submitted: 0 });
  expect(await handler({ runId: RUN, retryFailed: true })).toMatchObject({ submitted: 1, arrayJobs: 1 });
  const after = (await jobItems()).find((i) => i.jobId === big.jobId)!;
  expect(after).toMatchObject({ status: 'SUBMITTED', runId: RUN });
  expect(after.batchJobId).not.toBe(big.batchJobId);
});

test('a claim left by an invocation that died before SubmitJob is submitted again once it is stale', async () => {
  await fx.put('transactions/orphan-claim.csv', 'o'.repeat(300));
  const head = await fx.s3.send(new HeadObjectCommand({ Bucket: 'transactiondata-test', Key: 'transactions/orphan-claim.csv' }));
  const jobId = jobIdOf('transactiondata-test', 'transactions/orphan-claim.csv', head.VersionId, head.ETag);
  const claim = (submittedAt: number) => fx.dynamo.send(new PutItemCommand({ TableName: STATUS_TABLE, Item: {
    jobId: { S: jobId }, runId: { S: '2026-11-29' }, status: { S: 'SUBMITTED' }, submittedAt: { N: String(submittedAt) }, inputKey: { S: 'transactions/orphan-claim.csv' },
  } }));
  await claim(Date.now() - 60_000);
  expect(await handler({ runId: '2026-11-29' })).toMatchObject({ submitted: 0 });
  await claim(Date.now() - 3_600_000);
  expect(await handler({ runId: '2026-11-29' })).toMatchObject({ submitted: 1 });
  expect((await jobItems()).find((i) => i.jobId === jobId)).toMatchObject({ status: 'SUBMITTED', batchJobId: expect.any(String) });
});

test('unknown event shapes are PermanentErrors and start nothing', async () => {
  const jobs = (await batchJobs()).length;
  // Counted, never named: an unknown event's field names are its content.
  await expectRejectsNamed(handler({ Records: [] }), 'PermanentError', /1 unexpected field\(s\); accepted fields are runId and retryFailed/);
  await expect(handler({ 'card 4111 1111 1111 1111': 1 })).rejects.toThrow(expect.objectContaining({ message: expect.not.stringMatching(/4111/) }));
  await expectRejectsNamed(handler('run'), 'PermanentError', /JSON object/);
  await expectRejectsNamed(handler({ runId: '../../x' }), 'PermanentError', /runId/);
  await expectRejectsNamed(handler({ source: 'aws.events', 'detail-type': 'Scheduled Event' }), 'PermanentError', /time/);
  // Date.parse accepts each of these and would start the run of another day.
  for (const time of ['1', '12/01/2026', '+202600-11-24T00:00:00Z', '2026-11-24', '2026-11-24T00:00:00', '2026-02-30T00:00:00Z']) {
    await expectRejectsNamed(handler({ source: 'aws.events', 'detail-type': 'Scheduled Event', time, detail: {} }), 'PermanentError', /scheduled event time must be an ISO 8601 instant/);
  }
  expect((await batchJobs()).length).toBe(jobs);
});
