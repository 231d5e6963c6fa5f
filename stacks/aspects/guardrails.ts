import { IConstruct } from 'constructs';
import { Annotations, IAspect, TerraformDataSource, TerraformProvider, TerraformResource, TerraformStack } from 'cdktf';
import {
  ASYNC_INVOKER_PRINCIPALS, bySuffix, KEY_POLICY_ROOT_ACTIONS, OUTSIDE_VPC_FUNCTIONS, SSE_S3_BUCKETS,
  SYNCHRONOUS_FUNCTIONS, WILDCARD_RESOURCE_ACTIONS,
} from './guardrail-allowlist';

export type GuardrailRule =
  | 'encryption' | 'public-access' | 'tls-only' | 'iam-wildcard' | 'open-security-group'
  | 'log-retention' | 'lambda-dlq' | 'lambda-xray' | 'lambda-vpc' | 'tags' | 'policy-format';

export interface Violation {
  /** Terraform address: `aws_s3_bucket.foo`, `data.aws_iam_policy_document.bar`, `provider.aws`. */
  readonly address: string;
  readonly rule: GuardrailRule;
  readonly message: string;
}

export interface GuardrailOptions {
  /** Minimum CloudWatch Logs retention (config `retention.logDays`). */
  readonly minLogRetentionDays: number;
  /** Tag keys the provider's default_tags must carry (config `tags` keys). */
  readonly requiredTags: readonly string[];
}

type Obj = Record<string, unknown>;
type TfDoc = { provider?: Record<string, unknown>; resource?: Record<string, Record<string, Obj>>; data?: Record<string, Record<string, Obj>> };

interface Statement { Effect: string; Action: string[]; NotAction: boolean; Resource: string[]; Principal: unknown; Condition?: Obj; Sid?: string }

const arr = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
const block = (v: unknown): Obj | undefined => arr(v)[0] as Obj | undefined;
const strs = (v: unknown): string[] => arr(v).filter((x): x is string => typeof x === 'string');

/** True when `value` references `${type.name.<attr>}` or equals the resource's literal name. */
function refersTo(value: unknown, type: string, name: string, literal?: unknown): boolean {
  if (typeof value !== 'string') return false;
  if (value.includes(`${type}.${name}.`)) return true;
  return typeof literal === 'string' && !literal.includes('${') && value === literal;
}

/** Decodes a policy attribute into statements; `undefined` when it cannot be inspected. */
function decodePolicy(value: unknown, tf: TfDoc): Statement[] | undefined {
  if (typeof value !== 'string') return undefined;
  const docRef = /^\$\{data\.aws_iam_policy_document\.([^.}]+)\.json\}$/.exec(value);
  if (docRef) {
    const d = tf.data?.aws_iam_policy_document?.[docRef[1]];
    if (!d) return undefined;
    return arr(d.statement).map((s) => {
      const st = s as Obj;
      const principals = arr(st.principals).map((p) => p as Obj);
      return {
        Effect: (st.effect as string) ?? 'Allow',
        Action: strs(st.actions ?? st.not_actions),
        NotAction: st.not_actions !== undefined,
        Resource: strs(st.resources ?? st.not_resources),
        Principal: principals.length ? Object.fromEntries(principals.map((p) => [p.type, p.identifiers])) : undefined,
        Condition: st.condition ? { dataSource: st.condition } : undefined,
        Sid: st.sid as string | undefined,
      };
    });
  }
  let doc: Obj;
  try {
    doc = JSON.parse(value);
  } catch {
    return undefined;
  }
  return arr(doc.Statement).map((s) => {
    const st = s as Obj;
    return {
      Effect: st.Effect as string,
      Action: strs(st.Action ?? st.NotAction),
      NotAction: st.NotAction !== undefined,
      Resource: strs(st.Resource ?? st.NotResource),
      Principal: st.Principal,
      Condition: st.Condition as Obj | undefined,
      Sid: st.Sid as string | undefined,
    };
  });
}

