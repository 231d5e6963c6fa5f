/**
 * Executes the reporting workflow (as synthesized) on a real moto server, one execution per path,
 * with the Lambda handlers stubbed only at the invoke boundary (moto's canned Lambda results), and
 * asserts the states visited from the execution history:
 *   success              generate -> validate -> deliver -> confirm, never the failure recorder
 *   validation failure   validate says isValid=false: deliver/confirm never run, the failure recorder does
 * Delivery retry exhaustion cannot be executed on moto 5.2.5: its no-Docker Lambda never fails an
 * invoke (no function lookup, no FunctionError; a non-JSON result becomes a string). That path is
 * checked on the definition instead: the deliver task retries RetryableError, and every Catch route
 * from it reaches the failure recorder and never the confirm step.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { startMoto, MotoServer } from '../../test-support/moto-server';
import { Finding, Stacks } from './stacks';
import { Placeholders } from './placeholders';
import { StateMachine } from './asl';

const ROOT = path.resolve(__dirname, '..', '..');
export const ROLES = ['report-generate', 'report-validate', 'report-deliver', 'report-confirm', 'report-failure'] as const;
type Role = (typeof ROLES)[number];

type State = Record<string, unknown>;

/** State name -> Lambda function name, for every Lambda task (nested Map/Parallel included). */
export function lambdaTasks(states: Record<string, State>, out = new Map<string, string>(), all = new Map<string, State>()): { tasks: Map<string, string>; all: Map<string, State> } {
  for (const [name, st] of Object.entries(states ?? {})) {
    all.set(name, st);
    if (st.Type === 'Task') {
      const params = (st.Parameters ?? st.Arguments ?? {}) as Record<string, unknown>;
      const ref = String(String(st.Resource).startsWith('arn:aws:states:::lambda:invoke') ? params.FunctionName ?? '' : st.Resource);
      const fn = /function:([^:]+)/.exec(ref)?.[1] ?? (/^[A-Za-z0-9_-]+$/.test(ref) ? ref : undefined);
      if (fn) out.set(name, fn);
    }
    const nested = (st.ItemProcessor ?? st.Iterator) as { States?: Record<string, State> } | undefined;
    if (nested?.States) lambdaTasks(nested.States, out, all);
    for (const b of (st.Branches ?? []) as { States: Record<string, State> }[]) lambdaTasks(b.States, out, all);
  }
  return { tasks: out, all };
}

/** States reachable from `start` through Next, Default and Choice branches. */
export function reachable(all: Map<string, State>, start: string): Set<string> {
  const seen = new Set<string>();
  const todo = [start];
  while (todo.length) {
    const name = todo.pop() as string;
    if (seen.has(name) || !all.has(name)) continue;
    seen.add(name);
    const st = all.get(name) as State;
    for (const n of [st.Next, st.Default, ...((st.Choices ?? []) as State[]).map((c) => c.Next)]) if (typeof n === 'string') todo.push(n);
  }
  return seen;
}

/**
 * moto runs a DISTRIBUTED Map as child executions whose states never appear in the parent's history,
 * and its ResultWriter needs a real bucket. For the path executions the item processor runs INLINE
 * instead, one iteration at a time: the states of each item (what the paths are about) are unchanged. ASL validation always
 * runs on the definition exactly as synthesized.
 */
export const FIXED_START = '2026-11-23T01:00:00.000Z';

export function inlineForMoto<T>(value: T): T {
  if (Array.isArray(value)) return value.map(inlineForMoto) as T;
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = inlineForMoto(v);
  const proc = out.ItemProcessor as { ProcessorConfig?: { Mode?: string } } | undefined;
  if (out.Type === 'Map' && proc?.ProcessorConfig?.Mode === 'DISTRIBUTED') {
    out.ItemProcessor = { ...proc, ProcessorConfig: { Mode: 'INLINE' } };
    for (const k of ['ItemReader', 'ResultWriter', 'ItemBatcher', 'ToleratedFailureCount', 'ToleratedFailurePercentage', 'Label']) delete out[k];
  }
  if (out.Type === 'Map') {
    // One iteration at a time: equivalent here because every canned result is the same.
    out.MaxConcurrency = 1;
    // moto 5.2.5's interpreter never finishes (and stops answering) when a Map's ItemSelector reads
    // $$.Execution.StartTime; a fixed start time is what the context object would hold anyway.
    const sel = out.ItemSelector as Record<string, unknown> | undefined;
    if (sel) {
      out.ItemSelector = Object.fromEntries(Object.entries(sel).map(([k, v]) => (v === '$$.Execution.StartTime'
        ? [k.replace(/\.\$$/, ''), FIXED_START] : [k, v])));
    }
  }
  return out as T;
}

