/**
 * The processor's Batch job definition as typed data: container properties (rendered to the JSON the
 * Batch API takes) and the retry strategy. Kept free of constructs so tests can reason about it.
 */
import { Fn, Token } from 'cdktf';

// The exit codes and the retry strategy that reads them are a contract with the processor and the local run.
export { EVALUATE_ON_EXIT, RETRYABLE_EXIT_CODES } from '../../contracts/batch-job';
export type { EvaluateOnExit } from '../../contracts/batch-job';

export interface KeyValue { name: string; value: string }

/** The subset of Batch ContainerProperties this platform uses (Fargate). */
export interface FargateContainerProperties {
  image: string;
  resourceRequirements: { type: 'VCPU' | 'MEMORY'; value: string }[];
  executionRoleArn: string;
  jobRoleArn: string;
  environment: KeyValue[];
  logConfiguration: { logDriver: 'awslogs'; options: Record<string, string> };
  networkConfiguration: { assignPublicIp: 'ENABLED' | 'DISABLED' };
  fargatePlatformConfiguration: { platformVersion: string };
  runtimePlatform: { operatingSystemFamily: 'LINUX'; cpuArchitecture: 'X86_64' | 'ARM64' };
  readonlyRootFilesystem: boolean;
  user: string;
  volumes: { name: string }[];
  mountPoints: { sourceVolume: string; containerPath: string; readOnly: boolean }[];
}

export interface ContainerInputs {
  repositoryUrl: string;
  /** Immutable tag or `sha256:<digest>` (config and the processor_image_tag variable reject `latest`). */
  imageTag: string;
  /**
   * The image reference itself, when the stack computes it in Terraform (a local of
   * imageReference(repositoryUrl, var.processor_image_tag)); wins over repositoryUrl + imageTag.
   */
  image?: string;
  executionRoleArn: string;
  jobRoleArn: string;
  logGroupName: string;
  region: string;
  /** Defaults every job gets; the orchestrator overrides INPUT_KEY, RUN_ID, JOB_ID, SHARD_COUNT per job. */
  environment: Record<string, string>;
}

/** 2 vCPU / 4 GiB per job: measured headroom for a 10,000-transaction job and its shard's streaming buffers. */
export const JOB_VCPU = '2';
export const JOB_MEMORY_MIB = '4096';

/**
 * `repo:tag`, or `repo@sha256:...` for a digest (a digest pins the exact bytes). When the tag is a
 * Terraform variable the choice is Terraform's: startswith() picks the separator at plan time.
 */
export function imageReference(repositoryUrl: string, imageTag: string): string {
  if (!Token.isUnresolved(imageTag)) return imageTag.startsWith('sha256:') ? `${repositoryUrl}@${imageTag}` : `${repositoryUrl}:${imageTag}`;
  return `${repositoryUrl}${Token.asString(Fn.conditional(Fn.startswith(imageTag, 'sha256:'), '@', ':'))}${imageTag}`;
}

export function containerProperties(p: ContainerInputs): FargateContainerProperties {
  return {
    image: p.image ?? imageReference(p.repositoryUrl, p.imageTag),
    resourceRequirements: [{ type: 'VCPU', value: JOB_VCPU }, { type: 'MEMORY', value: JOB_MEMORY_MIB }],
    executionRoleArn: p.executionRoleArn,
    jobRoleArn: p.jobRoleArn,
    environment: Object.entries(p.environment)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, value]) => ({ name, value })),
    logConfiguration: {
      logDriver: 'awslogs',
      options: { 'awslogs-group': p.logGroupName, 'awslogs-region': p.region, 'awslogs-stream-prefix': 'processor' },
    },
    // Private subnets only: images and AWS APIs are reached through VPC endpoints.
    networkConfiguration: { assignPublicIp: 'DISABLED' },
    fargatePlatformConfiguration: { platformVersion: 'LATEST' },
    runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: 'X86_64' },
    // The image runs as uid 10001 and writes nothing but /tmp (a task-scoped scratch volume).
    readonlyRootFilesystem: true,
    user: '10001:10001',
    volumes: [{ name: 'scratch' }],
    mountPoints: [{ sourceVolume: 'scratch', containerPath: '/tmp', readOnly: false }],
  };
}
