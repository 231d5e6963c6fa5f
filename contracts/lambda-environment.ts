/**
 * Each Lambda function's environment, as a schema: the variables its stack sets and the rule each
 * value follows. Both sides use it:
 *  - a stack fills it type-checked: `functionEnvironment('orchestrator', {...})` returns the
 *    Record<string, string> for the function, and a missing required variable or an unknown one is a
 *    compile error (and, for callers that cast, an error at synth);
 *  - the handler parses its environment with `parseFunctionEnvironment(entry, process.env)` (through
 *    lambda-src/shared/env.ts `environmentOf`), which names the variable and the rule it broke.
 * `optional` means the stack may leave the variable out; `default` is the value a handler uses when it
 * is absent (local runs and tests), it does not make the variable optional for the stack.
 * POWERTOOLS_SERVICE_NAME is set by the NodejsFunction construct on every function and is not listed;
 * AWS_REGION / AWS_ENDPOINT_URL (the runtime's, or local servers') and the local database override
 * DB_USER / DB_PASSWORD are not stack contracts either.
 * Pure data and functions of their arguments: no SDK, no cdktf, no env reads at import.
 */
import { DEFAULT_ATTACHMENT_MAX_BYTES, MAX_ATTACHMENT_BYTES } from '../domain/reporting/recipients';
import type { FunctionEntry } from './metric-names';

export interface StringRule { readonly type: 'string'; readonly optional?: true; readonly default?: string }
export interface IntegerRule { readonly type: 'integer'; readonly min: number; readonly max?: number; readonly optional?: true; readonly default?: number }
/** A JSON document; the handler checks its shape. */
export interface JsonRule { readonly type: 'json'; readonly optional?: true }
export type VariableRule = StringRule | IntegerRule | JsonRule;
export type EnvironmentSchema = Readonly<Record<string, VariableRule>>;

const text = { type: 'string' } as const;
/** The deployment environment's name (dev, staging, prod): metric dimension and alert field. */
const ENVIRONMENT = text;

/** The reporting database (every reporting function except report-deliver). */
export const DATABASE_VARIABLES = {
  /** RDS-managed master secret ({username, password}). */
  DB_SECRET_ARN: text,
  DB_HOST: text,
  DB_PORT: { type: 'integer', min: 1, max: 65535, default: 3306 },
  /** contracts/reporting-database.ts DATABASE_NAME. */
  DB_NAME: text,
  /** Connection timeout; the stack leaves it at the default. */
  DB_CONNECT_TIMEOUT_MS: { type: 'integer', min: 1, optional: true, default: 5000 },
} as const satisfies EnvironmentSchema;

