/**
 * Reporting test fixture: moto (S3, Secrets Manager, DynamoDB, SES, SNS, Step Functions) + a real
 * MariaDB with the schema. The loader's trigger needs the job-status table (run records), a reporting
 * state machine (a one-state stand-in: the tests check which executions the loader starts and with what
 * input) and the reporting alerts topic, read through an SQS subscriber.
 */
import * as crypto from 'crypto';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { addSubmittedJobs, addTerminalJob, markRunCompleted } from '../../lambda-src/shared/run-record';
import { formatFingerprintLine, FingerprintEntry } from '../../domain/run-dedupe';
import { fingerprintOf } from '../../processor/src/dedupe';
import { startMariaDb, MariaDbServer } from '../../test-support/mariadb';
import { MotoServer } from '../../test-support/moto-server';
import { awsQuery, clients, createBucket, createTables, KMS_KEY_ARN, startLocalAws } from './support';

export const REPORTS_BUCKET = 'regulatory-reports-test';
export const PROCESSED_BUCKET = 'processeddata-test';
export const IDEMPOTENCY_TABLE = 'finbatch-test-idempotency';
export const JOB_STATUS_TABLE = 'finbatch-test-job-status';

export interface ReportingFixture {
  moto: MotoServer;
  db: MariaDbServer;
  s3: S3Client;
  sfn: SFNClient;
  stateMachineArn: string;
  /** Messages published to the reporting alerts topic since the last call. */
  alerts(): Promise<Array<{ Subject: string; Message: string }>>;
  stop(): Promise<void>;
}

/**
 * A nightly run record as the orchestrator and job-events leave it: `ok` jobs succeeded and `failed`
 * failed; complete unless `complete` is false (then one more job is still running).
 */
export async function nightlyRun(runId: string, jobs: { ok: number; failed?: number; complete?: boolean }): Promise<void> {
  const ids = Array.from({ length: jobs.ok + (jobs.failed ?? 0) + (jobs.complete === false ? 1 : 0) }, (_, i) => `job-${runId}-${i}`);
  await addSubmittedJobs(JOB_STATUS_TABLE, runId, ids, Date.parse('2026-11-01T00:00:00Z'));
  for (let i = 0; i < jobs.ok + (jobs.failed ?? 0); i++) {
    await addTerminalJob(JOB_STATUS_TABLE, runId, ids[i], i < jobs.ok, { processed: 1, rejected: 0 });
  }
  if (jobs.complete !== false) await markRunCompleted(JOB_STATUS_TABLE, runId);
}

export async function startReporting(): Promise<ReportingFixture> {
  const [moto, db] = await Promise.all([startLocalAws(), startMariaDb()]);
  const { s3, dynamo } = clients(moto);
  await createBucket(s3, REPORTS_BUCKET);
  await createBucket(s3, PROCESSED_BUCKET);
  await createTables(dynamo, { idempotency: IDEMPOTENCY_TABLE, jobStatus: JOB_STATUS_TABLE });
  const sfn = new SFNClient(moto.clientConfig);
  const role = await awsQuery(moto.endpoint, 'iam', {
    Action: 'CreateRole', Version: '2010-05-08', RoleName: 'reporting-workflow',
    AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'states.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
  });
  const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({
    name: 'finbatch-test-reporting', roleArn: /<Arn>([^<]+)<\/Arn>/.exec(role)![1],
    definition: JSON.stringify({ StartAt: 'Reports', States: { Reports: { Type: 'Pass', End: true } } }),
  }));
  const snsClient = new SNSClient(moto.clientConfig);
  const sqs = new SQSClient(moto.clientConfig);
  const topic = await snsClient.send(new CreateTopicCommand({ Name: 'finbatch-test-reporting-alerts' }));
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: 'reporting-alerts-reader' }));
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn;
  await snsClient.send(new SubscribeCommand({ TopicArn: topic.TopicArn, Protocol: 'sqs', Endpoint: queueArn }));
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
    PROCESSED_KMS_KEY_ARN: KMS_KEY_ARN,
    IDEMPOTENCY_TABLE,
    JOB_STATUS_TABLE,
    STATE_MACHINE_ARN: stateMachineArn!,
    ALERTS_TOPIC_ARN: topic.TopicArn!,
    SOURCE_EMAIL: 'reports@example.com',
    SES_CONFIGURATION_SET: 'finbatch-test-reports',
    RECIPIENTS_JSON: JSON.stringify({ EU: 'esma-reports@example.eu', US: 'sec-reports@example.gov' }),
    DEFAULT_RECIPIENT: 'default-regulatory@example.com',
    ENVIRONMENT: 'test',
  });
  return {
    moto, db, s3, sfn, stateMachineArn: stateMachineArn!,
    async alerts() {
      const out: Array<{ Subject: string; Message: string }> = [];
      for (;;) {
        const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
        if (!res.Messages?.length) return out;
        for (const m of res.Messages) out.push(JSON.parse(m.Body!));
      }
    },
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
  /** The transactionId fingerprint (default: the processor's); a test forces collisions with it. */
  fingerprint?: (transactionId: string) => string;
  /** Replace fingerprints.tsv's bytes after its size and SHA-256 were recorded. */
  fingerprintsBody?: (written: Buffer) => Buffer;
}

