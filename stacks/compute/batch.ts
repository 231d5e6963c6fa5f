import { Construct } from 'constructs';
import { TerraformLocal } from 'cdktf';
import { EcrRepository } from '@cdktf/provider-aws/lib/ecr-repository';
import { EcrLifecyclePolicy } from '@cdktf/provider-aws/lib/ecr-lifecycle-policy';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { BatchComputeEnvironment } from '@cdktf/provider-aws/lib/batch-compute-environment';
import { BatchJobQueue } from '@cdktf/provider-aws/lib/batch-job-queue';
import { BatchJobDefinition } from '@cdktf/provider-aws/lib/batch-job-definition';
import { PlatformConfig } from '../config';
import { EncryptedLogGroup } from '../constructs/encrypted-log-group';
import { EXPLICIT_DENY_STATEMENT } from '../constructs/nodejs-function';
import { assumeRolePolicy, PolicyStatement, renderPolicy } from '../constructs/policy';
import { INPUT_PREFIX, PROCESSED_PREFIX } from '../data/buckets';
import { tableStatement } from '../data/tables';
import { publishStatement } from '../data/messaging';
import type { DataStack } from '../data-stack';
import { containerProperties, EVALUATE_ON_EXIT, imageReference } from './job-definition';
import { processorImageTagVariable } from '../variables';

export interface BatchProps {
  readonly cfg: PlatformConfig;
  readonly name: (purpose: string) => string;
  readonly accountId: string;
  readonly region: string;
  readonly data: DataStack;
  readonly subnetIds: string[];
  readonly securityGroupId: string;
}

export interface BatchResources {
  readonly repository: EcrRepository;
  readonly computeEnvironment: BatchComputeEnvironment;
  readonly jobQueue: BatchJobQueue;
  readonly jobDefinition: BatchJobDefinition;
  readonly executionRole: IamRole;
  readonly jobRole: IamRole;
  readonly logGroup: EncryptedLogGroup;
}

/** ECR lifecycle: drop untagged layers after a week, keep the newest 50 releases (rollback depth). */
export const ECR_LIFECYCLE = {
  rules: [
    {
      rulePriority: 1,
      description: 'Expire untagged images after 7 days',
      selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 7 },
      action: { type: 'expire' },
    },
    {
      rulePriority: 2,
      description: 'Keep the newest 50 images',
      selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 50 },
      action: { type: 'expire' },
    },
  ],
};

/**
 * The nightly run's Batch side: image repository, Fargate compute environment in the private subnets,
 * one job queue, the processor job definition and its two roles.
 *
 * No `serviceRole` on the compute environment: Batch then uses its service-linked role
 * (AWSServiceRoleForBatch), which AWS maintains and recommends; a hand-made service role with the
 * legacy AWSBatchServiceRole managed policy would be broader and ours to keep current.
 */
