/**
 * The only exceptions the guardrail Aspect accepts, each with the reason it is safe. Adding an entry
 * is a reviewed security decision: keep the reason specific enough that a reviewer can check it.
 * `npm run verify` (IAM policy lint) uses the same list, so the two gates can never disagree.
 */

export interface AllowEntry {
  readonly reason: string;
}

const NO_RESOURCE_LEVEL = 'the action supports no resource-level permissions; AWS requires Resource "*"';

/** Actions an identity policy may Allow on `Resource: "*"`. */
export const WILDCARD_RESOURCE_ACTIONS: Readonly<Record<string, AllowEntry>> = {
  'xray:PutTraceSegments': { reason: `X-Ray tracing of Lambdas and Step Functions: ${NO_RESOURCE_LEVEL}` },
  'xray:PutTelemetryRecords': { reason: `X-Ray tracing: ${NO_RESOURCE_LEVEL}` },
  'xray:GetSamplingRules': { reason: `X-Ray SDK sampling: ${NO_RESOURCE_LEVEL}` },
  'xray:GetSamplingTargets': { reason: `X-Ray SDK sampling: ${NO_RESOURCE_LEVEL}` },
  'ec2:CreateNetworkInterface': { reason: `ENIs of VPC-attached Lambdas: ${NO_RESOURCE_LEVEL} for the Lambda service's use` },
  'ec2:DescribeNetworkInterfaces': { reason: `ENIs of VPC-attached Lambdas: Describe* calls are never resource-scoped` },
  'ec2:DeleteNetworkInterface': { reason: 'ENIs of VPC-attached Lambdas: the ENI ids are created by Lambda and unknown at synth' },
  'ec2:AssignPrivateIpAddresses': { reason: 'ENIs of VPC-attached Lambdas: the ENI ids are created by Lambda and unknown at synth' },
  'ec2:UnassignPrivateIpAddresses': { reason: 'ENIs of VPC-attached Lambdas: the ENI ids are created by Lambda and unknown at synth' },
  'batch:DescribeJobs': { reason: `job status polling (orchestrator, Step Functions .sync): ${NO_RESOURCE_LEVEL}` },
  'batch:ListJobs': { reason: `job status listing: ${NO_RESOURCE_LEVEL}` },
  'logs:CreateLogDelivery': { reason: `Step Functions / vended log delivery: ${NO_RESOURCE_LEVEL}` },
  'logs:GetLogDelivery': { reason: `Step Functions log delivery: ${NO_RESOURCE_LEVEL}` },
  'logs:UpdateLogDelivery': { reason: `Step Functions log delivery: ${NO_RESOURCE_LEVEL}` },
  'logs:DeleteLogDelivery': { reason: `Step Functions log delivery: ${NO_RESOURCE_LEVEL}` },
  'logs:ListLogDeliveries': { reason: `Step Functions log delivery: ${NO_RESOURCE_LEVEL}` },
  'logs:PutResourcePolicy': { reason: `Step Functions log delivery writes the log group's resource policy: ${NO_RESOURCE_LEVEL}` },
  'logs:DescribeResourcePolicies': { reason: `Step Functions log delivery: ${NO_RESOURCE_LEVEL}` },
  'logs:DescribeLogGroups': { reason: `Step Functions log delivery and VPC flow-log delivery check the group exists: DescribeLogGroups has no resource-level permissions` },
  'ecr:GetAuthorizationToken': { reason: `Batch execution role pulls the image: ${NO_RESOURCE_LEVEL}` },
  'cloudwatch:PutMetricData': { reason: `custom metrics: ${NO_RESOURCE_LEVEL} (scope with a cloudwatch:namespace condition)` },
};

/**
 * Key policies: `Resource: "*"` in a key policy means "this key", so it is always allowed there. The
 * one broad action allowed is the account-root delegation statement AWS itself writes by default.
 */
export const KEY_POLICY_ROOT_ACTIONS: Readonly<Record<string, AllowEntry>> = {
  'kms:*': {
    reason: 'key policy statement for the account root principal only: delegates key access to IAM policies '
      + '(AWS default key policy); without it the key becomes unmanageable',
  },
};

/** Buckets (name suffix, after `${project}-${env}-`) allowed to use SSE-S3 instead of SSE-KMS. */
export const SSE_S3_BUCKETS: Readonly<Record<string, AllowEntry>> = {
  'access-logs': { reason: 'S3 server access logging cannot write to an SSE-KMS bucket' },
};

/** Lambda functions (name suffix) that run outside the VPC. */
export const OUTSIDE_VPC_FUNCTIONS: Readonly<Record<string, AllowEntry>> = {
  'report-deliver': {
    reason: 'sends through SES, which has no VPC API endpoint; it gets no database access and no DB env, and '
      + 'send-once is guaranteed by the DynamoDB idempotency table',
  },
};

/**
 * Lambda functions (name suffix) that are only ever invoked synchronously, so a dead-letter queue would
 * never receive anything. Failures surface to the caller (Step Functions retries/catches, the operator).
 * If the guardrail finds an asynchronous trigger for one of them, it still demands a DLQ.
 */
export const SYNCHRONOUS_FUNCTIONS: Readonly<Record<string, AllowEntry>> = {
  'report-generate': { reason: 'invoked synchronously by the reporting state machine (lambda:invoke task, Retry/Catch)' },
  'report-validate': { reason: 'invoked synchronously by the reporting state machine (lambda:invoke task, Retry/Catch)' },
  'report-deliver': { reason: 'invoked synchronously by the reporting state machine (lambda:invoke task, Retry/Catch)' },
  'report-confirm': { reason: 'invoked synchronously by the reporting state machine (lambda:invoke task, Retry/Catch)' },
  'report-failure': { reason: 'invoked synchronously by the reporting state machine (lambda:invoke task, Retry/Catch)' },
  'report-loader': { reason: 'invoked synchronously by the reporting state machine (lambda:invoke task, Retry/Catch)' },
  'report-migrate': { reason: 'invoked synchronously (RequestResponse) by the operator/deploy step; the caller sees the error' },
};

/** Principals whose invocations of a Lambda are asynchronous (the function then needs a DLQ). */
export const ASYNC_INVOKER_PRINCIPALS = [
  'events.amazonaws.com', 's3.amazonaws.com', 'sns.amazonaws.com', 'scheduler.amazonaws.com',
  'logs.amazonaws.com', 'ses.amazonaws.com', 'cloudwatch.amazonaws.com', 'iot.amazonaws.com',
] as const;

/** Looks up `name` by its suffix after the last `${project}-${env}-`; returns the entry or undefined. */
export function bySuffix<T>(table: Readonly<Record<string, T>>, name: unknown): T | undefined {
  if (typeof name !== 'string') return undefined;
  for (const [suffix, entry] of Object.entries(table)) {
    if (name === suffix || name.endsWith(`-${suffix}`) || name.includes(`-${suffix}-`)) return entry;
  }
  return undefined;
}
