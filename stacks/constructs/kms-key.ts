import { Construct } from 'constructs';
import { KmsKey as AwsKmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { PolicyStatement, renderPolicy } from './policy';

export interface KmsKeyProps {
  /** Alias without the `alias/` prefix, e.g. `finbatch-dev-data-s3`. */
  readonly alias: string;
  readonly description: string;
  readonly accountId: string;
  /** Statements granting services and roles use of the key; the account-root statement is always added. */
  readonly statements?: PolicyStatement[];
  readonly deletionWindowDays?: number;
}

/**
 * Customer-managed KMS key with rotation on, a 30-day deletion window, an alias and a key policy built
 * from typed statements. Only the account root receives `kms:*` (so IAM policies can delegate); every
 * service principal gets named actions with conditions from the caller.
 */
export class KmsKey extends Construct {
  readonly key: AwsKmsKey;
  readonly alias: KmsAlias;
  readonly arn: string;
  readonly keyId: string;
  readonly aliasName: string;

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
          Principal: { AWS: `arn:aws:iam::${props.accountId}:root` },
          Action: 'kms:*',
          Resource: '*',
        },
        ...(props.statements ?? []),
      ]),
    });
    this.aliasName = `alias/${props.alias}`;
    this.alias = new KmsAlias(this, 'alias', { name: this.aliasName, targetKeyId: this.key.keyId });
    this.arn = this.key.arn;
    this.keyId = this.key.keyId;
  }
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
export function cloudWatchLogsStatement(region: string, accountId: string): PolicyStatement {
  return serviceUseStatement('CloudWatchLogsUse', `logs.${region}.amazonaws.com`, {
    ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:aws:logs:${region}:${accountId}:*` },
  });
}
