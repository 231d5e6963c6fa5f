/** AWS clients; AWS_ENDPOINT_URL (local servers only) switches S3 to path-style addressing. */
import type { S3Client } from '@aws-sdk/client-s3';
import { documentSdk, dynamoSdk, s3Sdk, snsSdk } from './aws-sdk';
import type { JobClients } from './job';

export function s3Client(endpoint = process.env.AWS_ENDPOINT_URL): S3Client {
  return new (s3Sdk().S3Client)({ endpoint, forcePathStyle: endpoint ? true : undefined, maxAttempts: 5 });
}

export function jobClients(endpoint = process.env.AWS_ENDPOINT_URL): JobClients {
  return {
    s3: s3Client(endpoint),
    ddb: documentSdk().DynamoDBDocumentClient.from(new (dynamoSdk().DynamoDBClient)({ endpoint, maxAttempts: 8 }), { marshallOptions: { removeUndefinedValues: true } }),
    sns: new (snsSdk().SNSClient)({ endpoint, maxAttempts: 5 }),
  };
}
