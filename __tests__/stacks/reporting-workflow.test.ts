/**
 * The reporting workflow as deployed: parse the definition out of the synthesized Terraform JSON and
 * walk it (every Task retries and catches, every path ends in Succeed or a recorded + notified failure,
 * the Map covers exactly the configured combinations), then validate it with asl-validator.
 */
import { synthPlatform, testConfig, resources, TfJson } from '../../test-support/config-fixture';
import {
  buildWorkItems, buildWorkflowDefinition, MAX_ITEMS_BYTES, RETRYABLE_ERRORS,
} from '../../stacks/reporting/workflow-definition';
import { assertWellFormed, State } from '../../stacks/reporting/asl';
import type { PlatformConfig } from '../../stacks/config';
import { AslInterpreter } from '../../scripts/local/asl-interpreter';
import { parseItem } from '../../lambda-src/shared/report-payloads';
import { reportDateOf } from '../../domain/reporting/report';
import { PARTITION } from '../../test-support/terraform-json';

/** The synthesized definition's optimized-integration ARNs carry the provider's partition. */

interface AslResult { isValid: boolean; errors: unknown[]; errorsText: (separator?: string) => string }
// asl-validator ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require('asl-validator') as (definition: unknown) => AslResult;

// Parsed ASL is untyped JSON; the assertions below check its shape.
type AnyState = Record<string, any>;
type States = Record<string, AnyState>;

function synthesizedDefinition(tf: TfJson): { definition: AnyState; raw: string } {
  const machines = Object.values(resources(tf, 'aws_sfn_state_machine'));
  expect(machines).toHaveLength(1);
  const raw = machines[0].definition as string;
  return { definition: JSON.parse(raw), raw };
}

/** function_name of the aws_lambda_function a `${aws_lambda_function.<id>.arn}` reference points at. */
function functionNameOf(tf: TfJson, ref: string): string {
  const m = /^\$\{aws_lambda_function\.([^.]+)\.arn\}$/.exec(ref);
  if (!m) throw new Error(`not a Lambda function reference: ${ref}`);
  return resources(tf, 'aws_lambda_function')[m[1]].function_name as string;
}

function tasksOf(states: States): AnyState[] {
  return Object.values(states).flatMap((s) => (s.Type === 'Map' ? tasksOf(s.ItemProcessor.States) : s.Type === 'Task' ? [s] : []));
}

function successors(s: AnyState): string[] {
  return [
    ...(s.Next ? [s.Next] : []),
    ...(s.Type === 'Choice' ? [...s.Choices.map((c: AnyState) => c.Next), s.Default] : []),
    ...((s.Catch ?? []) as AnyState[]).map((c) => c.Next),
  ];
}

/** Every path from `start` to a terminal state; throws on a cycle (a retry loop would need its own bound). */
function allPaths(states: States, start: string): string[][] {
  const out: string[][] = [];
  const walk = (name: string, path: string[]) => {
    if (path.includes(name)) throw new Error(`cycle through ${name}`);
    const state = states[name];
    if (!state) throw new Error(`missing state ${name}`);
    const next = [...new Set(successors(state))];
    const here = [...path, name];
    if (state.Type === 'Succeed' || state.Type === 'Fail' || state.End) {
      out.push(here);
      return;
    }
    if (next.length === 0) throw new Error(`state ${name} neither ends nor transitions`);
    for (const n of next) walk(n, here);
  };
  walk(start, []);
  return out;
}

function mapState(definition: AnyState): AnyState {
  const maps = Object.values(definition.States as States).filter((s) => s.Type === 'Map');
  expect(maps).toHaveLength(1);
  return maps[0];
}

/** Evaluates a `$.a.b` reference path against an object. */
function readPath(obj: unknown, path: string): unknown {
  expect(path).toMatch(/^\$(\.[A-Za-z0-9_]+)+$/);
  return path.split('.').slice(1).reduce((o: unknown, k) => (o == null ? undefined : (o as AnyState)[k]), obj);
}

/**
 * The items the Map iterates: run the states before it on the scheduled input `{}` (Pass states, and
 * Choice states whose matching rule is an `IsPresent: false` test of a field `{}` lacks).
 */