export const FUNCTION_ENVIRONMENTS = {
  orchestrator: {
    JOB_QUEUE_ARN: text,
    JOB_DEFINITION_ARN: text,
    INPUT_BUCKET: text,
    /** contracts/buckets.ts INPUT_PREFIX. */
    INPUT_PREFIX: text,
    PROCESSED_BUCKET: text,
    S3_KMS_KEY_ARN: text,
    JOB_STATUS_TABLE: text,
    AUDIT_LOG_TABLE: text,
    ALERTS_TOPIC_ARN: text,
    TRANSACTIONS_PER_JOB: { type: 'integer', min: 1, default: 10_000 },
    /** Split files into shards of about this many bytes (array jobs); unset: one job per TRANSACTIONS_PER_JOB estimate. */
    BYTES_PER_SHARD: { type: 'integer', min: 1, optional: true },
    ENVIRONMENT: { type: 'string', default: 'unknown' },
  },
  ingest: {
    INPUT_BUCKET: text,
    PAYMENT_BUCKET: text,
    S3_KMS_KEY_ARN: text,
    TRANSACTIONS_TABLE: text,
    IDEMPOTENCY_TABLE: text,
    AUDIT_LOG_TABLE: text,
    /** Largest amount, a decimal string in major units (domain/money.ts checks it). */
    MAX_AMOUNT: { type: 'string', optional: true },
  },
  'job-events': {
    JOB_STATUS_TABLE: text,
    AUDIT_LOG_TABLE: text,
    ALERTS_TOPIC_ARN: text,
    BATCH_WINDOW_HOURS: { type: 'integer', min: 1, default: 4 },
    ENVIRONMENT: { type: 'string', default: 'unknown' },
  },
  'run-deadline': {
    JOB_STATUS_TABLE: text,
    ALERTS_TOPIC_ARN: text,
    BATCH_WINDOW_HOURS: { type: 'integer', min: 1 },
    ENVIRONMENT,
  },
  'report-migrate': { ENVIRONMENT, ...DATABASE_VARIABLES },
  'report-loader': {
    ENVIRONMENT,
    ...DATABASE_VARIABLES,
    PROCESSED_BUCKET: text,
    PROCESSED_KMS_KEY_ARN: text,
    JOB_STATUS_TABLE: text,
    /** The reporting state machine the loader starts. */
    STATE_MACHINE_ARN: text,
    /** The reporting alerts topic. */
    ALERTS_TOPIC_ARN: text,
    LOADER_BATCH_SIZE: { type: 'integer', min: 1, optional: true, default: 500 },
  },
  'report-generate': { ENVIRONMENT, ...DATABASE_VARIABLES, REPORTS_BUCKET: text, REPORTS_KMS_KEY_ARN: text },
  'report-validate': { ENVIRONMENT, ...DATABASE_VARIABLES, REPORTS_BUCKET: text },
  /** Outside the VPC (SES has no VPC API endpoint): no database. */
  'report-deliver': {
    ENVIRONMENT,
    SOURCE_EMAIL: text,
    SES_CONFIGURATION_SET: text,
    /** The normalized `reporting.recipients` (domain/reporting/recipients.ts checks the shape). */
    RECIPIENTS_JSON: { type: 'json' },
    /** Largest report sent as an attachment. */
    ATTACHMENT_MAX_BYTES: { type: 'integer', min: 1, max: MAX_ATTACHMENT_BYTES, default: DEFAULT_ATTACHMENT_MAX_BYTES },
    /** Recipient of a jurisdiction with none configured; empty: none. */
    DEFAULT_RECIPIENT: { type: 'string', optional: true },
    IDEMPOTENCY_TABLE: text,
    /** When set, the only bucket a report may come from. */
    REPORTS_BUCKET: { type: 'string', optional: true },
  },
  'report-confirm': { ENVIRONMENT, ...DATABASE_VARIABLES },
  'report-failure': { ENVIRONMENT, ...DATABASE_VARIABLES },
} as const satisfies Record<FunctionEntry, EnvironmentSchema>;

export type FunctionEnvironmentSchemas = typeof FUNCTION_ENVIRONMENTS;

/** What a parsed variable holds. */
type ValueOf<R> = R extends { type: 'integer' } ? number : R extends { type: 'json' } ? unknown : string;
/** What a stack may give for a variable: integers as numbers or digit strings (or a Terraform token). */
type InputOf<R> = R extends { type: 'integer' } ? number | string : string;
type RequiredKeys<S> = { [K in keyof S]: S[K] extends { optional: true } ? never : K }[keyof S];
type OptionalKeys<S> = Exclude<keyof S, RequiredKeys<S>>;

/** A schema's variables as the handler reads them (absent optional ones without a default: undefined). */
export type ParsedEnvironment<S> = {
  -readonly [K in keyof S]: S[K] extends { default: unknown } ? ValueOf<S[K]> : S[K] extends { optional: true } ? ValueOf<S[K]> | undefined : ValueOf<S[K]>;
};
/** A schema's variables as a stack gives them: every required one, optional ones if wanted, nothing else. */
export type EnvironmentInput<S> = { -readonly [K in RequiredKeys<S>]: InputOf<S[K]> } & { -readonly [K in OptionalKeys<S>]?: InputOf<S[K]> };

