/**
 * A small Amazon States Language interpreter for local runs: executes the REAL reporting workflow
 * definition (stacks/reporting/workflow-definition.ts) with Task resources resolved by the caller
 * (function ARNs -> in-process handlers, SNS/S3 integrations -> moto). Covers what the platform uses:
 * Pass, Task, Choice, Map (inline and distributed, ItemSelector, MaxConcurrency, tolerated failures,
 * ResultWriter), Succeed, Fail; InputPath/Parameters/ResultSelector/ResultPath/OutputPath; Retry and
 * Catch with Step Functions' error names. Unsupported fields throw instead of being ignored.
 */
import { randomUUID } from 'crypto';
import type { State, StateMachineDefinition, TaskState, ChoiceRule, MapState, Retrier } from '../../stacks/reporting/asl';
import { applyResultPath, hasPath, Json, readPath, renderTemplate, StatesError } from './asl-paths';

export { StatesError } from './asl-paths';

export type TaskInvoker = (resource: string, payload: Json, ctx: { stateName: string; execution: string }) => Promise<Json>;

export interface InterpreterOptions {
  invoke: TaskInvoker;
  /** Multiplies every Retry interval (0.001 turns 2 s into 2 ms); real waits make local runs crawl. */
  retryDelayScale?: number;
  /** Called for every state entered, for progress and tests. */
  onState?: (event: { execution: string; state: string; type: string }) => void;
  now?: () => Date;
}

export interface MapRunRecord {
  arn: string;
  total: number;
  succeeded: number;
  failed: number;
  results: { index: number; status: 'SUCCEEDED' | 'FAILED'; output?: Json; error?: string; cause?: string }[];
}

export interface ExecutionResult {
  status: 'SUCCEEDED' | 'FAILED';
  output?: Json;
  error?: string;
  cause?: string;
}

const DESCRIBE_MAP_RUN = 'arn:aws:states:::aws-sdk:sfn:describeMapRun';

export class AslInterpreter {
  readonly mapRuns = new Map<string, MapRunRecord>();
  private readonly delayScale: number;

  constructor(private readonly options: InterpreterOptions) {
    this.delayScale = options.retryDelayScale ?? 0.001;
  }

  async execute(definition: StateMachineDefinition, input: Json, name: string = randomUUID()): Promise<ExecutionResult> {
    const startTime = (this.options.now?.() ?? new Date()).toISOString();
    const context: Json = { Execution: { Id: `local:${name}`, Name: name, StartTime: startTime, Input: input } };
    return this.run(definition.States as Record<string, State>, definition.StartAt, input, context, name);
  }

  private async run(states: Record<string, State>, startAt: string, input: Json, context: Json, execution: string): Promise<ExecutionResult> {
    let name = startAt;
    let data = input;
    for (let steps = 0; steps < 10_000; steps++) {
      const state = states[name];
      if (!state) throw new Error(`${execution}: no state named "${name}"`);
      this.options.onState?.({ execution, state: name, type: state.Type });
      const ctx = { ...(context as Record<string, Json>), State: { Name: name, EnteredTime: new Date().toISOString() } };
      if (state.Type === 'Succeed') return { status: 'SUCCEEDED', output: this.filter(state.OutputPath, this.filter(state.InputPath, data, ctx), ctx) };
      if (state.Type === 'Fail') return { status: 'FAILED', error: state.Error, cause: state.Cause };
      if (state.Type === 'Choice') {
        const effective = this.filter(state.InputPath, data, ctx);
        const rule = state.Choices.find((c) => matches(c as Rule, effective, ctx));
        name = rule ? rule.Next : state.Default;
        data = this.filter(state.OutputPath, effective, ctx);
        continue;
      }
      if (state.Type !== 'Pass' && state.Type !== 'Task' && state.Type !== 'Map') {
        throw new Error(`${execution}: state "${name}" has type ${(state as { Type: string }).Type}, which the local interpreter does not support`);
      }
      let output: Json;
      try {
        output = state.Type === 'Pass' ? this.pass(state, data, ctx) : state.Type === 'Task' ? await this.task(state, name, data, ctx, execution) : await this.map(state, name, data, ctx, execution);
      } catch (raw) {
        const err = raw instanceof StatesError ? raw : new StatesError('States.Runtime', String((raw as Error)?.message ?? raw));
        const catchers = state.Type === 'Task' || state.Type === 'Map' ? state.Catch ?? [] : [];
        const catcher = catchers.find((c) => errorMatches(c.ErrorEquals, err.error));
        if (!catcher) return { status: 'FAILED', error: err.error, cause: err.cause };
        data = applyResultPath(data, { Error: err.error, Cause: err.cause }, catcher.ResultPath === undefined ? '$' : catcher.ResultPath);
        name = catcher.Next;
        continue;
      }
      if ('End' in state && state.End) return { status: 'SUCCEEDED', output };
      data = output;
      name = (state as { Next: string }).Next;
    }
    throw new Error(`${execution}: more than 10,000 state transitions`);
  }

