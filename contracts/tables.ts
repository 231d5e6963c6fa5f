/**
 * The platform's DynamoDB tables, described once: keys, attribute types, indexes, stream and TTL.
 * Two renderers read these descriptions: `toTerraformTableFields` gives the fields of the cdktf
 * `DynamodbTableConfig` (stacks/data/tables.ts adds name, encryption, billing and protection and makes
 * the resource), `toCreateTableInput` gives the AWS SDK's CreateTable input (the local run and the
 * handler tests create the tables with it). Both renderers return plain objects shaped like those
 * types, so nothing here imports cdktf or the SDK. Pure data: no env reads.
 *
 * Retention: the audit log has NO TTL on purpose. The audit trail must be kept at least 7 years; a TTL
 * attribute would let any writer (or a bug computing `expiresAt`) delete audit items early, so expiry
 * after the retention period is an explicit operational purge, never an attribute. The job-status table
 * has no TTL either (its items are the index of the audit trail). Only the idempotency table, whose
 * records are worthless after their window, expires items (`expiration`, set by Powertools).
 */

export type AttributeType = 'S' | 'N' | 'B';

export interface KeyDescription {
  readonly hash: string;
  readonly range?: string;
}

export interface TableDescription {
  /** Purpose part of the table's name: `${project}-${env}-${purpose}`. */
  readonly purpose: string;
  /** Construct id of the table in the data stack (part of the Terraform address: never change it). */
  readonly constructId: string;
  readonly key: KeyDescription;
  /** Types of every attribute that is a key of the table or of an index (DynamoDB's AttributeDefinitions), in this order. */
  readonly attributes: Readonly<Record<string, AttributeType>>;
  readonly globalSecondaryIndexes?: readonly { readonly name: string; readonly key: KeyDescription; readonly projection: 'ALL' }[];
  readonly stream?: 'NEW_AND_OLD_IMAGES' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'KEYS_ONLY';
  /** Attribute holding the expiry time (epoch seconds); absent: items never expire. */
  readonly ttlAttribute?: string;
}

/** Attribute names Powertools' idempotency utility uses by default (id / expiration / status / data). */
export const IDEMPOTENCY_TTL_ATTRIBUTE = 'expiration';

export const TABLES = {
  /** One item per job (`jobId`) and one run record per nightly run (`jobId = run#<runId>`, RUN_RECORD_PREFIX). */
  jobStatus: {
    purpose: 'job-status',
    constructId: 'job-status',
    key: { hash: 'jobId' },
    attributes: { jobId: 'S', status: 'S', submittedAt: 'N' },
    globalSecondaryIndexes: [{ name: 'StatusIndex', key: { hash: 'status', range: 'submittedAt' }, projection: 'ALL' }],
    stream: 'NEW_AND_OLD_IMAGES',
  },
  /** Audit trail: `auditId` deterministic (`<jobId>#<event>#<shard>`), `timestamp` epoch ms; kept at least 7 years, no TTL. */
  auditLog: {
    purpose: 'audit-log',
    constructId: 'audit-log',
    key: { hash: 'auditId', range: 'timestamp' },
    attributes: { auditId: 'S', timestamp: 'N', jobId: 'S' },
    globalSecondaryIndexes: [{ name: 'JobIdIndex', key: { hash: 'jobId', range: 'timestamp' }, projection: 'ALL' }],
  },
  /** Payment-file transactions registered by ingest. */
  transactions: {
    purpose: 'transaction-metadata',
    constructId: 'transactions',
    key: { hash: 'transactionId', range: 'timestamp' },
    attributes: { transactionId: 'S', timestamp: 'N' },
  },
  /** Powertools idempotency records (ingest, report-deliver's send-once); they expire. */
  idempotency: {
    purpose: 'idempotency',
    constructId: 'idempotency',
    key: { hash: 'id' },
    attributes: { id: 'S' },
    ttlAttribute: IDEMPOTENCY_TTL_ATTRIBUTE,
  },
} as const satisfies Record<string, TableDescription>;

export type TableId = keyof typeof TABLES;

/** Purpose part of each table's name (`${project}-${env}-${purpose}`); alarms and dashboards use it too. */
export const TABLE_PURPOSES = {
  jobStatus: TABLES.jobStatus.purpose,
  auditLog: TABLES.auditLog.purpose,
  transactions: TABLES.transactions.purpose,
  idempotency: TABLES.idempotency.purpose,
} as const;

/** Leading part of a run record's key in the job-status table: `jobId = run#<runId>`. */
export const RUN_RECORD_PREFIX = 'run#';
export const runRecordId = (runId: string): string => `${RUN_RECORD_PREFIX}${runId}`;

/** The table-specific fields of cdktf's DynamodbTableConfig (same names and shapes), in the order the stack always wrote them. */
export interface TerraformTableFields {
  hashKey: string;
  rangeKey?: string;
  attribute: { name: string; type: string }[];
  globalSecondaryIndex?: { name: string; hashKey: string; rangeKey?: string; projectionType: string }[];
  streamEnabled?: boolean;
  streamViewType?: string;
  ttl?: { enabled: boolean; attributeName: string };
}

export function toTerraformTableFields(t: TableDescription): TerraformTableFields {
  return {
    hashKey: t.key.hash,
    ...(t.key.range ? { rangeKey: t.key.range } : {}),
    attribute: Object.entries(t.attributes).map(([name, type]) => ({ name, type })),
    ...(t.globalSecondaryIndexes ? {
      globalSecondaryIndex: t.globalSecondaryIndexes.map((g) => ({
        name: g.name, hashKey: g.key.hash, ...(g.key.range ? { rangeKey: g.key.range } : {}), projectionType: g.projection,
      })),
    } : {}),
    ...(t.stream ? { streamEnabled: true, streamViewType: t.stream } : {}),
    ...(t.ttlAttribute ? { ttl: { enabled: true, attributeName: t.ttlAttribute } } : {}),
  };
}

/** The AWS SDK's CreateTableCommandInput (@aws-sdk/client-dynamodb), the part this platform uses. */
export interface CreateTableInput {
  TableName: string;
  BillingMode: 'PAY_PER_REQUEST';
  KeySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
  AttributeDefinitions: { AttributeName: string; AttributeType: AttributeType }[];
  GlobalSecondaryIndexes?: { IndexName: string; KeySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[]; Projection: { ProjectionType: 'ALL' } }[];
  StreamSpecification?: { StreamEnabled: boolean; StreamViewType: NonNullable<TableDescription['stream']> };
}

function keySchema(k: KeyDescription): CreateTableInput['KeySchema'] {
  return [{ AttributeName: k.hash, KeyType: 'HASH' }, ...(k.range ? [{ AttributeName: k.range, KeyType: 'RANGE' as const }] : [])];
}

/**
 * CreateTable input for a table (on-demand, like the stack). TTL is not part of CreateTable: a caller
 * that needs expiry enables it with UpdateTimeToLive on `t.ttlAttribute`.
 */
export function toCreateTableInput(t: TableDescription, tableName: string): CreateTableInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: keySchema(t.key),
    AttributeDefinitions: Object.entries(t.attributes).map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
    ...(t.globalSecondaryIndexes ? {
      GlobalSecondaryIndexes: t.globalSecondaryIndexes.map((g) => ({ IndexName: g.name, KeySchema: keySchema(g.key), Projection: { ProjectionType: g.projection } })),
    } : {}),
    ...(t.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: t.stream } } : {}),
  };
}
