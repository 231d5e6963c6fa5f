/**
 * One construct synthesized alone, cdktf's way (`Testing.synthScope`): the JSON string for cdktf's
 * matchers (`expect(json).toHaveResourceWithProperties(Type, {...})`) and the parsed document for what
 * a matcher cannot say (policy documents, counts).
 */
import { Testing } from 'cdktf';
import { IConstruct } from 'constructs';
import { TfJson } from './config-fixture';

// Synthesized Terraform JSON and IAM documents are untyped by nature.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

export interface Statement { Sid?: string; Effect: string; Principal?: unknown; Action: string | string[]; Resource?: string | string[]; NotResource?: string | string[]; Condition?: Json }

export function synthConstruct(build: (scope: IConstruct) => void): { json: string; tf: TfJson } {
  const json = Testing.synthScope(build);
  return { json, tf: JSON.parse(json) };
}

/** The single resource of `type` (throws when there are none or several). */
export function only(tf: TfJson, type: string): Json {
  const all = Object.values(tf.resource?.[type] ?? {});
  if (all.length !== 1) throw new Error(`expected exactly one ${type}, found ${all.length}`);
  return all[0];
}

/** The statements of an IAM policy document given as its JSON text. */
export function statementsOf(policy: string): Statement[] {
  return JSON.parse(policy).Statement;
}

/** The statement with Sid `sid` (throws, listing the Sids, when there is none). */
export function sid(statements: Statement[], s: string): Statement {
  const hit = statements.find((x) => x.Sid === s);
  if (!hit) throw new Error(`no statement ${s} in ${statements.map((x) => x.Sid).join(',')}`);
  return hit;
}

export const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
