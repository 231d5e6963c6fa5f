/**
 * Reports only from complete, loaded nights, on moto (DynamoDB run records, Step Functions, SNS) and
 * MariaDB: report-loader starts the reporting workflow once per loaded successful run, report-generate
 * refuses a date no loaded run feeds, and run-deadline's reporting check (`{check: "loaded"}`) alerts
 * at the reporting time when the night is not loaded. Four nights: on time, late, missing, failed.
 */
import './quiet-logs';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { handler as migrateHandler } from '../../lambda-src/report-migrate';
import { handler as loadHandler } from '../../lambda-src/report-loader';
import { handler as generateHandler } from '../../lambda-src/report-generate';
import { checkLoaded, DeadlineEnv, handler as deadlineHandler } from '../../lambda-src/run-deadline';
import { addTerminalJob, getRunRecord, markRunCompleted } from '../../lambda-src/shared/run-record';
import { reportDateOfRun, reportingExecutionName } from '../../domain/reporting/run-dates';
import { captureEmf, expectRejectsNamed } from './support';
import { acceptedRecord, JOB_STATUS_TABLE, nightlyRun, putAccepted, ReportingFixture, REPORTS_BUCKET, startReporting } from './reporting-support';
import { raw } from './support';

// Tests send raw JSON, malformed on purpose too, and partial contexts: the handlers parse what arrives.
const migrate = raw(migrateHandler);
const load = raw(loadHandler);
const generate = raw(generateHandler);
const deadline = raw(deadlineHandler);

jest.setTimeout(90_000);

let fx: ReportingFixture;
let env: DeadlineEnv;

beforeAll(async () => {
  fx = await startReporting();
  await migrate();
  env = { statusTable: JOB_STATUS_TABLE, topicArn: process.env.ALERTS_TOPIC_ARN!, environment: 'test', windowHours: 4 };
});
afterAll(async () => {
  await fx?.stop();
});

const executions = async () => (await fx.sfn.send(new ListExecutionsCommand({ stateMachineArn: fx.stateMachineArn }))).executions ?? [];
const sns = (message: unknown) => ({ Records: [{ EventSource: 'aws:sns', Sns: { Message: JSON.stringify(message) } }] });
/** row_count is BIGINT: the driver returns it as a string. */
const runLoad = (runId: string) => fx.db.query<Array<Record<string, unknown>>>(
  `SELECT run_id, DATE_FORMAT(report_date, '%Y-%m-%d') report_date, row_count, shard_count FROM \`${fx.db.database}\`.run_load WHERE run_id = ?`, [runId]);
const reportItem = (reportDate: string) => ({ jurisdiction: 'EU', reportType: 'TRANSACTION', entityId: 'ENTITY-A', runStartedAt: `${reportDate}T23:00:00Z`, reportDate });
/** The reporting check at 01:00 UTC on `day`, as the schedule passes its time. */
async function checkAt(day: string, hour = '01') {
  const { result, emf } = await captureEmf(() => checkLoaded({ check: 'loaded', time: `${day}T${hour}:00:00Z` }, () => new Date(0), env));
  return { result, missing: emf.map((d) => d.ReportingInputMissing).filter((v) => v !== undefined) };
}
async function reportObjects(reportDate: string) {
  return (await fx.s3.send(new ListObjectsV2Command({ Bucket: REPORTS_BUCKET, Prefix: `reports/EU/${reportDate}/` }))).KeyCount ?? 0;
}

describe('run ids and report dates (domain/reporting/run-dates.ts)', () => {
  test.each([
    ['2026-11-24', '2026-11-23'], // Tuesday's night -> Monday
    ['2026-11-28', '2026-11-27'], // Saturday's night -> Friday
    ['2026-11-29', '2026-11-27'], // Sunday's -> Friday (re-reported)
    ['2026-11-30', '2026-11-27'], // Monday's -> Friday (re-reported)
  ])('run %s feeds report date %s', (run, date) => expect(reportDateOfRun(run)).toBe(date));

  test('a run id that is not a date feeds no report date; execution names are valid and per run', () => {
    expect(reportDateOfRun('adhoc-replay')).toBeUndefined();
    expect(reportDateOfRun('2026-02-30')).toBeUndefined();
    expect(reportingExecutionName('2026-11-24', '2026-11-23')).toBe('report-2026-11-23-run-2026-11-24');
  });
});