export type PolicyKind = 'identity' | 'trust' | 'key' | 'resource';
/** Every attribute that holds a policy document, by resource type. */
export const POLICY_ATTRS: Record<string, { attr: string; kind: PolicyKind }[]> = {
  aws_iam_role: [{ attr: 'assume_role_policy', kind: 'trust' }, { attr: 'inline_policy[].policy', kind: 'identity' }],
  aws_iam_role_policy: [{ attr: 'policy', kind: 'identity' }],
  aws_iam_policy: [{ attr: 'policy', kind: 'identity' }],
  aws_iam_user_policy: [{ attr: 'policy', kind: 'identity' }],
  aws_iam_group_policy: [{ attr: 'policy', kind: 'identity' }],
  aws_kms_key: [{ attr: 'policy', kind: 'key' }],
  aws_kms_key_policy: [{ attr: 'policy', kind: 'key' }],
  aws_s3_bucket_policy: [{ attr: 'policy', kind: 'resource' }],
  aws_sns_topic: [{ attr: 'policy', kind: 'resource' }],
  aws_sns_topic_policy: [{ attr: 'policy', kind: 'resource' }],
  aws_sqs_queue: [{ attr: 'policy', kind: 'resource' }],
  aws_sqs_queue_policy: [{ attr: 'policy', kind: 'resource' }],
  aws_cloudwatch_log_resource_policy: [{ attr: 'policy_document', kind: 'resource' }],
  aws_secretsmanager_secret_policy: [{ attr: 'policy', kind: 'resource' }],
  aws_ecr_repository_policy: [{ attr: 'policy', kind: 'resource' }],
  aws_cloudwatch_event_bus_policy: [{ attr: 'policy', kind: 'resource' }],
};

export function policyValues(config: Obj, attr: string): unknown[] {
  if (attr.endsWith('[].policy')) return arr(config[attr.split('[]')[0]]).map((b) => (b as Obj).policy);
  return config[attr] === undefined ? [] : [config[attr]];
}

const isPublicPrincipal = (p: unknown): boolean =>
  p === '*' || (typeof p === 'object' && p !== null && strs((p as Obj).AWS).includes('*'));
const isServiceWide = (a: string): boolean => a === '*' || /^[a-z0-9-]+:\*$/.test(a);
const isRootPrincipal = (p: unknown): boolean =>
  typeof p === 'object' && p !== null && strs((p as Obj).AWS).length > 0
  && strs((p as Obj).AWS).every((a) => /:root$/.test(a) || /^\d{12}$/.test(a) || /caller_identity[^}]*account_id\}$/.test(a));

function checkPolicy(address: string, kind: PolicyKind, statements: Statement[]): Violation[] {
  const out: Violation[] = [];
  for (const [i, s] of statements.entries()) {
    if (s.Effect !== 'Allow') continue;
    const where = `${address} statement ${s.Sid ?? i}`;
    if (s.NotAction) {
      out.push({ address, rule: 'iam-wildcard', message: `${where}: Allow with NotAction grants everything else; list the actions` });
      continue;
    }
    if ((kind === 'resource' || kind === 'trust') && isPublicPrincipal(s.Principal) && !s.Condition) {
      out.push({ address, rule: 'public-access', message: `${where}: Allow to Principal "*" without a Condition makes it public` });
    }
    const broad = s.Action.filter(isServiceWide);
    const tolerated = kind === 'key' && isRootPrincipal(s.Principal)
      ? broad.filter((a) => KEY_POLICY_ROOT_ACTIONS[a]) : [];
    const badActions = broad.filter((a) => !tolerated.includes(a));
    if (badActions.length) {
      out.push({ address, rule: 'iam-wildcard', message: `${where}: Allow of ${badActions.join(', ')}; list the specific actions` });
    }
    if (kind === 'identity' && s.Resource.includes('*')) {
      const notListed = s.Action.filter((a) => !WILDCARD_RESOURCE_ACTIONS[a]);
      if (notListed.length) {
        out.push({ address, rule: 'iam-wildcard', message: `${where}: Allow on Resource "*" for ${notListed.join(', ')}; scope it to ARNs `
          + '(only actions without resource-level permissions are in stacks/aspects/guardrail-allowlist.ts)' });
      }
    }
    if (kind === 'resource' && s.Resource.includes('*')) {
      out.push({ address, rule: 'iam-wildcard', message: `${where}: resource policy Allow on Resource "*"; name the resource ARN` });
    }
  }
  return out;
}

