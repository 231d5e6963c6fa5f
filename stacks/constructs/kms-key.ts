import { Construct } from 'constructs';
import { partitionOf } from '../platform-stack';
import { KmsKey as AwsKmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { PolicyStatement, renderPolicy } from './policy';
import { GrantableKey, IGrantable, KeyAccess } from './grants';

export interface KmsKeyProps {
  /** Alias without the `alias/` prefix, e.g. `finbatch-dev-data-s3`. */
  readonly alias: string;
  readonly description: string;
  readonly accountId: string;
  /** Statements granting services and roles use of the key; the account-root statement is always added. */
  readonly statements?: PolicyStatement[];
  readonly deletionWindowDays?: number;
  /**
   * What the account-root statement grants. `full` (default): `kms:*`, so any IAM policy in the account
   * can grant any use of the key. `administer`: management actions only (no cryptographic use and no
   * CreateGrant), so every use must also match one of `statements` (e.g. `viaServiceStatements`).
   */
  readonly rootAccess?: 'full' | 'administer';
  /**
   * Sid stem of the identity-policy statements that grants of this key add to a grantee (`S3DataKey`
   * gives `S3DataKey` for use and `S3DataKeyRead` for decrypt only). Default: the alias in PascalCase.
   */
  readonly grantSid?: string;
}

/**
 * Key-management actions for the account root when `rootAccess` is `administer`: everything Terraform
 * and operators need to manage, rotate, tag and retire the key, but no Encrypt/Decrypt/GenerateDataKey
 * and no CreateGrant (a grant would be a way around the via-service conditions).
 */
export const KEY_ADMIN_ACTIONS = [
  'kms:CreateAlias', 'kms:UpdateAlias', 'kms:DeleteAlias', 'kms:DescribeKey', 'kms:Get*', 'kms:List*',
  'kms:EnableKey', 'kms:DisableKey', 'kms:EnableKeyRotation', 'kms:DisableKeyRotation', 'kms:RotateKeyOnDemand',
  'kms:PutKeyPolicy', 'kms:UpdateKeyDescription', 'kms:TagResource', 'kms:UntagResource',
  'kms:RevokeGrant', 'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion',
];

/** Cryptographic actions a workload role needs to read and write data encrypted under a key. */
export const KEY_USE_ACTIONS = ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'];

/**
 * Customer-managed KMS key with rotation on, a 30-day deletion window, an alias and a key policy built
 * from typed statements. Only the account root receives `kms:*` (so IAM policies can delegate); every
 * service principal gets named actions with conditions from the caller.
 */
export class KmsKey extends Construct implements GrantableKey {
  readonly key: AwsKmsKey;
  readonly alias: KmsAlias;
  readonly arn: string;
  readonly keyId: string;
  readonly aliasName: string;
  private readonly grantSid: string;

  constructor(scope: Construct, id: string, props: KmsKeyProps) {
    super(scope, id);
    const window = props.deletionWindowDays ?? 30;
    if (window < 7 || window > 30) throw new Error(`KmsKey ${id}: deletionWindowDays must be 7-30, got ${window}`);
    if (!/^[a-zA-Z0-9/_-]+$/.test(props.alias) || props.alias.startsWith('aws/')) {
      throw new Error(`KmsKey ${id}: alias "${props.alias}" must be [a-zA-Z0-9/_-] and not start with aws/`);
    }
    this.key = new AwsKmsKey(this, 'key', {
      description: props.description,
      enableKeyRotation: true,
      deletionWindowInDays: window,
      policy: renderPolicy([
        {
          Sid: 'AccountRootAdministers',
          Effect: 'Allow',
          Principal: { AWS: `arn:${partitionOf(this)}:iam::${props.accountId}:root` },
          Action: props.rootAccess === 'administer' ? KEY_ADMIN_ACTIONS : 'kms:*',
          Resource: '*',
        },
        ...(props.statements ?? []),
      ]),
    });
    this.aliasName = `alias/${props.alias}`;
    this.alias = new KmsAlias(this, 'alias', { name: this.aliasName, targetKeyId: this.key.keyId });
    this.arn = this.key.arn;
    this.keyId = this.key.keyId;
    this.grantSid = props.grantSid ?? props.alias.split(/[^A-Za-z0-9]+/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
  }

  /** Let the grantee read and write data under this key through its service. */
  grantEncryptDecrypt(grantee: IGrantable, sid?: string): void {
    grantee.grantPolicy.requireKey(this, 'encryptDecrypt', sid);
  }

  /** Let the grantee read data under this key. */
  grantDecrypt(grantee: IGrantable, sid?: string): void {
    grantee.grantPolicy.requireKey(this, 'decrypt', sid);
  }

  /** Let the grantee send to SNS topics and SQS queues encrypted with this key. */
  grantDataKey(grantee: IGrantable, sid?: string): void {
    grantee.grantPolicy.requireKey(this, 'dataKey', sid);
  }

  /** The identity-policy statement for an access level (used by RolePolicy when it renders). */
  keyStatement(access: KeyAccess, sid?: string): PolicyStatement {
    switch (access) {
      case 'decrypt': return this.decryptStatement(sid ?? `${this.grantSid}Read`);
      case 'dataKey': return this.useStatement(sid ?? this.grantSid, ['kms:GenerateDataKey*', 'kms:Decrypt']);
      case 'encryptDecrypt': return this.useStatement(sid ?? this.grantSid);
    }
  }

  /** Identity-policy statement for a role that reads and writes data under this key (through its service). */
  useStatement(sid: string, actions: string[] = KEY_USE_ACTIONS): PolicyStatement {
    return { Sid: sid, Effect: 'Allow', Action: actions, Resource: this.arn };
  }

  /** Identity-policy statement for a role that only reads data under this key. */
  decryptStatement(sid: string): PolicyStatement {
    return this.useStatement(sid, ['kms:Decrypt', 'kms:DescribeKey']);
  }
}

/**
 * Key-policy statements letting IAM principals of this account use the key only through the named AWS
 * services (`kms:ViaService`), never by calling KMS directly. The principal is the account root, which
 * in a key policy means "whoever the account's IAM policies allow": a role still needs the key ARN in its
 * own policy. A second statement allows the grants that DynamoDB, Lambda and ECR create for their
 * resources (`kms:GrantIsForAWSResource`).
 */
export function viaServiceStatements(sidPrefix: string, accountId: string, region: string, services: string[], partition: string): PolicyStatement[] {
  if (services.length === 0) throw new Error(`viaServiceStatements ${sidPrefix}: services must not be empty`);
  const viaService = services.map((s) => `${s}.${region}.amazonaws.com`);
  const principal = { AWS: `arn:${partition}:iam::${accountId}:root` };
  return [
    {
      Sid: `${sidPrefix}UseViaService`,
      Effect: 'Allow',
      Principal: principal,
      Action: KEY_USE_ACTIONS,
      Resource: '*',
      Condition: { StringEquals: { 'kms:CallerAccount': accountId, 'kms:ViaService': viaService } },
    },
    {
      Sid: `${sidPrefix}GrantsForAwsResources`,
      Effect: 'Allow',
      Principal: principal,
      Action: ['kms:CreateGrant', 'kms:ListGrants', 'kms:RevokeGrant'],
      Resource: '*',
      Condition: {
        StringEquals: { 'kms:CallerAccount': accountId, 'kms:ViaService': viaService },
        Bool: { 'kms:GrantIsForAWSResource': true },
      },
    },
  ];
}

/** Key-policy statement letting an AWS service principal use the key for encryption, with conditions. */
export function serviceUseStatement(sid: string, service: string | string[], condition?: PolicyStatement['Condition'],
  actions: string[] = ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey']): PolicyStatement {
  return {
    Sid: sid,
    Effect: 'Allow',
    Principal: { Service: service },
    Action: actions,
    Resource: '*',
    ...(condition ? { Condition: condition } : {}),
  };
}

/** Key-policy statement for CloudWatch Logs, scoped by the logs encryption context to this account/region. */
export function cloudWatchLogsStatement(region: string, accountId: string, partition: string): PolicyStatement {
  return serviceUseStatement('CloudWatchLogsUse', `logs.${region}.amazonaws.com`, {
    ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${partition}:logs:${region}:${accountId}:*` },
  });
}
