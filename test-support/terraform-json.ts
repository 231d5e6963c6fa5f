/**
 * Reading synthesized Terraform JSON in tests, for what cdktf's matchers cannot say: logical ids that
 * link resources, counts, and IAM policy documents (a matcher compares a policy as opaque text, so
 * policies are parsed here). One copy of each helper for every stack test.
 */
import { resources as rawResources, TfJson } from './config-fixture';

// Synthesized Terraform JSON and IAM documents are untyped by nature.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

export interface Statement {
  Sid?: string;
  Effect: string;
  /** '*' or { AWS | Service | Federated: string | string[] }: tests read both shapes. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  Principal?: any;
  Action: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Json;
}

export const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** All resources of a type in a stack, keyed by logical id (untyped). */
export const resourcesOf = (tf: TfJson, type: string) => rawResources(tf, type) as Record<string, Json>;

/** The single resource of `type` (throws when there are none or several). */
export function only(tf: TfJson, type: string): Json {
  const all = Object.values(tf.resource?.[type] ?? {});
  if (all.length !== 1) throw new Error(`expected exactly one ${type}, found ${all.length}`);
  return all[0];
}

/** [logical id, resource] of the single resource of `type` whose `key` is `value` (throws otherwise). */
export function byName(tf: TfJson, type: string, key: string, value: string): [string, Json] {
  const hits = Object.entries(resourcesOf(tf, type)).filter(([, r]) => r[key] === value);
  if (hits.length !== 1) throw new Error(`expected one ${type} with ${key}=${value}, got ${hits.length}`);
  return hits[0];
}

/** Values of `key` over every resource of `type` that are given more than once (a matcher on a name finds any one). */
export function repeated(tf: TfJson, type: string, key: string): unknown[] {
  const seen = Object.values(resourcesOf(tf, type)).map((r) => r[key]).filter((v) => v !== undefined);
  return seen.filter((v, i) => seen.indexOf(v) !== i);
}

/** The statements of an IAM policy document given as its JSON text. */
export function statementsOf(policy: string): Statement[] {
  return JSON.parse(policy).Statement;
}

/** The statement with Sid `s` (throws, listing the Sids, when there is none). */
export function sid(statements: Statement[], s: string): Statement {
  const hit = statements.find((x) => x.Sid === s);
  if (!hit) throw new Error(`no statement ${s} in ${statements.map((x) => x.Sid).join(',')}`);
  return hit;
}

/** Statements of the single inline policy of the role named `roleName`. */
export function rolePolicy(tf: TfJson, roleName: string): Statement[] {
  const [roleId] = byName(tf, 'aws_iam_role', 'name', roleName);
  const policies = Object.values(resourcesOf(tf, 'aws_iam_role_policy')).filter((p) => p.role === `\${aws_iam_role.${roleId}.id}`);
  if (policies.length !== 1) throw new Error(`expected one inline policy on role ${roleName}, got ${policies.length}`);
  return statementsOf(policies[0].policy);
}

/** A reference to an upstream stack's output, e.g. ('data', 'aws_dynamodb_table', 'job-status', 'arn'). */
export const remoteRef = (stack: string, type: string, idPart: string, attr: string) =>
  new RegExp(`^\\$\\{data\\.terraform_remote_state\\.cross-stack-reference-input-${stack}\\.outputs\\.cross-stack-output-${type}${idPart}[A-Za-z0-9_-]*${attr}\\}`);

/** Every ARN the stacks build uses the provider's partition. */
export const PARTITION = '${data.aws_partition.partition.partition}';
/** The deploying account, as every stack reads it. */
export const ACCOUNT = '${data.aws_caller_identity.caller.account_id}';
