import type { Construct } from 'constructs';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { IDEMPOTENCY_TTL_ATTRIBUTE, TABLE_PURPOSES, TABLES, TableDescription, toTerraformTableFields } from '../../contracts/tables';
import { PlatformPart } from '../platform-stack';
import type { KmsKey } from '../constructs/kms-key';
import { TableGrants } from './table-grants';

/** Names, keys, indexes, stream and TTL of each table: contracts/tables.ts (shared with the local run and the tests). */
export { IDEMPOTENCY_TTL_ATTRIBUTE, TABLE_PURPOSES };

export type TableId = keyof typeof TABLES;

/**
 * The platform's DynamoDB tables, as contracts/tables.ts describes them (retention there: no TTL on the
 * audit log or job status, only on idempotency records). Every table: on-demand, SSE with the DynamoDB
 * CMK, point-in-time recovery, deletion protection. `grants` hands out access with the key.
 */
export class DataTables extends PlatformPart {
  readonly jobStatusTable: DynamodbTable;
  readonly auditLogTable: DynamodbTable;
  readonly transactionsTable: DynamodbTable;
  readonly idempotencyTable: DynamodbTable;
  /** Grants on each table (`grant(grantee, sid, actions)`), each with the DynamoDB key. */
  readonly grants: Record<TableId, TableGrants>;

  constructor(scope: Construct, id: string, private readonly props: { readonly key: KmsKey }) {
    super(scope, id);
    this.jobStatusTable = this.table(TABLES.jobStatus);
    this.auditLogTable = this.table(TABLES.auditLog);
    this.transactionsTable = this.table(TABLES.transactions);
    this.idempotencyTable = this.table(TABLES.idempotency);
    const grants = (table: DynamodbTable) => new TableGrants(table, props.key);
    this.grants = {
      jobStatus: grants(this.jobStatusTable),
      auditLog: grants(this.auditLogTable),
      transactions: grants(this.transactionsTable),
      idempotency: grants(this.idempotencyTable),
    };
  }

  private table(t: TableDescription): DynamodbTable {
    return new DynamodbTable(this, t.constructId, {
      name: this.platform.name(t.purpose),
      billingMode: 'PAY_PER_REQUEST',
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true, kmsKeyArn: this.props.key.arn },
      deletionProtectionEnabled: true,
      ...toTerraformTableFields(t),
    });
  }
}
