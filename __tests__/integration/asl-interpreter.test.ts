/**
 * The local ASL interpreter against the REAL reporting workflow definition, with scripted task
 * results standing in for the Lambda handlers (the interpreter is what is under test here).
 */
import { buildWorkflowDefinition, WorkflowFunctionArns } from '../../stacks/reporting/workflow-definition';
import { AslInterpreter } from '../../scripts/local/asl-interpreter';
import { applyResultPath, renderTemplate, StatesError } from '../../scripts/local/asl-paths';

const arns: WorkflowFunctionArns = {
  generate: 'arn:aws:lambda:us-east-1:123456789012:function:gen',
  validate: 'arn:aws:lambda:us-east-1:123456789012:function:val',
  deliver: 'arn:aws:lambda:us-east-1:123456789012:function:del',
  confirm: 'arn:aws:lambda:us-east-1:123456789012:function:con',
  failure: 'arn:aws:lambda:us-east-1:123456789012:function:fail',
};
const definition = buildWorkflowDefinition({
  reporting: { jurisdictions: ['EU', 'US'], reportTypes: ['TRANSACTION'], entities: ['E-1', 'E-2'], mapMaxConcurrency: 2 },
  functions: arns,
  topicArn: 'arn:aws:sns:us-east-1:123456789012:alerts',
  resultsBucket: 'reports-bucket',
});

type Call = { resource: string; payload: any };

function scripted(overrides: { invalid?: string; flaky?: Record<string, number>; permanent?: string } = {}) {
  const calls: Call[] = [];
  const flaky = { ...overrides.flaky };
  const invoke = async (resource: string, payload: any): Promise<any> => {
    calls.push({ resource, payload });
    const id = (p: any) => `${p.jurisdiction}-${p.reportType}-${p.entityId}`;
    switch (resource) {
      case arns.generate: {
        if (flaky[id(payload)]) {
          flaky[id(payload)]--;
          throw Object.assign(new Error('db busy'), { name: 'RetryableError' });
        }
        if (overrides.permanent === id(payload)) throw Object.assign(new Error('no data'), { name: 'PermanentError' });
        return { reportId: id(payload), ...payload, reportDate: '2026-11-20', bucket: 'b', key: `reports/${id(payload)}.csv`, sha256: 'x', transactionCount: 1 };
      }
      case arns.validate:
        return { reportId: payload.reportId, isValid: payload.reportId !== overrides.invalid, errors: payload.reportId === overrides.invalid ? ['bad total'] : [], warnings: [] };
      case arns.deliver:
        return { reportId: payload.report.reportId, messageId: `m-${payload.report.reportId}`, recipient: 'r@example.com', status: 'SENT' };
      case arns.confirm:
        return { reportId: payload.reportId, status: 'PENDING' };
      case arns.failure:
        return { recorded: true };
      case 'arn:aws:states:::sns:publish':
        return { MessageId: 'sns-1' };
      case 'arn:aws:states:::s3:putObject':
        return {};
      default:
        throw new Error(`unexpected resource ${resource}`);
    }
  };
  return { calls, invoke };
}