describe('on-time night', () => {
  const RUN = '2026-11-24';
  test('loaded -> one reporting execution for the report date; a retry or a duplicate notification starts no second one; the deadline check is quiet', async () => {
    await nightlyRun(RUN, { ok: 2 });
    await putAccepted(fx.s3, RUN, 'job-on-time', 'shard-0-of-1', [acceptedRecord({ id: 'ONTIME-1', timestamp: '2026-11-23T10:00:00Z' }), acceptedRecord({ id: 'ONTIME-2', timestamp: '2026-11-23T11:00:00Z' })]);
    const first = await load(sns({ event: 'RUN_COMPLETED', runId: RUN }));
    expect(first).toMatchObject({ runId: RUN, rows: 2, reportDate: '2026-11-23', reporting: { status: 'STARTED', executionName: 'report-2026-11-23-run-2026-11-24' } });
    const list = await executions();
    expect(list.map((e) => e.name)).toEqual(['report-2026-11-23-run-2026-11-24']);
    const exec = await fx.sfn.send(new DescribeExecutionCommand({ executionArn: list[0].executionArn }));
    // The workflow's backfill input: it reports exactly this date, whenever the execution starts.
    expect(JSON.parse(exec.input!)).toEqual({ reportDate: '2026-11-23', runId: RUN });
    expect(await runLoad(RUN)).toEqual([{ run_id: RUN, report_date: '2026-11-23', row_count: '2', shard_count: 1 }]);
    const record = await getRunRecord(JOB_STATUS_TABLE, RUN);
    expect(record).toMatchObject({ loadedRows: 2, reportDate: '2026-11-23', loadedAt: expect.any(Number) });

    // Lambda's async retry and a second delivery of the notification: same rows, no second execution.
    const again = await load({ runId: RUN });
    expect(again.reporting).toMatchObject({ executionName: 'report-2026-11-23-run-2026-11-24', executionArn: list[0].executionArn });
    await load(sns({ event: 'RUN_COMPLETED', runId: RUN }));
    expect((await executions()).length).toBe(1);
    expect((await getRunRecord(JOB_STATUS_TABLE, RUN))!.loadedAt).toBe(record!.loadedAt);

    const { result, missing } = await checkAt(RUN);
    expect(result).toEqual({ check: 'loaded', runId: RUN, reportDate: '2026-11-23', loaded: true, runOutcome: 'SUCCEEDED', alerted: false, checkedAt: '2026-11-24T01:00:00.000Z' });
    expect(missing).toEqual([0]);
    expect(await fx.alerts()).toEqual([]);
    expect((await generate(reportItem('2026-11-23'))).transactionCount).toBe(2);
  });
});

describe('late night', () => {
  const RUN = '2026-11-25';
  test('the deadline check at 01:00 alerts; a load attempt before completion is refused; when the run completes and loads, reporting starts then', async () => {
    await nightlyRun(RUN, { ok: 1, complete: false });
    await putAccepted(fx.s3, RUN, 'job-late', 'shard-0-of-1', [acceptedRecord({ id: 'LATE-1', timestamp: '2026-11-24T09:00:00Z' })]);
    const { result, missing } = await checkAt(RUN);
    expect(result).toMatchObject({ runId: RUN, reportDate: '2026-11-24', loaded: false, runOutcome: 'LATE', alerted: true });
    expect(missing).toEqual([1]);
    const alerts = await fx.alerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0].Subject).toBe('Reporting input missing: run 2026-11-25 (report date 2026-11-24) not loaded, run LATE');
    expect(JSON.parse(alerts[0].Message)).toEqual({
      event: 'REPORTING_INPUT_MISSING', runId: RUN, reportDate: '2026-11-24', runOutcome: 'LATE', environment: 'test', checkedAt: '2026-11-25T01:00:00.000Z',
      submittedJobs: 2, terminalJobs: 1, failedJobs: 0, succeededJobs: 1, completedAt: null,
    });
    expect(alerts[0].Message).not.toMatch(/job-2026/);
    expect(Buffer.byteLength(alerts[0].Message)).toBeLessThanOrEqual(1024);
    await expectRejectsNamed(generate(reportItem('2026-11-24')), 'PermanentError', /^RUN_NOT_LOADED/);
    // A direct load of the still-running night refuses before touching the database.
    await expectRejectsNamed(load({ runId: RUN }), 'PermanentError', /^RUN_NOT_COMPLETE: run 2026-11-25 has not completed/);
    expect(await runLoad(RUN)).toEqual([]);
    expect((await executions()).filter((e) => e.name!.includes(RUN))).toEqual([]);

    // The last job ends at 03:10; job-events completes the run and the notification reaches the loader.
    await addTerminalJob(JOB_STATUS_TABLE, RUN, `job-${RUN}-1`, true, { processed: 1, rejected: 0 });
    expect(await markRunCompleted(JOB_STATUS_TABLE, RUN)).toBe(true);
    const loaded = await load(sns({ event: 'RUN_COMPLETED', runId: RUN }));
    expect(loaded).toMatchObject({ rows: 1, reportDate: '2026-11-24', reporting: { status: 'STARTED', executionName: 'report-2026-11-24-run-2026-11-25' } });
    expect((await executions()).filter((e) => e.name!.includes(RUN))).toHaveLength(1);
    expect((await checkAt(RUN, '05')).result).toMatchObject({ loaded: true, alerted: false });
    expect(await fx.alerts()).toEqual([]);
    expect((await generate(reportItem('2026-11-24'))).transactionCount).toBe(1);
  });
});

