/** AWS clients; AWS_ENDPOINT_URL (local servers only) switches S3 to path-style addressing. */
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import type { JobClients } from './job';

export function s3Client(endpoint = process.env.AWS_ENDPOINT_URL): S3Client {
  return new S3Client({ endpoint, forcePathStyle: endpoint ? true : undefined, maxAttempts: 5 });
}

export function jobClients(endpoint = process.env.AWS_ENDPOINT_URL): JobClients {
  return {
    s3: s3Client(endpoint),
    ddb: DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint, maxAttempts: 8 }), { marshallOptions: { removeUndefinedValues: true } }),
    sns: new SNSClient({ endpoint, maxAttempts: 5 }),
  };
}
