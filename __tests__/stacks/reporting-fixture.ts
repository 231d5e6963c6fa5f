/**
 * Shared fixture of the reporting stack tests: one dev synth per test file, and helpers that follow
 * cross-stack references to the upstream stack's output so assertions compare against the upstream
 * construct's own field instead of how the network and data stacks name their resources.
 */
import { DefaultTokenResolver, StringConcat, Tokenization } from 'cdktf';
import { IConstruct } from 'constructs';
import { findResource as findAny, resources as resourcesAny, synthPlatform, testConfig, TfJson } from '../../test-support/config-fixture';

// Synthesized Terraform JSON is untyped; the assertions check its shape.
export type R = Record<string, any>;
export interface Statement { Sid?: string; Effect: string; Action: string | string[]; Resource?: string | string[]; Condition?: R }

export const cfg = testConfig();
export const { tf, platform } = synthPlatform(cfg);
export const rep = tf.reporting;

export const resources = (t: TfJson, type: string) => resourcesAny(t, type) as Record<string, R>;
export const findResource = (t: TfJson, type: string, pred?: (r: R) => boolean) => findAny(t, type, pred as never) as R;
export const arr = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
export const resolveIn = (scope: IConstruct, v: unknown) => Tokenization.resolve(v, { scope, resolver: new DefaultTokenResolver(new StringConcat()) });
export const name = (purpose: string) => `finbatch-dev-${purpose}`;

/** Value of an upstream stack's output that a `${data.terraform_remote_state...outputs.X}` reference reads. */
export function upstream(ref: string): unknown {
  const m = /^\$\{data\.terraform_remote_state\.cross-stack-reference-input-([a-z-]+)\.outputs\.([^}]+)\}$/.exec(ref);
  if (!m) throw new Error(`not a remote-state reference: ${ref}`);
  return tf[m[1]].output?.[m[2]]?.value;
}
/** Asserts `ref` (in the reporting stack) carries `token` of the upstream construct `scope`. */
export function expectUpstream(ref: unknown, scope: IConstruct, token: unknown) {
  expect(upstream(ref as string)).toEqual(resolveIn(scope, token));
}
/** Replaces remote-state references inside a string with the upstream values. */
export function upstreamOrSelf(v: string): string {
  return v.replace(/\$\{data\.terraform_remote_state\.[^}]+\}/g, (ref) => String(upstream(ref)));
}
export function fnByName(fnName: string): [string, R] {
  const hit = Object.entries(resources(rep, 'aws_lambda_function')).find(([, f]) => f.function_name === fnName);
  if (!hit) throw new Error(`no function ${fnName}`);
  return hit as [string, R];
}
/** Statements of the single inline policy of the role a `${aws_iam_role.X.arn}` reference points at. */
export function roleStatements(roleRef: string, t: TfJson = rep): Statement[] {
  const roleId = /^\$\{aws_iam_role\.([^.]+)\.arn\}$/.exec(roleRef)![1];
  const policies = Object.values(resources(t, 'aws_iam_role_policy')).filter((p) => p.role === `\${aws_iam_role.${roleId}.id}`);
  expect(policies).toHaveLength(1);
  return JSON.parse(policies[0].policy as string).Statement;
}
export function fnStatements(fnName: string): Statement[] {
  return roleStatements(fnByName(fnName)[1].role);
}
export const allows = (sts: Statement[], action: string) => sts.filter((s) => s.Effect === 'Allow' && arr(s.Action).includes(action));
