/**
 * The container job against a real moto server: S3 in and out (ranged GETs, multipart uploads,
 * SSE-KMS headers), DynamoDB status/audit with conditional writes, SNS -> SQS notifications.
 */
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, PutBucketPolicyCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { gzipSync } from 'zlib';
import { freePort, MotoServer, startMoto } from '../../test-support/moto-server';
import { generate, Manifest } from '../../scripts/generate-transactions';
import { ContainerConfig } from '../../processor/src/config';
import { JobClients, JobResult, runJob } from '../../processor/src/job';
import { jsonLogger } from '../../processor/src/log';
import { runShard, ShardSummary } from '../../processor/src/pipeline';
import { S3Target } from '../../processor/src/sink';
import { openS3 } from '../../processor/src/source';
import { tempDir } from './local-helpers';

const IN = 'input-bucket-test';
const OUT = 'processed-bucket-test';
const KMS = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555';

let moto: MotoServer;
let clients: JobClients;
let sqs: SQSClient;
let queueUrl: string;
let topicArn: string;
let ddb: DynamoDBDocumentClient;
const logs: string[] = [];

async function body(key: string, bucket = OUT): Promise<string> {
  const res = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return res.Body!.transformToString();
}

async function keys(prefix: string): Promise<string[]> {
  const res = await clients.s3.send(new ListObjectsV2Command({ Bucket: OUT, Prefix: prefix }));
  return (res.Contents ?? []).map((o) => o.Key!).sort();
}

async function messages(): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (;;) {
    const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (!res.Messages?.length) return out;
    for (const m of res.Messages) {
      out.push(JSON.parse(JSON.parse(m.Body!).Message));
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }
}

function config(key: string, jobId: string, patch: Partial<ContainerConfig> = {}): ContainerConfig {
  return {
    inputBucket: IN,
    inputKey: key,
    runId: '2026-11-23',
    jobId,
    shard: { index: 0, count: 1 },
    destBucket: OUT,
    destKmsKeyArn: KMS,
    jobStatusTable: 'job-status',
    auditLogTable: 'audit-log',
    snsTopicArn: topicArn,
    maxAmount: '1000000',
    environment: 'test',
    attempt: 1,
    ...patch,
  };
}

function run(cfg: ContainerConfig, extra: Partial<Parameters<typeof runJob>[2]> = {}): Promise<JobResult> {
  return runJob(cfg, clients, { log: jsonLogger({}, (l) => logs.push(l)), writeMetrics: (l) => logs.push(l), ...extra });
}

async function upload(key: string, data: Buffer | string): Promise<void> {
  await clients.s3.send(new PutObjectCommand({ Bucket: IN, Key: key, Body: Buffer.from(data) }));
}

async function uploadGenerated(key: string, count: number, options: Partial<Parameters<typeof generate>[0]> = {}): Promise<Manifest> {
  const file = path.join(tempDir(), 'gen.csv');
  const manifest = await generate({ count, out: file, seed: 11, badShare: 0.05, ...options });
  await upload(key, fs.readFileSync(file));
  return manifest;
}

const status = async (jobId: string) => (await ddb.send(new GetCommand({ TableName: 'job-status', Key: { jobId } }))).Item!;
const audits = async (jobId: string) =>
  ((await ddb.send(new ScanCommand({ TableName: 'audit-log' }))).Items ?? []).filter((i) => i.jobId === jobId).map((i) => i.auditId as string).sort();

beforeAll(async () => {
  moto = await startMoto();
  const cfg = moto.clientConfig;
  const s3 = new S3Client({ ...cfg, forcePathStyle: true });
  const raw = new DynamoDBClient(cfg);
  ddb = DynamoDBDocumentClient.from(raw);
  clients = { s3, ddb, sns: new SNSClient(cfg) };
  sqs = new SQSClient(cfg);
  await s3.send(new CreateBucketCommand({ Bucket: IN }));
  await s3.send(new CreateBucketCommand({ Bucket: OUT }));
  await raw.send(new CreateTableCommand({ TableName: 'job-status', BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'jobId', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'jobId', KeyType: 'HASH' }] }));
  await raw.send(
    new CreateTableCommand({
      TableName: 'audit-log',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'auditId', AttributeType: 'S' }, { AttributeName: 'timestamp', AttributeType: 'N' }],
      KeySchema: [{ AttributeName: 'auditId', KeyType: 'HASH' }, { AttributeName: 'timestamp', KeyType: 'RANGE' }],
    }),
  );
  topicArn = (await clients.sns.send(new CreateTopicCommand({ Name: 'alerts' }))).TopicArn!;
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'alerts-probe' }))).QueueUrl!;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn;
  await clients.sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }));
});

