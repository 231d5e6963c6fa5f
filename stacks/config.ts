/**
 * Platform configuration: one JSON file per environment in `config/`, validated once at load.
 *
 * This is the only module that reads environment variables for synth. Overrides (documented in the
 * README and `help`):
 *   PLATFORM_ENV          environment to load (default `dev`) -> config/<env>.json
 *   PLATFORM_CONFIG       explicit path to a config file (wins over PLATFORM_ENV)
 *   PLATFORM_BACKEND      `local` | `s3` | `cloud`: overrides backend.type (CI uses `local`)
 *   PLATFORM_TFC_ORG      Terraform Cloud organization (sets backend.organization)
 *   PLATFORM_IMAGE_TAG    processor image tag or digest (sets batch.imageTag, the default of the compute
 *                         stack's processor_image_tag Terraform variable; CI pipelines pin it)
 *   PLATFORM_STRICT       `1`: placeholder values (example account ids such as 111111111111 or
 *                         123456789012, example.* addresses, example organisation names) are errors:
 *                         one line each, exit non-zero, nothing written. Set it in real deploy
 *                         pipelines. Unset or `0`: synth prints one `note:` line per config that
 *                         counts them (placeholderNotice): the configs in config/ carry example values
 *                         on purpose, so synth, scan and verify run without real accounts.
 *
 * Beyond field formats, load rejects values that would only fail (or silently misbehave) later:
 * VPC CIDRs with host bits set, outside RFC 1918 or too small for the subnets the topology carves,
 * and EventBridge cron fields out of range or with both day fields set.
 *
 * Bad config throws ConfigError whose message has one line per problem, naming the field, the value
 * and the rule. main.ts prints it and exits non-zero before anything is written to cdktf.out.
 */
import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { attachmentMaxBytesSchema, normalizeRecipients, partitionProblems, recipientsSchema } from '../domain/reporting/recipients';

/** Retention values CloudWatch Logs accepts (PutRetentionPolicy). */
export const CLOUDWATCH_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/**
 * Address and image-tag rules as pattern text, shared by the config schema and the Terraform variables'
 * validation (stacks/variables.ts), so a workspace variable obeys exactly the rule config does. Plain
 * RE2-compatible syntax (no lookaround): Terraform's regex() is RE2.
 */
export const EMAIL_PATTERN = '^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}$';
export const IMAGE_TAG_PATTERN = '^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|sha256:[0-9a-f]{64})$';
/** The one tag an image reference must never use: it moves, so a deploy would not name what runs. */
export const MUTABLE_IMAGE_TAG = 'latest';
export const IMAGE_TAG_RULE = 'must be an immutable tag or sha256 digest, never "latest"';

const EMAIL = new RegExp(EMAIL_PATTERN);
const CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(1[6-9]|2[0-8])$/;
/** arn:<partition>:iam::<account>:role/<optional path/>name, with IAM's role-name characters. */
const ROLE_ARN = /^arn:(aws|aws-us-gov|aws-cn):iam::\d{12}:role\/([\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
// EventBridge cron: 6 fields (min hour day-of-month month day-of-week year) or rate(N unit).
const SCHEDULE = /^(cron\((\S+ ){5}\S+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\))$/;

const email = z.string().regex(EMAIL, 'must be an email address like ops@example.com');
const retentionDays = z
  .number()
  .int()
  .refine((v) => (CLOUDWATCH_RETENTION_DAYS as readonly number[]).includes(v), {
    message: `must be one of CloudWatch's retention values (${CLOUDWATCH_RETENTION_DAYS.join(', ')})`,
  });
const singleton = z.enum(['create', 'adopt']);

const networkSchema = z.discriminatedUnion('mode', [
  z.object({
    mode: z.literal('create'),
    cidr: z.string().regex(CIDR, 'must be an IPv4 CIDR between /16 and /28, e.g. 10.0.0.0/16'),
    azCount: z.number().int().min(2, 'must be at least 2').max(3, 'must be at most 3'),
    /** AZ names, one per subnet; default `<region>a`, `<region>b`, `<region>c` (first azCount). */
    zoneNames: z.array(z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/, 'must be an AZ name like us-east-1a')).optional(),
  }).strict(),
  z.object({
    mode: z.literal('existing'),
    vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'must match ^vpc-[0-9a-f]{8,17}$'),
    vpcCidr: z.string().regex(CIDR, 'must be the VPC CIDR, e.g. 10.0.0.0/16'),
    subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'must match ^subnet-[0-9a-f]{8,17}$'))
      .min(2, 'must list at least 2 private subnets in different AZs'),
    routeTableIds: z.array(z.string().regex(/^rtb-[0-9a-f]{8,17}$/, 'must match ^rtb-[0-9a-f]{8,17}$'))
      .min(1, 'must list at least 1 route table'),
  }).strict(),
]);

const backendSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('local') }).strict(),
  z.object({
    type: z.literal('s3'),
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name'),
    region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region like eu-west-1'),
    keyPrefix: z.string().min(1).regex(/^[A-Za-z0-9/_-]+$/, 'must be a key prefix of [A-Za-z0-9/_-]'),
    dynamodbTable: z.string().min(3).optional(),
  }).strict(),
  z.object({
    type: z.literal('cloud'),
    organization: z.string().min(1, 'must name the Terraform Cloud organization'),
    workspacePrefix: z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be [A-Za-z0-9_-]+'),
    hostname: z.string().default('app.terraform.io'),
  }).strict(),
]);

const jurisdiction = z.enum(['EU', 'US', 'UK', 'APAC']);
const reportType = z.enum(['TRANSACTION', 'POSITION', 'COLLATERAL', 'MARGIN']);

export const configSchema = z.object({
  project: z.string().regex(/^[a-z][a-z0-9-]{1,14}$/, 'must be 2-15 chars of [a-z0-9-], starting with a letter'),
  environment: z.string().regex(/^[a-z0-9-]{3,20}$/, 'must be 3-20 chars of [a-z0-9-]'),
  region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region like us-east-1'),
  allowedAccountIds: z.array(z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'))
    .min(1, 'must list at least one account id'),
  tags: z.object({
    Environment: z.string().min(1),
    Owner: z.string().min(1),
    Project: z.string().min(1),
    ManagedBy: z.string().min(1),
    CostCenter: z.string().min(1),
  }).catchall(z.string()),
  /** Default of the data stack's notification_email variable (batch-alerts and reporting-alerts subscriptions). */
  notificationEmail: email,
  /** Default of the security-baseline stack's security_email variable (security-alerts subscription). */
  securityEmail: email,
  network: networkSchema,
  batch: z.object({
    maxVcpus: z.number().int().min(16, 'must be at least 16').max(512, 'must be at most 512').default(256),
    jobAttemptTimeoutSeconds: z.number().int().min(3600, 'must be at least 3600').max(28800, 'must be at most 28800'),
    attempts: z.number().int().min(1).max(10),
    transactionsPerJob: z.number().int().min(1000).max(1_000_000),
    imageTag: z.string().regex(new RegExp(`^(?!${MUTABLE_IMAGE_TAG}$)${IMAGE_TAG_PATTERN.slice(1)}`), IMAGE_TAG_RULE),
    windowHours: z.number().int().min(1).max(12),
    /** Per-transaction ceiling in major units, an exact decimal string (never a float). */
    maxAmount: z.string().regex(/^[1-9]\d{0,14}(\.\d{1,4})?$/, 'must be a positive decimal string like "1000000" or "1000000.00"'),
  }).strict(),
  retention: z.object({
    logDays: retentionDays.refine((v) => v >= 365, { message: 'must be at least 365 (PCI DSS 10.5.1)' }),
    auditLogDays: retentionDays.refine((v) => v >= 2557, { message: 'must be at least 2557 (7-year audit trail)' }),
    dataYears: z.number().int().min(7, 'must be at least 7'),
    reportYears: z.number().int().min(10, 'must be at least 10'),
  }).strict(),
  schedules: z.object({
    nightlyBatch: z.string().regex(SCHEDULE, 'must be an EventBridge cron(...) with 6 fields or rate(...)'),
    dailyReporting: z.string().regex(SCHEDULE, 'must be an EventBridge cron(...) with 6 fields or rate(...)'),
  }).strict(),
  reporting: z.object({
    jurisdictions: z.array(jurisdiction).min(1),
    reportTypes: z.array(reportType).min(1),
    entities: z.array(z.string().regex(/^[A-Z0-9-]{2,40}$/, 'must be an entity code of [A-Z0-9-]')).min(1),
    mapMaxConcurrency: z.number().int().min(1).max(40),
    /** SES identity: a domain (reports.example.com) or an email address (the reporting stack needs one of the two). */
    sesIdentity: z.string().refine((v) => EMAIL.test(v) || /^([a-z0-9-]+\.)+[a-z]{2,}$/i.test(v), {
      message: 'must be a domain like reports.example.com or an email address',
    }),
    sourceEmail: email,
    /**
     * Per jurisdiction one address (an attachment-mode recipient) or a list of
     * {email, mode: 'attachment' | 's3-access', principalArn?} (domain/reporting/recipients.ts). An
     * s3-access principal (account id, account root or role ARN) is granted read of exactly
     * reports/<jurisdiction>/* in the reports bucket and decrypt through S3 only.
     */
    recipients: recipientsSchema(z),
    /** Largest report (bytes) sent as an attachment; larger ones go by S3 access. Default 10 MiB. */
    attachmentMaxBytes: attachmentMaxBytesSchema(z),
    defaultRecipient: email,
    auroraMinAcu: z.number().min(0.5).max(256),
    auroraMaxAcu: z.number().min(1).max(256),
    auroraReader: z.boolean(),
  }).strict(),
  singletons: z.object({
    cloudTrail: singleton,
    configRecorder: singleton,
    guardDuty: singleton,
    securityHub: singleton,
  }).strict(),
  security: z.object({
    objectLock: z.boolean(),
    pinBucketsToVpcEndpoint: z.boolean(),
    guardDutyMinSeverity: z.number().min(1).max(8.9),
    /**
     * IAM roles outside the VPC (upstream producers) that may still upload to the input and
     * payment-files buckets when pinBucketsToVpcEndpoint is true. Default: none.
     */
    producerRoleArns: z.array(z.string().regex(ROLE_ARN,
      'must be an IAM role ARN like arn:aws:iam::123456789012:role/path/name (partition aws, aws-us-gov or aws-cn)'))
      .default([]),
  }).strict(),
  backend: backendSchema,
}).strict()
  .superRefine((c, ctx) => {
    const total = c.batch.jobAttemptTimeoutSeconds * c.batch.attempts;
    if (total > c.batch.windowHours * 3600) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['batch', 'jobAttemptTimeoutSeconds'],
        message: `attempts (${c.batch.attempts}) x attempt timeout must fit the ${c.batch.windowHours}-hour window `
          + `(${c.batch.windowHours * 3600} s), got ${total} s`,
      });
    }
    const cidrIssue = (p: (string | number)[], cidr: string, azCount?: number) => {
      for (const message of cidrProblems(cidr, azCount)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: p, message });
    };
    if (c.network.mode === 'create') cidrIssue(['network', 'cidr'], c.network.cidr, c.network.azCount);
    else cidrIssue(['network', 'vpcCidr'], c.network.vpcCidr);
    let schedulesValid = true;
    for (const key of ['nightlyBatch', 'dailyReporting'] as const) {
      for (const message of scheduleProblems(c.schedules[key], key === 'nightlyBatch')) {
        schedulesValid = false;
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['schedules', key], message });
      }
    }
    const deadline = schedulesValid ? reportingDeadlineProblem(c.schedules.nightlyBatch, c.batch.windowHours, c.schedules.dailyReporting) : undefined;
    if (deadline) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['schedules', 'dailyReporting'], message: deadline });
    if (c.network.mode === 'create' && c.network.zoneNames) {
      const zones = c.network.zoneNames;
      if (zones.length !== c.network.azCount) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['network', 'zoneNames'], message: `must list azCount (${c.network.azCount}) zones, got ${zones.length}` });
      }
      if (new Set(zones).size !== zones.length || zones.some((zn) => !zn.startsWith(c.region))) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['network', 'zoneNames'], message: `must be distinct zones of region ${c.region}` });
      }
    }
    if (c.reporting.auroraMinAcu > c.reporting.auroraMaxAcu) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['reporting', 'auroraMinAcu'], message: 'must not exceed auroraMaxAcu' });
    }
    if (c.tags.Environment !== c.environment) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['tags', 'Environment'], message: `must equal environment "${c.environment}"` });
    }
    // A principal of another partition could never be granted access in this one.
    // (Recipients the schema already refused are reported there, not again.)
    let recipients: ReturnType<typeof normalizeRecipients> | undefined;
    try {
      recipients = normalizeRecipients(c.reporting.recipients);
    } catch {
      recipients = undefined;
    }
    if (recipients && JSON.stringify(recipients).length > MAX_RECIPIENTS_JSON) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['reporting', 'recipients'],
        message: `is ${JSON.stringify(recipients).length} characters as report-deliver's RECIPIENTS_JSON; at most ${MAX_RECIPIENTS_JSON} fit `
          + 'the 4 KB Lambda environment with the other variables' });
    }
    for (const line of recipients ? partitionProblems(recipients, partitionOfRegion(c.region), 'reporting.recipients') : []) {
      const at = line.indexOf(': ');
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: line.slice(0, at).split('.'), message: line.slice(at + 2) });
    }
    if (new Set(c.reporting.entities).size !== c.reporting.entities.length) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['reporting', 'entities'], message: 'must not contain duplicates' });
    }
  });


