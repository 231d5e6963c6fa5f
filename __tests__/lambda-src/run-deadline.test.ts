/**
 * run-deadline on moto: the run record as the orchestrator and job-events write it (shared/run-record),
 * checked at the end of the window with an injected clock, for an on-time, a late, a failed and a
 * missing run.
 */
import './quiet-logs';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { MotoServer } from '../../test-support/moto-server';
import { captureEmf, clients, createTables, startLocalAws } from './support';
import { checkDeadline, checkLoaded, DeadlineEnv, runIdFor } from '../../lambda-src/run-deadline';
import { addSubmittedJobs, addTerminalJob, markRunCompleted, markRunLoaded } from '../../lambda-src/shared/run-record';

jest.setTimeout(60_000);

const TABLE = 'finbatch-test-job-status';
let moto: MotoServer;
let env: DeadlineEnv;
let readAlerts: () => Promise<Array<{ Subject: string; Message: string }>>;

beforeAll(async () => {
  moto = await startLocalAws();
  await createTables(clients(moto).dynamo, { jobStatus: TABLE });
  const snsClient = new SNSClient(moto.clientConfig);
  const sqs = new SQSClient(moto.clientConfig);
  const topic = await snsClient.send(new CreateTopicCommand({ Name: 'finbatch-test-batch-alerts' }));
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: 'deadline-alerts-reader' }));
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn;
  await snsClient.send(new SubscribeCommand({ TopicArn: topic.TopicArn, Protocol: 'sqs', Endpoint: queueArn }));
  env = { statusTable: TABLE, topicArn: topic.TopicArn!, environment: 'test', windowHours: 4 };
  readAlerts = async () => {
    const out: Array<{ Subject: string; Message: string }> = [];
    for (;;) {
      const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      if (!res.Messages?.length) return out;
      for (const m of res.Messages) out.push(JSON.parse(m.Body!));
    }
  };
});

afterAll(async () => {
  await moto?.stop();
});

/** The deadline of the run started at 00:00 UTC on `day` with a 4-hour window. */
const deadlineOf = (day: string) => new Date(`${day}T04:00:00.000Z`);
const scheduled = (time: Date) => ({ source: 'aws.events', 'detail-type': 'Scheduled Event', time: time.toISOString(), detail: {} });

async function run(event: object, clock: Date) {
  const { result, emf } = await captureEmf(() => checkDeadline(event, () => clock, env));
  const late = emf.map((d) => d.NightlyRunLate).filter((v) => v !== undefined);
  return { result, late, dims: emf.map((d) => (d._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] }).CloudWatchMetrics[0].Dimensions) };
}

