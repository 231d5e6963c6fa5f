/**
 * Draws the architecture from the synthesized Terraform itself: one cluster per stack, one node per
 * kind of resource (sub-resources folded into their parent kind, e.g. bucket policies into S3 buckets),
 * edges for references inside a stack and bold edges for cross-stack references (outputs read through
 * terraform_remote_state), a note of each stack's Terraform variables, and a legend that says what
 * colours, edges and numbers mean. Writes docs/architecture.dot, .svg and .png with Graphviz.
 * Usage: npm run diagram [-- --in cdktf.out --out docs]
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');
const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : def;
};

// Terraform JSON of arbitrary shape, walked generically.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

/** Folds helper resource types into the kind an operator thinks in. */
const FOLD: [RegExp, string][] = [
  [/^aws_s3_bucket(_.*)?$/, 'aws_s3_bucket'],
  [/^aws_kms_(alias|key_policy)$/, 'aws_kms_key'],
  [/^aws_iam_(role_policy.*|policy|role_policy_attachment)$/, 'aws_iam_role'],
  [/^aws_vpc_security_group_(ingress|egress)_rule$|^aws_default_security_group$/, 'aws_security_group'],
  [/^aws_route_table_association$|^aws_route$/, 'aws_route_table'],
  [/^aws_network_acl(_.*)?$|^aws_default_network_acl$/, 'aws_network_acl'],
  [/^aws_vpc_endpoint(_.*)?$/, 'aws_vpc_endpoint'],
  [/^aws_lambda_(permission|function_event_invoke_config|invocation)$/, 'aws_lambda_function'],
  [/^aws_sns_topic_policy$/, 'aws_sns_topic'],
  [/^aws_sqs_queue_(policy|redrive.*)$/, 'aws_sqs_queue'],
  [/^aws_cloudwatch_event_(target|rule)$/, 'aws_cloudwatch_event_rule'],
  [/^aws_scheduler_schedule.*$/, 'aws_cloudwatch_event_rule'],
  [/^aws_cloudwatch_log_(metric_filter)$/, 'aws_cloudwatch_metric_alarm'],
  [/^aws_guardduty_.*$/, 'aws_guardduty_detector'],
  [/^aws_config_.*$/, 'aws_config_configuration_recorder'],
  [/^aws_securityhub_.*$/, 'aws_securityhub_account'],
  [/^aws_batch_.*$/, 'aws_batch'],
  [/^aws_ecr_.*$/, 'aws_ecr_repository'],
  [/^aws_rds_cluster.*$|^aws_db_subnet_group$/, 'aws_rds_cluster'],
  [/^aws_ses.*$|^aws_sesv2.*$/, 'aws_ses'],
  [/^aws_dynamodb_.*$/, 'aws_dynamodb_table'],
];

const LABELS: Record<string, string> = {
  aws_s3_bucket: 'S3 buckets', aws_kms_key: 'KMS keys', aws_iam_role: 'IAM roles', aws_security_group: 'Security groups',
  aws_route_table: 'Route tables', aws_network_acl: 'Network ACLs', aws_vpc_endpoint: 'VPC endpoints', aws_vpc: 'VPC',
  aws_subnet: 'Private subnets', aws_flow_log: 'Flow logs', aws_cloudwatch_log_group: 'Log groups (KMS)',
  aws_lambda_function: 'Lambda functions', aws_sns_topic: 'SNS topics (KMS)', aws_sns_topic_subscription: 'SNS subscriptions', aws_sqs_queue: 'SQS DLQs (KMS)',
  aws_cloudwatch_event_rule: 'EventBridge rules / schedules', aws_cloudwatch_metric_alarm: 'CloudWatch alarms',
  aws_cloudwatch_dashboard: 'Dashboard', aws_guardduty_detector: 'GuardDuty', aws_config_configuration_recorder: 'AWS Config',
  aws_securityhub_account: 'Security Hub', aws_cloudtrail: 'CloudTrail', aws_batch: 'AWS Batch (Fargate)',
  aws_ecr_repository: 'ECR repository', aws_rds_cluster: 'Aurora MySQL Serverless v2', aws_ses: 'SES',
  aws_dynamodb_table: 'DynamoDB tables', aws_sfn_state_machine: 'Step Functions workflow', aws_db_subnet_group: 'DB subnet group',
};

