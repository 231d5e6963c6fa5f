import { Construct } from 'constructs';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { IDEMPOTENCY_TTL_ATTRIBUTE, TABLE_PURPOSES, TABLES, TableDescription, toTerraformTableFields } from '../../contracts/tables';
import { PolicyStatement } from '../constructs/policy';

export interface DataTables {
  readonly jobStatusTable: DynamodbTable;
  readonly auditLogTable: DynamodbTable;
  readonly transactionsTable: DynamodbTable;
  readonly idempotencyTable: DynamodbTable;
}

export interface DataTablesProps {
  readonly name: (purpose: string) => string;
  readonly kmsKeyArn: string;
}

/** Names, keys, indexes, stream and TTL of each table: contracts/tables.ts (shared with the local run and the tests). */
export { IDEMPOTENCY_TTL_ATTRIBUTE, TABLE_PURPOSES };

/**
 * The platform's DynamoDB tables, as contracts/tables.ts describes them (retention there: no TTL on the
 * audit log or job status, only on idempotency records). Every table: on-demand, SSE with the DynamoDB
 * CMK, point-in-time recovery, deletion protection.
 */
export function createDataTables(scope: Construct, p: DataTablesProps): DataTables {
  const table = (t: TableDescription) => new DynamodbTable(scope, t.constructId, {
    name: p.name(t.purpose),
    billingMode: 'PAY_PER_REQUEST',
    pointInTimeRecovery: { enabled: true },
    serverSideEncryption: { enabled: true, kmsKeyArn: p.kmsKeyArn },
    deletionProtectionEnabled: true,
    ...toTerraformTableFields(t),
  });
  return {
    jobStatusTable: table(TABLES.jobStatus),
    auditLogTable: table(TABLES.auditLog),
    transactionsTable: table(TABLES.transactions),
    idempotencyTable: table(TABLES.idempotency),
  };
}

/** Identity-policy statement on a table (and, when asked, all of its indexes). */
export function tableStatement(sid: string, table: DynamodbTable, actions: string[], includeIndexes = false): PolicyStatement {
  return {
    Sid: sid,
    Effect: 'Allow',
    Action: actions,
    Resource: includeIndexes ? [table.arn, `${table.arn}/index/*`] : table.arn,
  };
}
