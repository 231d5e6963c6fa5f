/**
 * Typed IAM policy documents, rendered with JSON.stringify (never string templates with hand-placed
 * quotes). cdktf tokens inside strings survive JSON.stringify and resolve at synth.
 */
export type ConditionOperator = string;
export type ConditionBlock = Record<ConditionOperator, Record<string, string | string[] | boolean>>;

export type Principal =
  | '*'
  | { AWS?: string | string[]; Service?: string | string[]; Federated?: string | string[] };

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: Principal;
  Action: string | string[];
  Resource?: string | string[];
  /** Only in Deny statements (an Allow with NotResource would grant everything else). */
  NotResource?: string | string[];
  Condition?: ConditionBlock;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

export function policyDocument(statements: PolicyStatement[]): PolicyDocument {
  const sids = statements.map((s) => s.Sid).filter((s): s is string => !!s);
  const dup = sids.find((s, i) => sids.indexOf(s) !== i);
  if (dup) throw new Error(`policy has duplicate Sid "${dup}"`);
  for (const s of statements) {
    if (s.NotResource !== undefined && (s.Effect !== 'Deny' || s.Resource !== undefined)) {
      throw new Error(`policy statement ${s.Sid ?? ''}: NotResource only in a Deny, and not together with Resource`);
    }
    if (s.Sid !== undefined && !/^[A-Za-z0-9]+$/.test(s.Sid)) {
      throw new Error(`policy Sid "${s.Sid}" must be alphanumeric`);
    }
  }
  return { Version: '2012-10-17', Statement: statements };
}

export function renderPolicy(statements: PolicyStatement[]): string {
  return JSON.stringify(policyDocument(statements));
}

/** Trust policy for an AWS service principal, optionally pinned to the account (confused deputy). */
export function assumeRolePolicy(service: string | string[], accountId?: string): string {
  return renderPolicy([{
    Effect: 'Allow',
    Principal: { Service: service },
    Action: 'sts:AssumeRole',
    ...(accountId ? { Condition: { StringEquals: { 'aws:SourceAccount': accountId } } } : {}),
  }]);
}