// ---- values that validate syntactically but cannot be built --------------------------------------

/** Longest RECIPIENTS_JSON (normalized recipients) report-deliver's 4 KB environment leaves room for. */
export const MAX_RECIPIENTS_JSON = 3000;

/** report-deliver's RECIPIENTS_JSON: the configured recipients as lists (either config form accepted). */
export function deliverRecipientsJson(cfg: PlatformConfig): string {
  return JSON.stringify(normalizeRecipients(cfg.reporting.recipients, 'reporting.recipients'));
}

/** The AWS partition a region belongs to (what data.aws_partition reports when deployed there). */
export function partitionOfRegion(region: string): 'aws' | 'aws-cn' | 'aws-us-gov' {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** Dotted IPv4 + prefix as numbers; undefined when not an IPv4 CIDR. */
function parseCidr(cidr: string): { base: number; prefix: number } | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32) return undefined;
  return { base: m.slice(1, 5).reduce((acc, o) => acc * 256 + Number(o), 0), prefix: Number(m[5]) };
}

const RFC1918: [number, number][] = [[10 * 2 ** 24, 8], [(172 * 256 + 16) * 2 ** 16, 12], [(192 * 256 + 168) * 2 ** 16, 16]];

/**
 * The longest VPC prefix the create-mode topology can carve `azCount` private subnets from.
 * stacks/network/topology.ts takes min(8, 28 - prefix) new bits and uses subnet indexes 1..azCount
 * (index 0 stays free), so it needs 2^newBits > azCount.
 */