export function kindOf(type: string): string {
  for (const [re, kind] of FOLD) if (re.test(type)) return kind;
  return type;
}

export interface Graph {
  stacks: Record<string, Record<string, number>>; // stack -> kind -> count
  variables: Record<string, string[]>; // stack -> Terraform variables it declares (deploy-time inputs)
  edges: Set<string>; // "stack|kind->stack|kind"
  crossEdges: Map<string, number>; // "stack|kind->stack|kind" -> number of references
}

function refsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') {
    for (const m of value.matchAll(/\$\{([^}]*)\}/g)) out.push(m[1]);
  } else if (Array.isArray(value)) value.forEach((v) => refsIn(v, out));
  else if (value && typeof value === 'object') Object.entries(value).forEach(([k, v]) => { if (k !== '//') refsIn(v, out); });
  return out;
}

/** Addresses like aws_s3_bucket.input_bucket_1234.arn or data.terraform_remote_state.x.outputs.y. */
function refTargets(expr: string): { type: string; name: string; output?: string }[] {
  const found: { type: string; name: string; output?: string }[] = [];
  for (const m of expr.matchAll(/\b(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)(\.outputs\.([A-Za-z0-9_-]+))?/g)) {
    if (m[1] && m[2] === 'terraform_remote_state') found.push({ type: 'terraform_remote_state', name: m[3], output: m[5] });
    else if (!m[1] && m[2].startsWith('aws_')) found.push({ type: m[2], name: m[3] });
  }
  return found;
}

export function buildGraph(outDir: string): Graph {
  const stacksDir = path.join(outDir, 'stacks');
  const tf: Record<string, Json> = {};
  for (const s of fs.readdirSync(stacksDir).sort()) tf[s] = JSON.parse(fs.readFileSync(path.join(stacksDir, s, 'cdk.tf.json'), 'utf8'));
  const graph: Graph = { stacks: {}, variables: {}, edges: new Set(), crossEdges: new Map() };
  // output name -> kind of the resource it exposes, per producing stack
  const outputKind: Record<string, Record<string, string>> = {};
  for (const [stack, json] of Object.entries(tf)) {
    graph.stacks[stack] = {};
    graph.variables[stack] = Object.keys((json.variable ?? {}) as Json).sort();
    // Count the principal resources of a kind (buckets, not their policies); kinds made only of
    // folded types (e.g. aws_batch) count everything.
    const types = Object.entries((json.resource ?? {}) as Json);
    for (const [type, byName] of types) {
      const kind = kindOf(type);
      const principal = types.some(([t]) => t === kind);
      if (principal && type !== kind) {
        graph.stacks[stack][kind] = graph.stacks[stack][kind] ?? 0;
        continue;
      }
      graph.stacks[stack][kind] = (graph.stacks[stack][kind] ?? 0) + Object.keys(byName).length;
    }
    outputKind[stack] = {};
    for (const [name, out] of Object.entries((json.output ?? {}) as Json)) {
      const target = refsIn(out.value).flatMap(refTargets).find((t) => t.type.startsWith('aws_'));
      if (target) outputKind[stack][name] = kindOf(target.type);
    }
  }
  for (const [stack, json] of Object.entries(tf)) {
    const remote = (json.data?.terraform_remote_state ?? {}) as Json;
    const producerOf = (remoteName: string): string | undefined => {
      const cfg = remote[remoteName]?.config ?? {};
      const ref = String(cfg.path ?? cfg.key ?? cfg.workspaces?.name ?? '');
      return Object.keys(tf).find((s) => ref.includes(`terraform.${s}.tfstate`) || ref.endsWith(`/${s}.tfstate`) || ref.endsWith(`-${s}`));
    };
    for (const [type, byName] of Object.entries((json.resource ?? {}) as Json)) {
      const from = `${stack}|${kindOf(type)}`;
      for (const res of Object.values(byName as Json)) {
        for (const t of refsIn(res).flatMap(refTargets)) {
          if (t.type === 'terraform_remote_state') {
            const producer = producerOf(t.name);
            const kind = producer && t.output ? outputKind[producer][t.output] : undefined;
            if (producer && kind) {
              const key = `${from}->${producer}|${kind}`;
              graph.crossEdges.set(key, (graph.crossEdges.get(key) ?? 0) + 1);
            }
          } else {
            const to = `${stack}|${kindOf(t.type)}`;
            if (to !== from && graph.stacks[stack][kindOf(t.type)]) graph.edges.add(`${from}->${to}`);
          }
        }
      }
    }
  }
  return graph;
}