/**
 * Every item of a Map runs the same item processor, so the paths do not need all of prod's ~2,000
 * reports: a Pass state's static `Result.items` list longer than `max` is cut to one item per
 * combination of every field except the one with the most distinct values (for the reporting list:
 * one entity per jurisdiction x report type). Returns the sampled definition and the counts.
 */
export function sampleItemsForMoto<T>(definition: T, max = 32): { definition: T; items: number; executed: number } {
  let items = 0;
  let executed = 0;
  const visit = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(visit);
    if (!value || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = visit(v);
    const result = out.Result as { items?: unknown } | undefined;
    if (out.Type === 'Pass' && result && Array.isArray(result.items)) {
      const list = result.items as Record<string, unknown>[];
      items += list.length;
      let kept = list;
      if (list.length > max) {
        const fields = Object.keys(list[0] ?? {});
        const distinct = (f: string) => new Set(list.map((i) => JSON.stringify(i[f]))).size;
        const widest = [...fields].sort((a, b) => distinct(b) - distinct(a))[0];
        const seen = new Set<string>();
        kept = list.filter((i) => {
          const key = JSON.stringify(fields.filter((f) => f !== widest).map((f) => i[f]));
          if (seen.has(key)) return false;
          seen.add(key);
          return true;
        });
      }
      executed += kept.length;
      out.Result = { ...result, items: kept };
    }
    return out;
  };
  return { definition: visit(definition) as T, items, executed };
}

/** Canned Lambda results one execution consumes at most: every item runs at most every role once. */
export function resultsNeeded(itemCount: number): number {
  return Math.max(1, itemCount) * ROLES.length + 10;
}

const roleOf = (fn: string): Role | undefined => ROLES.find((r) => fn === r || fn.endsWith(`-${r}`));

function payload(valid: boolean): string {
  const report = {
    reportId: 'EU-TRANSACTION-ENTITY-1-2026-11-20', jurisdiction: 'EU', reportType: 'TRANSACTION', entityId: 'ENTITY-1',
    reportDate: '2026-11-20', bucket: 'fbp-dev-reports-123456789012', key: 'reports/EU/2026-11-20/EU-TRANSACTION-ENTITY-1-2026-11-20.json',
    sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', transactionCount: 3,
  };
  // One result shape that satisfies every handler's contract, so the path depends only on isValid and
  // on which invokes fail, never on the order in which Map iterations consume the canned results.
  return JSON.stringify({
    ...report, isValid: valid, errors: valid ? [] : ['EU: transaction t-1 has no counterparty'], warnings: [],
    messageId: '0102018f-aaaa-bbbb-cccc-111122223333-000000', recipient: 'esma-reports@example.eu', status: 'SENT', recorded: true,
  });
}

interface RunResult { status: string; visited: string[]; error?: string; cause?: string }

function run(moto: MotoServer, definition: object, functions: string[], valid: boolean, input: object, items: number): RunResult {
  const res = spawnSync(path.join(ROOT, '.venv', 'bin', 'python'), [path.join(__dirname, 'workflow_run.py')], {
    input: JSON.stringify({ endpoint: moto.endpoint, region: 'eu-west-1', definition: inlineForMoto(definition), functions, results: Array(resultsNeeded(items)).fill(payload(valid)), input, timeoutSeconds: 90 }),
    encoding: 'utf8',
    timeout: 150_000,
  });
  if (res.status !== 0) throw new Error(`workflow_run.py failed (exit ${res.status ?? res.signal}): ${res.stderr}`);
  return JSON.parse(res.stdout);
}

/**
 * What report-loader starts the reporting workflow with (lambda-src/shared/reporting-start.ts): the
 * report date a loaded run feeds and the run. The run of Tue 2026-11-24 feeds Mon 2026-11-23.
 */
export const LOADER_INPUT = { reportDate: '2026-11-23', runId: '2026-11-24' } as const;

