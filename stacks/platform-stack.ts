import { Construct } from 'constructs';
import { Aspects, TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { applyBackend } from './backend';
import { PlatformConfig, resourceName } from './config';
import { TaggingAspect } from './aspects/tagging';
import { GuardrailAspect } from './aspects/guardrails';

/**
 * Common base of the five stacks: AWS provider pinned to the configured region and allowed accounts
 * with default_tags, the configured state backend, the tagging aspect, the caller's account id
 * (names are derived from it, never fixed) and the partition (ARNs are built with it, never `arn:aws:`).
 */
export abstract class PlatformStack extends TerraformStack {
  readonly cfg: PlatformConfig;
  readonly accountId: string;
  readonly region: string;
  /** `aws`, `aws-us-gov` or `aws-cn`, read from the provider: every ARN the stacks build uses it. */
  readonly partition: string;
  readonly stackId: string;

  protected constructor(scope: Construct, stackId: string, cfg: PlatformConfig) {
    super(scope, stackId);
    this.cfg = cfg;
    this.stackId = stackId;
    this.region = cfg.region;
    new AwsProvider(this, 'aws', {
      region: cfg.region,
      allowedAccountIds: cfg.allowedAccountIds,
      defaultTags: [{ tags: cfg.tags }],
    });
    applyBackend(this, cfg.backend, stackId);
    Aspects.of(this).add(new TaggingAspect({ Stack: stackId }));
    Aspects.of(this).add(new GuardrailAspect({ minLogRetentionDays: cfg.retention.logDays, requiredTags: Object.keys(cfg.tags) }));
    this.accountId = new DataAwsCallerIdentity(this, 'caller').accountId;
    this.partition = partitionOf(this);
  }

  /** `${project}-${environment}-${purpose}`. */
  name(purpose: string): string {
    return resourceName(this.cfg, purpose);
  }
}

/**
 * The partition of the stack a construct belongs to (for ARNs built inside constructs): the stack's one
 * `data.aws_partition.partition`, created on first use.
 */
export function partitionOf(scope: Construct): string {
  const stack = TerraformStack.of(scope);
  const existing = stack.node.tryFindChild('partition');
  return (existing instanceof DataAwsPartition ? existing : new DataAwsPartition(stack, 'partition')).partition;
}