export function maxVpcPrefix(azCount: number): number {
  for (let prefix = 28; prefix >= 16; prefix--) {
    if (2 ** Math.min(8, 28 - prefix) > azCount) return prefix;
  }
  return 16;
}

/** Problems of a VPC CIDR that passed the format check: host bits, RFC 1918, size. */
export function cidrProblems(cidr: string, azCount?: number): string[] {
  const c = parseCidr(cidr);
  if (!c) return [];
  const problems: string[] = [];
  const size = 2 ** (32 - c.prefix);
  if (c.base % size !== 0) {
    const network = c.base - (c.base % size);
    const dotted = [24, 16, 8, 0].map((sh) => Math.floor(network / 2 ** sh) % 256).join('.');
    problems.push(`must have no host bits set (did you mean ${dotted}/${c.prefix}?)`);
  }
  if (!RFC1918.some(([net, len]) => c.prefix >= len && Math.floor(c.base / 2 ** (32 - len)) === net / 2 ** (32 - len))) {
    problems.push('must be a private range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 (RFC 1918)');
  }
  if (azCount !== undefined && c.prefix > maxVpcPrefix(azCount)) {
    problems.push(`is too small for ${azCount} private subnets plus the reserved first one: use /${maxVpcPrefix(azCount)} or larger`);
  }
  return problems;
}

