/**
 * Minimal typed Amazon States Language (JSONPath dialect): only the fields this platform uses, so a
 * misspelt field or a state without a transition is a compile error instead of a runtime surprise.
 * Definitions are plain objects rendered with JSON.stringify (cdktf tokens inside strings survive).
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };
/** Payload template: keys ending in `.$` hold a JSONPath or intrinsic function. */
export type PayloadTemplate = { [k: string]: JsonValue };

export interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds: number;
  MaxAttempts: number;
  BackoffRate: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: 'FULL' | 'NONE';
}

export interface Catcher {
  ErrorEquals: string[];
  Next: string;
  ResultPath?: string | null;
}

/** `Next` or `End`, never both. */
type Transition = { Next: string; End?: never } | { End: true; Next?: never };

interface Common {
  Comment?: string;
  InputPath?: string | null;
  OutputPath?: string | null;
}

export type PassState = Common & Transition & {
  Type: 'Pass';
  Parameters?: PayloadTemplate;
  Result?: JsonValue;
  ResultPath?: string | null;
};

export type TaskState = Common & Transition & {
  Type: 'Task';
  Resource: string;
  Parameters?: PayloadTemplate;
  ResultSelector?: PayloadTemplate;
  ResultPath?: string | null;
  TimeoutSeconds?: number;
  Retry: Retrier[];
  Catch: Catcher[];
};

export interface ChoiceRule {
  Variable: string;
  Next: string;
  BooleanEquals?: boolean;
  StringEquals?: string;
  NumericGreaterThan?: number;
  IsPresent?: boolean;
  IsNull?: boolean;
  IsString?: boolean;
}

export interface ChoiceState extends Common {
  Type: 'Choice';
  Choices: ChoiceRule[];
  Default: string;
}

export interface ProcessorConfig {
  Mode: 'INLINE' | 'DISTRIBUTED';
  ExecutionType?: 'STANDARD' | 'EXPRESS';
}

export interface ItemProcessor {
  ProcessorConfig: ProcessorConfig;
  StartAt: string;
  States: Record<string, State>;
}

export type MapState = Common & Transition & {
  Type: 'Map';
  ItemProcessor: ItemProcessor;
  ItemsPath?: string;
  ItemSelector?: PayloadTemplate;
  MaxConcurrency?: number;
  ToleratedFailurePercentage?: number;
  ToleratedFailureCount?: number;
  Label?: string;
  ResultWriter?: { Resource: string; Parameters: PayloadTemplate };
  ResultSelector?: PayloadTemplate;
  ResultPath?: string | null;
  Retry?: Retrier[];
  Catch?: Catcher[];
};

export interface SucceedState extends Common {
  Type: 'Succeed';
}

export interface FailState {
  Type: 'Fail';
  Comment?: string;
  Error: string;
  Cause: string;
}

export type State = PassState | TaskState | ChoiceState | MapState | SucceedState | FailState;

export interface StateMachineDefinition {
  Comment?: string;
  StartAt: string;
  TimeoutSeconds?: number;
  States: Record<string, State>;
}

/** Names of the states a state can move to (Next, Choices, Default, Catch). */
export function successors(state: State): string[] {
  const out: string[] = [];
  if ('Next' in state && state.Next) out.push(state.Next);
  if (state.Type === 'Choice') out.push(...state.Choices.map((c) => c.Next), state.Default);
  if ((state.Type === 'Task' || state.Type === 'Map') && state.Catch) out.push(...state.Catch.map((c) => c.Next));
  return out;
}

/**
 * Throws when a transition names a missing state, a state is unreachable, or StartAt is missing:
 * the definition builder calls this so a broken workflow fails synth, not the first nightly run.
 */
export function assertWellFormed(states: Record<string, State>, startAt: string, where = 'workflow'): void {
  if (!states[startAt]) throw new Error(`${where}: StartAt "${startAt}" is not a state`);
  for (const [name, state] of Object.entries(states)) {
    for (const next of successors(state)) {
      if (!states[next]) throw new Error(`${where}: state "${name}" transitions to missing state "${next}"`);
    }
    if (state.Type === 'Map') assertWellFormed(state.ItemProcessor.States, state.ItemProcessor.StartAt, `${where}/${name}`);
  }
  const seen = new Set<string>();
  const queue = [startAt];
  while (queue.length) {
    const n = queue.pop() as string;
    if (seen.has(n)) continue;
    seen.add(n);
    queue.push(...successors(states[n]));
  }
  const unreachable = Object.keys(states).filter((n) => !seen.has(n));
  if (unreachable.length) throw new Error(`${where}: unreachable state(s) ${unreachable.join(', ')}`);
}
