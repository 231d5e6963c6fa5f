/**
 * Hand-written minimal cdk.tf.json stacks that satisfy every verify check; tests break one thing at a
 * time with `mutate` and expect that check to fail.
 */
import type { Stacks, TfJson } from '../../scripts/verify/stacks';

const remote = (stack: string) => ({
  [`cross-stack-reference-input-${stack}`]: { backend: 'local', config: { path: `../../../terraform.${stack}.tfstate` }, workspace: '${terraform.workspace}' },
});

export const ACCOUNT_REF = '${data.aws_caller_identity.caller.account_id}';

export function goodStacks(): Stacks {
  const caller = { aws_caller_identity: { caller: {} } };
  const securityBaseline: TfJson = {
    data: caller,
    resource: {
      aws_s3_bucket: { 'access-logs_bucket_1': { bucket: `fbp-dev-access-logs-${ACCOUNT_REF}` } },
      aws_cloudwatch_event_rule: {
        guardduty_findings: { name: 'fbp-dev-guardduty-findings', event_pattern: JSON.stringify({ source: ['aws.guardduty'], 'detail-type': ['GuardDuty Finding'], detail: { severity: [{ numeric: ['>=', 4] }] } }) },
      },
    },
    output: {
      'cross-stack-output-aws_s3_bucketaccess-logs_bucket_1bucket': { value: '${aws_s3_bucket.access-logs_bucket_1.bucket}', sensitive: true },
      audit_bucket: { value: '${aws_s3_bucket.access-logs_bucket_1.arn}', description: 'documented in the README' },
    },
  };
  const network: TfJson = {
    data: caller,
    resource: { aws_vpc: { vpc: { cidr_block: '10.0.0.0/16' } }, aws_subnet: { 'private-0': { vpc_id: '${aws_vpc.vpc.id}', cidr_block: '10.0.1.0/24' } } },
    output: {
      'cross-stack-output-aws_vpcvpcid': { value: '${aws_vpc.vpc.id}', sensitive: true },
      'cross-stack-output-aws_subnetprivate-0id': { value: '${aws_subnet.private-0.id}', sensitive: true },
    },
  };
  const data: TfJson = {
    data: { ...caller, terraform_remote_state: { ...remote('network'), ...remote('security-baseline') } },
    resource: {
      aws_s3_bucket: { input_bucket_1: { bucket: `fbp-dev-input-${ACCOUNT_REF}` } },
      aws_s3_bucket_logging: { input_logging: { bucket: '${aws_s3_bucket.input_bucket_1.id}', target_bucket: '${data.terraform_remote_state.cross-stack-reference-input-security-baseline.outputs.cross-stack-output-aws_s3_bucketaccess-logs_bucket_1bucket}', target_prefix: 'input/' } },
      aws_vpc_endpoint: { s3: { vpc_id: '${data.terraform_remote_state.cross-stack-reference-input-network.outputs.cross-stack-output-aws_vpcvpcid}', service_name: 'com.amazonaws.eu-west-1.s3' } },
      aws_dynamodb_table: { 'job-status': { name: 'fbp-dev-job-status', hash_key: 'jobId' } },
    },
    output: {
      'cross-stack-output-aws_s3_bucketinput_bucket_1bucket': { value: '${aws_s3_bucket.input_bucket_1.bucket}', sensitive: true },
      'cross-stack-output-aws_dynamodb_tablejob-statusname': { value: '${aws_dynamodb_table.job-status.name}', sensitive: true },
    },
  };
  const subnet = '${data.terraform_remote_state.cross-stack-reference-input-network.outputs.cross-stack-output-aws_subnetprivate-0id}';
  const compute: TfJson = {
    data: { ...caller, terraform_remote_state: { ...remote('network'), ...remote('data') } },
    resource: {
      aws_batch_job_queue: { queue: { name: 'fbp-dev-transactions' } },
      aws_security_group: { batch: { name: 'batch', vpc_id: subnet } },
      aws_cloudwatch_event_rule: {
        nightly: { name: 'fbp-dev-nightly', schedule_expression: 'cron(0 0 * * ? *)' },
        reporting_deadline: { name: 'fbp-dev-reporting-deadline', schedule_expression: 'cron(0 5 * * ? *)' },
        batch_state: { name: 'fbp-dev-batch-state', event_pattern: JSON.stringify({ source: ['aws.batch'], 'detail-type': ['Batch Job State Change'], detail: { jobQueue: ['${aws_batch_job_queue.queue.arn}'] } }) },
        input_created: { name: 'fbp-dev-input-created', event_pattern: JSON.stringify({ source: ['aws.s3'], 'detail-type': ['Object Created'], detail: { bucket: { name: ['${data.terraform_remote_state.cross-stack-reference-input-data.outputs.cross-stack-output-aws_s3_bucketinput_bucket_1bucket}'] }, object: { key: [{ prefix: 'transactions/' }] } } }) },
      },
    },
  };
  const reporting: TfJson = {
    data: { ...caller, terraform_remote_state: { ...remote('network'), ...remote('data') } },
    resource: {
      aws_security_group: { lambda: { name: 'lambda', vpc_id: subnet, description: '${data.terraform_remote_state.cross-stack-reference-input-data.outputs.cross-stack-output-aws_dynamodb_tablejob-statusname}' } },
    },
  };
  return { 'security-baseline': securityBaseline, network, data, compute, reporting };
}

export const README = '| output | stack | what |\n|---|---|---|\n| `audit_bucket` | security-baseline | audit bucket ARN |\n';

export function mutate(stacks: Stacks, fn: (s: Stacks) => void): Stacks {
  const copy = structuredClone(stacks);
  fn(copy);
  return copy;
}
