/**
 * IAM policy lint: every policy document in every stack (identity, trust, key, bucket/topic/queue and
 * other resource policies, aws_iam_policy_document data sources) goes through parliament with Terraform
 * references replaced by realistic ARNs. Resource "*" is accepted only for the security gate's reasoned
 * allow-list; anything else must be fixed or suppressed with a reason in parliament-suppressions.yaml.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { POLICY_ATTRS, PolicyKind, policyValues } from '../../stacks/aspects/guardrails';
import { WILDCARD_RESOURCE_ACTIONS } from '../../stacks/aspects/guardrail-allowlist';
import { Finding, Obj, Stacks } from './stacks';
import { ACCOUNT, Placeholders } from './placeholders';

const ROOT = path.resolve(__dirname, '..', '..');
export const DEFAULT_SUPPRESSIONS = path.join(__dirname, 'parliament-suppressions.yaml');

export interface PolicyDoc { id: string; kind: PolicyKind; policy: Obj }

const arr = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

/** aws_iam_policy_document (Terraform shape) -> IAM JSON. */
function fromPolicyDocument(d: Obj): Obj {
  return {
    Version: '2012-10-17',
    Statement: arr(d.statement).map((raw) => {
      const s = raw as Obj;
      const st: Obj = { Effect: s.effect ?? 'Allow' };
      if (s.sid) st.Sid = s.sid;
      if (s.actions) st.Action = s.actions;
      if (s.not_actions) st.NotAction = s.not_actions;
      if (s.resources) st.Resource = s.resources;
      if (s.not_resources) st.NotResource = s.not_resources;
      const principals = arr(s.principals) as Obj[];
      if (principals.length) st.Principal = Object.fromEntries(principals.map((p) => [p.type, p.identifiers]));
      const conds = arr(s.condition) as Obj[];
      if (conds.length) {
        const c: Record<string, Obj> = {};
        for (const k of conds) (c[k.test as string] ??= {})[k.variable as string] = k.values;
        st.Condition = c;
      }
      return st;
    }),
  };
}

/** Every policy document of every stack, references resolved. Unparseable ones become findings. */
export function collectPolicies(stacks: Stacks): { docs: PolicyDoc[]; findings: Finding[] } {
  const ph = new Placeholders(stacks);
  const docs: PolicyDoc[] = [];
  const findings: Finding[] = [];
  for (const [stack, tf] of Object.entries(stacks)) {
    for (const [name, d] of Object.entries(tf.data?.aws_iam_policy_document ?? {})) {
      docs.push({ id: `${stack}:data.aws_iam_policy_document.${name}`, kind: 'identity', policy: ph.resolveDeep(stack, fromPolicyDocument(d)) });
    }
    for (const [type, attrs] of Object.entries(POLICY_ATTRS)) {
      for (const [name, config] of Object.entries(tf.resource?.[type] ?? {})) {
        for (const { attr, kind } of attrs) {
          for (const value of policyValues(config, attr)) {
            const id = `${stack}:${type}.${name} ${attr}`;
            if (typeof value !== 'string') continue;
            if (/^\$\{data\.aws_iam_policy_document\.[^}]+\.json\}$/.test(value)) continue; // linted as the data source
            let policy: Obj;
            try {
              policy = JSON.parse(ph.resolve(stack, value));
            } catch (e) {
              findings.push({ check: 'iam-lint', stack, address: `${type}.${name}`, message: `${attr} is not valid JSON after resolving references (${(e as Error).message})` });
              continue;
            }
            if (kind === 'trust') {
              // A trust policy has no Resource: it is the role itself, which is what sts:AssumeRole acts on.
              const roleArn = `arn:aws:iam::${ACCOUNT}:role/${typeof config.name === 'string' ? ph.resolve(stack, config.name) : name}`;
              policy = { ...policy, Statement: arr(policy.Statement).map((s) => ({ ...(s as Obj), Resource: roleArn })) };
            }
            docs.push({ id, kind, policy });
          }
        }
      }
    }
  }
  return { docs, findings };
}

export interface LintResult { findings: Finding[]; linted: number; suppressed: { id: string; issue: string; detail: unknown; reason: string }[]; stale: unknown[] }

export function lintPolicies(stacks: Stacks, suppressions = DEFAULT_SUPPRESSIONS): LintResult {
  const { docs, findings } = collectPolicies(stacks);
  const py = path.join(ROOT, '.venv', 'bin', 'python');
  const res = spawnSync(py, [path.join(__dirname, 'parliament_lint.py')], {
    input: JSON.stringify({ docs, wildcardActions: Object.keys(WILDCARD_RESOURCE_ACTIONS), suppressions }),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.status !== 0) throw new Error(`parliament lint failed (exit ${res.status}): ${res.stderr || res.error}`);
  const out = JSON.parse(res.stdout) as { findings: { id: string; issue: string; severity: string; detail: unknown }[]; suppressed: LintResult['suppressed']; stale: unknown[] };
  for (const f of out.findings) {
    const [where, attr] = f.id.split(' ');
    const [stack, address] = [where.slice(0, where.indexOf(':')), where.slice(where.indexOf(':') + 1)];
    findings.push({ check: 'iam-lint', stack, address, message: `${attr ? `${attr}: ` : ''}${f.issue} (${f.severity}) ${JSON.stringify(f.detail)}` });
  }
  return { findings, linted: docs.length, suppressed: out.suppressed, stale: out.stale };
}
