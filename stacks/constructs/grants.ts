import { Construct } from 'constructs';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { assumeRolePolicy, ConditionBlock, PolicyStatement, renderPolicy } from './policy';

/**
 * How much of a KMS key a grantee needs, from least to most:
 * - `decrypt`: read data encrypted under the key (S3 GetObject, DynamoDB reads): Decrypt, DescribeKey;
 * - `dataKey`: send to encrypted SNS topics and SQS queues (GenerateDataKey*, Decrypt);
 * - `encryptDecrypt`: read and write data under the key through its service.
 */
export type KeyAccess = 'decrypt' | 'dataKey' | 'encryptDecrypt';
const KEY_ACCESS_RANK: Record<KeyAccess, number> = { decrypt: 0, dataKey: 1, encryptDecrypt: 2 };

/** A key that can be granted (stacks/constructs/kms-key.ts): its ARN and the statement for each access level. */
export interface GrantableKey {
  readonly arn: string;
  keyStatement(access: KeyAccess, sid?: string): PolicyStatement;
}

/** Anything holding an identity policy that grants can add to (a function's role, a Batch job's role, ...). */
export interface IGrantable {
  readonly grantPolicy: RolePolicy;
}

interface KeyNeed {
  key: GrantableKey;
  access: KeyAccess;
  sid?: string;
  /** Statements present when the need was last stated: the key statement is rendered right after them. */
  after: number;
}

/**
 * An identity policy assembled from grants, in the style of aws-cdk-lib: resources add the statements a
 * grantee needs (`SecureBucket.grantRead`, `Table.grant`, `AlertTopic.grantPublish`) together with the
 * use of their KMS key. Each key gets ONE statement at the highest access any grant asked for, placed
 * after the last statement that needed it; `closing` statements (explicit denies) always come last.
 */
export class RolePolicy {
  private readonly statements: PolicyStatement[] = [];
  private readonly keys: KeyNeed[] = [];
  private readonly listeners: (() => void)[] = [];

  constructor(private readonly closing: PolicyStatement[] = []) {}

  addStatements(...statements: PolicyStatement[]): void {
    this.statements.push(...statements);
    this.changed();
  }

  /** The use of `key` that the statements added so far need (raised, never lowered, by later calls). */
  requireKey(key: GrantableKey, access: KeyAccess, sid?: string): void {
    const need = this.keys.find((k) => k.key === key);
    if (need) {
      if (KEY_ACCESS_RANK[access] > KEY_ACCESS_RANK[need.access]) need.access = access;
      need.sid ??= sid;
      need.after = this.statements.length;
    } else {
      this.keys.push({ key, access, sid, after: this.statements.length });
    }
    this.changed();
  }

  /** The statements in render order. */
  document(): PolicyStatement[] {
    const out: PolicyStatement[] = [];
    const keysAfter = (count: number) => this.keys.filter((k) => k.after === count).map((k) => k.key.keyStatement(k.access, k.sid));
    out.push(...keysAfter(0));
    this.statements.forEach((s, i) => out.push(s, ...keysAfter(i + 1)));
    return [...out, ...this.closing];
  }

  render(): string {
    return renderPolicy(this.document());
  }

  /** Called on every change: the owner re-renders its policy resource. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}

export interface ServiceRoleProps {
  readonly roleName: string;
  /** Name of the inline policy. */
  readonly policyName: string;
  /** Service principal(s) that assume the role. */
  readonly assumedBy: string | string[];
  /** Pin the trust policy to this account (`aws:SourceAccount`, confused deputy). */
  readonly sourceAccount?: string;
  /** The trust statement's full condition (e.g. account and source ARN), instead of `sourceAccount` alone. */
  readonly trustCondition?: ConditionBlock;
  /** Ids of the role and policy resources under the scope (their Terraform addresses). */
  readonly roleId: string;
  readonly policyId: string;
  /** Statements that close the policy (explicit denies). */
  readonly closing?: PolicyStatement[];
}

/**
 * An IAM role and its one inline policy, created in `scope` under the given ids (the ids are the
 * resources' addresses, so callers keep the ones their resources already have). Grants add to the
 * policy at any time before synth; each change re-renders the policy document.
 */
export class ServiceRole implements IGrantable {
  readonly role: IamRole;
  readonly policy: IamRolePolicy;
  readonly grantPolicy: RolePolicy;

  constructor(scope: Construct, props: ServiceRoleProps) {
    this.role = new IamRole(scope, props.roleId, {
      name: props.roleName,
      assumeRolePolicy: props.trustCondition
        ? renderPolicy([{ Effect: 'Allow', Principal: { Service: props.assumedBy }, Action: 'sts:AssumeRole', Condition: props.trustCondition }])
        : assumeRolePolicy(props.assumedBy, props.sourceAccount),
    });
    this.grantPolicy = new RolePolicy(props.closing);
    this.policy = new IamRolePolicy(scope, props.policyId, {
      name: props.policyName,
      role: this.role.id,
      policy: this.grantPolicy.render(),
    });
    this.grantPolicy.onChange(() => { this.policy.policy = this.grantPolicy.render(); });
  }

  get arn(): string {
    return this.role.arn;
  }

  addToPolicy(...statements: PolicyStatement[]): void {
    this.grantPolicy.addStatements(...statements);
  }
}
