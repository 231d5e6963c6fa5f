import * as fs from 'fs';
import * as path from 'path';
import { BatchJobQueue } from '@cdktf/provider-aws/lib/batch-job-queue';
import { EcrRepository } from '@cdktf/provider-aws/lib/ecr-repository';
import { ROOT, synthPlatform, testConfig } from '../../test-support/config-fixture';
import { ACCOUNT, asArray, byName as byNameIn, Json, PARTITION, remoteRef, resourcesOf as resources, rolePolicy, sid } from '../../test-support/terraform-json';
import { BatchComputeEnvironment } from '@cdktf/provider-aws/lib/batch-compute-environment';
import { BatchJobDefinition } from '@cdktf/provider-aws/lib/batch-job-definition';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { EcrLifecyclePolicy } from '@cdktf/provider-aws/lib/ecr-lifecycle-policy';
import { EVALUATE_ON_EXIT, imageReference } from '../../stacks/compute/job-definition';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
// One synthesis with non-default batch settings, so every value is shown to come from config.
const cfg = testConfig({ batch: { maxVcpus: 128, attempts: 2, jobAttemptTimeoutSeconds: 5400, imageTag: DIGEST } });
const { tf: all, json } = synthPlatform(cfg);
const tf = all.compute;
const byName = (type: string, key: string, value: string) => byNameIn(tf, type, key, value);
const policyOf = (roleName: string) => rolePolicy(tf, roleName);
/** Output name cdktf gives a data-stack attribute, e.g. ('aws_dynamodb_table', 'job-status', 'arn'). */
const dataRef = (type: string, idPart: string, attr: string) => remoteRef('data', type, idPart, attr);