const id = (node: string) => `"${node}"`;

/** Fill colour of each stack's cluster (the legend names them). */
export const STACK_COLORS: Record<string, string> = {
  'security-baseline': '#fdecea', network: '#e8f1fb', data: '#eaf7ee', compute: '#fff6e0', reporting: '#f1ebfa',
};
const CROSS_COLOR = '#1f5fbf';
const KEY_COLOR = '#7b8fb8';
const INNER_COLOR = '#c3c8d2';

const escapeHtml = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The title and legend, as one Graphviz HTML-like table: what the cluster colours, boxes and counts, the three
 * kinds of edges and their numbers, and the variable notes mean.
 */
export function legendDot(graph: Graph): string[] {
  const row = (sample: string, text: string) => `<tr><td align="left">${sample}</td><td align="left">${escapeHtml(text)}</td></tr>`;
  const swatch = (stack: string) => `<td bgcolor="${STACK_COLORS[stack] ?? '#ffffff'}" border="1" color="#8a94a6">    </td>`;
  const rows = [
    '<tr><td colspan="2" align="left"><b>Financial batch platform: resources by stack, from cdktf.out. Legend</b></td></tr>',
    ...Object.keys(graph.stacks).map((stack) => `<tr>${swatch(stack)}<td align="left">${escapeHtml(`${stack} stack (one Terraform state / workspace)`)}</td></tr>`),
    row('<font point-size="9">[ S3 buckets ×4 ]</font>', 'one kind of resource; ×N = how many the stack declares (helpers such as policies, aliases and rules are folded into their parent kind and not counted)'),
    row(`<font color="${INNER_COLOR}">───▶</font>`, 'a reference inside one stack (edges to and from IAM roles are left out: roles reference nearly everything)'),
    row(`<font color="${CROSS_COLOR}">━━▶ 7</font>`, 'cross-stack reference: the consumer reads the producer\'s output through remote state; the number counts the references'),
    row(`<font color="${KEY_COLOR}">╍╍▶ keys: 40</font>`, 'references to another stack\'s KMS keys, drawn once per stack pair from the consumer\'s border; the number counts them'),
    row('<font point-size="9">[ variables ]</font>', 'Terraform variables the stack declares: deploy-time inputs a workspace sets without a new synth'),
  ];
  // The graph's own label, placed under the drawing: it takes no part in the layout, so the picture
  // stays as wide as the stacks and the legend reads as a caption.
  return [
    `  graph [labelloc=b, labeljust=l, label=<<table border="1" style="rounded" color="#8a94a6" cellborder="0" cellspacing="2" cellpadding="3">${rows.join('')}</table>>];`,
  ];
}

