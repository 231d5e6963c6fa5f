import type { GrantableKey, IGrantable } from '../constructs/grants';

/** DynamoDB actions that only read: a grantee holding only these needs the table key for decrypt only. */
const READ_ACTIONS = new Set(['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:Scan',
  'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable']);

/**
 * Grants on one of the platform's DynamoDB tables, in the style of aws-cdk-lib's `table.grant(...)`:
 * the named actions on the table (and its indexes when asked) plus the table key, for decrypt only
 * when every action reads.
 */
export class TableGrants {
  constructor(private readonly table: { readonly arn: string }, private readonly key: GrantableKey) {}

  grant(grantee: IGrantable, sid: string, actions: string[], options: { indexes?: boolean } = {}): void {
    grantee.grantPolicy.addStatements({
      Sid: sid,
      Effect: 'Allow',
      Action: actions,
      Resource: options.indexes ? [this.table.arn, `${this.table.arn}/index/*`] : this.table.arn,
    });
    grantee.grantPolicy.requireKey(this.key, actions.every((a) => READ_ACTIONS.has(a)) ? 'decrypt' : 'encryptDecrypt');
  }
}
