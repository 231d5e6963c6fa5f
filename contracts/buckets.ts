/**
 * Object key layout of the platform's buckets: the prefixes the stacks grant and match on, and the key
 * layout of the processor's outputs that the report loader and the local run read. Pure constants and
 * key builders: no SDK, no env reads.
 */

/** Input bucket: transaction files the orchestrator lists and the ingest rule matches. */
export const INPUT_PREFIX = 'transactions/';
/** Processed bucket: the processor's outputs, `processed/<runId>/<jobId>/shard-<i>-of-<n>/...`. */
export const PROCESSED_PREFIX = 'processed/';
/** Reports bucket: generated reports (`reports/<jurisdiction>/...`); external s3-access readers get a jurisdiction below it. */
export const REPORTS_PREFIX = 'reports/';
/** Reports bucket: the reporting workflow's Map results (Step Functions ResultWriter). */
export const WORKFLOW_RESULTS_PREFIX = 'workflow-runs/';

/** File names in a processor shard's output folder; `summary` is the commit marker, written last. */
export const SHARD_OUTPUT_NAMES = {
  accepted: 'accepted.jsonl',
  rejects: 'rejects.jsonl',
  totalsByAccount: 'totals-by-account.jsonl',
  fingerprints: 'fingerprints.tsv',
  summary: 'summary.json',
} as const;

/** The run-level figures report-loader writes next to the run's job folders. */
export const RUN_SUMMARY_NAME = 'run-summary.json';

/** `processed/<runId>/`: every output of one nightly run. */
export const runOutputPrefix = (runId: string): string => `${PROCESSED_PREFIX}${runId}/`;
/** `processed/<runId>/<jobId>`: one job's outputs (its shards are folders below it). */
export const jobOutputPrefix = (runId: string, jobId: string): string => `${runOutputPrefix(runId)}${jobId}`;
/** `shard-<i>-of-<n>`: the folder of shard i (from 0) of a job split in n. */
export const shardFolderName = (index: number, count: number): string => `shard-${index}-of-${count}`;
/** Matches a shard folder name; groups: index, count. */
export const SHARD_FOLDER_PATTERN = /^shard-(0|[1-9][0-9]*)-of-([1-9][0-9]*)$/;
/** `processed/<runId>/run-summary.json`. */
export const runSummaryKey = (runId: string): string => `${runOutputPrefix(runId)}${RUN_SUMMARY_NAME}`;
/** IAM resource pattern matching every run's summary (any run id below PROCESSED_PREFIX). */
export const RUN_SUMMARY_OBJECTS = `${PROCESSED_PREFIX}*/${RUN_SUMMARY_NAME}`;