  private filter(path: string | null | undefined, data: Json, ctx: Json): Json {
    if (path === undefined || path === '$') return data;
    if (path === null) return {};
    return readPath(path, data, ctx, 'InputPath/OutputPath');
  }

  private pass(state: Extract<State, { Type: 'Pass' }>, data: Json, ctx: Json): Json {
    const effective = this.filter(state.InputPath, data, ctx);
    let result: Json = state.Parameters ? renderTemplate(state.Parameters as Json, effective, ctx) : effective;
    if (state.Result !== undefined) result = state.Result as Json;
    return this.filter(state.OutputPath, applyResultPath(data, result, state.ResultPath), ctx);
  }

  private async task(state: TaskState, name: string, data: Json, ctx: Json, execution: string): Promise<Json> {
    const effective = this.filter(state.InputPath, data, ctx);
    const payload = state.Parameters ? renderTemplate(state.Parameters as Json, effective, ctx) : effective;
    let result = await this.withRetry(state.Retry, () => this.withTimeout(state.TimeoutSeconds, () => this.callResource(state.Resource, payload, name, execution)));
    if (state.ResultSelector) result = renderTemplate(state.ResultSelector as Json, result, ctx, 'ResultSelector');
    return this.filter(state.OutputPath, applyResultPath(data, result, state.ResultPath), ctx);
  }

  private async callResource(resource: string, payload: Json, stateName: string, execution: string): Promise<Json> {
    if (resource === DESCRIBE_MAP_RUN) {
      const arn = String((payload as Record<string, Json>).MapRunArn);
      const run = this.mapRuns.get(arn);
      if (!run) throw new StatesError('Sfn.ResourceNotFoundException', `Map run ${arn} does not exist`);
      return { MapRunArn: arn, Status: 'SUCCEEDED', ItemCounts: { Total: run.total, Succeeded: run.succeeded, Failed: run.failed, TimedOut: 0, Aborted: 0, Pending: 0, Running: 0 } };
    }
    try {
      return await this.options.invoke(resource, payload, { stateName, execution });
    } catch (raw) {
      if (raw instanceof StatesError) throw raw;
      // A Lambda function error surfaces as its error name with Lambda's JSON cause (errorType/errorMessage).
      const err = raw as Error;
      const errorType = err?.name || 'Error';
      throw new StatesError(errorType, JSON.stringify({ errorType, errorMessage: String(err?.message ?? raw) }));
    }
  }

