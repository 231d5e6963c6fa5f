/** Nightly-run fixture on moto: input bucket, tables, alerts topic (+ SQS subscriber to read it), Batch. */
import { BatchClient, CreateComputeEnvironmentCommand, CreateJobQueueCommand, RegisterJobDefinitionCommand } from '@aws-sdk/client-batch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { MotoServer } from '../../test-support/moto-server';
import { awsQuery, clients, createBucket, createTables, KMS_KEY_ARN, startLocalAws } from './support';

export const INPUT_BUCKET = 'transactiondata-test';
export const STATUS_TABLE = 'finbatch-test-job-status';
export const AUDIT_TABLE = 'finbatch-test-audit-log';

export interface ComputeFixture {
  moto: MotoServer;
  s3: S3Client;
  dynamo: DynamoDBClient;
  batch: BatchClient;
  jobQueueArn: string;
  jobDefinitionArn: string;
  /** Messages published to the alerts topic since the last call. */
  alerts(): Promise<Array<{ Subject: string; Message: string; MessageAttributes?: Record<string, { Type: string; Value: string }> }>>;
  put(key: string, body: string | Buffer, kmsKeyArn?: string | null): Promise<void>;
}

export async function startCompute(): Promise<ComputeFixture> {
  const moto = await startLocalAws();
  const { s3, dynamo } = clients(moto);
  await createBucket(s3, INPUT_BUCKET);
  await createTables(dynamo, { jobStatus: STATUS_TABLE, audit: AUDIT_TABLE });
  const snsClient = new SNSClient(moto.clientConfig);
  const sqs = new SQSClient(moto.clientConfig);
  const topic = await snsClient.send(new CreateTopicCommand({ Name: 'finbatch-test-batch-alerts' }));
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: 'alerts-reader' }));
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn;
  await snsClient.send(new SubscribeCommand({ TopicArn: topic.TopicArn, Protocol: 'sqs', Endpoint: queueArn }));

  // Batch refuses to create anything before the service role exists.
  const role = await awsQuery(moto.endpoint, 'iam', {
    Action: 'CreateRole', Version: '2010-05-08', RoleName: 'batch-service',
    AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'batch.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
  });
  const roleArn = /<Arn>([^<]+)<\/Arn>/.exec(role)![1];
  const batch = new BatchClient(moto.clientConfig);
  const ce = await batch.send(new CreateComputeEnvironmentCommand({ computeEnvironmentName: 'test-ce', type: 'UNMANAGED', state: 'ENABLED', serviceRole: roleArn }));
  const q = await batch.send(new CreateJobQueueCommand({ jobQueueName: 'test-queue', state: 'ENABLED', priority: 1, computeEnvironmentOrder: [{ order: 1, computeEnvironment: ce.computeEnvironmentArn! }] }));
  const jd = await batch.send(new RegisterJobDefinitionCommand({
    jobDefinitionName: 'test-processor', type: 'container',
    containerProperties: { image: 'transaction-processor:test', resourceRequirements: [{ type: 'VCPU', value: '2' }, { type: 'MEMORY', value: '4096' }] },
  }));

  Object.assign(process.env, {
    JOB_QUEUE_ARN: q.jobQueueArn!, JOB_DEFINITION_ARN: jd.jobDefinitionArn!, INPUT_BUCKET, INPUT_PREFIX: 'transactions/',
    PROCESSED_BUCKET: 'processeddata-test', S3_KMS_KEY_ARN: KMS_KEY_ARN, JOB_STATUS_TABLE: STATUS_TABLE, AUDIT_LOG_TABLE: AUDIT_TABLE,
    ALERTS_TOPIC_ARN: topic.TopicArn!, TRANSACTIONS_PER_JOB: '10', ENVIRONMENT: 'test', BATCH_WINDOW_HOURS: '4',
  });
  return {
    moto, s3, dynamo, batch, jobQueueArn: q.jobQueueArn!, jobDefinitionArn: jd.jobDefinitionArn!,
    async alerts() {
      const out: Array<{ Subject: string; Message: string; MessageAttributes?: Record<string, { Type: string; Value: string }> }> = [];
      for (;;) {
        const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
        if (!res.Messages?.length) return out;
        for (const m of res.Messages) out.push(JSON.parse(m.Body!));
        // Deleting is unnecessary: each test reads once; visibility timeout hides read messages.
      }
    },
    async put(key, body, kmsKeyArn = KMS_KEY_ARN) {
      await s3.send(new PutObjectCommand({
        Bucket: INPUT_BUCKET, Key: key, Body: Buffer.from(body),
        ...(kmsKeyArn ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: kmsKeyArn } : {}),
      }));
    },
  };
}