/** The processor's 64-bit transactionId fingerprint as 16 lowercase hex digits. */
export function processorFingerprint(id: string): string {
  const out = new Uint32Array(2);
  fingerprintOf(id, 0, id.length, out);
  return out[0].toString(16).padStart(8, '0') + out[1].toString(16).padStart(8, '0');
}

/** fingerprints.tsv of accepted records as the processor writes it: one line each, sorted by fingerprint then line. */
export function fingerprintsTsv(records: Array<Record<string, string>>, fingerprint = processorFingerprint): Buffer {
  const entries: FingerprintEntry[] = records.map((r, i) => ({
    fingerprint: fingerprint(r.transactionId), line: i + 1, currency: r.currency, amountMinor: r.amountMinor, jurisdiction: r.jurisdiction, accountId: r.accountId,
  }));
  entries.sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : a.line - b.line));
  return Buffer.from(entries.map(formatFingerprintLine).join(''), 'utf8');
}

/**
 * A committed shard as the processor leaves it: accepted.jsonl and fingerprints.tsv, then summary.json
 * recording counts, totals by currency and each file's byte count and SHA-256 (the commit marker
 * consumers wait for).
 */
export async function putAccepted(s3: S3Client, runId: string, jobId: string, shard: string, records: Array<Record<string, string>>, options: PutAcceptedOptions = {}): Promise<void> {
  const dir = `processed/${runId}/${jobId}/${shard}`;
  const body = Buffer.from(records.map((r) => JSON.stringify(r)).join('\n') + '\n', 'utf8');
  await s3.send(new PutObjectCommand({ Bucket: PROCESSED_BUCKET, Key: `${dir}/accepted.jsonl`, Body: body, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KMS_KEY_ARN }));
  const fingerprints = fingerprintsTsv(records, options.fingerprint);
  const stored = options.fingerprintsBody ? options.fingerprintsBody(fingerprints) : fingerprints;
  await s3.send(new PutObjectCommand({ Bucket: PROCESSED_BUCKET, Key: `${dir}/fingerprints.tsv`, Body: stored, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KMS_KEY_ARN }));
  if (options.summary === false) return;
  const sha = (b: Buffer | string) => crypto.createHash('sha256').update(b).digest('hex');
  const outputs = {
    accepted: `s3://${PROCESSED_BUCKET}/${dir}/accepted.jsonl`, rejects: `s3://${PROCESSED_BUCKET}/${dir}/rejects.jsonl`,
    acceptedBytes: body.length, rejectsBytes: 0, acceptedSha256: sha(body), rejectsSha256: sha(''),
    fingerprints: `s3://${PROCESSED_BUCKET}/${dir}/fingerprints.tsv`, fingerprintsBytes: fingerprints.length, fingerprintsSha256: sha(fingerprints),
    ...options.outputs,
  };
  const byCurrency: Record<string, { count: number; amountMinor: string }> = {};
  for (const r of records) {
    const t = byCurrency[r.currency] ?? { count: 0, amountMinor: '0' };
    byCurrency[r.currency] = { count: t.count + 1, amountMinor: (BigInt(t.amountMinor) + BigInt(r.amountMinor)).toString() };
  }
  const counts = { read: records.length, accepted: records.length, rejected: 0, duplicates: 0, byReason: {} };
  await s3.send(new PutObjectCommand({
    Bucket: PROCESSED_BUCKET, Key: `${dir}/summary.json`, Body: JSON.stringify({ schemaVersion: 1, counts, totals: { byCurrency, byJurisdiction: {} }, outputs }),
    ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KMS_KEY_ARN,
  }));
}

/** A committed load of `runId` feeding `reportDate`, as report-loader records it (for report-generate tests). */
export async function markLoaded(db: MariaDbServer, reportDate: string, runId = `seed-${reportDate}`): Promise<void> {
  await db.query(`INSERT IGNORE INTO \`${db.database}\`.run_load (run_id, report_date, row_count, shard_count, loaded_at) VALUES (?, ?, 0, 0, NOW(3))`, [runId, reportDate]);
}
