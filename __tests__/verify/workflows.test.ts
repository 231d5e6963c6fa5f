/**
 * ASL validation and the three reporting-workflow paths executed on a real moto server, on a
 * hand-written contract-conformant workflow and on deliberately broken ones.
 */
import { checkStateMachines } from '../../scripts/verify/asl';
import { resultsNeeded, ROLES, runWorkflowPaths, sampleItemsForMoto } from '../../scripts/verify/workflow-paths';
import type { Stacks } from '../../scripts/verify/stacks';
import { goodStacks, mutate } from './fixtures';

const RETRY = [{ ErrorEquals: ['RetryableError', 'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 2 }];
const CATCH = [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailure' }];
const task = (fn: string, payload: object, next: string | null, resultPath: string) => ({
  Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: { FunctionName: `\${aws_lambda_function.${fn}.arn}`, ...payload },
  ResultSelector: { 'r.$': '$.Payload' }, ResultPath: resultPath, Retry: RETRY,
  ...(next ? { Next: next, Catch: CATCH } : { End: true }),
});

export function workflow(validBranch = true): object {
  return {
    Comment: 'generate -> validate -> deliver -> confirm per report item',
    StartAt: 'Reports',
    States: {
      Reports: {
        Type: 'Map', ItemsPath: '$.items', MaxConcurrency: 2, End: true,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: 'Generate',
          States: {
            Generate: task('generate', { 'Payload.$': '$' }, 'Validate', '$.generated'),
            Validate: task('validate', { 'Payload.$': '$.generated.r' }, 'IsValid', '$.validation'),
            IsValid: { Type: 'Choice', Choices: [{ Variable: '$.validation.r.isValid', BooleanEquals: validBranch, Next: 'Deliver' }], Default: 'RecordFailure' },
            Deliver: task('deliver', { Payload: { 'report.$': '$.generated.r', 'validation.$': '$.validation.r' } }, 'Confirm', '$.delivery'),
            Confirm: task('confirm', { 'Payload.$': '$.delivery.r' }, null, '$.confirmation'),
            RecordFailure: { ...task('failure', { Payload: { 'item.$': '$' } }, null, '$.failure'), End: undefined, Next: 'ItemFailed' },
            ItemFailed: { Type: 'Fail', Error: 'ReportFailed', Cause: 'report item failed; recorded in report_log' },
          },
        },
      },
    },
  };
}

function withWorkflow(definition: object): Stacks {
  return mutate(goodStacks(), (s) => {
    const fn = (n: string) => ({ function_name: `fbp-dev-report-${n}`, role: 'r', runtime: 'nodejs22.x', handler: 'index.handler' });
    s.reporting.resource!.aws_lambda_function = { generate: fn('generate'), validate: fn('validate'), deliver: fn('deliver'), confirm: fn('confirm'), failure: fn('failure') };
    s.reporting.resource!.aws_sfn_state_machine = { workflow: { name: 'fbp-dev-reporting', definition: JSON.stringify(definition), role_arn: 'r' } };
    s.reporting.resource!.aws_cloudwatch_event_target = {
      daily: { rule: '${aws_cloudwatch_event_rule.daily.name}', arn: '${aws_sfn_state_machine.workflow.arn}', input: JSON.stringify({ items: [{ jurisdiction: 'EU', reportType: 'TRANSACTION', entityId: 'ENTITY-1', runStartedAt: '2026-11-23T01:00:00Z' }] }) },
    };
  });
}

describe('ASL validation', () => {
  test('the contract workflow is valid ASL with resolved Lambda ARNs', () => {
    const { findings, machines } = checkStateMachines(withWorkflow(workflow()));
    expect(findings).toEqual([]);
    expect(JSON.stringify(machines[0].definition)).toContain('arn:aws:lambda:eu-west-1:123456789012:function:fbp-dev-report-generate');
  });

  test('a transition to a missing state and a missing terminal state fail', () => {
    const broken = workflow() as { States: { Reports: { ItemProcessor: { States: Record<string, Record<string, unknown>> } } } };
    broken.States.Reports.ItemProcessor.States.Confirm = { Type: 'Pass', Next: 'Nowhere' };
    const { findings } = checkStateMachines(withWorkflow(broken));
    expect(findings.map((f) => `${f.stack}: ${f.address}: ${f.message}`).join('\n')).toMatch(/reporting: aws_sfn_state_machine\.workflow: MISSING_TRANSITION_TARGET/);
  });
});

describe('workflow paths on moto', () => {
  test('success and validation failure visit the right states; delivery failure routes to the recorder', async () => {
    const stacks = withWorkflow(workflow());
    const { machines } = checkStateMachines(stacks);
    const r = await runWorkflowPaths(stacks, machines);
    expect(r.findings).toEqual([]);
    expect(r.executions).toBe(2);
    expect(r.notes[0]).toMatch(/success SUCCEEDED, validation failure FAILED/);
  });

  test('an inverted validity Choice is caught on both the success and the validation-failure path', async () => {
    const stacks = withWorkflow(workflow(false));
    const r = await runWorkflowPaths(stacks, checkStateMachines(stacks).machines);
    const m = r.findings.map((f) => f.message).join('\n');
    expect(m).toMatch(/success path: report-deliver was never entered/);
    expect(m).toMatch(/validation-failure path: report-deliver must not run/);
  });

  test('a Catch on deliver that skips the failure recorder is a finding', async () => {
    const broken = workflow() as { States: { Reports: { ItemProcessor: { States: Record<string, Record<string, unknown>> } } } };
    broken.States.Reports.ItemProcessor.States.Deliver.Catch = [{ ErrorEquals: ['States.ALL'], Next: 'Confirm' }];
    const stacks = withWorkflow(broken);
    const m = (await runWorkflowPaths(stacks, checkStateMachines(stacks).machines)).findings.map((f) => f.message).join('\n');
    expect(m).toMatch(/Deliver: Catch -> Confirm never reaches the failure recorder/);
    expect(m).toMatch(/Deliver: Catch -> Confirm can reach report-confirm after a failed delivery/);
  });

  test('a deliver task without Retry/Catch and a missing workflow are findings', async () => {
    const broken = workflow() as { States: { Reports: { ItemProcessor: { States: Record<string, Record<string, unknown>> } } } };
    delete broken.States.Reports.ItemProcessor.States.Deliver.Retry;
    delete broken.States.Reports.ItemProcessor.States.Deliver.Catch;
    const stacks = withWorkflow(broken);
    const r = await runWorkflowPaths(stacks, checkStateMachines(stacks).machines);
    const m = r.findings.map((f) => f.message).join('\n');
    expect(m).toMatch(/Deliver: Retry must cover RetryableError/);
    expect(m).toMatch(/Deliver: no Catch/);
    expect((await runWorkflowPaths(goodStacks(), [])).findings[0].message).toMatch(/no state machine invokes the reporting handlers/);
  });
});

describe('workflow paths at prod scale', () => {
  const items = ['EU', 'US', 'UK', 'APAC'].flatMap((jurisdiction) => ['TRANSACTION', 'POSITION', 'COLLATERAL', 'MARGIN']
    .flatMap((reportType) => Array.from({ length: 125 }, (_, i) => ({ jurisdiction, reportType, entityId: `ENTITY-${String(i + 1).padStart(3, '0')}` }))));
  const definition = { StartAt: 'Build', States: { Build: { Type: 'Pass', Result: { items }, ResultPath: '$.work', Next: 'Map' }, Map: { Type: 'Map', ItemsPath: '$.work.items', End: true } } };

  test('2,000 report items are executed as one per (jurisdiction, report type), every value covered', () => {
    const sample = sampleItemsForMoto(definition);
    expect(sample.items).toBe(2000);
    expect(sample.executed).toBe(16);
    const kept = (sample.definition.States.Build.Result as { items: typeof items }).items;
    expect(new Set(kept.map((i) => `${i.jurisdiction}/${i.reportType}`)).size).toBe(16);
    // The synthesized definition itself is untouched (ASL validation runs on it as is).
    expect(definition.States.Build.Result.items).toHaveLength(2000);
  });

  test('a small list runs whole, and the canned results always cover every invoke', () => {
    const small = { ...definition, States: { ...definition.States, Build: { ...definition.States.Build, Result: { items: items.slice(0, 32) } } } };
    expect(sampleItemsForMoto(small).executed).toBe(32);
    expect(resultsNeeded(16)).toBeGreaterThanOrEqual(16 * ROLES.length);
  });
});
