/**
 * The table descriptions render to the cdktf table fields (the data stack) and to the SDK's CreateTable
 * input (local run, handler tests); both renderings must describe the same table.
 */
import { IDEMPOTENCY_TTL_ATTRIBUTE, TABLE_PURPOSES, TABLES, TableDescription, toCreateTableInput, toTerraformTableFields } from '../../contracts/tables';

/** The facts both renderings must carry, read back from each. */
interface Facts { hash: string; range?: string; attributes: [string, string][]; indexes: [string, string, string | undefined, string][]; stream?: string }

function fromTerraform(t: ReturnType<typeof toTerraformTableFields>): Facts {
  return {
    hash: t.hashKey,
    range: t.rangeKey,
    attributes: t.attribute.map((a) => [a.name, a.type]),
    indexes: (t.globalSecondaryIndex ?? []).map((g) => [g.name, g.hashKey, g.rangeKey, g.projectionType]),
    stream: t.streamEnabled ? t.streamViewType : undefined,
  };
}

function fromSdk(t: ReturnType<typeof toCreateTableInput>): Facts {
  const key = (schema: { AttributeName: string; KeyType: string }[], type: string) => schema.find((k) => k.KeyType === type)?.AttributeName;
  return {
    hash: key(t.KeySchema, 'HASH')!,
    range: key(t.KeySchema, 'RANGE'),
    attributes: t.AttributeDefinitions.map((a) => [a.AttributeName, a.AttributeType]),
    indexes: (t.GlobalSecondaryIndexes ?? []).map((g) => [g.IndexName, key(g.KeySchema, 'HASH')!, key(g.KeySchema, 'RANGE'), g.Projection.ProjectionType]),
    stream: t.StreamSpecification?.StreamEnabled ? t.StreamSpecification.StreamViewType : undefined,
  };
}

describe('table contracts', () => {
  const tables = Object.entries(TABLES) as [string, TableDescription][];

  it.each(tables)('%s: the Terraform and SDK renderings describe the same keys, attributes, indexes and stream', (_id, t) => {
    expect(fromSdk(toCreateTableInput(t, 'name'))).toEqual(fromTerraform(toTerraformTableFields(t)));
    expect(toCreateTableInput(t, 'some-table').TableName).toBe('some-table');
  });

  it.each(tables)('%s: every key attribute has a type and every typed attribute is a key (DynamoDB refuses either mismatch)', (_id, t) => {
    const keys = new Set([t.key.hash, t.key.range, ...(t.globalSecondaryIndexes ?? []).flatMap((g) => [g.key.hash, g.key.range])].filter(Boolean));
    expect(new Set(Object.keys(t.attributes))).toEqual(keys);
  });

  it('keeps the data stack fields of today (the synthesized Terraform depends on them)', () => {
    expect(toTerraformTableFields(TABLES.jobStatus)).toEqual({
      hashKey: 'jobId',
      attribute: [{ name: 'jobId', type: 'S' }, { name: 'status', type: 'S' }, { name: 'submittedAt', type: 'N' }],
      globalSecondaryIndex: [{ name: 'StatusIndex', hashKey: 'status', rangeKey: 'submittedAt', projectionType: 'ALL' }],
      streamEnabled: true,
      streamViewType: 'NEW_AND_OLD_IMAGES',
    });
    expect(toTerraformTableFields(TABLES.idempotency)).toEqual({
      hashKey: 'id', attribute: [{ name: 'id', type: 'S' }], ttl: { enabled: true, attributeName: IDEMPOTENCY_TTL_ATTRIBUTE },
    });
  });

  it('expires idempotency records only: the audit trail and job status have no TTL', () => {
    expect(tables.filter(([, t]) => t.ttlAttribute).map(([id]) => id)).toEqual(['idempotency']);
    expect(toTerraformTableFields(TABLES.auditLog).ttl).toBeUndefined();
  });

  it('names each table by its purpose', () => {
    expect(TABLE_PURPOSES).toEqual({ jobStatus: 'job-status', auditLog: 'audit-log', transactions: 'transaction-metadata', idempotency: 'idempotency' });
  });
});
