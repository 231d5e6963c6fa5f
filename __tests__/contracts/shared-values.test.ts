/**
 * The names stacks and the processor export for contract values (re-exports of contracts/ today): they
 * must stay equal to the contract, so a copy spelled again somewhere fails here.
 */
import { EVALUATE_ON_EXIT, jobOverrides, PROCESSOR_DEFINITION_VARIABLES, PROCESSOR_EXIT_CODES, PROCESSOR_JOB_VARIABLES, RETRYABLE_EXIT_CODES } from '../../contracts/batch-job';
import { INPUT_PREFIX, PROCESSED_PREFIX, REPORTS_PREFIX, RUN_SUMMARY_OBJECTS, SHARD_OUTPUT_NAMES, shardFolderName, WORKFLOW_RESULTS_PREFIX, jobOutputPrefix } from '../../contracts/buckets';
import { DATABASE_NAME } from '../../contracts/reporting-database';
import { RUN_RECORD_PREFIX } from '../../contracts/tables';
import * as jobDefinition from '../../stacks/compute/job-definition';
import * as buckets from '../../stacks/data/buckets';
import { REPORT_OBJECTS_PREFIX } from '../../stacks/data/report-access';
import * as aurora from '../../stacks/reporting/aurora';
import * as reportingFunctions from '../../stacks/reporting/functions';
import { RESULTS_PREFIX } from '../../stacks/reporting/workflow-definition';
import * as processorErrors from '../../processor/src/errors';
import { OUTPUT_NAMES, shardDir } from '../../processor/src/pipeline';
import { loadContainerConfig, outputPrefix } from '../../processor/src/config';

describe('contracts and the copies still spelled elsewhere', () => {
  it('bucket prefixes', () => {
    expect([buckets.INPUT_PREFIX, buckets.PROCESSED_PREFIX]).toEqual([INPUT_PREFIX, PROCESSED_PREFIX]);
    expect([reportingFunctions.PROCESSED_PREFIX, reportingFunctions.REPORTS_PREFIX, reportingFunctions.RUN_SUMMARY_OBJECTS]).toEqual([PROCESSED_PREFIX, REPORTS_PREFIX, RUN_SUMMARY_OBJECTS]);
    expect(REPORT_OBJECTS_PREFIX).toBe(REPORTS_PREFIX);
    expect(RESULTS_PREFIX).toBe(WORKFLOW_RESULTS_PREFIX);
    expect(reportingFunctions.RUN_RECORD_PREFIX).toBe(RUN_RECORD_PREFIX);
  });

  it('the processor output layout', () => {
    expect(OUTPUT_NAMES).toEqual(SHARD_OUTPUT_NAMES);
    expect(shardDir({ index: 2, count: 10 } as Parameters<typeof shardDir>[0])).toBe(shardFolderName(2, 10));
    expect(outputPrefix({ runId: '2026-11-23', jobId: 'job-1' })).toBe(jobOutputPrefix('2026-11-23', 'job-1'));
  });

  it('the processor exit codes and the retry strategy', () => {
    expect([processorErrors.EXIT_OK, processorErrors.EXIT_INTERNAL, processorErrors.EXIT_BAD_INPUT, processorErrors.EXIT_RECONCILIATION,
      processorErrors.EXIT_RETRYABLE, processorErrors.EXIT_INTERRUPTED]).toEqual(Object.values(PROCESSOR_EXIT_CODES));
    expect(jobDefinition.RETRYABLE_EXIT_CODES).toEqual(RETRYABLE_EXIT_CODES);
    expect(jobDefinition.EVALUATE_ON_EXIT).toEqual(EVALUATE_ON_EXIT);
  });

  it('the reporting database name is the contract itself (one value)', () => {
    expect(aurora.DATABASE_NAME).toBe(DATABASE_NAME);
  });

  it('the processor reads the container variables the job definition and the overrides set', () => {
    const env = Object.fromEntries([
      ...Object.keys(PROCESSOR_DEFINITION_VARIABLES).map((name) => [name, name === 'SHARD_COUNT' ? '1' : name === 'MAX_AMOUNT' ? '500' : `def-${name.toLowerCase()}`]),
      ...jobOverrides({ INPUT_BUCKET: 'in', INPUT_KEY: 'transactions/a.csv', RUN_ID: '2026-11-23', JOB_ID: 'job-1', SHARD_COUNT: 4, INPUT_VERSION_ID: 'v1' }).map((kv) => [kv.name, kv.value]),
    ]);
    expect(Object.keys(PROCESSOR_JOB_VARIABLES).every((name) => name in env)).toBe(true);
    expect(loadContainerConfig(env)).toMatchObject({
      inputBucket: 'in', inputKey: 'transactions/a.csv', inputVersionId: 'v1', runId: '2026-11-23', jobId: 'job-1', shard: { index: 0, count: 4 },
      destBucket: 'def-dest_bucket', destKmsKeyArn: 'def-dest_kms_key_arn', jobStatusTable: 'def-job_status_table', auditLogTable: 'def-audit_log_table',
      snsTopicArn: 'def-sns_topic_arn', maxAmount: '500', environment: 'def-environment',
    });
  });
});
