/**
 * AWS SDK v3 clients, created lazily once per container (reused across invocations). With
 * AWS_ENDPOINT_URL set (local servers only: moto in tests) every client talks to that endpoint and S3
 * uses path-style addressing, which local servers need.
 */
import { BatchClient } from '@aws-sdk/client-batch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { traced } from './powertools';

export function localEndpoint(): string | undefined {
  const url = process.env.AWS_ENDPOINT_URL;
  return url && url.trim() !== '' ? url : undefined;
}

function baseConfig(): { endpoint?: string; maxAttempts: number } {
  const endpoint = localEndpoint();
  // The SDK's own retries (3 attempts, backoff) absorb short throttling before our typed errors do.
  return endpoint ? { endpoint, maxAttempts: 3 } : { maxAttempts: 3 };
}

const cache = new Map<string, unknown>();
function memo<T>(key: string, make: () => T): T {
  const endpointKey = `${key}@${localEndpoint() ?? 'aws'}`;
  if (!cache.has(endpointKey)) cache.set(endpointKey, traced(make()));
  return cache.get(endpointKey) as T;
}

export const s3 = (): S3Client => memo('s3', () => new S3Client({ ...baseConfig(), forcePathStyle: localEndpoint() !== undefined }));
export const dynamo = (): DynamoDBClient => memo('ddb', () => new DynamoDBClient(baseConfig()));
// Built on the (already traced) base client, so it is not captured twice.
export const ddb = (): DynamoDBDocumentClient => {
  const key = `ddb-doc@${localEndpoint() ?? 'aws'}`;
  if (!cache.has(key)) cache.set(key, DynamoDBDocumentClient.from(dynamo(), { marshallOptions: { removeUndefinedValues: true } }));
  return cache.get(key) as DynamoDBDocumentClient;
};
export const batch = (): BatchClient => memo('batch', () => new BatchClient(baseConfig()));
export const sns = (): SNSClient => memo('sns', () => new SNSClient(baseConfig()));
export const ses = (): SESv2Client => memo('ses', () => new SESv2Client(baseConfig()));
export const secrets = (): SecretsManagerClient => memo('secrets', () => new SecretsManagerClient(baseConfig()));