const OPEN = new Set(['0.0.0.0/0', '::/0']);

/** What each guardrail rule reads and how it reports. */
interface RuleContext {
  readonly tf: TfDoc;
  readonly opts: GuardrailOptions;
  /** The resources of one type: [name, config] pairs. */
  readonly res: (type: string) => [string, Obj][];
  readonly add: (address: string, rule: GuardrailRule, message: string) => void;
}

/** Every AWS provider block carries the required default_tags. */
function providerTags({ tf, opts, add }: RuleContext): void {
  for (const [i, p] of arr(tf.provider?.aws).entries()) {
    const tags = (block((p as Obj).default_tags)?.tags ?? {}) as Obj;
    const missing = opts.requiredTags.filter((k) => typeof tags[k] !== 'string' || !(tags[k] as string).length);
    if (missing.length) add(i ? `provider.aws[${i}]` : 'provider.aws', 'tags', `default_tags lack required tag(s) ${missing.join(', ')}`);
  }
}

/** S3 buckets: encryption, public access, ACLs, TLS-only policy. */
function bucketBaseline({ tf, res, add }: RuleContext): void {
  for (const [name, b] of res('aws_s3_bucket')) {
    const address = `aws_s3_bucket.${name}`;
    const linked = (type: string) => res(type).filter(([, c]) => refersTo(c.bucket, 'aws_s3_bucket', name, b.bucket)).map(([, c]) => c);
    const sse = linked('aws_s3_bucket_server_side_encryption_configuration')
      .flatMap((c) => arr(c.rule))
      .concat(arr(block(b.server_side_encryption_configuration)?.rule))
      .map((r) => block((r as Obj).apply_server_side_encryption_by_default)?.sse_algorithm as string | undefined);
    if (!sse.length || sse.some((a) => !a)) {
      add(address, 'encryption', 'no default encryption (aws_s3_bucket_server_side_encryption_configuration with aws:kms)');
    } else if (sse.some((a) => a === 'AES256') && !bySuffix(SSE_S3_BUCKETS, b.bucket)) {
      add(address, 'encryption', 'uses SSE-S3 (AES256); data buckets must use SSE-KMS with a customer-managed key');
    }
    const pab = linked('aws_s3_bucket_public_access_block');
    const flags = ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets'];
    if (!pab.some((c) => flags.every((f) => c[f] === true))) {
      add(address, 'public-access', `needs an aws_s3_bucket_public_access_block with ${flags.join(', ')} all true`);
    }
    const acls = [b.acl, ...linked('aws_s3_bucket_acl').map((c) => c.acl)];
    const grants = linked('aws_s3_bucket_acl').flatMap((c) => arr(block(c.access_control_policy)?.grant))
      .map((g) => String(block((g as Obj).grantee)?.uri ?? ''));
    if (acls.some((a) => typeof a === 'string' && /public|authenticated-read/.test(a)) || grants.some((u) => /AllUsers|AuthenticatedUsers/.test(u))) {
      add(address, 'public-access', 'has a public ACL or grant');
    }
    const policies = linked('aws_s3_bucket_policy').map((c) => decodePolicy(c.policy, tf) ?? []);
    const tlsOnly = policies.flat().some((s) => s.Effect === 'Deny' && isPublicPrincipal(s.Principal)
      && JSON.stringify(s.Condition ?? {}).match(/"aws:SecureTransport"\s*:\s*(\[\s*)?"?false"?/i));
    if (!tlsOnly) add(address, 'tls-only', 'bucket policy must Deny every principal when aws:SecureTransport is false');
  }
}

/** Encryption at rest of tables, topics, queues, log groups; log retention. */
function encryptionAtRest({ opts, res, add }: RuleContext): void {
  for (const [name, t] of res('aws_dynamodb_table')) {
    if (block(t.server_side_encryption)?.enabled !== true) {
      add(`aws_dynamodb_table.${name}`, 'encryption', 'server_side_encryption must be enabled with a customer-managed kms_key_arn');
    }
  }
  for (const [name, t] of res('aws_sns_topic')) {
    if (!t.kms_master_key_id) add(`aws_sns_topic.${name}`, 'encryption', 'kms_master_key_id is required');
  }
  for (const [name, q] of res('aws_sqs_queue')) {
    if (!q.kms_master_key_id && q.sqs_managed_sse_enabled !== true) {
      add(`aws_sqs_queue.${name}`, 'encryption', 'set kms_master_key_id (or sqs_managed_sse_enabled)');
    }
  }
  for (const [name, g] of res('aws_cloudwatch_log_group')) {
    const address = `aws_cloudwatch_log_group.${name}`;
    if (!g.kms_key_id) add(address, 'encryption', 'kms_key_id is required');
    const days = g.retention_in_days;
    if (typeof days !== 'number' || days === 0 || days < opts.minLogRetentionDays) {
      add(address, 'log-retention', `retention_in_days ${String(days)} is below the configured minimum ${opts.minLogRetentionDays}`);
    }
  }
}

/** IAM, key and resource policies: inspectable, no public or wildcard Allow outside the allow-list. */
function policies({ tf, res, add }: RuleContext): void {
  for (const [type, attrs] of Object.entries(POLICY_ATTRS)) {
    for (const [name, config] of res(type)) {
      for (const { attr, kind } of attrs) {
        for (const value of policyValues(config, attr)) {
          const statements = decodePolicy(value, tf);
          if (!statements) {
            add(`${type}.${name}`, 'policy-format', `${attr} is not an inspectable policy: render it with renderPolicy() or an aws_iam_policy_document`);
          } else {
            for (const v of checkPolicy(`${type}.${name}`, kind, statements)) add(v.address, v.rule, v.message);
          }
        }
      }
    }
  }
}

/** No security group open to the world. */
function securityGroups({ res, add }: RuleContext): void {
  const openCidrs = (c: Obj) => [...strs(c.cidr_blocks), ...strs(c.ipv6_cidr_blocks), ...strs(c.cidr_ipv4), ...strs(c.cidr_ipv6)].filter((x) => OPEN.has(x));
  for (const [name, sg] of res('aws_security_group')) {
    for (const dir of ['ingress', 'egress']) {
      for (const rule of arr(sg[dir])) {
        const o = openCidrs(rule as Obj);
        if (o.length) add(`aws_security_group.${name}`, 'open-security-group', `${dir} rule open to ${o.join(', ')}`);
      }
    }
  }
  for (const type of ['aws_security_group_rule', 'aws_vpc_security_group_ingress_rule', 'aws_vpc_security_group_egress_rule']) {
    for (const [name, rule] of res(type)) {
      const o = openCidrs(rule);
      if (o.length) add(`${type}.${name}`, 'open-security-group', `open to ${o.join(', ')}`);
    }
  }
}

/** Lambda: X-Ray, VPC, and a DLQ for asynchronously invoked functions. */
function lambdaBaseline({ res, add }: RuleContext): void {
  for (const [name, fn] of res('aws_lambda_function')) {
    const address = `aws_lambda_function.${name}`;
    const fnName = fn.function_name;
    const mine = (v: unknown) => refersTo(v, 'aws_lambda_function', name, fnName);
    if (block(fn.tracing_config)?.mode !== 'Active') add(address, 'lambda-xray', 'tracing_config.mode must be "Active"');
    const vpc = block(fn.vpc_config);
    if (!(vpc && arr(vpc.subnet_ids).length > 0 && arr(vpc.security_group_ids).length > 0)
      && !bySuffix(OUTSIDE_VPC_FUNCTIONS, fnName)) {
      add(address, 'lambda-vpc', 'must run in the VPC (vpc_config with private subnets and a security group)');
    }
    const asyncTriggers = [
      ...res('aws_lambda_permission').filter(([, p]) => mine(p.function_name)
        && (ASYNC_INVOKER_PRINCIPALS as readonly string[]).includes(String(p.principal))).map(([n, p]) => `${p.principal} (aws_lambda_permission.${n})`),
      ...res('aws_cloudwatch_event_target').filter(([, t]) => mine(t.arn)).map(([n]) => `aws_cloudwatch_event_target.${n}`),
      ...res('aws_s3_bucket_notification').filter(([, n]) => arr(n.lambda_function).some((l) => mine((l as Obj).lambda_function_arn)))
        .map(([n]) => `aws_s3_bucket_notification.${n}`),
      ...res('aws_sns_topic_subscription').filter(([, s]) => s.protocol === 'lambda' && mine(s.endpoint)).map(([n]) => `aws_sns_topic_subscription.${n}`),
      ...res('aws_scheduler_schedule').filter(([, s]) => mine(block(s.target)?.arn)).map(([n]) => `aws_scheduler_schedule.${n}`),
    ];
    const hasDlq = !!block(fn.dead_letter_config)?.target_arn
      || res('aws_lambda_function_event_invoke_config').some(([, c]) => mine(c.function_name)
        && !!block(block(block(c.destination_config)?.on_failure))?.destination);
    if (!hasDlq && (asyncTriggers.length || !bySuffix(SYNCHRONOUS_FUNCTIONS, fnName))) {
      add(address, 'lambda-dlq', asyncTriggers.length
        ? `is invoked asynchronously by ${asyncTriggers.join(', ')} but has no dead_letter_config (or on_failure destination)`
        : 'has no dead_letter_config; only functions listed as synchronous in guardrail-allowlist.ts may omit it');
    }
  }
}

/** The guardrail rules, run in this order over every stack. */
const RULES: readonly ((ctx: RuleContext) => void)[] = [providerTags, bucketBaseline, encryptionAtRest, policies, securityGroups, lambdaBaseline];

/** Every guardrail rule over one stack's synthesized Terraform JSON. Pure: no constructs involved. */
export function checkTerraform(tf: TfDoc, opts: GuardrailOptions): Violation[] {
  const out: Violation[] = [];
  const ctx: RuleContext = {
    tf,
    opts,
    res: (type) => Object.entries(tf.resource?.[type] ?? {}),
    add: (address, rule, message) => out.push({ address, rule, message }),
  };
  for (const rule of RULES) rule(ctx);
  return out;
}

/** Terraform address of a construct, as checkTerraform names it. */
function addressOf(node: IConstruct): string | undefined {
  if (node instanceof TerraformResource) return `${node.terraformResourceType}.${node.friendlyUniqueId}`;
  if (node instanceof TerraformDataSource) return `data.${node.terraformResourceType}.${node.friendlyUniqueId}`;
  if (node instanceof TerraformProvider) return `provider.${node.terraformResourceType}`;
  return undefined;
}

/**
 * Fails synth (error annotation -> non-zero exit) when a stack breaks a platform guardrail. It checks the
 * stack's synthesized Terraform JSON, so it sees exactly what Terraform will apply, whichever construct
 * produced it; each error is attached to the offending construct and names the rule and the fix.
 */
export class GuardrailAspect implements IAspect {
  constructor(private readonly opts: GuardrailOptions) {}

  visit(node: IConstruct): void {
    if (!TerraformStack.isStack(node)) return;
    const violations = checkTerraform(node.toTerraform() as TfDoc, this.opts);
    if (!violations.length) return;
    const byAddress = new Map<string, IConstruct>();
    for (const c of node.node.findAll()) {
      const a = addressOf(c);
      if (a && !byAddress.has(a)) byAddress.set(a, c);
    }
    for (const v of violations) {
      Annotations.of(byAddress.get(v.address) ?? node).addError(`[guardrail ${v.rule}] ${v.address}: ${v.message}`);
    }
  }
}