describe('compute stack: image repository and Batch', () => {
  it('ECR: immutable tags, scan on push, KMS with the workload key, lifecycle that keeps releases', () => {
    expect(json.compute).toHaveResourceWithProperties(EcrRepository, {
      name: 'finbatch-dev-transaction-processor',
      image_tag_mutability: 'IMMUTABLE',
      image_scanning_configuration: { scan_on_push: true },
      encryption_configuration: [{ encryption_type: 'KMS', kms_key: expect.stringMatching(dataRef('aws_kms_key', 'workload-key', 'arn')) }],
    });
    const [repoId] = byName('aws_ecr_repository', 'name', 'finbatch-dev-transaction-processor');
    const lifecycle = Object.values(resources(tf, 'aws_ecr_lifecycle_policy'));
    expect(lifecycle).toHaveLength(1);
    expect(json.compute).toHaveResourceWithProperties(EcrLifecyclePolicy, { repository: `\${aws_ecr_repository.${repoId}.name}` });
    const rules = JSON.parse(lifecycle[0].policy).rules;
    expect(rules.map((r: Json) => [r.rulePriority, r.selection.tagStatus, r.selection.countType, r.selection.countNumber]))
      .toEqual([[1, 'untagged', 'sinceImagePushed', 7], [2, 'any', 'imageCountMoreThan', 50]]);
  });

  it('Fargate compute environment in the private subnets with the Batch SG, max vCPUs from config, service-linked role', () => {
    const [, ce] = byName('aws_batch_compute_environment', 'name', 'finbatch-dev-transaction-compute');
    expect(json.compute).toHaveResourceWithProperties(BatchComputeEnvironment, {
      name: 'finbatch-dev-transaction-compute', type: 'MANAGED', state: 'ENABLED',
      compute_resources: expect.objectContaining({ type: 'FARGATE', max_vcpus: 128 }),
    });
    expect(ce.service_role).toBeUndefined();
    expect(ce.compute_resources.subnets).toHaveLength(3);
    for (const s of ce.compute_resources.subnets) expect(s).toMatch(/^\$\{data\.terraform_remote_state\.cross-stack-reference-input-network\.outputs\..*private-\d/);
    expect(ce.compute_resources.security_group_ids).toEqual([expect.stringMatching(/cross-stack-reference-input-network.*batch-sg/)]);
    expect(ce.compute_resources.min_vcpus).toBeUndefined();
  });

  it('one enabled queue on that compute environment', () => {
    const [ceId] = byName('aws_batch_compute_environment', 'name', 'finbatch-dev-transaction-compute');
    expect(json.compute).toHaveResourceWithProperties(BatchJobQueue, {
      name: 'finbatch-dev-transaction-jobs',
      state: 'ENABLED',
      priority: 1,
      compute_environment_order: [{ order: 1, compute_environment: `\${aws_batch_compute_environment.${ceId}.arn}` }],
    });
  });

  describe('job definition', () => {
    const [, jd] = byName('aws_batch_job_definition', 'name', 'finbatch-dev-transaction-processor');
    const container = JSON.parse(jd.container_properties);
    const env = Object.fromEntries(container.environment.map((e: { name: string; value: string }) => [e.name, e.value]));

    it('is a Fargate container job with retry and timeout from config (attempts x timeout fits the window)', () => {
      expect(json.compute).toHaveResourceWithProperties(BatchJobDefinition, {
        name: 'finbatch-dev-transaction-processor', type: 'container', platform_capabilities: ['FARGATE'], propagate_tags: true,
        retry_strategy: expect.objectContaining({ attempts: 2 }), timeout: { attempt_duration_seconds: 5400 },
      });
      expect(2 * 5400).toBeLessThanOrEqual(cfg.batch.windowHours * 3600);
    });

    it('retries only exit codes 75/143 and infrastructure start failures, EXITs on everything else', () => {
      const rules = jd.retry_strategy.evaluate_on_exit as Json[];
      expect(rules.length).toBeLessThanOrEqual(5);
      expect(rules).toEqual([
        { action: 'RETRY', on_exit_code: '75' },
        { action: 'RETRY', on_exit_code: '143' },
        { action: 'RETRY', on_status_reason: 'Task failed to start*' },
        { action: 'RETRY', on_reason: 'CannotPullContainerError*' },
        { action: 'EXIT', on_reason: '*' },
      ]);
      expect(EVALUATE_ON_EXIT[EVALUATE_ON_EXIT.length - 1]).toEqual({ action: 'EXIT', onReason: '*' });
      // Batch globs allow letters, digits, periods, colons and spaces only.
      for (const r of rules) for (const v of [r.on_reason, r.on_status_reason].filter(Boolean)) expect(v).toMatch(/^[A-Za-z0-9.: ]*\*?$/);
    });

    it('runs 2 vCPU / 4 GiB, the configured digest, both roles, no public IP, read-only root as uid 10001', () => {
      expect(container.resourceRequirements).toEqual([{ type: 'VCPU', value: '2' }, { type: 'MEMORY', value: '4096' }]);
      expect(container.vcpus).toBeUndefined();
      expect(container.memory).toBeUndefined();
      const [repoId] = byName('aws_ecr_repository', 'name', 'finbatch-dev-transaction-processor');
      // The image is the local built from the repository and var.processor_image_tag (default: the configured digest);
      // __tests__/stacks/variables.test.ts has Terraform render it.
      expect(container.image).toBe('${local.processor_image}');
      expect((tf.locals as Json).processor_image).toBe(`\${aws_ecr_repository.${repoId}.repository_url}\${startswith(var.processor_image_tag, "sha256:") ? "@" : ":"}\${var.processor_image_tag}`);
      expect((tf.variable as Json).processor_image_tag.default).toBe(DIGEST);
      expect(container.image).not.toMatch(/:latest$/);
      const [execId] = byName('aws_iam_role', 'name', 'finbatch-dev-processor-execution');
      const [jobId] = byName('aws_iam_role', 'name', 'finbatch-dev-processor-job');
      expect(container.executionRoleArn).toBe(`\${aws_iam_role.${execId}.arn}`);
      expect(container.jobRoleArn).toBe(`\${aws_iam_role.${jobId}.arn}`);
      expect(container.networkConfiguration).toEqual({ assignPublicIp: 'DISABLED' });
      expect(container.readonlyRootFilesystem).toBe(true);
      expect(container.user).toBe('10001:10001');
      expect(container.mountPoints).toEqual([{ sourceVolume: 'scratch', containerPath: '/tmp', readOnly: false }]);
    });

    it('logs through awslogs to its KMS-encrypted group with the configured retention', () => {
      const [groupId] = byName('aws_cloudwatch_log_group', 'name', '/aws/batch/finbatch-dev-transaction-processor');
      expect(json.compute).toHaveResourceWithProperties(CloudwatchLogGroup, {
        name: '/aws/batch/finbatch-dev-transaction-processor', retention_in_days: 365, kms_key_id: expect.stringMatching(dataRef('aws_kms_key', 'logs-key', 'arn')),
      });
      expect(container.logConfiguration).toEqual({
        logDriver: 'awslogs',
        options: { 'awslogs-group': `\${aws_cloudwatch_log_group.${groupId}.name}`, 'awslogs-region': 'us-east-1', 'awslogs-stream-prefix': 'processor' },
      });
    });

    it('passes the contract environment (per-job values are overridden at submit)', () => {
      expect(Object.keys(env).sort()).toEqual(['AUDIT_LOG_TABLE', 'DEST_BUCKET', 'DEST_KMS_KEY_ARN', 'ENVIRONMENT', 'INPUT_BUCKET',
        'JOB_STATUS_TABLE', 'MAX_AMOUNT', 'SHARD_COUNT', 'SNS_TOPIC_ARN']);
      expect(env.DEST_BUCKET).toMatch(dataRef('aws_s3_bucket', 'processed', 'bucket'));
      expect(env.DEST_KMS_KEY_ARN).toMatch(dataRef('aws_kms_key', 's3-key', 'arn'));
      expect(env.JOB_STATUS_TABLE).toMatch(dataRef('aws_dynamodb_table', 'job-status', 'name'));
      expect(env.SNS_TOPIC_ARN).toMatch(dataRef('aws_sns_topic', 'batch-alerts', 'arn'));
      expect(env).toMatchObject({ ENVIRONMENT: 'dev', MAX_AMOUNT: '1000000.00', SHARD_COUNT: '1' });
    });
  });

  it('image reference: tag with a colon, digest with an @', () => {
    expect(imageReference('repo', '1.2.3')).toBe('repo:1.2.3');
    expect(imageReference('repo', DIGEST)).toBe(`repo@${DIGEST}`);
  });
});

describe('compute stack: IAM', () => {
  const roleNames = ['finbatch-dev-orchestrator-role', 'finbatch-dev-ingest-role', 'finbatch-dev-job-events-role',
    'finbatch-dev-processor-execution', 'finbatch-dev-processor-job'];
  /** Statements that AWS forces onto "*", each of which must carry a comment in the source. */
  const REQUIRED_WILDCARDS = new Set(['XRayTraces', 'VpcNetworkInterfaces', 'DescribeJobs', 'EcrAuthToken']);

  it('every Allow on "*" is one AWS requires, and each is commented where it is written', () => {
    const seen = new Set<string>();
    for (const role of roleNames) {
      for (const s of policyOf(role)) {
        if (s.Effect === 'Allow' && asArray(s.Resource).includes('*')) {
          expect(REQUIRED_WILDCARDS).toContain(s.Sid);
          seen.add(s.Sid!);
        }
      }
    }
    expect([...seen].sort()).toEqual([...REQUIRED_WILDCARDS].sort());
    const sources = ['stacks/constructs/nodejs-function.ts', 'stacks/compute/functions.ts', 'stacks/compute/batch.ts']
      .map((f) => fs.readFileSync(path.join(ROOT, f), 'utf8').split('\n'));
    for (const wildcard of REQUIRED_WILDCARDS) {
      const hit = sources.flatMap((lines) => lines.map((l, i) => ({ l, prev: lines.slice(Math.max(0, i - 2), i).join(' ') })))
        .find(({ l }) => l.includes(`Sid: '${wildcard}'`));
      expect(hit?.prev).toMatch(/AWS requires "\*"/);
    }
  });

  it('every role carries the documents\' explicit denies', () => {
    for (const role of roleNames) {
      expect(sid(policyOf(role), 'DenyDestructiveActions')).toMatchObject({
        Effect: 'Deny',
        Action: ['s3:DeleteBucket', 's3:PutBucketPolicy', 'kms:DisableKey', 'kms:ScheduleKeyDeletion', 'dynamodb:DeleteTable'],
        Resource: '*',
      });
    }
  });

  it('Batch roles trust ECS tasks of this account only', () => {
    for (const name of ['finbatch-dev-processor-execution', 'finbatch-dev-processor-job']) {
      const [, role] = byName('aws_iam_role', 'name', name);
      expect(JSON.parse(role.assume_role_policy).Statement).toEqual([{
        Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
      }]);
    }
  });

  it('execution role pulls only this repository and writes only the job log group', () => {
    const p = policyOf('finbatch-dev-processor-execution');
    const [repoId] = byName('aws_ecr_repository', 'name', 'finbatch-dev-transaction-processor');
    const [groupId] = byName('aws_cloudwatch_log_group', 'name', '/aws/batch/finbatch-dev-transaction-processor');
    expect(sid(p, 'PullProcessorImage').Resource).toBe(`\${aws_ecr_repository.${repoId}.arn}`);
    expect(sid(p, 'WriteJobLogs').Resource).toBe(`\${aws_cloudwatch_log_group.${groupId}.arn}:*`);
    expect(sid(p, 'EcrAuthToken').Action).toBe('ecr:GetAuthorizationToken');
  });

  it('job role: reads transactions/, writes processed/, status + audit, alerts, and the three data keys by ARN', () => {
    const p = policyOf('finbatch-dev-processor-job');
    expect(sid(p, 'ReadInputObjects').Resource).toMatch(/input_bucket[^}]*arn\}\/transactions\/\*$/);
    expect(sid(p, 'WriteProcessedWrite')).toMatchObject({ Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'] });
    expect(sid(p, 'WriteProcessedWrite').Resource).toMatch(/processed_bucket[^}]*arn\}\/processed\/\*$/);
    expect(sid(p, 'JobStatus').Action).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(sid(p, 'AuditLog')).toMatchObject({ Action: ['dynamodb:PutItem'] });
    expect(sid(p, 'AuditLog').Resource).toMatch(dataRef('aws_dynamodb_table', 'audit-log', 'arn'));
    expect(sid(p, 'S3DataKey').Resource).toMatch(dataRef('aws_kms_key', 's3-key', 'arn'));
    expect(sid(p, 'DynamoDbKey').Resource).toMatch(dataRef('aws_kms_key', 'dynamodb-key', 'arn'));
    expect(sid(p, 'MessagingKey')).toMatchObject({ Action: ['kms:GenerateDataKey*', 'kms:Decrypt'] });
    expect(p.flatMap((s) => asArray(s.Action))).not.toContain('dynamodb:DeleteItem');
  });

  it('orchestrator submits only to this queue and any revision of this job definition', () => {
    const p = policyOf('finbatch-dev-orchestrator-role');
    expect(sid(p, 'SubmitToQueue')).toEqual({
      Sid: 'SubmitToQueue', Effect: 'Allow', Action: 'batch:SubmitJob',
      Resource: ['${aws_batch_job_queue.job-queue.arn}', '${aws_batch_job_definition.job-definition.arn_prefix}', '${aws_batch_job_definition.job-definition.arn_prefix}:*',
        `arn:${PARTITION}:batch:us-east-1:\${data.aws_caller_identity.caller.account_id}:job/*`],
    });
    expect(sid(p, 'DescribeJobs')).toMatchObject({ Action: ['batch:DescribeJobs', 'batch:ListJobs'], Resource: '*' });
    expect(sid(p, 'JobStatus').Resource).toEqual([expect.stringMatching(dataRef('aws_dynamodb_table', 'job-status', 'arn')), expect.stringMatching(/arn\}\/index\/\*$/)]);
    // A replay's TransactWriteItems may hold a ConditionCheck on the run record.
    expect(sid(p, 'JobStatus').Action).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem']);
    expect(sid(p, 'PublishBatchAlerts').Resource).toEqual([expect.stringMatching(dataRef('aws_sns_topic', 'batch-alerts', 'arn'))]);
  });

  it('ingest reads both buckets and owns the idempotency + metadata tables; job-events cannot touch S3 or Batch', () => {
    const ingest = policyOf('finbatch-dev-ingest-role');
    expect(sid(ingest, 'ReadPaymentFilesObjects').Resource).toMatch(/payment-files_bucket[^}]*arn\}\/\*$/);
    expect(sid(ingest, 'Idempotency').Action).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']);
    expect(sid(ingest, 'Idempotency').Resource).toMatch(dataRef('aws_dynamodb_table', 'idempotency', 'arn'));
    expect(sid(ingest, 'TransactionMetadata').Resource).toMatch(dataRef('aws_dynamodb_table', 'transactions', 'arn'));
    const jobEvents = policyOf('finbatch-dev-job-events-role').filter((s) => s.Effect === 'Allow');
    const actions = jobEvents.flatMap((s) => asArray(s.Action));
    expect(actions.filter((a) => a.startsWith('s3:') || a.startsWith('batch:'))).toEqual([]);
  });
});
