/**
 * Runs the reporting workflow definition on moto's Step Functions interpreter (a real moto server):
 * proves the ASL features it uses are ones the local verification can execute, and that one invalid
 * report is recorded and notified without stopping the run or the other report.
 *
 * moto runs Lambda without Docker here: each invocation returns the next payload of a queue we load,
 * so MaxConcurrency is 1 and the queue holds the two reports' step results in order.
 */
import { CreateStateMachineCommand, DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startMoto, MotoServer } from '../../test-support/moto-server';
import { createZip } from '../../stacks/lib/deterministic-zip';
import { renderWorkflowDefinition, WorkflowFunctionArns } from '../../stacks/reporting/workflow-definition';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

/** Unsigned call to a moto API without an SDK client here; moto routes by the credential scope's service. */
async function call(moto: MotoServer, service: string, path: string, init: RequestInit): Promise<string> {
  const res = await fetch(`${moto.endpoint}${path}`, {
    ...init,
    headers: {
      Authorization: `AWS4-HMAC-SHA256 Credential=test/20260101/${REGION}/${service}/aws4_request, SignedHeaders=host, Signature=0`,
      ...(init.headers ?? {}),
    },
  });
  const body = await res.text();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${body.slice(0, 300)}`);
  return body;
}

describe('reporting workflow on moto Step Functions', () => {
  let moto: MotoServer;
  beforeAll(async () => { moto = await startMoto(); });
  afterAll(async () => { await moto?.stop(); });

  it('delivers a valid report, records + notifies an invalid one, and the run completes', async () => {
    const roleXml = await call(moto, 'iam', '/', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ Action: 'CreateRole', Version: '2010-05-08', RoleName: 'reporting', AssumeRolePolicyDocument: '{}' }).toString(),
    });
    const roleArn = /<Arn>([^<]+)<\/Arn>/.exec(roleXml)![1];
    const zip = createZip([{ name: 'index.js', data: Buffer.from('exports.handler = async () => ({});') }]).toString('base64');
    const fnArn = {} as Record<keyof WorkflowFunctionArns, string>;
    for (const name of ['generate', 'validate', 'deliver', 'confirm', 'failure'] as const) {
      const created = JSON.parse(await call(moto, 'lambda', '/2015-03-31/functions', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ FunctionName: `report-${name}`, Runtime: 'nodejs22.x', Role: roleArn, Handler: 'index.handler', Code: { ZipFile: zip } }),
      }));
      fnArn[name] = created.FunctionArn;
    }

    const sns = new SNSClient(moto.clientConfig);
    const sqs = new SQSClient(moto.clientConfig);
    const s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'reports' }));
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'reporting-alerts' }));
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'alerts-inbox' }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Attributes!.QueueArn, Attributes: { RawMessageDelivery: 'true' } }));

    const report = (entityId: string) => ({
      reportId: `EU-TRANSACTION-${entityId}-2026-11-20`, jurisdiction: 'EU', reportType: 'TRANSACTION', entityId,
      reportDate: '2026-11-20', bucket: 'reports', key: `reports/EU/2026-11-20/${entityId}.json`, sha256: 'ab'.repeat(32), transactionCount: 3,
    });
    const results = [
      report('E1X'), { reportId: 'r1', isValid: true, errors: [], warnings: [] },
      { reportId: 'r1', messageId: 'm-1', recipient: 'esma@example.eu', status: 'SENT' }, { reportId: 'r1', status: 'PENDING' },
      report('E2X'), { reportId: 'r2', isValid: false, errors: ['transaction t-9 has no counterparty'], warnings: [] },
      { recorded: true },
    ];
    await call(moto, 'lambda', '/moto-api/static/lambda-simple/response', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ results: results.map((r) => JSON.stringify(r)), region: REGION }),
    });

    const sfn = new SFNClient(moto.clientConfig);
    const definition = renderWorkflowDefinition({
      reporting: { jurisdictions: ['EU'], reportTypes: ['TRANSACTION'], entities: ['E1X', 'E2X'], mapMaxConcurrency: 1 },
      functions: fnArn,
      topicArn: TopicArn!,
      resultsBucket: 'reports',
    });
    const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name: 'reporting', definition, roleArn, type: 'STANDARD' }));
    expect(stateMachineArn).toBe(`arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:reporting`);
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: '{}' }));
    let execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    for (let i = 0; i < 300 && execution.status === 'RUNNING'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    }
    expect(execution.status).toBe('SUCCEEDED');
    const output = JSON.parse(execution.output!);
    expect(output.mapRun.MapRunArn).toContain(':mapRun:reporting/Reports:');
    const manifest = await s3.send(new GetObjectCommand({ Bucket: 'reports', Key: output.mapRun.ResultWriterDetails.Key }));
    expect(JSON.parse(await manifest.Body!.transformToString())).toHaveProperty('ResultFiles');

    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    const messages = (received.Messages ?? []).map((m) => m.Body);
    expect(messages).toHaveLength(1);
    // With MaxConcurrency 1 the children run in item order, so the failure is the second report's.
    expect(messages[0]).toBe('Report EU TRANSACTION E2X failed at stage VALIDATE: ReportInvalid');
  });
});
