/**
 * Replaces `${...}` references in synthesized strings with realistic values (ARNs in the right format,
 * names as configured), so offline linters see what AWS would see after apply. Remote-state reads are
 * followed into the producing stack's output; anything unknown becomes a clearly fake placeholder.
 */
import { interpolations, Obj, referencesIn, Stacks } from './stacks';
import { producerOf } from './contracts';
import { EXAMPLE_ACCOUNT_ID } from '../../stacks/config';

/** The made-up account of every resolved ARN: the config module's example account (a placeholder there). */
export const ACCOUNT = EXAMPLE_ACCOUNT_ID;
export const FAKE_KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';

export class Placeholders {
  constructor(private readonly stacks: Stacks, readonly region = 'eu-west-1') {}

  private config(stack: string, type: string, name: string, data = false): Obj | undefined {
    const tf = this.stacks[stack];
    return (data ? tf?.data : tf?.resource)?.[type]?.[name];
  }

  /** A literal attribute of a resource with its own references resolved, e.g. a bucket's name. */
  private attr(stack: string, cfg: Obj | undefined, key: string, fallback: string, depth: number): string {
    const v = cfg?.[key];
    return typeof v === 'string' ? this.resolve(stack, v, depth + 1) : fallback;
  }

  private arnFor(stack: string, type: string, name: string, depth: number): string {
    const c = this.config(stack, type, name);
    const r = this.region;
    const nm = (key: string) => this.attr(stack, c, key, name, depth);
    switch (type) {
      case 'aws_s3_bucket': return `arn:aws:s3:::${nm('bucket')}`;
      case 'aws_kms_key': return `arn:aws:kms:${r}:${ACCOUNT}:key/${FAKE_KEY_ID}`;
      case 'aws_dynamodb_table': return `arn:aws:dynamodb:${r}:${ACCOUNT}:table/${nm('name')}`;
      case 'aws_sns_topic': return `arn:aws:sns:${r}:${ACCOUNT}:${nm('name')}`;
      case 'aws_sqs_queue': return `arn:aws:sqs:${r}:${ACCOUNT}:${nm('name')}`;
      case 'aws_cloudwatch_log_group': return `arn:aws:logs:${r}:${ACCOUNT}:log-group:${nm('name')}`;
      case 'aws_lambda_function': return `arn:aws:lambda:${r}:${ACCOUNT}:function:${nm('function_name')}`;
      case 'aws_iam_role': return `arn:aws:iam::${ACCOUNT}:role/${nm('name')}`;
      case 'aws_iam_policy': return `arn:aws:iam::${ACCOUNT}:policy/${nm('name')}`;
      case 'aws_batch_job_queue': return `arn:aws:batch:${r}:${ACCOUNT}:job-queue/${nm('name')}`;
      case 'aws_batch_job_definition': return `arn:aws:batch:${r}:${ACCOUNT}:job-definition/${nm('name')}:1`;
      case 'aws_batch_compute_environment': return `arn:aws:batch:${r}:${ACCOUNT}:compute-environment/${nm('compute_environment_name')}`;
      case 'aws_sfn_state_machine': return `arn:aws:states:${r}:${ACCOUNT}:stateMachine:${nm('name')}`;
      case 'aws_secretsmanager_secret': return `arn:aws:secretsmanager:${r}:${ACCOUNT}:secret:${nm('name')}-AbCdEf`;
      case 'aws_ecr_repository': return `arn:aws:ecr:${r}:${ACCOUNT}:repository/${nm('name')}`;
      case 'aws_rds_cluster': return `arn:aws:rds:${r}:${ACCOUNT}:cluster:${nm('cluster_identifier')}`;
      case 'aws_cloudtrail': return `arn:aws:cloudtrail:${r}:${ACCOUNT}:trail/${nm('name')}`;
      case 'aws_cloudwatch_event_rule': return `arn:aws:events:${r}:${ACCOUNT}:rule/${nm('name')}`;
      case 'aws_sesv2_configuration_set': return `arn:aws:ses:${r}:${ACCOUNT}:configuration-set/${nm('configuration_set_name')}`;
      case 'aws_sesv2_email_identity': return `arn:aws:ses:${r}:${ACCOUNT}:identity/${nm('email_identity')}`;
      case 'aws_guardduty_detector': return `arn:aws:guardduty:${r}:${ACCOUNT}:detector/12abc34d567e8fa901bc2d34e56789f0`;
      case 'aws_vpc': return `arn:aws:ec2:${r}:${ACCOUNT}:vpc/vpc-0123456789abcdef0`;
      default: return `arn:aws:${type.replace(/^aws_/, '').split('_')[0]}:${r}:${ACCOUNT}:${name}`;
    }
  }