function mapItems(definition: AnyState): AnyState[] {
  let data: AnyState = {};
  let name = definition.StartAt as string;
  for (;;) {
    const s = definition.States[name];
    if (s.Type === 'Map') return readPath(data, s.ItemsPath ?? '$') as AnyState[];
    if (s.Type === 'Choice') {
      const rule = s.Choices.find((c: AnyState) => c.IsPresent === false && readPath(data, c.Variable) === undefined);
      expect(rule).toBeDefined();
      name = rule.Next;
      continue;
    }
    expect(s.Type).toBe('Pass');
    const result = s.Result;
    const rp = s.ResultPath ?? '$';
    if (rp === '$') data = result;
    else {
      const keys = rp.split('.').slice(1);
      let o = data;
      for (const k of keys.slice(0, -1)) o = o[k] ??= {};
      o[keys[keys.length - 1]] = result;
    }
    name = s.Next;
  }
}

function combos(cfg: PlatformConfig): string[] {
  return cfg.reporting.jurisdictions.flatMap((j) => cfg.reporting.reportTypes.flatMap((t) =>
    cfg.reporting.entities.map((e) => `${j}/${t}/${e}`))).sort();
}

/** Replace Terraform interpolations with concrete ARNs/names so asl-validator's ARN checks apply. */
function concrete(raw: string): AnyState {
  return JSON.parse(raw.replace(/\$\{([^}]+)\}/g, (_, expr: string) => {
    // The optimized integrations' ARNs carry the provider's partition: `aws` for this region.
    if (expr === 'data.aws_partition.partition.partition') return 'aws';
    if (expr.startsWith('aws_lambda_function.')) return `arn:aws:lambda:us-east-1:111111111111:function:${expr.split('.')[1]}`;
    if (expr.includes('sns_topic')) return 'arn:aws:sns:us-east-1:111111111111:reporting-alerts';
    if (expr.includes('s3_bucket')) return 'finbatch-dev-reports-111111111111';
    throw new Error(`unexpected interpolation in the definition: ${expr}`);
  }));
}

