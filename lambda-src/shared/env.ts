/**
 * Environment reading. Each handler reads its variables with `environmentOf(entry)`: its environment
 * parsed against its schema (contracts/lambda-environment.ts), every problem named with its variable and
 * rule. The first invocation of a container (the cold start) parses it; later invocations reuse the
 * result while the variables are unchanged (only tests and the local run change them in one process).
 */
import {
  EnvironmentSchema, FUNCTION_ENVIRONMENTS, FunctionEnvironment, ParsedEnvironment, parseEnvironment, parseFunctionEnvironment,
} from '../../contracts/lambda-environment';
import type { FunctionEntry } from '../../contracts/metric-names';

const memo = new Map<string, { snapshot: string; value: unknown }>();

function memoized<T>(key: string, names: string[], parse: () => T): T {
  const snapshot = names.map((n) => process.env[n] ?? '\u0000').join('\u0001');
  const hit = memo.get(key);
  if (hit && hit.snapshot === snapshot) return hit.value as T;
  const value = parse();
  memo.set(key, { snapshot, value });
  return value;
}

/** The function's environment, parsed against its schema (throws naming each bad variable and its rule). */
export function environmentOf<E extends FunctionEntry>(entry: E): FunctionEnvironment<E> {
  return memoized(`fn:${entry}`, Object.keys(FUNCTION_ENVIRONMENTS[entry]), () => parseFunctionEnvironment(entry, process.env));
}

/** A part of an environment shared by several functions (the database variables), parsed on its own. */
export function variablesOf<S extends EnvironmentSchema>(what: string, schema: S): ParsedEnvironment<S> {
  return memoized(`part:${what}`, Object.keys(schema), () => parseEnvironment(schema, process.env, what));
}

/** A variable outside every schema (local-only overrides); empty counts as not set. */
export function optionalEnv(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}