interface CronField {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** Extra characters beyond , - * / allowed in this field. */
  special: string;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const CRON_FIELDS: CronField[] = [
  { name: 'minute', min: 0, max: 59, special: '' },
  { name: 'hour', min: 0, max: 23, special: '' },
  { name: 'day-of-month', min: 1, max: 31, special: '? L W' },
  { name: 'month', min: 1, max: 12, names: MONTHS, special: '' },
  { name: 'day-of-week', min: 1, max: 7, names: DAYS, special: '? L #' },
  { name: 'year', min: 1970, max: 2199, special: '' },
];

function cronRule(f: CronField): string {
  const range = `${f.min}-${f.max}${f.names ? ` or ${f.names[0]}-${f.names[f.names.length - 1]}` : ''}`;
  return `must be ${range}, with * , - /${f.special ? ` ${f.special}` : ''}`;
}

/** True when one cron field is valid for EventBridge. */
function cronFieldValid(f: CronField, text: string): boolean {
  if (text === '*' || (text === '?' && f.special.includes('?'))) return true;
  const value = (v: string): number | undefined => {
    if (/^\d{1,4}$/.test(v)) return Number(v) >= f.min && Number(v) <= f.max ? Number(v) : undefined;
    const i = f.names ? f.names.indexOf(v.toUpperCase()) : -1;
    return i >= 0 ? f.min + i : undefined;
  };
  return text.split(',').every((item) => {
    if (f.name === 'day-of-month' && (item === 'L' || item === 'LW' || /^\d{1,2}W$/.test(item))) {
      return item.length < 3 || value(item.slice(0, -1)) !== undefined;
    }
    if (f.name === 'day-of-week') {
      if (item === 'L') return true;
      const last = /^(\w+)L$/.exec(item);
      if (last) return value(last[1]) !== undefined;
      const nth = /^(\w+)#([1-5])$/.exec(item);
      if (nth) return value(nth[1]) !== undefined;
    }
    const [range, step, ...rest] = item.split('/');
    if (rest.length) return false;
    if (step !== undefined && !(/^\d{1,4}$/.test(step) && Number(step) >= 1 && Number(step) <= f.max)) return false;
    if (range === '*') return step !== undefined || text === '*';
    const bounds = range.split('-');
    if (bounds.length > 2) return false;
    const values = bounds.map(value);
    return values.every((v) => v !== undefined);
  });
}

/** Problems of an EventBridge schedule expression that passed the shape check, one per rule. */
export function scheduleProblems(expr: string, dailyFixed = false): string[] {
  const rate = /^rate\((\d+) (\w+)\)$/.exec(expr);
  if (rate) {
    const n = Number(rate[1]);
    const problems: string[] = [];
    if (n < 1) problems.push('rate value must be at least 1');
    if ((n === 1) !== !rate[2].endsWith('s')) problems.push(`rate unit must be ${n === 1 ? 'singular (minute, hour, day) for 1' : 'plural (minutes, hours, days) above 1'}`);
    if (dailyFixed) problems.push('must be one fixed daily start time cron(M H * * ? *): the SLA alarm is computed from it');
    return problems;
  }
  const m = /^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$/.exec(expr);
  if (!m) return [];
  const parts = m.slice(1);
  const problems: string[] = [];
  CRON_FIELDS.forEach((f, i) => {
    if (!cronFieldValid(f, parts[i])) problems.push(`cron ${f.name} "${parts[i]}" ${cronRule(f)}`);
  });
  if ((parts[2] === '?') === (parts[4] === '?')) {
    problems.push(`cron day-of-month "${parts[2]}" and day-of-week "${parts[4]}": exactly one of them must be ?`);
  }
  if (dailyFixed && problems.length === 0) {
    const [minute, hour, dom, month, dow, year] = parts;
    if (!/^\d{1,2}$/.test(minute) || !/^\d{1,2}$/.test(hour) || !['*', '?'].includes(dom) || month !== '*' || !['*', '?'].includes(dow) || year !== '*') {
      problems.push('must be one fixed daily start time cron(M H * * ? *): the SLA alarm is computed from it');
    }
  }
  return problems;
}

/** Minutes after 00:00 (0-1439) at which a valid EventBridge cron fires, from its minute and hour fields. */
export function cronTimesOfDay(expr: string): number[] | undefined {
  const m = /^cron\((\S+) (\S+) \S+ \S+ \S+ \S+\)$/.exec(expr);
  if (!m) return undefined;
  const expand = (text: string, max: number): number[] => {
    const out = new Set<number>();
    for (const item of text.split(',')) {
      const [range, stepText] = item.split('/');
      const step = stepText === undefined ? 1 : Number(stepText);
      const [lo, hi] = range === '*' ? [0, max] : range.includes('-') ? range.split('-').map(Number) : [Number(range), stepText === undefined ? Number(range) : max];
      for (let v = lo; v <= hi; v += step) out.add(v);
    }
    return [...out];
  };
  const hours = expand(m[2], 23);
  const minutes = expand(m[1], 59);
  return hours.flatMap((h) => minutes.map((mi) => h * 60 + mi)).sort((a, b) => a - b);
}

const hhmm = (minuteOfDay: number) => `${String(Math.floor(minuteOfDay / 60)).padStart(2, '0')}:${String(minuteOfDay % 60).padStart(2, '0')}`;

/**
 * The reporting deadline (`schedules.dailyReporting`) is when run-deadline checks that the night
 * feeding the report date is loaded; it reads the run started on the same UTC day. So it must fire
 * after the nightly window on that day: at or after nightly start + windowHours, before midnight. A
 * check inside the window alerts on every night that is merely still running (at 01:00 with a 00:00
 * start, every night longer than an hour). One line, or undefined when the deadline is fine.
 */
export function reportingDeadlineProblem(nightlyBatch: string, windowHours: number, dailyReporting: string): string | undefined {
  const start = cronTimesOfDay(nightlyBatch)?.[0];
  if (start === undefined) return undefined;
  const end = start + windowHours * 60;
  const window = `the nightly window ${hhmm(start)}-${hhmm(end % 1440)} UTC (schedules.nightlyBatch + batch.windowHours)`;
  const rule = 'run-deadline checks the run started that UTC day, so the reporting deadline must fall after the window on that day';
  if (end >= 1440) return `${window} ends after midnight: no reporting deadline on the run's day follows it (${rule}); start the nightly earlier`;
  const times = cronTimesOfDay(dailyReporting);
  if (!times) return `must be a cron(...) at fixed times of day at or after ${hhmm(end)} UTC, e.g. cron(${end % 60} ${Math.floor(end / 60)} * * ? *): a rate(...) fires at no fixed time of day, so also inside ${window} (${rule})`;
  const early = times.find((t) => t < end);
  if (early === undefined) return undefined;
  return `fires at ${hhmm(early)} UTC, inside or before ${window}: ${rule}, at or after ${hhmm(end)} UTC, e.g. cron(${end % 60} ${Math.floor(end / 60)} * * ? *)`;
}

export type PlatformConfig = z.infer<typeof configSchema>;
export type NetworkConfig = PlatformConfig['network'];
export type BackendConfig = PlatformConfig['backend'];
export type Jurisdiction = z.infer<typeof jurisdiction>;
export type ReportType = z.infer<typeof reportType>;

// ---- placeholders ---------------------------------------------------------------------------------

/** The account id the verify tooling uses in the ARNs it makes up (a documentation example). */
export const EXAMPLE_ACCOUNT_ID = '123456789012';

/** Account ids used as examples: one digit repeated (000000000000 ... 999999999999) or 123456789012. */
export function isPlaceholderAccountId(id: string): boolean {
  return id === EXAMPLE_ACCOUNT_ID || /^(\d)\1{11}$/.test(id);
}

/** A domain of the example kind: example.com, reports.example.com, example.eu, example.co.uk ... */
const EXAMPLE_DOMAIN = /(^|[@.])example\.[a-z.]+$/i;
/** An organisation name of the example kind: example-bank, example, my-org, your-company ... */
const EXAMPLE_ORG = /^(example|my|your|acme)([-_][a-z0-9-]+)?$/i;

/**
 * Placeholder values in a validated config, one line each ("field: "value" is a placeholder ...").
 * The one rule set for placeholders: synth warns with these lines (errors with PLATFORM_STRICT=1)
 * and the verify tooling takes its made-up account id from here.
 */
export function placeholderFindings(cfg: PlatformConfig): string[] {
  const out: string[] = [];
  const visit = (v: unknown, p: string[]) => {
    if (Array.isArray(v)) v.forEach((x, i) => visit(x, [...p, String(i)]));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) visit(x, [...p, k]);
    else if (typeof v === 'string') {
      const field = p.join('.');
      const account = /(?<!\d)\d{12}(?!\d)/g;
      const ids = (v.match(account) ?? []).filter(isPlaceholderAccountId);
      if (ids.length) out.push(`${field}: ${JSON.stringify(v)} uses placeholder account id ${ids[0]} (rule: replace with the real AWS account id)`);
      else if (EXAMPLE_DOMAIN.test(v)) out.push(`${field}: ${JSON.stringify(v)} is a placeholder example.* address (rule: replace with a real, monitored address or domain)`);
      else if (field === 'backend.organization' && EXAMPLE_ORG.test(v)) out.push(`${field}: ${JSON.stringify(v)} is a placeholder organisation name (rule: set the real Terraform Cloud organization or PLATFORM_TFC_ORG)`);
    }
  };
  visit(cfg, []);
  return out;
}