describe('missing night', () => {
  const RUN = '2026-11-26';
  test('the deadline alerts (MISSING); generate refuses the date and writes nothing; the loader has nothing to load', async () => {
    const { result, missing } = await checkAt(RUN);
    expect(result).toMatchObject({ runId: RUN, reportDate: '2026-11-25', loaded: false, runOutcome: 'MISSING', alerted: true });
    expect(missing).toEqual([1]);
    expect(JSON.parse((await fx.alerts())[0].Message)).toMatchObject({ event: 'REPORTING_INPUT_MISSING', runOutcome: 'MISSING', submittedJobs: 0, completedAt: null });

    const before = await fx.db.query<unknown[]>(`SELECT * FROM \`${fx.db.database}\`.report_log WHERE report_date = '2026-11-25'`);
    const err = await expectRejectsNamed(generate(reportItem('2026-11-25')), 'PermanentError', /^RUN_NOT_LOADED: no loaded nightly run feeds report date 2026-11-25/);
    expect(err.message).not.toMatch(/at .*\.ts/);
    expect(before).toEqual([]);
    expect(await fx.db.query(`SELECT * FROM \`${fx.db.database}\`.report_log WHERE report_date = '2026-11-25'`)).toEqual([]);
    expect(await reportObjects('2026-11-25')).toBe(0);
    await expectRejectsNamed(load({ runId: RUN }), 'PermanentError', /^RUN_NOT_COMPLETE: run 2026-11-26 has no run record/);
    expect((await executions()).filter((e) => e.name!.includes(RUN))).toEqual([]);
  });
});

describe('failed night', () => {
  const RUN = '2026-11-27';
  test('a run with a failed job is not loaded and starts no reporting; one bounded alert; the deadline alerts FAILED; generate refuses', async () => {
    await nightlyRun(RUN, { ok: 1, failed: 1 });
    await putAccepted(fx.s3, RUN, 'job-half', 'shard-0-of-1', [acceptedRecord({ id: 'FAILED-NIGHT-1', timestamp: '2026-11-26T09:00:00Z' })]);
    const out = await load(sns({ event: 'RUN_COMPLETED', runId: RUN }));
    expect(out).toEqual({ runId: RUN, files: 0, rows: 0, batches: 0, uncommittedShards: 0, crossShardDuplicates: 0, reportDate: '2026-11-26', reporting: { status: 'NOT_STARTED', reason: 'RUN_FAILED' } });
    const [alert, ...more] = await fx.alerts();
    expect(more).toEqual([]);
    expect(alert.Subject).toBe('Reporting not started: nightly run 2026-11-27 had 1 failed job(s)');
    expect(JSON.parse(alert.Message)).toEqual({
      event: 'REPORTING_NOT_STARTED', reason: 'RUN_FAILED', runId: RUN, reportDate: '2026-11-26', environment: 'test', submittedJobs: 2, succeededJobs: 1, failedJobs: 1,
    });
    expect(Buffer.byteLength(alert.Message)).toBeLessThanOrEqual(1024);
    expect((await executions()).filter((e) => e.name!.includes(RUN))).toEqual([]);
    expect(await runLoad(RUN)).toEqual([]);
    expect(await fx.db.query(`SELECT * FROM \`${fx.db.database}\`.transactions WHERE run_id = ?`, [RUN])).toEqual([]);
    expect((await getRunRecord(JOB_STATUS_TABLE, RUN))!.loadedAt).toBeUndefined();

    const { result } = await checkAt(RUN);
    expect(result).toMatchObject({ loaded: false, runOutcome: 'FAILED', alerted: true });
    expect(JSON.parse((await fx.alerts())[0].Message)).toMatchObject({ runOutcome: 'FAILED', failedJobs: 1 });
    await expectRejectsNamed(generate(reportItem('2026-11-26')), 'PermanentError', /^RUN_NOT_LOADED/);
  });
});

describe('run-deadline handler routing', () => {
  test('{check: "loaded"} runs the reporting check; other checks and extra fields are refused without echoing them', async () => {
    Object.assign(process.env, { BATCH_WINDOW_HOURS: '4' });
    const out = await deadline({ check: 'loaded', time: '2026-11-24T01:00:00Z' });
    expect(out).toMatchObject({ check: 'loaded', runId: '2026-11-24', loaded: true });
    await expectRejectsNamed(deadline({ check: 'everything' }), 'PermanentError', /check must be "loaded"/);
    await expectRejectsNamed(deadline({ check: 'loaded', note: 'secret-file.csv' }), 'PermanentError', /1 unexpected field\(s\)/);
    await expectRejectsNamed(deadline({ check: 'loaded', time: 'at one' }), 'PermanentError', /loaded check time must be/);
  });
});
