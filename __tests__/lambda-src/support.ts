/**
 * Shared setup for the Lambda handler tests: a real moto server with the SDK environment pointed at it
 * (the handlers read AWS_ENDPOINT_URL like they would any endpoint override), resource creation
 * helpers, and EMF capture from stdout (Powertools metrics print EMF lines there).
 */
import type { Context } from 'aws-lambda';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { MotoServer, startMoto } from '../../test-support/moto-server';
import { TableId, TABLES, toCreateTableInput } from '../../contracts/tables';

export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';
export const KMS_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;
export const OTHER_KMS_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/99999999-8888-7777-6666-555555555555`;

export async function startLocalAws(): Promise<MotoServer> {
  const moto = await startMoto();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });
  return moto;
}

export function clients(moto: MotoServer) {
  return {
    s3: new S3Client({ ...moto.clientConfig, forcePathStyle: true }),
    dynamo: new DynamoDBClient(moto.clientConfig),
  };
}

export async function createBucket(s3: S3Client, name: string, versioned = true): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  if (versioned) await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
}

/** Tables with the data stack's keys, indexes and stream (contracts/tables.ts), under the names given. */
export async function createTables(dynamo: DynamoDBClient, names: { jobStatus?: string; audit?: string; transactions?: string; idempotency?: string }): Promise<void> {
  const wanted: [TableId, string | undefined][] = [
    ['jobStatus', names.jobStatus], ['auditLog', names.audit], ['transactions', names.transactions], ['idempotency', names.idempotency],
  ];
  for (const [id, name] of wanted) if (name) await dynamo.send(new CreateTableCommand(toCreateTableInput(TABLES[id], name)));
}

/** Captures EMF documents Powertools prints while `fn` runs. */
export async function captureEmf<T>(fn: () => Promise<T>): Promise<{ result: T; emf: Array<Record<string, unknown>> }> {
  const lines: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  (process.stdout as unknown as { write: unknown }).write = (chunk: unknown, ...rest: unknown[]) => {
    lines.push(String(chunk));
    return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
  };
  try {
    const result = await fn();
    const emf = lines.flatMap((l) => l.split('\n')).filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    return { result, emf };
  } finally {
    (process.stdout as unknown as { write: unknown }).write = original;
  }
}

export async function expectRejectsNamed(p: Promise<unknown>, name: 'RetryableError' | 'PermanentError', message?: RegExp): Promise<Error> {
  let error: Error | undefined;
  try {
    await p;
  } catch (err) {
    error = err as Error;
  }
  expect(error).toBeDefined();
  expect(error!.name).toBe(name);
  if (message) expect(error!.message).toMatch(message);
  return error!;
}

/**
 * Calls an AWS Query API (form-encoded Action=...) on moto, SigV4-signed so moto routes it to the right
 * service. Used for IAM (roles Batch needs) and SES v1 (send statistics), whose clients are not
 * dependencies of this project.
 */
export async function awsQuery(endpoint: string, service: string, params: Record<string, string>): Promise<string> {
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const crypto = await import('crypto');
  class Sha256 {
    private h = crypto.createHash('sha256');
    private hmac?: import('crypto').Hmac;
    constructor(secret?: unknown) {
      if (secret) this.hmac = crypto.createHmac('sha256', Buffer.from(secret as Uint8Array));
    }
    update(data: unknown) {
      const buf = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data as Uint8Array);
      if (this.hmac) this.hmac.update(buf); else this.h.update(buf);
    }
    async digest() { return new Uint8Array(this.hmac ? this.hmac.digest() : this.h.digest()); }
  }
  const url = new URL(endpoint);
  const body = new URLSearchParams(params).toString();
  const signer = new SignatureV4({ service, region: REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, sha256: Sha256 as never });
  const signed = await signer.sign({
    method: 'POST', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: '/',
    headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded' }, body,
  });
  const res = await fetch(`${endpoint}/`, { method: 'POST', headers: signed.headers as Record<string, string>, body });
  const text = await res.text();
  if (!res.ok) throw new Error(`${service} ${params.Action} failed: ${res.status} ${text.slice(0, 300)}`);
  return text;
}

/** Emails moto's SES has accepted (SES v1 GetSendQuota.SentLast24Hours). */
export async function sesSentCount(endpoint: string): Promise<number> {
  const text = await awsQuery(endpoint, 'ses', { Action: 'GetSendQuota', Version: '2010-12-01' });
  const m = /<SentLast24Hours>([0-9.]+)<\/SentLast24Hours>/.exec(text);
  if (!m) throw new Error(`unexpected GetSendQuota response: ${text.slice(0, 200)}`);
  return Number(m[1]);
}

/**
 * A handler as the tests call it: with raw JSON (malformed on purpose, too) and no or a partial Lambda
 * context. The exported types describe what Lambda delivers; they validate nothing, the handlers do.
 */
export function raw<R>(handler: (event: never, context?: Context) => Promise<R>): (event?: unknown, context?: Partial<Context>) => Promise<R> {
  return handler as unknown as (event?: unknown, context?: Partial<Context>) => Promise<R>;
}