/** The execution input a schedule or rule sends to this state machine; with none, the loader's. */
function scheduledInput(stacks: Stacks, m: StateMachine): object {
  const ph = new Placeholders(stacks);
  const id = m.address.split('.')[1];
  for (const t of Object.values(stacks[m.stack].resource?.aws_cloudwatch_event_target ?? {})) {
    if (String(t.arn).includes(`aws_sfn_state_machine.${id}.`) && typeof t.input === 'string') return JSON.parse(ph.resolve(m.stack, t.input));
  }
  for (const s of Object.values(stacks[m.stack].resource?.aws_scheduler_schedule ?? {})) {
    const target = (Array.isArray(s.target) ? s.target[0] : s.target) as Record<string, unknown> | undefined;
    if (target && String(target.arn).includes(`aws_sfn_state_machine.${id}.`) && typeof target.input === 'string') return JSON.parse(ph.resolve(m.stack, target.input));
  }
  return { ...LOADER_INPUT };
}

export async function runWorkflowPaths(stacks: Stacks, machines: StateMachine[]): Promise<{ findings: Finding[]; executions: number; notes: string[] }> {
  const findings: Finding[] = [];
  const notes: string[] = [];
  const reporting = machines.filter((m) => [...lambdaTasks(m.definition.States as Record<string, State>).tasks.values()].some((fn) => roleOf(fn)));
  if (!reporting.length) {
    findings.push({ check: 'workflows', stack: 'reporting', address: 'aws_sfn_state_machine', message: `no state machine invokes the reporting handlers (${ROLES.join(', ')})` });
    return { findings, executions: 0, notes };
  }
  let executions = 0;
  const moto = await startMoto();
  try {
    for (const m of reporting) {
      const add = (message: string) => findings.push({ check: 'workflows', stack: m.stack, address: m.address, message });
      const { tasks, all } = lambdaTasks(m.definition.States as Record<string, State>);
      const statesOf = (role: Role) => [...tasks].filter(([, fn]) => roleOf(fn) === role).map(([s]) => s);
      const functions = [...new Set(tasks.values())];
      const missingRoles = ROLES.filter((r) => !statesOf(r).length);
      if (missingRoles.length) add(`no task invokes ${missingRoles.join(', ')}`);
      for (const s of statesOf('report-deliver')) {
        const retry = (all.get(s)?.Retry ?? []) as { ErrorEquals: string[]; MaxAttempts?: number }[];
        if (!retry.some((r) => (r.ErrorEquals.includes('RetryableError') || r.ErrorEquals.includes('States.ALL')) && (r.MaxAttempts ?? 3) > 0)) add(`${s}: Retry must cover RetryableError`);
        const catches = (all.get(s)?.Catch ?? []) as { Next: string }[];
        if (!catches.length) add(`${s}: no Catch, so exhausted retries skip the failure recorder`);
        for (const c of catches) {
          const route = reachable(all, c.Next);
          const roles = [...route].map((st) => tasks.get(st)).filter((fn): fn is string => !!fn).map(roleOf);
          if (!roles.includes('report-failure')) add(`${s}: Catch -> ${c.Next} never reaches the failure recorder (report-failure)`);
          if (roles.includes('report-confirm')) add(`${s}: Catch -> ${c.Next} can reach report-confirm after a failed delivery`);
        }
      }
      const input = scheduledInput(stacks, m);
      const visits = (r: RunResult, role: Role) => statesOf(role).some((s) => r.visited.includes(s));
      const expectPath = (label: string, r: RunResult, must: Role[], never: Role[]) => {
        executions++;
        for (const role of must) if (!visits(r, role)) add(`${label}: ${role} was never entered (visited ${r.visited.join(' -> ')})`);
        for (const role of never) if (visits(r, role)) add(`${label}: ${role} must not run (visited ${r.visited.join(' -> ')})`);
      };

      const sample = sampleItemsForMoto(m.definition);
      await moto.reset();
      const ok = run(moto, sample.definition, functions, true, input, sample.executed);
      expectPath('success path', ok, ['report-generate', 'report-validate', 'report-deliver', 'report-confirm'], ['report-failure']);
      if (ok.status !== 'SUCCEEDED') add(`success path ended ${ok.status} (${ok.error ?? ''} ${ok.cause ?? ''})`.trim());

      await moto.reset();
      const invalid = run(moto, sample.definition, functions, false, input, sample.executed);
      expectPath('validation-failure path', invalid, ['report-generate', 'report-validate', 'report-failure'], ['report-deliver', 'report-confirm']);

      const sampled = sample.items > sample.executed ? `, ${sample.executed} of ${sample.items} report items executed (one per combination)` : '';
      notes.push(`${m.name}: success ${ok.status}, validation failure ${invalid.status}${sampled}`);
    }
  } finally {
    await moto.stop();
  }
  return { findings, executions, notes };
}
