/**
 * Real-shaped EventBridge events (as AWS documents them) for the sources the platform's rules listen
 * to, built from the documented contracts: the input bucket with prefix `transactions/`, the Batch job
 * queue ARN, the SES configuration set, and the configured GuardDuty minimum severity. Each family has
 * one event the rule must match and near-misses it must not.
 */
import { ACCOUNT } from './placeholders';

export interface SampleContext {
  region: string;
  inputBucket?: string;
  inputPrefix: string;
  jobQueueArn?: string;
  sesConfigurationSet?: string;
  guardDutyMinSeverity: number;
}

export interface SampleFamily {
  source: string;
  /** Why the family cannot be built (a contract value missing in the stacks). */
  missing?: string;
  match?: { name: string; event: object };
  nearMisses: { name: string; event: object }[];
}

function envelope(source: string, detailType: string, region: string, detail: object, resources: string[] = []): object {
  return {
    version: '0',
    id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    'detail-type': detailType,
    source,
    account: ACCOUNT,
    time: '2026-11-23T00:05:00Z',
    region,
    resources,
    detail,
  };
}

function guardDuty(ctx: SampleContext): SampleFamily {
  const finding = (severity: number) => envelope('aws.guardduty', 'GuardDuty Finding', ctx.region, {
    schemaVersion: '2.0', accountId: ACCOUNT, region: ctx.region, partition: 'aws',
    id: '16afba5c5c43e07c9e3e5e2e544e95df', type: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
    severity, title: 'Credentials for instance role used from an external IP address.',
    resource: { resourceType: 'AccessKey' }, service: { serviceName: 'guardduty', count: 1 },
  });
  return {
    source: 'aws.guardduty',
    match: { name: 'HIGH finding (severity 8.0)', event: finding(8) },
    nearMisses: [{
      name: `finding below the configured minimum severity (${(ctx.guardDutyMinSeverity - 0.1).toFixed(1)})`,
      event: finding(Math.round((ctx.guardDutyMinSeverity - 0.1) * 10) / 10),
    }],
  };
}

function s3ObjectCreated(ctx: SampleContext): SampleFamily {
  if (!ctx.inputBucket) return { source: 'aws.s3', missing: 'no input bucket (aws_s3_bucket input*) in the data stack', nearMisses: [] };
  const created = (bucket: string, key: string) => envelope('aws.s3', 'Object Created', ctx.region, {
    version: '0', bucket: { name: bucket }, object: { key, size: 1048576, etag: 'd41d8cd98f00b204e9800998ecf8427e', 'version-id': '3HL4kqtJlcpXroDTDmjVBH40Nrjfkd', sequencer: '0062E99A88DC407460' },
    'request-id': 'N4N7GDK58NMKJ12R', requester: ACCOUNT, 'source-ip-address': '10.0.1.25', reason: 'PutObject',
  }, [`arn:aws:s3:::${bucket}`]);
  return {
    source: 'aws.s3',
    match: { name: `object under ${ctx.inputPrefix} in the input bucket`, event: created(ctx.inputBucket, `${ctx.inputPrefix}2026-11-23/batch-0001.csv`) },
    nearMisses: [
      { name: 'object outside the input prefix', event: created(ctx.inputBucket, `rejected/${ctx.inputPrefix}2026-11-23/batch-0001.csv`) },
      { name: 'same key in another bucket', event: created(`${ctx.inputBucket}-other`, `${ctx.inputPrefix}2026-11-23/batch-0001.csv`) },
    ],
  };
}

function batchStateChange(ctx: SampleContext): SampleFamily {
  if (!ctx.jobQueueArn) return { source: 'aws.batch', missing: 'no aws_batch_job_queue in the compute stack', nearMisses: [] };
  const change = (jobQueue: string, status: string) => envelope('aws.batch', 'Batch Job State Change', ctx.region, {
    jobArn: `arn:aws:batch:${ctx.region}:${ACCOUNT}:job/4c7599ae-0a82-49aa-ba5a-4727fcce14a8`,
    jobName: 'transactions-2026-11-23-0001', jobId: '4c7599ae-0a82-49aa-ba5a-4727fcce14a8',
    jobQueue, status, statusReason: status === 'FAILED' ? 'Essential container in task exited' : '',
    attempts: [], createdAt: 1795392300000, retryStrategy: { attempts: 3 }, dependsOn: [],
    jobDefinition: `arn:aws:batch:${ctx.region}:${ACCOUNT}:job-definition/transaction-processor:1`,
    parameters: {}, container: { exitCode: status === 'FAILED' ? 2 : 0 }, tags: {}, propagateTags: false, platformCapabilities: ['FARGATE'],
  }, [`arn:aws:batch:${ctx.region}:${ACCOUNT}:job/4c7599ae-0a82-49aa-ba5a-4727fcce14a8`]);
  const other = ctx.jobQueueArn.replace(/job-queue\/.*$/, 'job-queue/another-teams-queue');
  return {
    source: 'aws.batch',
    match: { name: 'job FAILED in the platform job queue', event: change(ctx.jobQueueArn, 'FAILED') },
    nearMisses: [{ name: 'job FAILED in another job queue', event: change(other, 'FAILED') }],
  };
}

function sesEvents(ctx: SampleContext): SampleFamily {
  if (!ctx.sesConfigurationSet) return { source: 'aws.ses', missing: 'no aws_sesv2_configuration_set in the reporting stack', nearMisses: [] };
  const mail = (type: string, configurationSet: string) => envelope('aws.ses', type, ctx.region, {
    eventType: type.replace('Email ', ''),
    mail: {
      timestamp: '2026-11-23T01:10:00Z', source: 'reports@example.com', messageId: '0102018f-aaaa-bbbb-cccc-111122223333-000000',
      destination: ['esma-reports@example.eu'], tags: { 'ses:configuration-set': [configurationSet] },
    },
  });
  return {
    source: 'aws.ses',
    match: { name: 'bounce of a report email', event: mail('Email Bounced', ctx.sesConfigurationSet) },
    nearMisses: [{ name: 'bounce from another configuration set', event: mail('Email Bounced', `${ctx.sesConfigurationSet}-other`) }],
  };
}

export function sampleFamilies(ctx: SampleContext): Record<string, SampleFamily> {
  return {
    'aws.guardduty': guardDuty(ctx),
    'aws.s3': s3ObjectCreated(ctx),
    'aws.batch': batchStateChange(ctx),
    'aws.ses': sesEvents(ctx),
  };
}