export type FunctionEnvironment<E extends FunctionEntry> = ParsedEnvironment<FunctionEnvironmentSchemas[E]>;
export type FunctionEnvironmentInput<E extends FunctionEntry> = EnvironmentInput<FunctionEnvironmentSchemas[E]>;
/** The database variables, for a stack that builds them once for several reporting functions. */
export type DatabaseEnvironmentInput = EnvironmentInput<typeof DATABASE_VARIABLES>;

/** A Terraform token (`${...}`) stands for a value known only at apply time: checked by its resource, not here. */
const isToken = (value: string) => value.includes('${');

function integerProblem(name: string, rule: IntegerRule, raw: string): string | undefined {
  const range = rule.max === undefined ? `>= ${rule.min}` : `from ${rule.min} to ${rule.max}`;
  const n = Number(raw);
  if (!/^[0-9]+$/.test(raw) || !Number.isSafeInteger(n) || n < rule.min || (rule.max !== undefined && n > rule.max)) {
    return `environment variable ${name} must be an integer ${range}, got "${raw}"`;
  }
  return undefined;
}

/**
 * Parses `source` (process.env in a handler) against a schema. Every problem is reported at once, each
 * naming the variable and its rule; an empty or blank value counts as not set.
 */
export function parseEnvironment<S extends EnvironmentSchema>(schema: S, source: Readonly<Record<string, string | undefined>>, what = 'environment'): ParsedEnvironment<S> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, rule] of Object.entries(schema)) {
    const raw = source[name];
    if (raw === undefined || raw.trim() === '') {
      if (rule.type !== 'json' && rule.default !== undefined) out[name] = rule.default;
      else if (rule.optional) out[name] = undefined;
      else problems.push(`environment variable ${name} is required but not set`);
      continue;
    }
    if (rule.type === 'string') {
      out[name] = raw;
    } else if (rule.type === 'integer') {
      const problem = integerProblem(name, rule, raw.trim());
      if (problem) problems.push(problem);
      else out[name] = Number(raw.trim());
    } else {
      try {
        out[name] = JSON.parse(raw);
      } catch {
        problems.push(`environment variable ${name} must be valid JSON`);
      }
    }
  }
  if (problems.length) throw new Error(`${what}: ${problems.join('; ')}`);
  return out as ParsedEnvironment<S>;
}

/** A function's environment parsed against its schema; the error names the function, each variable and rule. */
export function parseFunctionEnvironment<E extends FunctionEntry>(entry: E, source: Readonly<Record<string, string | undefined>>): FunctionEnvironment<E> {
  return parseEnvironment(FUNCTION_ENVIRONMENTS[entry] as EnvironmentSchema, source, `${entry} environment`) as FunctionEnvironment<E>;
}

/**
 * The environment variables of a function, from values checked against its schema at compile time
 * (every required variable present, no unknown one) and again here. Keys keep the caller's order;
 * optional variables left undefined are left out; integers become decimal strings.
 */
export function functionEnvironment<E extends FunctionEntry, V extends FunctionEnvironmentInput<E>>(
  entry: E,
  values: V & { [K in Exclude<keyof V, keyof FunctionEnvironmentSchemas[E]>]: never },
): Record<string, string> {
  const schema: EnvironmentSchema = FUNCTION_ENVIRONMENTS[entry];
  const given = values as Record<string, string | number | undefined>;
  const problems: string[] = [];
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(given)) {
    const rule = schema[name];
    if (!rule) {
      problems.push(`${name} is not a variable of ${entry}`);
      continue;
    }
    if (value === undefined) continue;
    const textValue = String(value);
    if (rule.type === 'integer' && !isToken(textValue)) {
      const problem = integerProblem(name, rule, textValue);
      if (problem) problems.push(problem);
    }
    out[name] = textValue;
  }
  for (const [name, rule] of Object.entries(schema)) {
    if (!rule.optional && out[name] === undefined) problems.push(`${name} is required by ${entry}`);
  }
  if (problems.length) throw new Error(`${entry} environment: ${problems.join('; ')}`);
  return out;
}