afterAll(async () => {
  await moto?.stop();
});

describe('processor job on S3 (moto)', () => {
  let manifest: Manifest;
  let first: JobResult;
  const prefix = 'processed/2026-11-23/job-e2e/shard-0-of-1/';

  beforeAll(async () => {
    manifest = await uploadGenerated('transactions/e2e.csv', 3000);
    first = await run(config('transactions/e2e.csv', 'job-e2e'));
  });

  it('processes an s3:// input end to end and publishes outputs, status, audit, metrics and a notification', async () => {
    expect(first.error).toBeUndefined();
    expect(first.exitCode).toBe(0);
    expect(await keys('processed/2026-11-23/job-e2e/')).toEqual([`${prefix}accepted.jsonl`, `${prefix}fingerprints.tsv`, `${prefix}rejects.jsonl`, `${prefix}summary.json`, `${prefix}totals-by-account.jsonl`]);
    const summary = JSON.parse(await body(`${prefix}summary.json`)) as ShardSummary;
    expect(summary.counts.read).toBe(manifest.count);
    expect(summary.counts.accepted).toBe(manifest.valid);
    expect(Object.fromEntries(Object.entries(summary.totals.byCurrency).map(([c, t]) => [c, t.amountMinor]))).toEqual(manifest.totalsMinor);
    expect(summary.input).toMatchObject({ bucket: IN, key: 'transactions/e2e.csv', compression: 'none', format: 'csv' });
    const original = await (await clients.s3.send(new GetObjectCommand({ Bucket: IN, Key: 'transactions/e2e.csv' }))).Body!.transformToByteArray();
    expect(summary.input.sha256).toBe(createHash('sha256').update(original).digest('hex'));
    expect((await body(`${prefix}accepted.jsonl`)).split('\n').filter(Boolean)).toHaveLength(manifest.valid);
    for (const [name, bytes, sha] of [['accepted.jsonl', summary.outputs.acceptedBytes, summary.outputs.acceptedSha256], ['rejects.jsonl', summary.outputs.rejectsBytes, summary.outputs.rejectsSha256]] as const) {
      const stored = await (await clients.s3.send(new GetObjectCommand({ Bucket: OUT, Key: prefix + name }))).Body!.transformToByteArray();
      expect(stored.length).toBe(bytes);
      expect(sha).toBe(createHash('sha256').update(stored).digest('hex'));
    }

    const head = await clients.s3.send(new HeadObjectCommand({ Bucket: OUT, Key: `${prefix}accepted.jsonl` }));
    expect(head.ServerSideEncryption).toBe('aws:kms');
    expect(head.SSEKMSKeyId).toBe(KMS);

    expect(await status('job-e2e')).toMatchObject({
      status: 'SUCCEEDED', runId: '2026-11-23', inputBucket: IN, inputKey: 'transactions/e2e.csv', shardCount: 1,
      processedCount: manifest.valid, rejectedCount: summary.counts.rejected, duplicateCount: summary.counts.duplicates, completedShards: new Set(['0']),
    });
    expect(await audits('job-e2e')).toEqual(['job-e2e#JOB_SUCCEEDED#0', 'job-e2e#SHARD_STARTED#0#1', 'job-e2e#SHARD_SUCCEEDED#0']);
    const notes = await messages();
    expect(notes).toContainEqual(expect.objectContaining({ status: 'SUCCEEDED', jobId: 'job-e2e' }));
    const emf = logs.map((l) => JSON.parse(l)).find((l) => l._aws && l.RecordsProcessed !== undefined && l.jobId === 'job-e2e');
    expect(emf).toMatchObject({ Environment: 'test', RecordsProcessed: manifest.valid, RecordsRead: manifest.count });
    expect(emf._aws.CloudWatchMetrics[0].Namespace).toBe('FinancialBatch');
  });

  it('re-run: identical objects, no double counts, no second notification', async () => {
    const before = await Promise.all(['accepted.jsonl', 'rejects.jsonl', 'summary.json', 'totals-by-account.jsonl', 'fingerprints.tsv'].map((n) => body(prefix + n)));
    const again = await run(config('transactions/e2e.csv', 'job-e2e', { attempt: 2 }));
    expect(again.exitCode).toBe(0);
    const after = await Promise.all(['accepted.jsonl', 'rejects.jsonl', 'summary.json', 'totals-by-account.jsonl', 'fingerprints.tsv'].map((n) => body(prefix + n)));
    expect(after).toEqual(before);
    expect(await status('job-e2e')).toMatchObject({ status: 'SUCCEEDED', processedCount: manifest.valid });
    expect(await messages()).toEqual([]);
  });
});

