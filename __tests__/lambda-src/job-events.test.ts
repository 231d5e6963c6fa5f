/**
 * job-events end to end on moto: jobs really submitted by the orchestrator to moto Batch, state-change
 * events built from DescribeJobs (the event detail is the job description), DynamoDB transitions,
 * audit entries, EMF metrics and SNS notifications read back through an SQS subscriber.
 */
import './quiet-logs';
import { DescribeJobsCommand, JobDetail } from '@aws-sdk/client-batch';
import { GetItemCommand, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { handler as orchestrateHandler } from '../../lambda-src/orchestrator';
import { handler as typedHandler } from '../../lambda-src/job-events';
import { captureEmf, expectRejectsNamed } from './support';
import { AUDIT_TABLE, ComputeFixture, startCompute, STATUS_TABLE } from './compute-support';
import { raw } from './support';

// Tests send raw JSON, malformed on purpose too, and partial contexts: the handlers parse what arrives.
const orchestrate = raw(orchestrateHandler);
const handler = raw(typedHandler);

let fx: ComputeFixture;
const RUN = '2026-11-23';
let jobs: Array<{ jobId: string; batchJobId: string; key: string }>;

const item = async (jobId: string) => unmarshall((await fx.dynamo.send(new GetItemCommand({ TableName: STATUS_TABLE, Key: { jobId: { S: jobId } }, ConsistentRead: true }))).Item!);
async function eventFor(batchJobId: string, status: string, extra: Partial<JobDetail> = {}) {
  const job = (await fx.batch.send(new DescribeJobsCommand({ jobs: [batchJobId] }))).jobs![0];
  return { version: '0', id: `e-${batchJobId}-${status}`, source: 'aws.batch', 'detail-type': 'Batch Job State Change', time: '2026-11-23T01:00:00Z', detail: { ...job, status, ...extra } };
}
const metricNames = (emf: Array<Record<string, unknown>>) => emf.flatMap((d) => (d._aws as { CloudWatchMetrics: Array<{ Metrics: Array<{ Name: string }> }> }).CloudWatchMetrics[0].Metrics.map((m) => m.Name)).sort();

beforeAll(async () => {
  fx = await startCompute();
  await fx.put('transactions/one.csv', 'a'.repeat(500));
  await fx.put('transactions/two.csv', 'b'.repeat(500));
  await orchestrate({ runId: RUN });
  await fx.alerts();
  const items = (await fx.dynamo.send(new ScanCommand({ TableName: STATUS_TABLE }))).Items!.map((i) => unmarshall(i)).filter((i) => i.recordType !== 'RUN');
  jobs = items.map((i) => ({ jobId: i.jobId, batchJobId: i.batchJobId, key: i.inputKey })).sort((a, b) => a.key.localeCompare(b.key));
  expect(jobs).toHaveLength(2);
}, 60_000);
afterAll(async () => {
  await fx?.moto.stop();
});

test('RUNNING then SUCCEEDED: forward transitions, audit, metrics once; replays and late events change nothing', async () => {
  const [one] = jobs;
  expect(await handler(await eventFor(one.batchJobId, 'RUNNING'))).toMatchObject({ jobId: one.jobId, status: 'RUNNING', outcome: 'UPDATED' });
  // The processor reports its counts before Batch reports success.
  await fx.dynamo.send(new UpdateItemCommand({ TableName: STATUS_TABLE, Key: { jobId: { S: one.jobId } }, UpdateExpression: 'SET processedCount = :p, rejectedCount = :r', ExpressionAttributeValues: { ':p': { N: '9990' }, ':r': { N: '10' } } }));
  const { result, emf } = await captureEmf(async () => handler(await eventFor(one.batchJobId, 'SUCCEEDED')));
  expect(result).toEqual({ jobId: one.jobId, status: 'SUCCEEDED', outcome: 'UPDATED', runCompleted: false });
  const done = await item(one.jobId);
  expect(done.status).toBe('SUCCEEDED');
  expect(emf).toHaveLength(1);
  expect(emf[0]).toMatchObject({ Environment: 'test', JobsSucceeded: 1, RecordsProcessed: 9990, RecordsRejected: 10 });
  expect((emf[0]._aws as { CloudWatchMetrics: Array<{ Dimensions: string[][]; Namespace: string }> }).CloudWatchMetrics[0]).toMatchObject({ Namespace: 'FinancialBatch', Dimensions: [['Environment']] });

  const replay = await captureEmf(async () => handler(await eventFor(one.batchJobId, 'SUCCEEDED')));
  expect(replay.result.outcome).toBe('UNCHANGED');
  expect(replay.emf).toHaveLength(0);
  // Never backwards: terminal stays terminal, a late RUNNING or a FAILED can't undo SUCCEEDED.
  await handler(await eventFor(one.batchJobId, 'RUNNING'));
  await handler(await eventFor(one.batchJobId, 'FAILED', { statusReason: 'late' }));
  expect((await item(one.jobId)).status).toBe('SUCCEEDED');
  const audit = (await fx.dynamo.send(new ScanCommand({ TableName: AUDIT_TABLE }))).Items!.map((i) => unmarshall(i)).filter((a) => a.jobId === one.jobId);
  expect(audit.map((a) => a.event).sort()).toEqual(['BATCH_FAILED', 'BATCH_RUNNING', 'BATCH_SUCCEEDED', 'JOB_SUBMITTED']);
  expect(await fx.alerts()).toEqual([]);
});

test('FAILED: status, one failure notification; last job of the run -> NightlyRunCompleted and one completion message', async () => {
  const [, two] = jobs;
  const { result, emf } = await captureEmf(async () => handler(await eventFor(two.batchJobId, 'FAILED', {
    statusReason: 'Essential container in task exited', container: { exitCode: 2 },
  })));
  expect(result).toMatchObject({ jobId: two.jobId, status: 'FAILED', outcome: 'UPDATED', runCompleted: true });
  expect(await item(two.jobId)).toMatchObject({ status: 'FAILED', exitCode: 2, failureReason: 'Essential container in task exited' });
  expect(emf).toHaveLength(1);
  expect(emf[0]).toMatchObject({ JobsFailed: 1, NightlyRunCompleted: 1, Environment: 'test' });
  expect(metricNames(emf)).toEqual(['JobsFailed', 'NightlyRunCompleted', 'NightlyRunDurationSeconds', 'RecordsProcessed', 'RecordsRejected']);
  const alerts = await fx.alerts();
  expect(alerts.map((a) => a.Subject)).toEqual([`Batch job failed (run ${RUN})`, `Batch run ${RUN} completed`]);
  expect(JSON.parse(alerts[1].Message)).toMatchObject({ event: 'RUN_COMPLETED', runId: RUN, jobs: 2, succeeded: 1, failed: 1, recordsProcessed: 9990, recordsRejected: 10, withinWindow: true });
  // The reporting loader's subscription filters on this attribute.
  expect(alerts.map((a) => a.MessageAttributes?.event?.Value)).toEqual(['JOB_FAILED', 'RUN_COMPLETED']);

  const replay = await captureEmf(async () => handler(await eventFor(two.batchJobId, 'FAILED')));
  expect(replay.emf).toHaveLength(0);
  expect(await fx.alerts()).toEqual([]);
});

test('ignored: array children, jobs the platform did not submit, superseded Batch job ids', async () => {
  const [one] = jobs;
  expect(await handler(await eventFor(one.batchJobId, 'SUCCEEDED', { arrayProperties: { index: 1 } }))).toEqual({ outcome: 'IGNORED' });
  expect(await handler(await eventFor(one.batchJobId, 'FAILED', { jobName: 'manual-test-job', tags: {} }))).toEqual({ outcome: 'IGNORED' });
  expect(await handler(await eventFor(one.batchJobId, 'FAILED', { jobId: 'an-older-attempt' }))).toEqual({ jobId: one.jobId, outcome: 'IGNORED' });
  expect((await item(one.jobId)).status).toBe('SUCCEEDED');
});

test('malformed and unknown event shapes are PermanentErrors', async () => {
  await expectRejectsNamed(handler({ source: 'aws.s3', 'detail-type': 'Object Created', detail: {} }), 'PermanentError', /aws.batch/);
  await expectRejectsNamed(handler({ source: 'aws.batch', 'detail-type': 'Batch Job State Change' }), 'PermanentError', /no detail/);
  await expectRejectsNamed(handler({ source: 'aws.batch', 'detail-type': 'Batch Job State Change', detail: { jobId: 'x', jobName: 'y', status: 'EXPLODED' } }), 'PermanentError', /known status/);
  await expectRejectsNamed(handler(undefined), 'PermanentError', /unsupported event/);
});

test('a bad event time is refused before any write (Date.parse would accept each of these)', async () => {
  const [one] = jobs;
  const auditBefore = (await fx.dynamo.send(new ScanCommand({ TableName: AUDIT_TABLE }))).Items!.length;
  const statusBefore = await item(one.jobId);
  for (const time of ['1', '12/01/2026', '+202600-11-23T01:00:00Z', '2026-11-23', undefined]) {
    const event = { ...(await eventFor(one.batchJobId, 'FAILED')), time };
    await expectRejectsNamed(handler(event), 'PermanentError', /event time must be an ISO 8601 instant/);
  }
  expect((await fx.dynamo.send(new ScanCommand({ TableName: AUDIT_TABLE }))).Items!.length).toBe(auditBefore);
  expect(await item(one.jobId)).toEqual(statusBefore);
});

test('a 19 MB failure reason: status, audit and alert are written, bounded and scrubbed', async () => {
  await fx.put('transactions/three.csv', 'c'.repeat(500));
  await orchestrate({ runId: '2026-11-24' });
  await fx.alerts();
  const three = (await fx.dynamo.send(new ScanCommand({ TableName: STATUS_TABLE }))).Items!.map((i) => unmarshall(i)).find((i) => i.inputKey === 'transactions/three.csv')!;
  const huge = `error at row 7: ${'x'.repeat(19 * 1024 * 1024)}`;
  await handler(await eventFor(three.batchJobId, 'FAILED', { statusReason: huge, container: { exitCode: 1 } }));
  const status = await item(three.jobId);
  expect(status.status).toBe('FAILED');
  expect(Buffer.byteLength(status.failureReason, 'utf8')).toBeLessThanOrEqual(1024);
  const audit = (await fx.dynamo.send(new ScanCommand({ TableName: AUDIT_TABLE }))).Items!.map((i) => unmarshall(i)).find((a) => a.jobId === three.jobId && a.event === 'BATCH_FAILED')!;
  expect(Buffer.byteLength(audit.details, 'utf8')).toBeLessThanOrEqual(16 * 1024);
  const alerts = await fx.alerts();
  expect(alerts.map((a) => a.MessageAttributes?.event?.Value)).toContain('JOB_FAILED');
  const failed = JSON.parse(alerts.find((a) => a.MessageAttributes?.event?.Value === 'JOB_FAILED')!.Message);
  expect(failed.reason.startsWith('error at row 7: xxx')).toBe(true);
  expect(Buffer.byteLength(failed.reason, 'utf8')).toBeLessThanOrEqual(1024);
});

test.each([
  ['card 4111.1111.1111.1111 in row 3'],
  ['card 4111/1111/1111/1111 in row 3'],
  ['card 4111\u00a01111\u00a01111\u00a01111 in row 3'],
  ['ref 2026 4111 1111 1111 1111 in row 3'],
])('a failure reason holding a card number (%j) is withheld from status, audit and alert', async (reason) => {
  const key = `transactions/pan-${Buffer.from(reason).toString('hex').slice(10, 40)}.csv`;
  await fx.put(key, 'd'.repeat(500));
  await orchestrate({ runId: '2026-11-25' });
  await fx.alerts();
  const job = (await fx.dynamo.send(new ScanCommand({ TableName: STATUS_TABLE }))).Items!.map((i) => unmarshall(i)).find((i) => i.inputKey === key)!;
  await handler(await eventFor(job.batchJobId, 'FAILED', { statusReason: reason, container: { exitCode: 1 } }));
  const stored = JSON.stringify([await item(job.jobId), (await fx.dynamo.send(new ScanCommand({ TableName: AUDIT_TABLE }))).Items!.map((i) => unmarshall(i)).filter((a) => a.jobId === job.jobId), await fx.alerts()]);
  // The card number in any spelling (random ids from the local servers, such as a version id
  // "61284111-...", may hold the digits 4111 on their own: those are not the card number).
  expect(stored).not.toMatch(/4111\P{L}{0,3}1111\P{L}{0,3}1111\P{L}{0,3}1111/u);
  expect(stored).toContain('withheld');
});
