/**
 * Replaying a failed job on moto: a run with one failed job is complete and FAILED; the replay
 * (`{runId, retryFailed: true}`) reopens that job in the run record in the same transaction that
 * claims it, so the run is incomplete until the replayed job ends, completes exactly once more, and is
 * SUCCEEDED (loadable) when the job succeeds. A duplicate replay changes nothing.
 */
import { handlerOutput } from './quiet-logs';
import { DescribeJobsCommand } from '@aws-sdk/client-batch';
import { GetItemCommand, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { handler as orchestrateHandler } from '../../lambda-src/orchestrator';
import { handler as jobEventsHandler } from '../../lambda-src/job-events';
import { getRunRecord, runStateOf } from '../../lambda-src/shared/run-record';
import { raw } from './support';
import { ComputeFixture, startCompute, STATUS_TABLE } from './compute-support';

const orchestrate = raw(orchestrateHandler);
const jobEvents = raw(jobEventsHandler);
let fx: ComputeFixture;
const RUN = '2026-11-30';
let one: string;
let two: string;
let failedBatchJob: string;

const item = async (jobId: string) => unmarshall((await fx.dynamo.send(new GetItemCommand({ TableName: STATUS_TABLE, Key: { jobId: { S: jobId } }, ConsistentRead: true }))).Item!);
async function batchEvent(jobId: string, status: 'RUNNING' | 'SUCCEEDED' | 'FAILED', batchJobId?: string) {
  batchJobId ??= (await item(jobId)).batchJobId as string;
  const job = (await fx.batch.send(new DescribeJobsCommand({ jobs: [batchJobId] }))).jobs![0];
  return { version: '0', id: `e-${batchJobId}-${status}`, source: 'aws.batch', account: '123456789012', region: 'us-east-1', resources: [],
    'detail-type': 'Batch Job State Change', time: '2026-11-30T01:00:00Z', detail: { ...job, status, ...(status === 'FAILED' ? { container: { exitCode: 1 } } : {}) } };
}
const setCounts = (jobId: string, processed: number, rejected: number) => fx.dynamo.send(new UpdateItemCommand({
  TableName: STATUS_TABLE, Key: { jobId: { S: jobId } }, UpdateExpression: 'SET processedCount = :p, rejectedCount = :r',
  ExpressionAttributeValues: { ':p': { N: String(processed) }, ':r': { N: String(rejected) } },
}));
const completions = () => handlerOutput.emf().filter((d) => d.NightlyRunCompleted !== undefined).length;
const runCompletedAlerts = async () => (await fx.alerts()).filter((a) => a.MessageAttributes?.event?.Value === 'RUN_COMPLETED');

beforeAll(async () => {
  fx = await startCompute();
  await fx.put('transactions/replay-one.csv', 'a'.repeat(500));
  await fx.put('transactions/replay-two.csv', 'b'.repeat(500));
  expect(await orchestrate({ runId: RUN })).toMatchObject({ submitted: 2 });
  const items = (await fx.dynamo.send(new ScanCommand({ TableName: STATUS_TABLE }))).Items!.map((i) => unmarshall(i)).filter((i) => i.recordType !== 'RUN');
  one = items.find((i) => i.inputKey === 'transactions/replay-one.csv')!.jobId;
  two = items.find((i) => i.inputKey === 'transactions/replay-two.csv')!.jobId;
  await fx.alerts();
}, 60_000);
afterAll(async () => {
  await fx?.moto.stop();
});

test('one job fails: the run is complete and FAILED (the loader refuses it)', async () => {
  await setCounts(one, 100, 1);
  expect(await jobEvents(await batchEvent(one, 'SUCCEEDED'))).toMatchObject({ outcome: 'UPDATED', runCompleted: false });
  // The failed attempt had processed part of its file.
  await setCounts(two, 7, 3);
  handlerOutput.clear();
  expect(await jobEvents(await batchEvent(two, 'FAILED'))).toMatchObject({ status: 'FAILED', runCompleted: true });
  expect(completions()).toBe(1);
  expect(await runCompletedAlerts()).toHaveLength(1);
  const run = (await getRunRecord(STATUS_TABLE, RUN))!;
  expect(runStateOf(run)).toBe('FAILED');
  expect(run).toMatchObject({ failedJobs: 1, succeededJobs: 1, processedCount: 107, rejectedCount: 4, failedJobCounts: new Set([`${two}|7|3`]) });
});

test('the replay reopens the failed job: run incomplete, its counts taken back, not completed by the orchestrator', async () => {
  handlerOutput.clear();
  failedBatchJob = (await item(two)).batchJobId;
  expect(await orchestrate({ runId: RUN, retryFailed: true })).toMatchObject({ submitted: 1, alreadyProcessed: 1, failed: 0 });
  expect(await item(two)).toMatchObject({ status: 'SUBMITTED', runId: RUN, batchJobId: expect.any(String) });
  expect((await item(two)).batchJobId).not.toBe(failedBatchJob);
  const run = (await getRunRecord(STATUS_TABLE, RUN))!;
  expect(runStateOf(run)).toBe('INCOMPLETE');
  expect(run.completedAt).toBeUndefined();
  expect(run.terminalJobs).toEqual(new Set([one]));
  expect(run.submittedJobs).toEqual(new Set([one, two]));
  expect(run).toMatchObject({ failedJobs: 0, succeededJobs: 1, processedCount: 100, rejectedCount: 1 });
  expect(run.failedJobCounts).toBeUndefined();
  expect(completions()).toBe(0);
  expect(await runCompletedAlerts()).toHaveLength(0);
});

test('a duplicate replay request changes nothing', async () => {
  const before = { run: await getRunRecord(STATUS_TABLE, RUN), two: await item(two) };
  expect(await orchestrate({ runId: RUN, retryFailed: true })).toMatchObject({ submitted: 0, alreadyProcessed: 2, failed: 0 });
  expect(await getRunRecord(STATUS_TABLE, RUN)).toEqual(before.run);
  expect(await item(two)).toEqual(before.two);
  expect(completions()).toBe(0);
});

test('the replayed job succeeds: the run is SUCCEEDED and completes exactly once; late and repeated events change nothing', async () => {
  // The superseded attempt's failure, redelivered late, is ignored.
  expect(await jobEvents(await batchEvent(two, 'FAILED', failedBatchJob))).toEqual({ jobId: two, outcome: 'IGNORED' });
  expect(await jobEvents(await batchEvent(two, 'RUNNING'))).toMatchObject({ status: 'RUNNING' });
  await setCounts(two, 20, 5);
  expect(await jobEvents(await batchEvent(two, 'SUCCEEDED'))).toMatchObject({ status: 'SUCCEEDED', runCompleted: true });
  expect(await jobEvents(await batchEvent(two, 'SUCCEEDED'))).toEqual({ jobId: two, status: 'SUCCEEDED', outcome: 'UNCHANGED' });
  expect(await orchestrate({ runId: RUN, retryFailed: true })).toMatchObject({ submitted: 0 });

  const run = (await getRunRecord(STATUS_TABLE, RUN))!;
  expect(runStateOf(run)).toBe('SUCCEEDED');
  expect(run).toMatchObject({ failedJobs: 0, succeededJobs: 2, processedCount: 120, rejectedCount: 6, completedAt: expect.any(Number) });
  expect(completions()).toBe(1);
  const completed = await runCompletedAlerts();
  expect(completed).toHaveLength(1);
  expect(JSON.parse(completed[0].Message)).toMatchObject({ runId: RUN, jobs: 2, succeeded: 2, failed: 0, recordsProcessed: 120 });
});

test('a run record written before failedJobCounts existed: the job status item\'s counts are taken back', async () => {
  const run2 = '2026-12-01';
  await fx.put('transactions/replay-three.csv', 'c'.repeat(500));
  expect(await orchestrate({ runId: run2 })).toMatchObject({ submitted: 1 });
  const three = (await fx.dynamo.send(new ScanCommand({ TableName: STATUS_TABLE }))).Items!.map((i) => unmarshall(i))
    .find((i) => i.inputKey === 'transactions/replay-three.csv')!.jobId as string;
  await setCounts(three, 11, 2);
  expect(await jobEvents(await batchEvent(three, 'FAILED'))).toMatchObject({ status: 'FAILED', runCompleted: true });
  await fx.dynamo.send(new UpdateItemCommand({ TableName: STATUS_TABLE, Key: { jobId: { S: `run#${run2}` } }, UpdateExpression: 'REMOVE failedJobCounts' }));
  expect(runStateOf(await getRunRecord(STATUS_TABLE, run2))).toBe('FAILED');

  expect(await orchestrate({ runId: run2, retryFailed: true })).toMatchObject({ submitted: 1 });
  const reopened = (await getRunRecord(STATUS_TABLE, run2))!;
  expect(runStateOf(reopened)).toBe('INCOMPLETE');
  expect(reopened).toMatchObject({ failedJobs: 0, processedCount: 0, rejectedCount: 0 });
  expect(reopened.terminalJobs).toBeUndefined();
});
