/**
 * Runs the real Lambda handlers (lambda-src/<entry>/index.ts) in this process, each with the
 * environment its stack gives it, as Lambda would: one event, a context, the handler's own errors.
 * Handler output (Powertools JSON logs, EMF metric lines) goes to the run log, not the terminal.
 * One container per function: like a Lambda execution environment, a function handles one event at a
 * time (concurrent invocations of the same function queue), so module-level state a handler keeps for
 * its current invocation is never shared between two events. Different functions run concurrently.
 */
import { randomUUID } from 'crypto';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');

export type Handler = (event: unknown, context: unknown) => Promise<unknown>;

export interface LambdaRuntime {
  invoke(entry: string, event: unknown): Promise<unknown>;
  /** Runs the handler now, without waiting for the function's current event (invoke queues). */
  invokeNow(entry: string, event: unknown): Promise<unknown>;
  /** Function ARN -> entry (the ASL interpreter resolves Task resources with it). */
  entryForArn(arn: string): string | undefined;
  invocations: Record<string, number>;
  /** Changes one variable of a function's environment before its next invocation. */
  setEnv(entry: string, name: string, value: string): void;
}

function lambdaContext(entry: string, functionName: string, timeoutSeconds: number): Record<string, unknown> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  return {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${entry}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export function lambdaRuntime(options: {
  environments: Record<string, Record<string, string>>;
  functionArn: (entry: string) => string;
  functionName: (entry: string) => string;
  timeoutSeconds?: number;
  load?: (entry: string) => Promise<Handler>;
}): LambdaRuntime {
  const loaded = new Map<string, Promise<Handler>>();
  const byArn = new Map(Object.keys(options.environments).map((e) => [options.functionArn(e), e]));
  const load = options.load ?? (async (entry: string) => {
    const mod = await import(path.join(ROOT, 'lambda-src', entry, 'index.ts')) as { handler?: Handler; default?: { handler?: Handler } };
    const handler = mod.handler ?? mod.default?.handler;
    if (typeof handler !== 'function') throw new Error(`lambda-src/${entry}/index.ts does not export a handler`);
    return handler;
  });
  const invocations: Record<string, number> = {};
  const busy = new Map<string, Promise<unknown>>();
  const runtime: LambdaRuntime = {
    invocations,
    setEnv: (entry, name, value) => {
      if (!options.environments[entry]) throw new Error(`no environment for function ${entry}`);
      options.environments[entry][name] = value;
    },
    entryForArn: (arn) => byArn.get(arn),
    async invoke(entry, event) {
      if (!options.environments[entry]) throw new Error(`no environment for function ${entry}`);
      const previous = busy.get(entry) ?? Promise.resolve();
      const run = previous.catch(() => undefined).then(() => runtime.invokeNow(entry, event));
      busy.set(entry, run);
      try {
        return await run;
      } finally {
        if (busy.get(entry) === run) busy.delete(entry);
      }
    },
    async invokeNow(entry, event) {
      const env = options.environments[entry];
      if (!env) throw new Error(`no environment for function ${entry}`);
      // Env first: handlers read it when their module loads. Values that two functions share are equal;
      // those that differ are read at module load (POWERTOOLS_SERVICE_NAME, which each handler also
      // passes explicitly).
      Object.assign(process.env, env);
      if (!loaded.has(entry)) loaded.set(entry, load(entry));
      const handler = await loaded.get(entry)!;
      invocations[entry] = (invocations[entry] ?? 0) + 1;
      return handler(event, lambdaContext(entry, options.functionName(entry), options.timeoutSeconds ?? 900));
    },
  };
  return runtime;
}