export function createBatch(scope: Construct, p: BatchProps): BatchResources {
  const { data, cfg } = p;
  const repository = new EcrRepository(scope, 'processor-repo', {
    name: p.name('transaction-processor'),
    imageTagMutability: 'IMMUTABLE',
    imageScanningConfiguration: { scanOnPush: true },
    encryptionConfiguration: [{ encryptionType: 'KMS', kmsKey: data.workloadKey.arn }],
  });
  new EcrLifecyclePolicy(scope, 'processor-repo-lifecycle', {
    repository: repository.name,
    policy: JSON.stringify(ECR_LIFECYCLE),
  });

  const logGroup = new EncryptedLogGroup(scope, 'processor-logs', {
    name: `/aws/batch/${p.name('transaction-processor')}`,
    retentionDays: cfg.retention.logDays,
    kmsKeyArn: data.logsKey.arn,
  });

  const executionRole = new IamRole(scope, 'processor-execution-role', {
    name: p.name('processor-execution'),
    assumeRolePolicy: assumeRolePolicy('ecs-tasks.amazonaws.com', p.accountId),
  });
  new IamRolePolicy(scope, 'processor-execution-policy', {
    name: p.name('processor-execution'),
    role: executionRole.id,
    policy: renderPolicy([
      // GetAuthorizationToken has no resource-level permissions: AWS requires "*".
      { Sid: 'EcrAuthToken', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
      {
        Sid: 'PullProcessorImage',
        Effect: 'Allow',
        Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
        Resource: repository.arn,
      },
      data.workloadKey.decryptStatement('ImageKey'),
      { Sid: 'WriteJobLogs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: `${logGroup.arn}:*` },
      EXPLICIT_DENY_STATEMENT,
    ]),
  });

  const jobRole = new IamRole(scope, 'processor-job-role', {
    name: p.name('processor-job'),
    assumeRolePolicy: assumeRolePolicy('ecs-tasks.amazonaws.com', p.accountId),
  });
  const jobStatements: PolicyStatement[] = [
    ...data.inputBucket.readStatements('ReadInput', INPUT_PREFIX),
    ...data.processedBucket.readStatements('ReadProcessed', PROCESSED_PREFIX),
    ...data.processedBucket.writeStatements('WriteProcessed', PROCESSED_PREFIX),
    data.s3Key.useStatement('S3DataKey'),
    tableStatement('JobStatus', data.jobStatusTable, ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']),
    tableStatement('AuditLog', data.auditLogTable, ['dynamodb:PutItem']),
    data.dynamoKey.useStatement('DynamoDbKey'),
    publishStatement('PublishBatchAlerts', [data.batchAlertsTopic]),
    data.messagingKey.useStatement('MessagingKey', ['kms:GenerateDataKey*', 'kms:Decrypt']),
    EXPLICIT_DENY_STATEMENT,
  ];
  new IamRolePolicy(scope, 'processor-job-policy', {
    name: p.name('processor-job'),
    role: jobRole.id,
    policy: renderPolicy(jobStatements),
  });

  const computeEnvironment = new BatchComputeEnvironment(scope, 'compute-env', {
    name: p.name('transaction-compute'),
    type: 'MANAGED',
    state: 'ENABLED',
    computeResources: {
      type: 'FARGATE',
      maxVcpus: cfg.batch.maxVcpus,
      subnets: p.subnetIds,
      securityGroupIds: [p.securityGroupId],
    },
  });
  const jobQueue = new BatchJobQueue(scope, 'job-queue', {
    name: p.name('transaction-jobs'),
    state: 'ENABLED',
    priority: 1,
    computeEnvironmentOrder: [{ order: 1, computeEnvironment: computeEnvironment.arn }],
  });

  // The tag is a workspace variable; the reference is a local so the job definition's JSON holds a
  // plain ${local.processor_image} (the conditional's quotes would make it invalid JSON before Terraform
  // renders it, and tools such as checkov parse it).
  const imageTag = processorImageTagVariable(scope, cfg.batch.imageTag).stringValue;
  const image = new TerraformLocal(scope, 'processor_image', imageReference(repository.repositoryUrl, imageTag));
  const props = containerProperties({
    repositoryUrl: repository.repositoryUrl,
    imageTag,
    image: image.asString,
    executionRoleArn: executionRole.arn,
    jobRoleArn: jobRole.arn,
    logGroupName: logGroup.name,
    region: p.region,
    environment: {
      INPUT_BUCKET: data.inputBucket.name,
      DEST_BUCKET: data.processedBucket.name,
      DEST_KMS_KEY_ARN: data.s3Key.arn,
      JOB_STATUS_TABLE: data.jobStatusTable.name,
      AUDIT_LOG_TABLE: data.auditLogTable.name,
      SNS_TOPIC_ARN: data.batchAlertsTopic.arn,
      SHARD_COUNT: '1',
      MAX_AMOUNT: cfg.batch.maxAmount,
      ENVIRONMENT: cfg.environment,
    },
  });
  // Array jobs need nothing extra here: the orchestrator submits arrayProperties.size = SHARD_COUNT and
  // Batch sets AWS_BATCH_JOB_ARRAY_INDEX per child; retries and the timeout apply to each child.
  const jobDefinition = new BatchJobDefinition(scope, 'job-definition', {
    name: p.name('transaction-processor'),
    type: 'container',
    platformCapabilities: ['FARGATE'],
    propagateTags: true,
    containerProperties: JSON.stringify(props),
    retryStrategy: { attempts: cfg.batch.attempts, evaluateOnExit: EVALUATE_ON_EXIT.map((e) => ({ ...e })) },
    // Config guarantees attempts x this timeout fits the batch window (stacks/config.ts superRefine).
    timeout: { attemptDurationSeconds: cfg.batch.jobAttemptTimeoutSeconds },
  });

  return { repository, computeEnvironment, jobQueue, jobDefinition, executionRole, jobRole, logGroup };
}