  private valueFor(stack: string, type: string, name: string, attr: string, depth: number): string {
    const c = this.config(stack, type, name);
    const first = attr.split('.')[0].replace(/\[.*$/, '');
    if (first === 'arn') return this.arnFor(stack, type, name, depth);
    if (first === 'arn_prefix') return this.arnFor(stack, type, name, depth).replace(/:\d+$/, '');
    if (first === 'master_user_secret') return `arn:aws:secretsmanager:${this.region}:${ACCOUNT}:secret:rds!cluster-0a1b2c3d-AbCdEf`;
    // An attribute that is also an argument (name, function_name, configuration_set_name, ...) has the
    // configured value after apply.
    if (first !== 'id' && typeof c?.[first] === 'string') return this.attr(stack, c, first, name, depth);
    if (type === 'aws_s3_bucket' && (first === 'id' || first === 'bucket')) return this.attr(stack, c, 'bucket', name, depth);
    if (type === 'aws_s3_bucket' && first === 'bucket_regional_domain_name') return `${this.attr(stack, c, 'bucket', name, depth)}.s3.${this.region}.amazonaws.com`;
    if (type === 'aws_kms_key' && first === 'key_id') return FAKE_KEY_ID;
    if (type === 'aws_kms_alias' && first === 'name') return this.attr(stack, c, 'name', `alias/${name}`, depth);
    if (type === 'aws_sqs_queue' && (first === 'id' || first === 'url')) return `https://sqs.${this.region}.amazonaws.com/${ACCOUNT}/${this.attr(stack, c, 'name', name, depth)}`;
    if (first === 'name' || first === 'function_name' || first === 'id') {
      for (const key of [first, 'name', 'function_name', 'cluster_identifier']) {
        if (typeof c?.[key] === 'string') return this.attr(stack, c, key, name, depth);
      }
      if (type === 'aws_vpc_endpoint') return 'vpce-0123456789abcdef0';
      if (type === 'aws_vpc') return 'vpc-0123456789abcdef0';
      if (type === 'aws_security_group') return 'sg-0123456789abcdef0';
      if (type === 'aws_subnet') return 'subnet-0123456789abcdef0';
      if (first === 'id' && type.startsWith('aws_iam_role')) return this.attr(stack, c, 'name', name, depth);
    }
    if (first === 'prefix_list_id') return 'pl-0123456789abcdef0';
    if (first === 'endpoint' || first === 'reader_endpoint') return `${name}.cluster-abcdefghijkl.${this.region}.rds.amazonaws.com`;
    if (first === 'port') return '3306';
    return `placeholder-${type}-${name}-${first}`;
  }

  private dataValue(type: string, name: string, attr: string): string {
    if (type === 'aws_caller_identity') return attr === 'account_id' ? ACCOUNT : `arn:aws:iam::${ACCOUNT}:root`;
    if (type === 'aws_region') return this.region;
    if (type === 'aws_partition') return attr === 'dns_suffix' ? 'amazonaws.com' : 'aws';
    if (type === 'aws_availability_zones') return `${this.region}a`;
    if (type === 'aws_iam_policy_document') return `placeholder-policy-document-${name}`;
    return `placeholder-data-${type}-${name}-${attr}`;
  }

  /** Resolves one interpolation body to a string value. */
  private evaluate(stack: string, body: string, depth: number): string {
    const refs = referencesIn(body);
    if (refs.length !== 1 || depth > 8) return `placeholder-${body.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 40)}`;
    const ref = refs[0];
    if (ref.kind === 'resource') return this.valueFor(stack, ref.type, ref.name, ref.attr, depth);
    if (ref.kind === 'data') return this.dataValue(ref.type, ref.name, ref.attr);
    if (ref.kind === 'remote') {
      const cfg = this.stacks[stack]?.data?.terraform_remote_state?.[ref.name];
      const producer = cfg && producerOf(ref.name, cfg, Object.keys(this.stacks));
      const value = producer && this.stacks[producer].output?.[ref.output]?.value;
      if (typeof value === 'string') return this.resolve(producer as string, value, depth + 1);
      return `placeholder-remote-${ref.output}`;
    }
    return `placeholder-${ref.kind}-${ref.name}`;
  }

  /** A string with every `${...}` replaced. */
  resolve(stack: string, s: string, depth = 0): string {
    let out = s;
    for (const body of interpolations(s)) out = out.replace(`\${${body}}`, this.evaluate(stack, body, depth));
    return out;
  }

  /** Deep copy of a value with every string resolved. */
  resolveDeep<T>(stack: string, value: T): T {
    if (typeof value === 'string') return this.resolve(stack, value) as T;
    if (Array.isArray(value)) return value.map((v) => this.resolveDeep(stack, v)) as T;
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).filter(([k]) => k !== '//').map(([k, v]) => [k, this.resolveDeep(stack, v)])) as T;
    }
    return value;
  }
}
