import { Construct, IConstruct, Node } from 'constructs';
import { Aspects, TerraformElement, TerraformStack } from 'cdktf';
import { makeUniqueId } from 'cdktf/lib/private/unique';
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

  /** The platform stack a construct belongs to: config, account, region, partition and naming for every part. */
  static of(scope: IConstruct): PlatformStack {
    const stack = TerraformStack.of(scope);
    if (!(stack instanceof PlatformStack)) {
      throw new Error(`${scope.node.path} is not inside a platform stack (PlatformStack.of needs one of the five stacks as an ancestor)`);
    }
    return stack;
  }

  /** `${project}-${environment}-${purpose}`. */
  name(purpose: string): string {
    return resourceName(this.cfg, purpose);
  }

  /** `arn:<partition>:iam::<account>:role/<name>`: a role referred to by name (no cross-stack reference). */
  roleArn(roleName: string): string {
    return `arn:${this.partition}:iam::${this.accountId}:role/${roleName}`;
  }

  private readonly logicalIds = new Map<string, string>();

  /**
   * cdktf's hashed addressing scheme with one change: the ids of PlatformPart scopes are left out, so
   * grouping resources into parts (code organisation) never moves a deployed resource to a new address.
   * Two resources that would get the same address are an error here, not a silent overwrite.
   */
  allocateLogicalId(tfElement: TerraformElement | Node): string {
    const node = TerraformElement.isTerraformElement(tfElement) ? tfElement.node : tfElement;
    const scopes = node.scopes.slice(node.scopes.indexOf(this) + 1);
    const components = scopes.filter((c) => !(c instanceof PlatformPart) || c.keepsIdInAddresses).map((c) => c.node.id);
    const id = components.length > 0 ? makeUniqueId(components) : '';
    const holder = this.logicalIds.get(id);
    if (holder !== undefined && holder !== node.path) {
      throw new Error(`${node.path} and ${holder} would both have the Terraform address "${id}": give one of them another id`);
    }
    this.logicalIds.set(id, node.path);
    return id;
  }
}

export interface PlatformPartOptions {
  /**
   * Keep this part's id in its resources' addresses. Only for parts whose resources were deployed
   * with it (they were Construct classes before parts existed); a new part leaves it out.
   */
  readonly keepIdInAddresses?: boolean;
}

/**
 * A part of a stack (its keys, its buckets, its functions, ...): a construct that groups resources and
 * reads the stack-wide context (config, account, region, partition, naming) from `this.platform`
 * instead of props. Its id is left out of resource addresses (PlatformStack.allocateLogicalId), so a
 * resource keeps its address when it moves into or between parts; the address list in addresses/
 * guards that.
 */
export abstract class PlatformPart extends Construct {
  protected readonly platform: PlatformStack;
  readonly keepsIdInAddresses: boolean;

  constructor(scope: Construct, id: string, options: PlatformPartOptions = {}) {
    super(scope, id);
    this.platform = PlatformStack.of(this);
    this.keepsIdInAddresses = options.keepIdInAddresses ?? false;
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