export function toDot(graph: Graph): string {
  const lines = [
    'digraph platform {',
    '  graph [rankdir=TB, fontname="Helvetica", fontsize=12, nodesep=0.3, ranksep=0.9, newrank=true, compound=true];',
    '  node [shape=box, style="rounded,filled", fillcolor="#f5f7fa", color="#8a94a6", fontname="Helvetica", fontsize=10];',
    `  edge [color="${INNER_COLOR}", arrowsize=0.5];`,
  ];
  for (const [stack, kinds] of Object.entries(graph.stacks)) {
    lines.push(`  subgraph "cluster_${stack}" {`, `    label="${stack} stack"; style="rounded,filled"; fillcolor="${STACK_COLORS[stack] ?? '#ffffff'}"; color="#8a94a6";`);
    for (const [kind, count] of Object.entries(kinds).sort()) {
      lines.push(`    ${id(`${stack}|${kind}`)} [label="${LABELS[kind] ?? kind.replace(/^aws_/, '')}${count > 1 ? ` ×${count}` : ''}"];`);
    }
    const vars = graph.variables[stack] ?? [];
    if (vars.length) lines.push(`    ${id(`${stack}|variables`)} [shape=note, style="filled", fillcolor="#ffffff", label="variables:\n${vars.join('\n')}"];`);
    lines.push('  }');
  }
  lines.push(...legendDot(graph));
  // Inside a stack, IAM roles reference nearly everything: keep those edges out to avoid a hairball.
  for (const e of [...graph.edges].sort()) {
    const [from, to] = e.split('->');
    if (from.endsWith('|aws_iam_role') || to.endsWith('|aws_iam_role')) continue;
    lines.push(`  ${id(from)} -> ${id(to)};`);
  }
  // Cross-stack edges: permissions (IAM roles) are left out; references to another stack's KMS keys
  // are drawn once per stack pair from the cluster's border, since nearly every resource has one.
  const keyEdges = new Map<string, number>();
  for (const [e, n] of [...graph.crossEdges.entries()].sort()) {
    const [from, to] = e.split('->');
    if (from.endsWith('|aws_iam_role')) continue;
    if (to.endsWith('|aws_kms_key')) {
      const k = `${from.split('|')[0]}->${to}`;
      keyEdges.set(k, (keyEdges.get(k) ?? 0) + n);
      continue;
    }
    lines.push(`  ${id(from)} -> ${id(to)} [color="${CROSS_COLOR}", penwidth=1.4, label="${n}", fontsize=8, fontcolor="${CROSS_COLOR}"];`);
  }
  for (const [k, n] of keyEdges) {
    const [fromStack, to] = k.split('->');
    const anchor = Object.keys(graph.stacks[fromStack]).sort()[0];
    lines.push(`  ${id(`${fromStack}|${anchor}`)} -> ${id(to)} [ltail="cluster_${fromStack}", color="${KEY_COLOR}", style=dashed, label="keys: ${n}", fontsize=8, fontcolor="${KEY_COLOR}"];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function main(): void {
  const outDir = path.resolve(ROOT, arg('--in', 'cdktf.out'));
  const docs = path.resolve(ROOT, arg('--out', 'docs'));
  if (!fs.existsSync(path.join(outDir, 'stacks'))) {
    console.error(`no synthesized stacks in ${outDir}: run npm run synth first`);
    process.exit(1);
  }
  const dot = toDot(buildGraph(outDir));
  fs.mkdirSync(docs, { recursive: true });
  const dotFile = path.join(docs, 'architecture.dot');
  fs.writeFileSync(dotFile, dot);
  for (const fmt of ['svg', 'png']) {
    const res = spawnSync('dot', [`-T${fmt}`, ...(fmt === 'png' ? ['-Gdpi=110'] : []), dotFile, '-o', path.join(docs, `architecture.${fmt}`)], { encoding: 'utf8' });
    if (res.error || res.status !== 0) {
      console.error(`graphviz failed (${res.error?.message ?? res.stderr}): install it with scripts/install-system.sh`);
      process.exit(1);
    }
  }
  console.log(`wrote ${['dot', 'svg', 'png'].map((f) => path.relative(ROOT, path.join(docs, `architecture.${f}`))).join(', ')}`);
}

if (require.main === module) main();