describe('sharded job (array of 3) on S3', () => {
  it('shard totals sum to the unsharded totals and the job succeeds after the last shard', async () => {
    const manifest = await uploadGenerated('transactions/sharded.csv', 6000, { kinds: ['amount', 'pan', 'columns', 'quote', 'utf8'] });
    const whole = await run(config('transactions/sharded.csv', 'job-whole'));
    expect(whole.exitCode).toBe(0);
    const summaries: ShardSummary[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await run(config('transactions/sharded.csv', 'job-sharded', { shard: { index: i, count: 3 } }));
      expect(r.exitCode).toBe(0);
      summaries.push(r.summary!);
      expect((await status('job-sharded')).status).toBe(i < 2 ? 'RUNNING' : 'SUCCEEDED');
    }
    for (const key of ['read', 'accepted', 'rejected', 'duplicates'] as const) {
      expect(summaries.reduce((s, x) => s + x.counts[key], 0)).toBe(whole.summary!.counts[key]);
    }
    for (const [currency, total] of Object.entries(manifest.totalsMinor)) {
      expect(summaries.reduce((s, x) => s + BigInt(x.totals.byCurrency[currency].amountMinor), 0n).toString()).toBe(total);
    }
    expect(await status('job-sharded')).toMatchObject({ processedCount: manifest.valid, readCount: manifest.count, completedShards: new Set(['0', '1', '2']) });
    expect(await keys('processed/2026-11-23/job-sharded/')).toHaveLength(15);
  });
});