describe('run-deadline', () => {
  test('the run id is the UTC date of the nightly start, also when the deadline falls on the next day', () => {
    expect(runIdFor(new Date('2026-11-23T04:00:00Z'), 4)).toBe('2026-11-23');
    expect(runIdFor(new Date('2026-11-24T02:00:00Z'), 4)).toBe('2026-11-23');
  });

  test('on time: the run completed without failures -> NightlyRunLate 0, no alert', async () => {
    await addSubmittedJobs(TABLE, '2026-11-20', ['job-a', 'job-b'], Date.parse('2026-11-20T00:00:05Z'));
    await addTerminalJob(TABLE, '2026-11-20', 'job-a', true, { processed: 10, rejected: 0 });
    await addTerminalJob(TABLE, '2026-11-20', 'job-b', true, { processed: 5, rejected: 1 });
    expect(await markRunCompleted(TABLE, '2026-11-20', Date.parse('2026-11-20T02:10:00Z'))).toBe(true);
    const { result, late, dims } = await run(scheduled(deadlineOf('2026-11-20')), new Date(0));
    expect(result).toEqual({ runId: '2026-11-20', outcome: 'SUCCEEDED', alerted: false, deadline: '2026-11-20T04:00:00.000Z' });
    expect(late).toEqual([0]);
    expect(dims).toEqual([[['Environment']]]);
    expect(await readAlerts()).toEqual([]);
  });

  test('late: the run started but a job is still running at the deadline -> metric 1 and one bounded alert with counts only', async () => {
    await addSubmittedJobs(TABLE, '2026-11-21', ['job-c', 'job-d'], Date.parse('2026-11-21T00:00:05Z'));
    await addTerminalJob(TABLE, '2026-11-21', 'job-c', true, { processed: 10, rejected: 0 });
    // The injected clock is the deadline when the event carries no time (an on-demand check).
    const { result, late } = await run({}, deadlineOf('2026-11-21'));
    expect(result).toMatchObject({ runId: '2026-11-21', outcome: 'LATE', alerted: true });
    expect(late).toEqual([1]);
    const alerts = await readAlerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0].Subject).toBe('Nightly run 2026-11-21 LATE at the end of its 4-hour window');
    expect(JSON.parse(alerts[0].Message)).toEqual({
      event: 'NIGHTLY_RUN_NOT_SUCCEEDED', runId: '2026-11-21', outcome: 'LATE', environment: 'test', deadline: '2026-11-21T04:00:00.000Z',
      submittedJobs: 2, terminalJobs: 1, failedJobs: 0, succeededJobs: 1, startedAt: '2026-11-21T00:00:05.000Z',
    });
    expect(alerts[0].Message).not.toMatch(/job-c|job-d/);
    expect(Buffer.byteLength(alerts[0].Message)).toBeLessThanOrEqual(1024);
  });

  test('failed: completed with a failed job -> metric 1 and an alert', async () => {
    await addSubmittedJobs(TABLE, '2026-11-22', ['job-e'], Date.parse('2026-11-22T00:00:05Z'));
    await addTerminalJob(TABLE, '2026-11-22', 'job-e', false, { processed: 0, rejected: 0 });
    await markRunCompleted(TABLE, '2026-11-22');
    const { result, late } = await run(scheduled(deadlineOf('2026-11-22')), new Date(0));
    expect(result.outcome).toBe('FAILED');
    expect(late).toEqual([1]);
    expect((await readAlerts()).map((a) => JSON.parse(a.Message).outcome)).toEqual(['FAILED']);
  });

  test('missing: no run record at all (the schedule never started the run) -> metric 1 and an alert', async () => {
    const { result, late } = await run(scheduled(deadlineOf('2026-11-23')), new Date(0));
    expect(result).toMatchObject({ runId: '2026-11-23', outcome: 'MISSING', alerted: true });
    expect(late).toEqual([1]);
    const [alert] = await readAlerts();
    expect(JSON.parse(alert.Message)).toMatchObject({ outcome: 'MISSING', submittedJobs: 0, startedAt: null });
  });

  test('an event that is neither a schedule nor empty is refused without echoing its content', async () => {
    await expect(checkDeadline({ runId: 'secret-file.csv' }, () => new Date(), env)).rejects.toThrow(/1 unexpected field\(s\)/);
    await expect(checkDeadline({ source: 'aws.events', 'detail-type': 'Scheduled Event', time: 'yesterday' }, () => new Date(), env))
      .rejects.toMatchObject({ name: 'PermanentError' });
  });

  test('reporting check ({check: "loaded"}): a completed run not yet loaded still alerts; once the loader marks it, the check is quiet', async () => {
    // Same UTC day as the nightly start: run 2026-12-01 (Tue) feeds report date 2026-11-30 (Mon).
    await addSubmittedJobs(TABLE, '2026-12-01', ['job-f'], Date.parse('2026-12-01T00:00:05Z'));
    await addTerminalJob(TABLE, '2026-12-01', 'job-f', true, { processed: 3, rejected: 0 });
    await markRunCompleted(TABLE, '2026-12-01', Date.parse('2026-12-01T00:40:00Z'));
    const check = () => captureEmf(() => checkLoaded({ check: 'loaded' }, () => new Date('2026-12-01T01:00:00Z'), env));
    const before = await check();
    expect(before.result).toEqual({
      check: 'loaded', runId: '2026-12-01', reportDate: '2026-11-30', loaded: false, runOutcome: 'SUCCEEDED', alerted: true, checkedAt: '2026-12-01T01:00:00.000Z',
    });
    expect(before.emf.map((d) => d.ReportingInputMissing)).toEqual([1]);
    expect(JSON.parse((await readAlerts())[0].Message)).toMatchObject({ event: 'REPORTING_INPUT_MISSING', runOutcome: 'SUCCEEDED', completedAt: '2026-12-01T00:40:00.000Z' });

    await markRunLoaded(TABLE, '2026-12-01', { rows: 3, reportDate: '2026-11-30' }, Date.parse('2026-12-01T00:45:00Z'));
    const after = await check();
    expect(after.result).toMatchObject({ loaded: true, alerted: false });
    expect(after.emf.map((d) => d.ReportingInputMissing)).toEqual([0]);
    expect(await readAlerts()).toEqual([]);
  });

  test('the loader can only mark a completed run loaded', async () => {
    await addSubmittedJobs(TABLE, '2026-12-02', ['job-g'], Date.parse('2026-12-02T00:00:05Z'));
    await expect(markRunLoaded(TABLE, '2026-12-02', { rows: 1 })).rejects.toMatchObject({ name: 'PermanentError' });
    await expect(markRunLoaded(TABLE, '2026-12-03', { rows: 1 })).rejects.toMatchObject({ name: 'PermanentError' });
  });
});
