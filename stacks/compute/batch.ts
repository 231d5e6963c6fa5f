import type { Construct } from 'constructs';
import { TerraformLocal } from 'cdktf';
import { PlatformPart } from '../platform-stack';
import { EcrRepository } from '@cdktf/provider-aws/lib/ecr-repository';
import { EcrLifecyclePolicy } from '@cdktf/provider-aws/lib/ecr-lifecycle-policy';
import { BatchComputeEnvironment } from '@cdktf/provider-aws/lib/batch-compute-environment';
import { BatchJobQueue } from '@cdktf/provider-aws/lib/batch-job-queue';
import { BatchJobDefinition } from '@cdktf/provider-aws/lib/batch-job-definition';
import { EncryptedLogGroup } from '../constructs/encrypted-log-group';
import { EXPLICIT_DENY_STATEMENT } from '../constructs/nodejs-function';
import { ServiceRole } from '../constructs/grants';
import { INPUT_PREFIX, PROCESSED_PREFIX } from '../data/buckets';
import type { DataStack } from '../data-stack';
import { containerProperties, EVALUATE_ON_EXIT, imageReference } from './job-definition';
import { processorImageTagVariable } from '../variables';

export interface NightlyBatchProps {
  readonly data: DataStack;
  readonly subnetIds: string[];
  readonly securityGroupId: string;
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
export class NightlyBatch extends PlatformPart {
  readonly repository: EcrRepository;
  readonly logGroup: EncryptedLogGroup;
  /** Pulls the image and writes the job's logs (ECS task execution). */
  readonly executionRole: ServiceRole;
  /** The processor's own permissions: read input, write processed output, job status, audit, alerts. */
  readonly jobRole: ServiceRole;
  readonly computeEnvironment: BatchComputeEnvironment;
  readonly jobQueue: BatchJobQueue;
  readonly jobDefinition: BatchJobDefinition;

  constructor(scope: Construct, id: string, private readonly p: NightlyBatchProps) {
    super(scope, id);
    const { data } = p;
    this.repository = this.imageRepository();
    this.logGroup = new EncryptedLogGroup(this, 'processor-logs', {
      name: `/aws/batch/${this.platform.name('transaction-processor')}`,
      retentionDays: this.platform.cfg.retention.logDays,
      kmsKeyArn: data.logsKey.arn,
    });
    this.executionRole = this.role('processor-execution');
    this.grantExecution(this.executionRole);
    this.jobRole = this.role('processor-job');
    this.grantJob(this.jobRole);
    this.computeEnvironment = this.fargateEnvironment();
    this.jobQueue = new BatchJobQueue(this, 'job-queue', {
      name: this.platform.name('transaction-jobs'),
      state: 'ENABLED',
      priority: 1,
      computeEnvironmentOrder: [{ order: 1, computeEnvironment: this.computeEnvironment.arn }],
    });
    this.jobDefinition = this.processorJobDefinition();
  }

  /** Immutable tags, scan on push, encrypted with the workload key, lifecycle-pruned. */
  private imageRepository(): EcrRepository {
    const repository = new EcrRepository(this, 'processor-repo', {
      name: this.platform.name('transaction-processor'),
      imageTagMutability: 'IMMUTABLE',
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: [{ encryptionType: 'KMS', kmsKey: this.p.data.workloadKey.arn }],
    });
    new EcrLifecyclePolicy(this, 'processor-repo-lifecycle', {
      repository: repository.name,
      policy: JSON.stringify(ECR_LIFECYCLE),
    });
    return repository;
  }

  /** A role ECS tasks of this account assume (`<id>-role` / `<id>-policy` addresses, named `<prefix>-<id>`). */
  private role(purpose: string): ServiceRole {
    return new ServiceRole(this, {
      roleId: `${purpose}-role`,
      policyId: `${purpose}-policy`,
      roleName: this.platform.name(purpose),
      policyName: this.platform.name(purpose),
      assumedBy: 'ecs-tasks.amazonaws.com',
      sourceAccount: this.platform.accountId,
      closing: [EXPLICIT_DENY_STATEMENT],
    });
  }

  private grantExecution(role: ServiceRole): void {
    role.addToPolicy(
      // GetAuthorizationToken has no resource-level permissions: AWS requires "*".
      { Sid: 'EcrAuthToken', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
      {
        Sid: 'PullProcessorImage',
        Effect: 'Allow',
        Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
        Resource: this.repository.arn,
      },
    );
    this.p.data.workloadKey.grantDecrypt(role, 'ImageKey');
    role.addToPolicy({ Sid: 'WriteJobLogs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: `${this.logGroup.arn}:*` });
  }

  private grantJob(role: ServiceRole): void {
    const { data } = this.p;
    data.inputBucket.grantRead(role, 'ReadInput', INPUT_PREFIX);
    data.processedBucket.grantRead(role, 'ReadProcessed', PROCESSED_PREFIX);
    data.processedBucket.grantWrite(role, 'WriteProcessed', PROCESSED_PREFIX);
    data.tableGrants.jobStatus.grant(role, 'JobStatus', ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    data.tableGrants.auditLog.grant(role, 'AuditLog', ['dynamodb:PutItem']);
    data.batchAlerts.grantPublish(role, 'PublishBatchAlerts');
  }

  private fargateEnvironment(): BatchComputeEnvironment {
    return new BatchComputeEnvironment(this, 'compute-env', {
      name: this.platform.name('transaction-compute'),
      type: 'MANAGED',
      state: 'ENABLED',
      computeResources: {
        type: 'FARGATE',
        maxVcpus: this.platform.cfg.batch.maxVcpus,
        subnets: this.p.subnetIds,
        securityGroupIds: [this.p.securityGroupId],
      },
    });
  }

  /** The processor's job definition: image from the workspace variable, retries and timeout from config. */
  private processorJobDefinition(): BatchJobDefinition {
    const { data } = this.p;
    const { cfg, region } = this.platform;
    // The tag is a workspace variable; the reference is a local so the job definition's JSON holds a
    // plain ${local.processor_image} (the conditional's quotes would make it invalid JSON before Terraform
    // renders it, and tools such as checkov parse it).
    const imageTag = processorImageTagVariable(this, cfg.batch.imageTag).stringValue;
    const image = new TerraformLocal(this, 'processor_image', imageReference(this.repository.repositoryUrl, imageTag));
    const props = containerProperties({
      repositoryUrl: this.repository.repositoryUrl,
      imageTag,
      image: image.asString,
      executionRoleArn: this.executionRole.arn,
      jobRoleArn: this.jobRole.arn,
      logGroupName: this.logGroup.name,
      region,
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
    return new BatchJobDefinition(this, 'job-definition', {
      name: this.platform.name('transaction-processor'),
      type: 'container',
      platformCapabilities: ['FARGATE'],
      propagateTags: true,
      containerProperties: JSON.stringify(props),
      retryStrategy: { attempts: cfg.batch.attempts, evaluateOnExit: EVALUATE_ON_EXIT.map((e) => ({ ...e })) },
      // Config guarantees attempts x this timeout fits the batch window (stacks/config.ts superRefine).
      timeout: { attemptDurationSeconds: cfg.batch.jobAttemptTimeoutSeconds },
    });
  }
}