/**
 * The one line synth prints about placeholders when PLATFORM_STRICT is not 1, or undefined when there
 * are none. Information, not a warning: the configs in config/ hold example values on purpose (synth,
 * scan and verify need no real account), and the deploy gate is PLATFORM_STRICT=1, which lists each
 * placeholder (placeholderFindings) and refuses the config.
 */
export function placeholderNotice(cfg: PlatformConfig): string | undefined {
  const found = placeholderFindings(cfg);
  if (!found.length) return undefined;
  const kinds = [
    found.some((l) => l.includes(' uses placeholder account id ')) && 'placeholder account ids',
    found.some((l) => l.includes(' is a placeholder example.* address ')) && 'example.* addresses',
    found.some((l) => l.includes(' is a placeholder organisation name ')) && 'an example organisation name',
  ].filter(Boolean);
  return `note: config "${cfg.environment}" holds ${found.length} example values (${kinds.join(', ')}): enough for synth, scan and verify, `
    + 'not for a deploy; PLATFORM_STRICT=1 lists them and refuses the config (deploy pipelines set it)';
}

export class ConfigError extends Error {
  constructor(readonly source: string, readonly problems: string[]) {
    super(`invalid platform config ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function describeValue(root: unknown, p: (string | number)[]): string {
  let v: unknown = root;
  for (const k of p) v = v && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined;
  if (v === undefined) return 'missing';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Validates a raw object; throws ConfigError with one line per problem. */
export function parseConfig(raw: unknown, source = '<inline>'): PlatformConfig {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const field = issue.path.length ? issue.path.join('.') : '(root)';
    if (issue.code === z.ZodIssueCode.unrecognized_keys) {
      return `${field}: unknown field(s) ${issue.keys.join(', ')} (rule: only documented fields are allowed)`;
    }
    return `${field}: ${issue.message} (got ${describeValue(raw, issue.path)})`;
  });
  throw new ConfigError(source, problems);
}

export interface LoadOptions {
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Directory holding <env>.json files; defaults to ./config next to the project root. */
  configDir?: string;
}

/** Loads config/<PLATFORM_ENV>.json (or PLATFORM_CONFIG), applies env overrides and validates. */
export function loadConfig(options: LoadOptions = {}): PlatformConfig {
  const env = options.env ?? process.env;
  const configDir = options.configDir ?? path.join(__dirname, '..', 'config');
  const envName = env.PLATFORM_ENV ?? 'dev';
  if (!/^[a-z0-9-]{3,20}$/.test(envName)) {
    throw new ConfigError('(PLATFORM_ENV)', [`PLATFORM_ENV: must be 3-20 chars of [a-z0-9-] (got ${JSON.stringify(envName)})`]);
  }
  const file = env.PLATFORM_CONFIG ?? path.join(configDir, `${envName}.json`);
  if (!fs.existsSync(file)) {
    throw new ConfigError(file, [`file: not found (set PLATFORM_ENV to one of ${listEnvironments(configDir).join(', ')} or PLATFORM_CONFIG to a file)`]);
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(file, [`file: not valid JSON (${(e as Error).message})`]);
  }
  const cfg = parseConfig(applyOverrides(raw, env), file);
  const strict = env.PLATFORM_STRICT ?? '';
  if (!['', '0', '1'].includes(strict)) {
    throw new ConfigError('(PLATFORM_STRICT)', [`PLATFORM_STRICT: must be 1 (placeholders are errors) or 0/unset (got ${JSON.stringify(strict)})`]);
  }
  if (strict === '1') {
    const placeholders = placeholderFindings(cfg);
    if (placeholders.length) throw new ConfigError(file, placeholders.map((p) => `${p} [PLATFORM_STRICT=1]`));
  }
  return cfg;
}

function applyOverrides(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = structuredClone(raw);
  if (env.PLATFORM_BACKEND) {
    const current = (out.backend ?? {}) as Record<string, unknown>;
    out.backend = env.PLATFORM_BACKEND === current.type ? current
      : env.PLATFORM_BACKEND === 'local' ? { type: 'local' }
        : { ...current, type: env.PLATFORM_BACKEND };
  }
  if (env.PLATFORM_TFC_ORG) {
    out.backend = { ...(out.backend as Record<string, unknown>), organization: env.PLATFORM_TFC_ORG };
  }
  if (env.PLATFORM_IMAGE_TAG) {
    out.batch = { ...(out.batch as Record<string, unknown>), imageTag: env.PLATFORM_IMAGE_TAG };
  }
  return out;
}

export function listEnvironments(configDir = path.join(__dirname, '..', 'config')): string[] {
  if (!fs.existsSync(configDir)) return [];
  return fs.readdirSync(configDir).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, '')).sort();
}

/** The AZ names of the private subnets in create mode: configured, or `<region>a..`. */
export function zoneNamesOf(cfg: PlatformConfig): string[] {
  if (cfg.network.mode !== 'create') return [];
  return cfg.network.zoneNames ?? Array.from({ length: cfg.network.azCount }, (_, i) => `${cfg.region}${'abc'[i]}`);
}

/** `${project}-${environment}-${purpose}`: the one naming scheme for every resource. */
export function resourceName(cfg: Pick<PlatformConfig, 'project' | 'environment'>, purpose: string): string {
  return `${cfg.project}-${cfg.environment}-${purpose}`;
}
