/**
 * Powertools idioms every handler shares (lambda-src/shared/powertools.ts): the Lambda context on every
 * log line, the ColdStart metric once per container with the project's exact dimension set, and the
 * namespace from contracts/metric-names.ts. job-events with an event for a job the platform did
 * not submit logs a warning and touches no AWS service, so no server is needed.
 */
import { handlerOutput } from './quiet-logs';
import type { Context } from 'aws-lambda';
import { FUNCTION_NAMESPACES, NIGHTLY_NAMESPACE, REPORTING_NAMESPACE } from '../../contracts/metric-names';
import { raw } from './support';

const context = (awsRequestId: string): Context => ({
  functionName: 'finbatch-test-job-events', functionVersion: '$LATEST', memoryLimitInMB: '512', awsRequestId,
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:finbatch-test-job-events',
  logGroupName: '/aws/lambda/finbatch-test-job-events', logStreamName: 'test', callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 60_000, done: () => undefined, fail: () => undefined, succeed: () => undefined,
});
const foreignJobEvent = {
  version: '0', id: 'e-1', source: 'aws.batch', 'detail-type': 'Batch Job State Change', account: '123456789012', region: 'us-east-1',
  resources: [], time: '2026-11-30T01:00:00Z', detail: { jobId: 'b-1', jobName: 'someone-elses-job', status: 'RUNNING' },
};
let jobEvents: (event?: unknown, context?: Partial<Context>) => Promise<unknown>;

beforeAll(async () => {
  // What Lambda sets for an on-demand container; the logger's level is read when the module loads.
  Object.assign(process.env, {
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand', POWERTOOLS_LOG_LEVEL: 'INFO', ENVIRONMENT: 'test',
    JOB_STATUS_TABLE: 'status', AUDIT_LOG_TABLE: 'audit', ALERTS_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:alerts',
  });
  jobEvents = raw((await import('../../lambda-src/job-events')).handler);
});

test('every log line of an invocation carries that invocation\'s request id and function', async () => {
  handlerOutput.clear();
  await jobEvents(foreignJobEvent, context('req-1'));
  await jobEvents(foreignJobEvent, context('req-2'));
  const logs = handlerOutput.logs();
  expect(logs.map((l) => [l.message, l.function_request_id, l.cold_start])).toEqual([
    ['event for a job the orchestrator did not submit', 'req-1', true],
    ['event for a job the orchestrator did not submit', 'req-2', false],
  ]);
  expect(logs[0]).toMatchObject({ level: 'WARN', service: 'job-events', function_name: 'finbatch-test-job-events', function_memory_size: '512' });
});

test('ColdStart once per container, in the function\'s namespace, with exactly Environment and function_name', async () => {
  // The container's first invocation was in the test above: no further ColdStart.
  handlerOutput.clear();
  await jobEvents(foreignJobEvent, context('req-3'));
  expect(handlerOutput.emf()).toEqual([]);
  // A new container: the module loaded afresh.
  await jest.isolateModulesAsync(async () => {
    const fresh = raw((await import('../../lambda-src/job-events')).handler);
    await fresh(foreignJobEvent, context('req-4'));
    await fresh(foreignJobEvent, context('req-5'));
  });
  const emf = handlerOutput.emf();
  expect(emf).toHaveLength(1);
  expect(emf[0]).toMatchObject({ ColdStart: 1, Environment: 'test', function_name: 'finbatch-test-job-events' });
  expect(emf[0]).not.toHaveProperty('service');
  expect((emf[0]._aws as { CloudWatchMetrics: unknown[] }).CloudWatchMetrics).toEqual([
    { Namespace: NIGHTLY_NAMESPACE, Dimensions: [['Environment', 'function_name']], Metrics: [{ Name: 'ColdStart', Unit: 'Count' }] },
  ]);
});

test('namespaces come from one module: one entry per Lambda entry point', () => {
  const fs = jest.requireActual<typeof import('fs')>('fs');
  const entries = fs.readdirSync(`${__dirname}/../../lambda-src`).filter((d) => fs.existsSync(`${__dirname}/../../lambda-src/${d}/index.ts`)).sort();
  expect(Object.keys(FUNCTION_NAMESPACES).sort()).toEqual(entries);
  expect(new Set(Object.values(FUNCTION_NAMESPACES))).toEqual(new Set([NIGHTLY_NAMESPACE, REPORTING_NAMESPACE]));
});