  private async withTimeout(seconds: number | undefined, fn: () => Promise<Json>): Promise<Json> {
    if (!seconds) return fn();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StatesError('States.Timeout', `Task did not finish within ${seconds} s`)), seconds * 1000);
    });
    try {
      return await Promise.race([fn(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async withRetry(retriers: Retrier[] | undefined, fn: () => Promise<Json>): Promise<Json> {
    const used = new Map<Retrier, number>();
    for (;;) {
      try {
        return await fn();
      } catch (raw) {
        const err = raw instanceof StatesError ? raw : new StatesError('States.Runtime', String(raw));
        const retrier = (retriers ?? []).find((r) => errorMatches(r.ErrorEquals, err.error));
        const attempt = retrier ? used.get(retrier) ?? 0 : 0;
        if (!retrier || attempt >= (retrier.MaxAttempts ?? 3)) throw err;
        used.set(retrier, attempt + 1);
        const delay = Math.min(retrier.IntervalSeconds * retrier.BackoffRate ** attempt, retrier.MaxDelaySeconds ?? Infinity);
        await new Promise((r) => setTimeout(r, delay * 1000 * this.delayScale));
      }
    }
  }

  private async map(state: MapState, name: string, data: Json, ctx: Json, execution: string): Promise<Json> {
    const effective = this.filter(state.InputPath, data, ctx);
    const items = state.ItemsPath ? readPath(state.ItemsPath, effective, ctx, 'ItemsPath') : effective;
    if (!Array.isArray(items)) throw new StatesError('States.Runtime', `${name}: ItemsPath did not select an array`);
    const arn = `arn:aws:states:local:map-run/${execution}/${name}/${randomUUID()}`;
    const run: MapRunRecord = { arn, total: items.length, succeeded: 0, failed: 0, results: [] };
    this.mapRuns.set(arn, run);
    const processor = state.ItemProcessor;
    const concurrency = Math.max(1, state.MaxConcurrency || items.length || 1);
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const index = next++;
        const itemCtx = { ...(ctx as Record<string, Json>), Map: { Item: { Index: index, Value: items[index] } } };
        const itemInput = state.ItemSelector ? renderTemplate(state.ItemSelector as Json, effective, itemCtx, 'ItemSelector') : items[index];
        const childName = processor.ProcessorConfig.Mode === 'DISTRIBUTED' ? `${execution}/${name}/${index}` : execution;
        const childCtx = processor.ProcessorConfig.Mode === 'DISTRIBUTED'
          ? { Execution: { ...((ctx as Record<string, Record<string, Json>>).Execution), Id: `local:${childName}`, Name: childName, Input: itemInput } }
          : itemCtx;
        const r = await this.run(processor.States as Record<string, State>, processor.StartAt, itemInput, childCtx, childName);
        if (r.status === 'SUCCEEDED') run.succeeded++;
        else run.failed++;
        run.results.push({ index, status: r.status, output: r.output, error: r.error, cause: r.cause });
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(items.length, 1)) }, worker));
    run.results.sort((a, b) => a.index - b.index);
    const tolerated = state.ToleratedFailureCount ?? (state.ToleratedFailurePercentage !== undefined ? Math.floor(items.length * state.ToleratedFailurePercentage / 100) : 0);
    if (run.failed > tolerated) {
      throw new StatesError('States.ExceedToleratedFailureThreshold', `${run.failed} of ${items.length} items failed (tolerated ${tolerated})`);
    }
    let result: Json;
    if (state.ResultWriter) {
      // Same layout as Step Functions: <Prefix><map run id>/manifest.json + SUCCEEDED_0.json / FAILED_0.json.
      const params = renderTemplate(state.ResultWriter.Parameters as Json, effective, ctx, 'ResultWriter') as Record<string, Json>;
      const prefix = `${String(params.Prefix ?? '')}${arn.split('/').pop()}/`;
      const files: Record<string, Json[]> = { SUCCEEDED_0: [], FAILED_0: [] };
      for (const r of run.results) {
        files[`${r.status}_0`].push({ ExecutionArn: `${arn}:${r.index}`, Status: r.status, Output: r.output === undefined ? null : JSON.stringify(r.output), Error: r.error ?? null, Cause: r.cause ?? null });
      }
      const resultFiles: Record<string, Json[]> = {};
      for (const [file, rows] of Object.entries(files)) {
        if (rows.length === 0) continue;
        const key = `${prefix}${file}.json`;
        await this.options.invoke(state.ResultWriter.Resource, { Bucket: params.Bucket, Key: key, Body: JSON.stringify(rows) }, { stateName: name, execution });
        resultFiles[file.split('_')[0]] = [{ Key: key, Size: rows.length }];
      }
      const manifestKey = `${prefix}manifest.json`;
      await this.options.invoke(state.ResultWriter.Resource, {
        Bucket: params.Bucket, Key: manifestKey, Body: JSON.stringify({ DestinationBucket: params.Bucket, MapRunArn: arn, ResultFiles: resultFiles }),
      }, { stateName: name, execution });
      result = { MapRunArn: arn, ResultWriterDetails: { Bucket: params.Bucket, Key: manifestKey } };
    } else {
      if (run.failed > 0) result = run.results.map((r) => (r.status === 'SUCCEEDED' ? r.output ?? null : { Error: r.error ?? null, Cause: r.cause ?? null }));
      else result = run.results.map((r) => r.output ?? null);
    }
    if (state.ResultSelector) result = renderTemplate(state.ResultSelector as Json, result, ctx, 'ResultSelector');
    return this.filter(state.OutputPath, applyResultPath(data, result, state.ResultPath), ctx);
  }
}

function errorMatches(names: string[], error: string): boolean {
  return names.some((n) => n === error || n === 'States.ALL' || (n === 'States.TaskFailed' && error !== 'States.Timeout'));
}

type Rule = Omit<ChoiceRule, 'Variable'> & { Variable: string; And?: Rule[]; Or?: Rule[]; Not?: Rule } & Record<string, unknown>;

function matches(rule: Rule, input: Json, ctx: Json): boolean {
  if (rule.And) return rule.And.every((r) => matches(r, input, ctx));
  if (rule.Or) return rule.Or.some((r) => matches(r, input, ctx));
  if (rule.Not) return !matches(rule.Not, input, ctx);
  const present = hasPath(rule.Variable, input, ctx);
  if (rule.IsPresent !== undefined) return present === rule.IsPresent;
  if (!present) throw new StatesError('States.Runtime', `Choice: Invalid path "${rule.Variable}": the path does not exist`);
  const v = readPath(rule.Variable, input, ctx);
  if (rule.IsNull !== undefined) return (v === null) === rule.IsNull;
  if (rule.IsString !== undefined) return (typeof v === 'string') === rule.IsString;
  const ops: [string, (a: Json, b: unknown) => boolean][] = [
    ['StringEquals', (a, b) => a === b],
    ['BooleanEquals', (a, b) => a === b],
    ['NumericEquals', (a, b) => typeof a === 'number' && a === b],
    ['NumericGreaterThan', (a, b) => typeof a === 'number' && a > (b as number)],
    ['NumericGreaterThanEquals', (a, b) => typeof a === 'number' && a >= (b as number)],
    ['NumericLessThan', (a, b) => typeof a === 'number' && a < (b as number)],
    ['NumericLessThanEquals', (a, b) => typeof a === 'number' && a <= (b as number)],
  ];
  for (const [op, test] of ops) if (op in rule) return test(v, rule[op]);
  throw new StatesError('States.Runtime', `Choice: no supported comparison in rule on ${rule.Variable}`);
}