describe('failures publish nothing and exit with the right code', () => {
  async function expectFailure(cfg: ContainerConfig, exitCode: number, code: string, extra?: Partial<Parameters<typeof runJob>[2]>) {
    const r = await run(cfg, extra);
    expect(r.error?.code).toBe(code);
    expect(r.exitCode).toBe(exitCode);
    expect(await keys(`processed/2026-11-23/${cfg.jobId}/`)).toEqual([]);
    const uploads = await clients.s3.send(new ListMultipartUploadsCommand({ Bucket: OUT }));
    expect(uploads.Uploads ?? []).toEqual([]);
    return r;
  }

  it('truncated gzip -> 2, job FAILED, failure notification', async () => {
    const file = path.join(tempDir(), 'g.csv');
    await generate({ count: 3000, out: file, seed: 3 });
    const gz = gzipSync(fs.readFileSync(file));
    await upload('transactions/truncated.csv.gz', gz.subarray(0, gz.length - 100));
    await expectFailure(config('transactions/truncated.csv.gz', 'job-gz'), 2, 'GZIP_CORRUPT');
    expect(await status('job-gz')).toMatchObject({ status: 'FAILED', failureCode: 'GZIP_CORRUPT' });
    expect(await audits('job-gz')).toContain('job-gz#SHARD_FAILED#0');
    expect(await messages()).toContainEqual(expect.objectContaining({ status: 'FAILED', jobId: 'job-gz', code: 'GZIP_CORRUPT', exitCode: 2 }));
  });

  it('zero-byte object -> 2 INPUT_EMPTY', async () => {
    await upload('transactions/empty.csv', '');
    await expectFailure(config('transactions/empty.csv', 'job-empty'), 2, 'INPUT_EMPTY');
  });

  it('missing object -> 2 INPUT_NOT_FOUND (permanent: the orchestrator listed it, a retry will not bring it back)', async () => {
    const r = await expectFailure(config('transactions/nope.csv', 'job-missing'), 2, 'INPUT_NOT_FOUND');
    expect(r.error?.message).toContain('s3://input-bucket-test/transactions/nope.csv');
  });

  it('access denied (bucket policy denying GetObject) -> 2 ACCESS_DENIED', async () => {
    const bucket = 'denied-bucket-test';
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'x.csv', Body: 'transactionId\n' }));
    await clients.s3.send(
      new PutBucketPolicyCommand({
        Bucket: bucket,
        Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }] }),
      }),
    );
    await expectFailure(config('x.csv', 'job-denied', { inputBucket: bucket }), 2, 'ACCESS_DENIED');
  });

  it('reconciliation mismatch -> 3, uploads aborted, nothing published', async () => {
    await uploadGenerated('transactions/recon.csv', 500);
    await expectFailure(config('transactions/recon.csv', 'job-recon'), 3, 'RECONCILIATION_FAILED', {
      beforeReconcile: (p) => {
        p.accepted += 1; // a record counted but never written: the invariant must catch it
      },
    });
    expect((await status('job-recon')).status).toBe('FAILED');
  });

  it('SIGTERM mid-run -> 143, in-flight multipart uploads aborted, interruption audited, status left RUNNING for the retry', async () => {
    await uploadGenerated('transactions/big.csv', 150_000, { badShare: 0.01 });
    const controller = new AbortController();
    await expectFailure(config('transactions/big.csv', 'job-term'), 143, 'INTERRUPTED', {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.bytes > p.totalBytes * 0.7) controller.abort();
      },
    });
    expect(await audits('job-term')).toContain('job-term#SHARD_INTERRUPTED#0#1');
    expect((await status('job-term')).status).toBe('RUNNING');
    const retried = await run(config('transactions/big.csv', 'job-term', { attempt: 2 }));
    expect(retried.exitCode).toBe(0);
    expect(await status('job-term')).toMatchObject({ status: 'SUCCEEDED', readCount: 150_000 });
  }, 120_000);

  it('audit entries are written once per deterministic id', async () => {
    const items = (await ddb.send(new QueryCommand({ TableName: 'audit-log', KeyConditionExpression: 'auditId = :id', ExpressionAttributeValues: { ':id': 'job-e2e#SHARD_SUCCEEDED#0' } }))).Items ?? [];
    expect(items).toHaveLength(1);
    expect(JSON.parse(items[0].details as string).counts.read).toBe(3000);
  });
});

describe('ranged reads', () => {
  it('small GET windows and shard ranges read every line exactly once', async () => {
    const manifest = await uploadGenerated('transactions/windows.csv', 4000, { kinds: ['amount', 'pan', 'quote'] });
    const target = new S3Target(clients.s3, OUT, 'windows', KMS);
    const summaries: ShardSummary[] = [];
    for (let i = 0; i < 3; i++) {
      const source = await openS3(clients.s3, IN, 'transactions/windows.csv', undefined, { windowBytes: 4096 });
      summaries.push(await runShard(source, target, { index: i, count: 3 }));
    }
    expect(summaries.reduce((s, x) => s + x.counts.read, 0)).toBe(manifest.count);
    expect(summaries.reduce((s, x) => s + x.counts.accepted, 0)).toBe(manifest.valid);
    expect(summaries.reduce((s, x) => s + x.input.bytesHashed, 0)).toBe(summaries[0].input.size);
  });
});

describe('retryable infrastructure errors', () => {
  it('exits 75 when DynamoDB is unreachable (network error), without publishing anything', async () => {
    const { DynamoDBClient: Raw } = await import('@aws-sdk/client-dynamodb');
    const dead = `http://127.0.0.1:${await freePort()}`;
    const broken: JobClients = { ...clients, ddb: DynamoDBDocumentClient.from(new Raw({ ...moto.clientConfig, endpoint: dead, maxAttempts: 1 })) };
    await uploadGenerated('transactions/retry.csv', 100);
    const r = await runJob(config('transactions/retry.csv', 'job-retry'), broken, { log: jsonLogger({}, (l) => logs.push(l)), writeMetrics: (l) => logs.push(l) });
    expect(r.exitCode).toBe(75);
    expect(r.error).toMatchObject({ name: 'RetryableError', code: 'ECONNREFUSED' });
    expect(await keys('processed/2026-11-23/job-retry/')).toEqual([]);
  });
});