describe('local ASL interpreter on the reporting workflow', () => {
  it('runs every (jurisdiction, type, entity) through generate -> validate -> deliver -> confirm and succeeds', async () => {
    const { calls, invoke } = scripted();
    const result = await new AslInterpreter({ invoke, now: () => new Date('2026-11-23T01:00:00Z') }).execute(definition, {});
    expect(result.status).toBe('SUCCEEDED');
    const generated = calls.filter((c) => c.resource === arns.generate).map((c) => c.payload);
    expect(generated).toHaveLength(4);
    expect(generated[0]).toEqual({ jurisdiction: 'EU', reportType: 'TRANSACTION', entityId: 'E-1', runStartedAt: '2026-11-23T01:00:00.000Z', reportDate: null });
    expect(calls.filter((c) => c.resource === arns.deliver)[0].payload).toEqual(expect.objectContaining({ report: expect.objectContaining({ reportId: 'EU-TRANSACTION-E-1' }), validation: expect.objectContaining({ isValid: true }) }));
    expect(calls.filter((c) => c.resource === arns.confirm)).toHaveLength(4);
    const written = calls.filter((c) => c.resource === 'arn:aws:states:::s3:putObject').map((c) => c.payload);
    expect(written.map((w) => w.Key.replace(/workflow-runs\/[^/]+\//, ''))).toEqual(['SUCCEEDED_0.json', 'manifest.json']);
    expect(written.every((w) => w.Bucket === 'reports-bucket')).toBe(true);
    expect(JSON.parse(written[0].Body)).toHaveLength(4);
    expect(JSON.parse(written[1].Body).ResultFiles.SUCCEEDED[0].Key).toBe(written[0].Key);
  });

  it('retries RetryableError, records an invalid report as a failure without stopping the others', async () => {
    const { calls, invoke } = scripted({ invalid: 'US-TRANSACTION-E-2', flaky: { 'EU-TRANSACTION-E-2': 2 } });
    const interpreter = new AslInterpreter({ invoke });
    await interpreter.execute(definition, {});
    expect([...interpreter.mapRuns.values()].map((r) => [r.total, r.succeeded, r.failed])).toEqual([[4, 3, 1]]);
    expect(calls.filter((c) => c.resource === arns.generate && c.payload.entityId === 'E-2' && c.payload.jurisdiction === 'EU')).toHaveLength(3);
    const failures = calls.filter((c) => c.resource === arns.failure).map((c) => c.payload);
    expect(failures).toEqual([{ item: expect.objectContaining({ jurisdiction: 'US', entityId: 'E-2' }), stage: 'VALIDATE', error: { Error: 'ReportInvalid', Cause: '["bad total"]' } }]);
    const sns = calls.filter((c) => c.resource === 'arn:aws:states:::sns:publish').map((c) => c.payload);
    expect(sns).toHaveLength(1);
    expect(sns[0].Message).toMatch(/^Report US TRANSACTION E-2 .*failed at stage VALIDATE: ReportInvalid$/);
    expect(calls.filter((c) => c.resource === arns.deliver)).toHaveLength(3);
  });

  it('catches a PermanentError without retrying and passes the Lambda-style cause to the failure record', async () => {
    const { calls, invoke } = scripted({ permanent: 'EU-TRANSACTION-E-1' });
    const interpreter = new AslInterpreter({ invoke });
    await interpreter.execute(definition, {});
    expect([...interpreter.mapRuns.values()][0].results.filter((r) => r.status === 'FAILED').map((r) => r.error)).toEqual(['ReportFailed']);
    expect(calls.filter((c) => c.resource === arns.generate && c.payload.jurisdiction === 'EU' && c.payload.entityId === 'E-1')).toHaveLength(1);
    const failure = calls.find((c) => c.resource === arns.failure)!.payload;
    expect(failure.stage).toBe('GENERATE');
    expect(failure.error.Error).toBe('PermanentError');
    expect(JSON.parse(failure.error.Cause)).toEqual({ errorType: 'PermanentError', errorMessage: 'no data' });
  });
});

describe('ASL data flow', () => {
  it('applies nested ResultPath, keeps the input for null and rejects missing paths', () => {
    expect(applyResultPath({ a: 1 }, { x: 2 }, '$.b.c')).toEqual({ a: 1, b: { c: { x: 2 } } });
    expect(applyResultPath({ a: 1 }, 5, null)).toEqual({ a: 1 });
    expect(() => renderTemplate({ 'v.$': '$.missing' }, { a: 1 }, {})).toThrow(StatesError);
    expect(renderTemplate({ 'v.$': "States.Format('{}-{}', $.a, $$.x)", k: [1] }, { a: 'A' }, { x: 3 })).toEqual({ v: 'A-3', k: [1] });
  });
});

describe('unsupported definitions', () => {
  it('refuses a state type it does not implement instead of skipping it', async () => {
    const interpreter = new AslInterpreter({ invoke: async () => ({}) });
    const def = { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 1, End: true } } } as never;
    await expect(interpreter.execute(def, {})).rejects.toThrow(/state "W" has type Wait, which the local interpreter does not support/);
  });
});
