/**
 * The processor's exit codes and the Batch retry strategy that reads them: the processor exits with
 * these codes, the job definition (stacks/compute/job-definition.ts) retries on them, and the local run
 * applies the same rules. Pure data: no cdktf, no SDK, no env reads.
 */
import type { EnvironmentInput, EnvironmentSchema } from './lambda-environment';

/** Exit codes of the processor (contracts.md "Batch job"). */
export const PROCESSOR_EXIT_CODES = {
  ok: 0,
  /** Unexpected internal error (a bug): not retried. */
  internal: 1,
  /** Bad input: permanent. */
  badInput: 2,
  /** Reconciliation failed: permanent. */
  reconciliation: 3,
  /** Retryable infrastructure error. */
  retryable: 75,
  /** Interrupted by SIGTERM: retryable. */
  interrupted: 143,
} as const;

/** The only exit codes worth another attempt. */
export const RETRYABLE_EXIT_CODES = [String(PROCESSOR_EXIT_CODES.retryable), String(PROCESSOR_EXIT_CODES.interrupted)] as const;

export interface EvaluateOnExit {
  action: 'RETRY' | 'EXIT';
  onExitCode?: string;
  onReason?: string;
  onStatusReason?: string;
}

/**
 * Retry only infrastructure failures; everything else fails at once (a bad file fails the same way
 * three times, and each retry would burn an hour of the 4-hour window).
 *
 * Batch evaluates the list in order, first match wins, allows at most 5 entries, and RETRIES when
 * nothing matches, so the last entry must be the catch-all EXIT. That leaves two slots after the exit
 * codes: on Fargate an image-pull or ENI/secret failure (CannotPullContainerError,
 * ResourceInitializationError) stops the task before it starts, so Batch reports the status reason
 * "Task failed to start" (the AWS documentation's own example) and puts the detail in the container
 * reason, which the CannotPullContainerError entry also matches. "Host EC2*" is not listed: the
 * compute environment is Fargate-only, it has no EC2 hosts to lose.
 */
export const EVALUATE_ON_EXIT: readonly EvaluateOnExit[] = [
  ...RETRYABLE_EXIT_CODES.map((code) => ({ action: 'RETRY' as const, onExitCode: code })),
  { action: 'RETRY', onStatusReason: 'Task failed to start*' },
  { action: 'RETRY', onReason: 'CannotPullContainerError*' },
  { action: 'EXIT', onReason: '*' },
];

/**
 * The processor container's environment (processor/src/config.ts reads it). The job definition sets the
 * static part (stacks/compute/batch.ts, the local run's `processorJobEnvironment`); the orchestrator
 * sets the per-job part as container overrides (`jobOverrides`); Batch sets AWS_BATCH_JOB_ARRAY_INDEX
 * and AWS_BATCH_JOB_ATTEMPT itself.
 */
export const PROCESSOR_DEFINITION_VARIABLES = {
  INPUT_BUCKET: { type: 'string' },
  DEST_BUCKET: { type: 'string' },
  DEST_KMS_KEY_ARN: { type: 'string' },
  JOB_STATUS_TABLE: { type: 'string' },
  AUDIT_LOG_TABLE: { type: 'string' },
  SNS_TOPIC_ARN: { type: 'string' },
  SHARD_COUNT: { type: 'integer', min: 1, default: 1 },
  /** Largest amount, a decimal string in major units (domain/money.ts checks it; default 1000000). */
  MAX_AMOUNT: { type: 'string', optional: true },
  ENVIRONMENT: { type: 'string', default: 'dev' },
} as const satisfies EnvironmentSchema;

/** Per job, as SubmitJob container overrides. RUN_ID and JOB_ID are output key segments: no `/`, no spaces. */
export const PROCESSOR_JOB_VARIABLES = {
  INPUT_BUCKET: { type: 'string' },
  INPUT_KEY: { type: 'string' },
  INPUT_VERSION_ID: { type: 'string', optional: true },
  RUN_ID: { type: 'string' },
  JOB_ID: { type: 'string' },
  SHARD_COUNT: { type: 'integer', min: 1 },
} as const satisfies EnvironmentSchema;

export type ProcessorDefinitionInput = EnvironmentInput<typeof PROCESSOR_DEFINITION_VARIABLES>;
export type ProcessorJobInput = EnvironmentInput<typeof PROCESSOR_JOB_VARIABLES>;

/** `{name, value}` pairs in the order given, optional values left undefined left out (the Batch API's KeyValuePair list). */
export function keyValues(values: Readonly<Record<string, string | number | undefined>>): { name: string; value: string }[] {
  return Object.entries(values).filter(([, v]) => v !== undefined).map(([name, v]) => ({ name, value: String(v) }));
}

/** The container overrides of one job (SubmitJob `containerOverrides.environment`). */
export function jobOverrides(values: ProcessorJobInput): { name: string; value: string }[] {
  return keyValues(values);
}
