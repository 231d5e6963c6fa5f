/**
 * Container configuration from the environment (contracts.md "Batch job"). Every problem is reported
 * at once, naming the variable and the rule; a bad configuration is permanent (exit 2).
 */
import * as os from 'os';
import { amountLimits, DEFAULT_MAX_AMOUNT } from '../../domain/money';
import { BadInputError } from './errors';
import { jobOutputPrefix } from '../../contracts/buckets';

export interface ContainerConfig {
  inputBucket: string;
  inputKey: string;
  inputVersionId?: string;
  runId: string;
  jobId: string;
  shard: { index: number; count: number };
  destBucket: string;
  destKmsKeyArn: string;
  jobStatusTable: string;
  auditLogTable: string;
  snsTopicArn: string;
  maxAmount: string;
  environment: string;
  endpoint?: string;
  attempt: number;
}

const KEY_SAFE = /^[A-Za-z0-9._:=+#@-]{1,200}$/;

export function loadContainerConfig(env: NodeJS.ProcessEnv = process.env): ContainerConfig {
  const problems: string[] = [];
  const required = (name: string): string => {
    const v = env[name];
    if (!v) problems.push(`${name} is required`);
    return v ?? '';
  };
  const intVar = (name: string, fallback: number, min: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) {
      problems.push(`${name} must be an integer >= ${min}, got "${raw}"`);
      return fallback;
    }
    return n;
  };
  const cfg: ContainerConfig = {
    inputBucket: required('INPUT_BUCKET'),
    inputKey: required('INPUT_KEY'),
    inputVersionId: env.INPUT_VERSION_ID || undefined,
    runId: required('RUN_ID'),
    jobId: required('JOB_ID'),
    shard: { index: intVar('AWS_BATCH_JOB_ARRAY_INDEX', 0, 0), count: intVar('SHARD_COUNT', 1, 1) },
    destBucket: required('DEST_BUCKET'),
    destKmsKeyArn: required('DEST_KMS_KEY_ARN'),
    jobStatusTable: required('JOB_STATUS_TABLE'),
    auditLogTable: required('AUDIT_LOG_TABLE'),
    snsTopicArn: required('SNS_TOPIC_ARN'),
    maxAmount: env.MAX_AMOUNT || DEFAULT_MAX_AMOUNT,
    environment: env.ENVIRONMENT || 'dev',
    endpoint: env.AWS_ENDPOINT_URL || undefined,
    attempt: intVar('AWS_BATCH_JOB_ATTEMPT', 1, 1),
  };
  // RUN_ID and JOB_ID become output key segments and audit ids: no slashes, no spaces.
  for (const [name, v] of [['RUN_ID', cfg.runId], ['JOB_ID', cfg.jobId]] as const) {
    if (v && !KEY_SAFE.test(v)) problems.push(`${name} must match ${KEY_SAFE} (it is part of the output key), got "${v}"`);
  }
  if (cfg.shard.index >= cfg.shard.count) {
    problems.push(`AWS_BATCH_JOB_ARRAY_INDEX (${cfg.shard.index}) must be < SHARD_COUNT (${cfg.shard.count})`);
  }
  for (const check of [() => amountLimits(cfg.maxAmount), () => workerCount(undefined, env)]) {
    try {
      check();
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (problems.length > 0) throw new BadInputError('CONFIG_INVALID', `invalid configuration: ${problems.join('; ')}`);
  return cfg;
}

/** Output prefix of a job: processed/<RUN_ID>/<JOB_ID>; shards add shard-<i>-of-<n>/. */
export function outputPrefix(cfg: Pick<ContainerConfig, 'runId' | 'jobId'>): string {
  return jobOutputPrefix(cfg.runId, cfg.jobId);
}

/**
 * Worker threads for a shard's CSV record stage (validate-worker.ts): PROCESSOR_WORKERS, a number (0: a single thread) or "auto" (the default:
 * one per extra core, at most 2, so none on one core), and 0 whenever the entry file is not
 * JavaScript (tsx, jest). Anything else is refused: a typo must not silently change the threading.
 */
export function workerCount(entry: string | undefined, env: NodeJS.ProcessEnv = process.env, cores = availableCores()): number {
  const configured = (env.PROCESSOR_WORKERS ?? '').trim() || 'auto';
  const n = configured === 'auto' ? Math.max(0, Math.min(2, cores - 1)) : Number(configured);
  if (!Number.isInteger(n) || n < 0 || n > 8) throw new BadInputError('CONFIG_INVALID', `PROCESSOR_WORKERS must be "auto" or a whole number from 0 to 8, got ${JSON.stringify(configured)}`);
  if (!entry || !/\.(c?js|mjs)$/.test(entry)) return 0;
  return n;
}

function availableCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}
