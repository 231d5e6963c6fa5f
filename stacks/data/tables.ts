import { Construct } from 'constructs';
import { DynamodbTable, DynamodbTableConfig } from '@cdktf/provider-aws/lib/dynamodb-table';
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

/** Purpose part of each table's name (`${project}-${env}-${purpose}`); alarms and dashboards use it too. */
export const TABLE_PURPOSES = {
  jobStatus: 'job-status',
  auditLog: 'audit-log',
  transactions: 'transaction-metadata',
  idempotency: 'idempotency',
} as const;

/** Attribute names Powertools' idempotency utility uses by default (id / expiration / status / data). */
export const IDEMPOTENCY_TTL_ATTRIBUTE = 'expiration';

/**
 * The platform's DynamoDB tables, one camelCase schema (contracts.md). Every table: on-demand, SSE
 * with the DynamoDB CMK, point-in-time recovery, deletion protection.
 *
 * Retention: the audit log has NO TTL on purpose. The audit trail must be kept at least 7 years; a TTL
 * attribute would let any writer (or a bug computing `expiresAt`) delete audit items early, so expiry
 * after the retention period is an explicit operational purge, never an attribute. The job-status table
 * has no TTL either (its items are the index of the audit trail). Only the idempotency table, whose
 * records are worthless after their window, expires items (`expiration`, set by Powertools).
 */
export function createDataTables(scope: Construct, p: DataTablesProps): DataTables {
  const table = (id: string, purpose: string, cfg: Omit<DynamodbTableConfig, 'name'>) => new DynamodbTable(scope, id, {
    name: p.name(purpose),
    billingMode: 'PAY_PER_REQUEST',
    pointInTimeRecovery: { enabled: true },
    serverSideEncryption: { enabled: true, kmsKeyArn: p.kmsKeyArn },
    deletionProtectionEnabled: true,
    ...cfg,
  });
  const jobStatusTable = table('job-status', TABLE_PURPOSES.jobStatus, {
    hashKey: 'jobId',
    attribute: [{ name: 'jobId', type: 'S' }, { name: 'status', type: 'S' }, { name: 'submittedAt', type: 'N' }],
    globalSecondaryIndex: [{ name: 'StatusIndex', hashKey: 'status', rangeKey: 'submittedAt', projectionType: 'ALL' }],
    streamEnabled: true,
    streamViewType: 'NEW_AND_OLD_IMAGES',
  });
  const auditLogTable = table('audit-log', TABLE_PURPOSES.auditLog, {
    hashKey: 'auditId',
    rangeKey: 'timestamp',
    attribute: [{ name: 'auditId', type: 'S' }, { name: 'timestamp', type: 'N' }, { name: 'jobId', type: 'S' }],
    globalSecondaryIndex: [{ name: 'JobIdIndex', hashKey: 'jobId', rangeKey: 'timestamp', projectionType: 'ALL' }],
  });
  const transactionsTable = table('transactions', TABLE_PURPOSES.transactions, {
    hashKey: 'transactionId',
    rangeKey: 'timestamp',
    attribute: [{ name: 'transactionId', type: 'S' }, { name: 'timestamp', type: 'N' }],
  });
  const idempotencyTable = table('idempotency', TABLE_PURPOSES.idempotency, {
    hashKey: 'id',
    attribute: [{ name: 'id', type: 'S' }],
    ttl: { enabled: true, attributeName: IDEMPOTENCY_TTL_ATTRIBUTE },
  });
  return { jobStatusTable, auditLogTable, transactionsTable, idempotencyTable };
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