describe('reporting workflow (synthesized definition)', () => {
  const cfg = testConfig();
  const { tf } = synthPlatform(cfg);
  const reporting = tf.reporting;
  const { definition, raw } = synthesizedDefinition(reporting);
  const map = mapState(definition);
  const item = map.ItemProcessor;

  it('is a Standard state machine whose Map runs every report as its own STANDARD child execution', () => {
    const sm = Object.values(resources(reporting, 'aws_sfn_state_machine'))[0];
    expect(sm.type).toBe('STANDARD');
    expect(item.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
    expect(map.MaxConcurrency).toBe(cfg.reporting.mapMaxConcurrency);
    // One failed report must not abort or hide the others.
    expect(map.ToleratedFailureCount).toBe(mapItems(definition).length);
    expect(map.ToleratedFailurePercentage ?? 100).toBe(100);
    expect(map.ResultWriter.Resource).toBe(`arn:${PARTITION}:states:::s3:putObject`);
  });

  it('gives every Task (parent and per-report) a Retry and a Catch-all', () => {
    const tasks = tasksOf(definition.States);
    // Five Lambda steps and the two SNS notifications.
    expect(tasks).toHaveLength(7);
    for (const t of tasks) {
      expect(t.Retry?.length).toBeGreaterThan(0);
      expect(t.Catch?.some((c: AnyState) => c.ErrorEquals.includes('States.ALL'))).toBe(true);
    }
  });

  it('retries every Lambda step on the Lambda service errors and RetryableError with the documented intervals', () => {
    const expected: Record<string, [number, number, number]> = {
      'finbatch-dev-report-generate': [2, 3, 2],
      'finbatch-dev-report-validate': [2, 2, 2],
      'finbatch-dev-report-deliver': [5, 3, 2],
      'finbatch-dev-report-confirm': [2, 3, 2],
      'finbatch-dev-report-failure': [2, 3, 2],
    };
    const lambdaTasks = tasksOf(item.States).filter((t) => t.Resource.startsWith('${aws_lambda_function.'));
    const seen = lambdaTasks.map((t) => functionNameOf(reporting, t.Resource)).sort();
    expect(seen).toEqual(Object.keys(expected).sort());
    for (const t of lambdaTasks) {
      const [interval, attempts, backoff] = expected[functionNameOf(reporting, t.Resource)];
      expect(t.Retry).toHaveLength(1);
      expect([...t.Retry[0].ErrorEquals].sort()).toEqual([...RETRYABLE_ERRORS].sort());
      expect(t.Retry[0]).toMatchObject({ IntervalSeconds: interval, MaxAttempts: attempts, BackoffRate: backoff });
    }
  });

  it('runs generate -> validate -> deliver -> confirm on the success path, with the contract payloads', () => {
    const fn = (name: string) => Object.entries(item.States as States)
      .find(([, s]) => s.Type === 'Task' && s.Resource.startsWith('${aws_lambda_function.') && functionNameOf(reporting, s.Resource) === name)!;
    const [gen, generate] = fn('finbatch-dev-report-generate');
    const [val, validate] = fn('finbatch-dev-report-validate');
    const [del, deliver] = fn('finbatch-dev-report-deliver');
    const [con, confirm] = fn('finbatch-dev-report-confirm');
    expect(item.StartAt).toBe(gen);
    expect(generate.ResultPath).toBe('$.report');
    expect(validate.InputPath).toBe('$.report');
    expect(validate.ResultPath).toBe('$.validation');
    const choice = item.States[validate.Next];
    expect(choice.Type).toBe('Choice');
    expect(choice.Choices).toEqual([{ Variable: '$.validation.isValid', BooleanEquals: true, Next: del }]);
    expect(deliver.Parameters).toEqual({ 'report.$': '$.report', 'validation.$': '$.validation' });
    expect(deliver.Next).toBe(con);
    expect(confirm.InputPath).toBe('$.delivery');
    const successes = allPaths(item.States, item.StartAt).filter((p) => item.States[p[p.length - 1]].Type === 'Succeed');
    expect(successes).toEqual([[gen, val, validate.Next, del, con, confirm.Next, successes[0][6]]]);
  });

  it('ends every per-report path in Succeed or in RecordFailure -> SNS notify -> Fail', () => {
    const paths = allPaths(item.States, item.StartAt);
    const isFailureTask = (n: string) => item.States[n].Type === 'Task'
      && item.States[n].Resource.startsWith('${aws_lambda_function.')
      && functionNameOf(reporting, item.States[n].Resource) === 'finbatch-dev-report-failure';
    const isNotify = (n: string) => item.States[n].Resource === `arn:${PARTITION}:states:::sns:publish`;
    const recordStates = new Set<string>();
    for (const p of paths) {
      const last = item.States[p[p.length - 1]];
      if (last.Type === 'Succeed') {
        expect(p.some(isFailureTask)).toBe(false);
        continue;
      }
      expect(last.Type).toBe('Fail');
      const rec = p.findIndex(isFailureTask);
      const notify = p.findIndex(isNotify);
      expect(rec).toBeGreaterThan(0);
      expect(notify).toBeGreaterThan(rec);
      expect(notify).toBeLessThan(p.length - 1);
      // The failure record names the stage and carries the item.
      const record = item.States[p[rec - 1]];
      expect(record.Type).toBe('Pass');
      recordStates.add(p[rec - 1]);
      expect(['GENERATE', 'VALIDATE', 'DELIVER', 'CONFIRM']).toContain(record.Parameters.stage);
      expect(Object.keys(record.Parameters.item).sort()).toEqual(['entityId.$', 'jurisdiction.$', 'reportDate.$', 'reportType.$', 'runStartedAt.$']);
    }
    // Every failure branch was reached by the walk: generate, validate (error + invalid report), deliver,
    // confirm (error + bounced delivery).
    const failureRecords = Object.entries(item.States as States).filter(([, s]) => s.Type === 'Pass' && s.Parameters?.stage);
    expect(failureRecords).toHaveLength(6);
    expect([...recordStates].sort()).toEqual(failureRecords.map(([n]) => n).sort());
    expect([...new Set(failureRecords.map(([, s]) => s.Parameters.stage))].sort()).toEqual(['CONFIRM', 'DELIVER', 'GENERATE', 'VALIDATE']);
  });

  it('ends every run path in Succeed or in an SNS-notified Fail', () => {
    const paths = allPaths(definition.States, definition.StartAt);
    expect(paths.length).toBeGreaterThanOrEqual(2);
    for (const p of paths) {
      const last = definition.States[p[p.length - 1]];
      if (last.Type === 'Succeed') continue;
      expect(last.Type).toBe('Fail');
      expect(p.some((n) => definition.States[n].Resource === `arn:${PARTITION}:states:::sns:publish`)).toBe(true);
    }
  });

  it('maps over exactly the configured (jurisdiction, reportType, entity) combinations', () => {
    const items = mapItems(definition);
    expect(items).toHaveLength(cfg.reporting.jurisdictions.length * cfg.reporting.reportTypes.length * cfg.reporting.entities.length);
    expect(items.map((i) => `${i.jurisdiction}/${i.reportType}/${i.entityId}`).sort()).toEqual(combos(cfg));
    // Each child gets the contract's item with the parent's start time and the run's reportDate (null
    // unless backfilling), so every report of a run has the same report date.
    expect(map.ItemSelector).toEqual({
      'jurisdiction.$': '$$.Map.Item.Value.jurisdiction',
      'reportType.$': '$$.Map.Item.Value.reportType',
      'entityId.$': '$$.Map.Item.Value.entityId',
      'runStartedAt.$': '$$.Execution.StartTime',
      'reportDate.$': '$.reportDate',
    });
    // ...and generate receives it unchanged.
    expect(item.States[item.StartAt].Parameters['reportDate.$']).toBe('$.reportDate');
  });

  it('follows a config change: other combinations, other count, other concurrency', () => {
    const changed = testConfig({
      reporting: { jurisdictions: ['UK', 'APAC'], reportTypes: ['MARGIN', 'POSITION', 'TRANSACTION'], entities: ['E1X', 'E2X'], mapMaxConcurrency: 7 },
    });
    const other = synthesizedDefinition(synthPlatform(changed).tf.reporting).definition;
    const items = mapItems(other);
    expect(items).toHaveLength(12);
    expect(items.map((i) => `${i.jurisdiction}/${i.reportType}/${i.entityId}`).sort()).toEqual(combos(changed));
    expect(mapState(other).MaxConcurrency).toBe(7);
  });

  it('is valid ASL according to asl-validator', () => {
    const result = aslValidator(concrete(raw));
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it('asl-validator rejects a broken copy (the check can fail)', () => {
    const broken = concrete(raw);
    delete broken.States.GenerateReports.ItemProcessor.States.GenerateReport.Next;
    expect(aslValidator(broken).isValid).toBe(false);
  });
});

/** Function ARNs for building the definition outside a stack. */
const FUNCTION_ARNS = {
  generate: 'arn:aws:lambda:us-east-1:111111111111:function:g', validate: 'arn:aws:lambda:us-east-1:111111111111:function:v',
  deliver: 'arn:aws:lambda:us-east-1:111111111111:function:d', confirm: 'arn:aws:lambda:us-east-1:111111111111:function:c',
  failure: 'arn:aws:lambda:us-east-1:111111111111:function:f',
};

describe('workflow definition builder', () => {
  const arns = FUNCTION_ARNS;
  const props = (reporting = testConfig({}, 'prod').reporting) => ({
    reporting, functions: arns, topicArn: 'arn:aws:sns:us-east-1:111111111111:t', resultsBucket: 'b',
  });

  it('holds the production volume (4 x 4 x 125 = 2,000 items) under the payload budget', () => {
    const items = buildWorkItems(testConfig({}, 'prod').reporting);
    expect(items).toHaveLength(2000);
    expect(Buffer.byteLength(JSON.stringify({ items }))).toBeLessThan(MAX_ITEMS_BYTES);
    expect(aslValidator(buildWorkflowDefinition(props())).isValid).toBe(true);
  });

  it('refuses an entity list whose item list would approach the 256 KiB state payload limit, naming the field', () => {
    const entities = Array.from({ length: 400 }, (_, i) => `ENTITY-${String(i).padStart(5, '0')}`);
    const reporting = { ...testConfig({}, 'prod').reporting, entities };
    expect(() => buildWorkflowDefinition(props(reporting))).toThrow(/reporting\.entities: 6400 work items .* must stay under/);
  });

  it('rejects a transition to a missing state and an unreachable state', () => {
    const states: Record<string, State> = { A: { Type: 'Pass', Next: 'B' }, C: { Type: 'Succeed' } };
    expect(() => assertWellFormed(states, 'A')).toThrow('state "A" transitions to missing state "B"');
    expect(() => assertWellFormed({ A: { Type: 'Pass', End: true }, C: { Type: 'Succeed' } }, 'A')).toThrow('unreachable state(s) C');
  });
});

describe('reporting workflow: report date of a run (interpreted)', () => {
  const arns = FUNCTION_ARNS;
  const definition = buildWorkflowDefinition({
    reporting: { jurisdictions: ['EU', 'UK'], reportTypes: ['TRANSACTION'], entities: ['E-1'], mapMaxConcurrency: 2 },
    functions: arns, topicArn: 'arn:aws:sns:us-east-1:111111111111:t', resultsBucket: 'b',
  });
  // Monday 01:00 UTC: the previous business day is Friday 2026-11-20.
  const monday = () => new Date('2026-11-23T01:00:00Z');

  /** Runs the definition on `input`; generate answers with the date the real handler would use. */
  async function run(input: Record<string, unknown>) {
    const calls: { resource: string; payload: any }[] = [];
    const invoke = async (resource: string, payload: any): Promise<any> => {
      calls.push({ resource, payload });
      if (resource === arns.generate) {
        const parsed = parseItem(payload);
        const reportDate = reportDateOf(parsed);
        const reportId = `${parsed.jurisdiction}-${parsed.reportType}-${parsed.entityId}-${reportDate}`;
        return { reportId, ...parsed, reportDate, bucket: 'b', key: `reports/${reportId}.json`, sha256: 'x'.repeat(64), transactionCount: 0 };
      }
      if (resource === arns.validate) return { reportId: payload.reportId, isValid: true, errors: [], warnings: [] };
      if (resource === arns.deliver) return { reportId: payload.report.reportId, messageId: 'm', recipient: 'r@example.com', status: 'SENT' };
      if (resource === arns.confirm) return { reportId: payload.reportId, status: 'PENDING' };
      return {};
    };
    const result = await new AslInterpreter({ invoke, now: monday }).execute(definition, input as never);
    const generated = calls.filter((c) => c.resource === arns.generate);
    return { result, calls, generated, reportIds: generated.length ? calls.filter((c) => c.resource === arns.validate).map((c) => c.payload.reportId).sort() : [] };
  }

  it('scheduled input {} passes reportDate null to every item and reports the previous business day', async () => {
    const { result, generated, reportIds } = await run({});
    expect(result.status).toBe('SUCCEEDED');
    expect(generated.map((c) => c.payload.reportDate)).toEqual([null, null]);
    expect(reportIds).toEqual(['EU-TRANSACTION-E-1-2026-11-20', 'UK-TRANSACTION-E-1-2026-11-20']);
  });

  it('a backfill input {"reportDate": "2026-11-18"} reaches every item and reports that day', async () => {
    const { result, generated, reportIds } = await run({ reportDate: '2026-11-18' });
    expect(result.status).toBe('SUCCEEDED');
    expect(generated.map((c) => c.payload)).toEqual([
      { jurisdiction: 'EU', reportType: 'TRANSACTION', entityId: 'E-1', runStartedAt: '2026-11-23T01:00:00.000Z', reportDate: '2026-11-18' },
      { jurisdiction: 'UK', reportType: 'TRANSACTION', entityId: 'E-1', runStartedAt: '2026-11-23T01:00:00.000Z', reportDate: '2026-11-18' },
    ]);
    expect(reportIds).toEqual(['EU-TRANSACTION-E-1-2026-11-18', 'UK-TRANSACTION-E-1-2026-11-18']);
  });

  it('an explicit reportDate null behaves like the scheduled run', async () => {
    const { result, reportIds } = await run({ reportDate: null });
    expect(result.status).toBe('SUCCEEDED');
    expect(reportIds).toEqual(['EU-TRANSACTION-E-1-2026-11-20', 'UK-TRANSACTION-E-1-2026-11-20']);
  });

  it('a reportDate that is not a string fails the run once, notified, without generating any report', async () => {
    const { result, calls, generated } = await run({ reportDate: 20261118 });
    expect(result).toMatchObject({ status: 'FAILED', error: 'ReportingRunFailed' });
    expect(generated).toHaveLength(0);
    const published = calls.filter((c) => c.resource === 'arn:aws:states:::sns:publish');
    expect(published).toHaveLength(1);
    expect(published[0].payload.Message).toMatch(/failed: InvalidReportDate$/);
  });
});
