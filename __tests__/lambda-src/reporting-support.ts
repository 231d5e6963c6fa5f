/** Reporting test fixture: moto (S3, Secrets Manager, DynamoDB, SES) + a real MariaDB with the schema. */
import * as crypto from 'crypto';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startMariaDb, MariaDbServer } from '../../test-support/mariadb';
import { MotoServer } from '../../test-support/moto-server';
import { clients, createBucket, createTables, KMS_KEY_ARN, startLocalAws } from './support';

export const REPORTS_BUCKET = 'regulatory-reports-test';
export const PROCESSED_BUCKET = 'processeddata-test';
export const IDEMPOTENCY_TABLE = 'finbatch-test-idempotency';

export interface ReportingFixture {
  moto: MotoServer;
  db: MariaDbServer;
  s3: S3Client;
  stop(): Promise<void>;
}

export async function startReporting(): Promise<ReportingFixture> {
  const [moto, db] = await Promise.all([startLocalAws(), startMariaDb()]);
  const { s3, dynamo } = clients(moto);
  await createBucket(s3, REPORTS_BUCKET);
  await createBucket(s3, PROCESSED_BUCKET);
  await createTables(dynamo, { idempotency: IDEMPOTENCY_TABLE });
  const sm = new SecretsManagerClient(moto.clientConfig);
  // RDS-managed secret shape: username + password only; host/port/dbname come from env.
  const secret = await sm.send(new CreateSecretCommand({ Name: 'rds-reporting-master', SecretString: JSON.stringify({ username: db.user, password: db.password }) }));
  Object.assign(process.env, {
    DB_SECRET_ARN: secret.ARN!,
    DB_HOST: db.host,
    DB_PORT: String(db.port),
    DB_NAME: db.database,
    DB_CONNECT_TIMEOUT_MS: '2000',
    REPORTS_BUCKET,
    REPORTS_KMS_KEY_ARN: KMS_KEY_ARN,
    PROCESSED_BUCKET,
    IDEMPOTENCY_TABLE,
    SOURCE_EMAIL: 'reports@example.com',
    SES_CONFIGURATION_SET: 'finbatch-test-reports',
    RECIPIENTS_JSON: JSON.stringify({ EU: 'esma-reports@example.eu', US: 'sec-reports@example.gov' }),
    DEFAULT_RECIPIENT: 'default-regulatory@example.com',
    METRICS_NAMESPACE: 'RegulatoryReporting',
    ENVIRONMENT: 'test',
  });
  return {
    moto, db, s3,
    async stop() {
      const { closeDb } = await import('../../lambda-src/shared/db');
      await closeDb();
      await Promise.all([moto.stop(), db.destroy()]);
    },
  };
}

export interface TxSpec {
  id: string;
  entityId?: string;
  amount?: string;
  currency?: string;
  timestamp?: string;
  counterparty?: string | null;
  jurisdiction?: string;
  type?: string;
}

/** An accepted-output record (contracts.md) as the processor writes it. */
export function acceptedRecord(t: TxSpec): Record<string, string> {
  const currency = t.currency ?? 'EUR';
  const amount = t.amount ?? '100.00';
  const minor = currency === 'JPY' ? amount : amount.replace('.', '').replace(/^0+(?=\d)/, '');
  const rec: Record<string, string> = {
    transactionId: t.id, accountId: 'ACC-1', entityId: t.entityId ?? 'ENTITY-A', amount, amountMinor: minor, currency,
    timestamp: t.timestamp ?? '2026-11-20T10:00:00.000Z',
  };
  if (t.counterparty !== null) rec.counterparty = t.counterparty ?? 'Counterparty Bank AG';
  rec.jurisdiction = t.jurisdiction ?? 'EU';
  rec.type = t.type ?? 'TRANSACTION';
  return rec;
}

export interface PutAcceptedOptions {
  /** Write the commit marker (default true). */
  summary?: boolean;
  /** Override what summary.json records (to simulate a file changed after the commit). */
  outputs?: Record<string, unknown>;
}

/**
 * A committed shard as the processor leaves it: accepted.jsonl, then summary.json recording its byte
 * count and SHA-256 (the commit marker consumers wait for).
 */
export async function putAccepted(s3: S3Client, runId: string, jobId: string, shard: string, records: Array<Record<string, string>>, options: PutAcceptedOptions = {}): Promise<void> {
  const dir = `processed/${runId}/${jobId}/${shard}`;
  const body = Buffer.from(records.map((r) => JSON.stringify(r)).join('\n') + '\n', 'utf8');
  await s3.send(new PutObjectCommand({ Bucket: PROCESSED_BUCKET, Key: `${dir}/accepted.jsonl`, Body: body, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KMS_KEY_ARN }));
  if (options.summary === false) return;
  const outputs = {
    accepted: `s3://${PROCESSED_BUCKET}/${dir}/accepted.jsonl`, rejects: `s3://${PROCESSED_BUCKET}/${dir}/rejects.jsonl`,
    acceptedBytes: body.length, rejectsBytes: 0, acceptedSha256: crypto.createHash('sha256').update(body).digest('hex'),
    rejectsSha256: crypto.createHash('sha256').update('').digest('hex'), ...options.outputs,
  };
  await s3.send(new PutObjectCommand({
    Bucket: PROCESSED_BUCKET, Key: `${dir}/summary.json`, Body: JSON.stringify({ schemaVersion: 1, counts: { accepted: records.length }, outputs }),
    ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KMS_KEY_ARN,
  }));
}
