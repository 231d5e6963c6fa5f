/**
 * Platform configuration: one JSON file per environment in `config/`, validated once at load.
 *
 * This is the only module that reads environment variables for synth. Overrides (documented in the
 * README and `help`):
 *   PLATFORM_ENV          environment to load (default `dev`) -> config/<env>.json
 *   PLATFORM_CONFIG       explicit path to a config file (wins over PLATFORM_ENV)
 *   PLATFORM_BACKEND      `local` | `s3` | `cloud`: overrides backend.type (CI uses `local`)
 *   PLATFORM_TFC_ORG      Terraform Cloud organization (sets backend.organization)
 *   PLATFORM_IMAGE_TAG    processor image tag or digest (sets batch.imageTag; CI pipelines pin it)
 *
 * Bad config throws ConfigError whose message has one line per problem, naming the field, the value
 * and the rule. main.ts prints it and exits non-zero before anything is written to cdktf.out.
 */
import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';

/** Retention values CloudWatch Logs accepts (PutRetentionPolicy). */
export const CLOUDWATCH_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const EMAIL = /^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$/;
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
  notificationEmail: email,
  securityEmail: email,
  network: networkSchema,
  batch: z.object({
    maxVcpus: z.number().int().min(16, 'must be at least 16').max(512, 'must be at most 512').default(256),
    jobAttemptTimeoutSeconds: z.number().int().min(3600, 'must be at least 3600').max(28800, 'must be at most 28800'),
    attempts: z.number().int().min(1).max(10),
    transactionsPerJob: z.number().int().min(1000).max(1_000_000),
    imageTag: z.string().regex(/^(?!latest$)([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|sha256:[0-9a-f]{64})$/,
      'must be an immutable tag or sha256 digest, never "latest"'),
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
    sesIdentity: z.string().min(3),
    sourceEmail: email,
    recipients: z.record(jurisdiction, email),
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
    if (new Set(c.reporting.entities).size !== c.reporting.entities.length) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['reporting', 'entities'], message: 'must not contain duplicates' });
    }
  });

export type PlatformConfig = z.infer<typeof configSchema>;
export type NetworkConfig = PlatformConfig['network'];
export type BackendConfig = PlatformConfig['backend'];
export type Jurisdiction = z.infer<typeof jurisdiction>;
export type ReportType = z.infer<typeof reportType>;

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
  return parseConfig(applyOverrides(raw, env), file);
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
