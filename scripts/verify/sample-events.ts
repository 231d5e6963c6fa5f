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

/** A CloudTrail record as EventBridge delivers it (`AWS API Call via CloudTrail` or console sign-in). */
function cloudTrail(ctx: SampleContext, eventSource: string, eventName: string, extra: Record<string, unknown> = {}): object {
  const signIn = eventSource === 'signin.amazonaws.com';
  const source = `aws.${eventSource.replace(/\.amazonaws\.com$/, '')}`;
  return envelope(source, signIn ? 'AWS Console Sign In via CloudTrail' : 'AWS API Call via CloudTrail', ctx.region, {
    eventVersion: '1.09',
    userIdentity: {
      type: 'IAMUser', principalId: 'AIDAEXAMPLEUSERID0001', arn: `arn:aws:iam::${ACCOUNT}:user/operator`,
      accountId: ACCOUNT, accessKeyId: 'AKIAIOSFODNN7EXAMPLE', userName: 'operator',
    },
    eventTime: '2026-11-23T00:05:00Z',
    eventSource,
    eventName,
    awsRegion: ctx.region,
    sourceIPAddress: '203.0.113.10',
    userAgent: 'aws-cli/2.17.0',
    requestParameters: {},
    responseElements: null,
    requestID: 'c1f7a8e2-1111-2222-3333-444455556666',
    eventID: 'e2b8a9f3-7777-8888-9999-000011112222',
    readOnly: /^(Get|Describe|List|Lookup)/.test(eventName),
    eventType: signIn ? 'AwsConsoleSignIn' : 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
    ...extra,
  });
}

const ROOT_IDENTITY = { type: 'Root', principalId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:root`, accountId: ACCOUNT };

/**
 * Per CIS check (the `cis-<Check>` rules of an adopted trail): one real CloudTrail event the rule must
 * match, and near-misses it must not (read-only calls, the same event name from another service, a
 * sign-in with MFA, ...).
 */
export function cisFamilies(ctx: SampleContext): Record<string, SampleFamily> {
  const ct = (eventSource: string, eventName: string, extra: Record<string, unknown> = {}) => cloudTrail(ctx, eventSource, eventName, extra);
  const change = (check: string, eventSource: string, mutating: string, readOnly: string, sameNameElsewhere?: string): [string, SampleFamily] => [check, {
    source: `aws.${eventSource.replace(/\.amazonaws\.com$/, '')}`,
    match: { name: `${mutating} (${eventSource})`, event: ct(eventSource, mutating) },
    nearMisses: [
      { name: `read-only ${readOnly}`, event: ct(eventSource, readOnly) },
      ...(sameNameElsewhere ? [{ name: `${mutating} of ${sameNameElsewhere}`, event: ct(sameNameElsewhere, mutating) }] : []),
    ],
  }];
  const signIn = (result: string, mfa: string, extra: Record<string, unknown> = {}) => ct('signin.amazonaws.com', 'ConsoleLogin', {
    responseElements: { ConsoleLogin: result }, additionalEventData: { MFAUsed: mfa, LoginTo: 'https://console.aws.amazon.com/' }, ...extra,
  });
  return Object.fromEntries([
    ['UnauthorizedApiCalls', {
      source: 'aws.ec2',
      match: { name: 'RunInstances denied (Client.UnauthorizedOperation)', event: ct('ec2.amazonaws.com', 'RunInstances', { errorCode: 'Client.UnauthorizedOperation', errorMessage: 'You are not authorized to perform this operation.' }) },
      nearMisses: [{ name: 'RunInstances that succeeded', event: ct('ec2.amazonaws.com', 'RunInstances') }],
    }],
    ['ConsoleSignInWithoutMfa', {
      source: 'aws.signin',
      match: { name: 'IAM user console sign-in without MFA', event: signIn('Success', 'No') },
      nearMisses: [{ name: 'IAM user console sign-in with MFA', event: signIn('Success', 'Yes') }],
    }],
    ['RootAccountUsage', {
      source: 'aws.iam',
      match: { name: 'root user creates an access key', event: ct('iam.amazonaws.com', 'CreateAccessKey', { userIdentity: ROOT_IDENTITY }) },
      nearMisses: [
        { name: 'IAM user creates an access key', event: ct('iam.amazonaws.com', 'CreateAccessKey') },
        { name: 'call made by an AWS service for the root user', event: ct('iam.amazonaws.com', 'CreateServiceLinkedRole', { userIdentity: { ...ROOT_IDENTITY, invokedBy: 'support.amazonaws.com' } }) },
      ],
    }],
    change('IamPolicyChanges', 'iam.amazonaws.com', 'PutRolePolicy', 'GetRolePolicy'),
    change('CloudTrailConfigChanges', 'cloudtrail.amazonaws.com', 'StopLogging', 'LookupEvents'),
    ['ConsoleAuthFailures', {
      source: 'aws.signin',
      match: { name: 'failed console sign-in', event: signIn('Failure', 'No', { errorMessage: 'Failed authentication' }) },
      nearMisses: [{ name: 'successful console sign-in', event: signIn('Success', 'Yes') }],
    }],
    change('CmkDisableOrDeletion', 'kms.amazonaws.com', 'ScheduleKeyDeletion', 'DescribeKey'),
    change('S3BucketPolicyChanges', 's3.amazonaws.com', 'PutBucketPolicy', 'GetBucketPolicy'),
    change('ConfigChanges', 'config.amazonaws.com', 'StopConfigurationRecorder', 'DescribeConfigurationRecorders'),
    change('SecurityGroupChanges', 'ec2.amazonaws.com', 'AuthorizeSecurityGroupIngress', 'DescribeSecurityGroups'),
    change('NaclChanges', 'ec2.amazonaws.com', 'CreateNetworkAclEntry', 'DescribeNetworkAcls'),
    change('NetworkGatewayChanges', 'ec2.amazonaws.com', 'CreateInternetGateway', 'DescribeInternetGateways'),
    change('RouteTableChanges', 'ec2.amazonaws.com', 'CreateRoute', 'DescribeRouteTables'),
    change('VpcChanges', 'ec2.amazonaws.com', 'CreateVpc', 'DescribeVpcs'),
    // AttachPolicy is also an AWS IoT call: the eventSource filter must keep it out.
    change('OrganizationsChanges', 'organizations.amazonaws.com', 'AttachPolicy', 'DescribePolicy', 'iot.amazonaws.com'),
  ]);
}
