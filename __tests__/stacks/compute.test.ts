import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { platformOf, testConfig } from '../../test-support/config-fixture';
import { ACCOUNT, byName as byNameIn, Json, remoteRef, repeated, resourcesOf as resources } from '../../test-support/terraform-json';
import { bundleHandler } from '../../stacks/lib/bundle';
import { slaWindow } from '../../stacks/compute/alarms';
import { nightlyDashboardBody } from '../../stacks/compute/dashboard';

// The dev platform (compute-batch.test.ts covers non-default batch settings), synthesized once per run.
const { tf: all, json: jsonAll, platform } = platformOf('dev');
const tf = all.compute;
const json = jsonAll.compute;
const byName = (type: string, key: string, value: string) => byNameIn(tf, type, key, value);
/** Output name cdktf gives a data-stack attribute, e.g. ('aws_dynamodb_table', 'job-status', 'arn'). */
const dataRef = (type: string, idPart: string, attr: string) => remoteRef('data', type, idPart, attr);
const fromData = (type: string, idPart: string, attr: string) => expect.stringMatching(dataRef(type, idPart, attr));

// Names are unique per type, so a matcher that finds a resource by its name finds the one resource.
it.each([
  ['aws_lambda_function', 'function_name'], ['aws_sqs_queue', 'name'], ['aws_cloudwatch_metric_alarm', 'alarm_name'],
  ['aws_cloudwatch_event_rule', 'name'], ['aws_cloudwatch_log_group', 'name'], ['aws_iam_role', 'name'],
])('compute stack: every %s has its own %s', (type, key) => {
  expect(Object.keys(resources(tf, type)).length).toBeGreaterThan(0);
  expect(repeated(tf, type, key)).toEqual([]);
});

describe('compute stack: Lambda functions', () => {
  const contractEnv: Record<string, string[]> = {
    orchestrator: ['JOB_QUEUE_ARN', 'JOB_DEFINITION_ARN', 'INPUT_BUCKET', 'INPUT_PREFIX', 'PROCESSED_BUCKET', 'S3_KMS_KEY_ARN',
      'JOB_STATUS_TABLE', 'AUDIT_LOG_TABLE', 'ALERTS_TOPIC_ARN', 'TRANSACTIONS_PER_JOB', 'ENVIRONMENT'],
    ingest: ['INPUT_BUCKET', 'PAYMENT_BUCKET', 'S3_KMS_KEY_ARN', 'TRANSACTIONS_TABLE', 'IDEMPOTENCY_TABLE', 'AUDIT_LOG_TABLE', 'MAX_AMOUNT'],
    // No METRICS_NAMESPACE: handlers take namespaces from lambda-src/shared/metric-names.ts.
    'job-events': ['JOB_STATUS_TABLE', 'AUDIT_LOG_TABLE', 'ALERTS_TOPIC_ARN', 'BATCH_WINDOW_HOURS', 'ENVIRONMENT'],
    'run-deadline': ['JOB_STATUS_TABLE', 'ALERTS_TOPIC_ARN', 'BATCH_WINDOW_HOURS', 'ENVIRONMENT'],
  };

  it.each(Object.keys(contractEnv))('%s: built from lambda-src/%s, nodejs22.x, VPC, X-Ray, DLQ, reserved concurrency, contract env', (entry) => {
    const [fnId, fn] = byName('aws_lambda_function', 'function_name', `finbatch-dev-${entry}`);
    const bundle = bundleHandler(entry);
    expect(bundle.entry).toBe(`lambda-src/${entry}/index.ts`);
    expect(platform.compute.functions[entry as 'ingest'].entry).toBe(`lambda-src/${entry}/index.ts`);
    const [dlqId] = byName('aws_sqs_queue', 'name', `finbatch-dev-${entry}-dlq`);
    expect(json).toHaveResourceWithProperties(LambdaFunction, {
      function_name: `finbatch-dev-${entry}`,
      source_code_hash: bundle.sha256Base64,
      filename: expect.stringMatching(new RegExp(`^assets/${entry}_code_[A-Z0-9]+/.+/function\\.zip$`)),
      runtime: 'nodejs22.x',
      handler: 'index.handler',
      tracing_config: { mode: 'Active' },
      dead_letter_config: { target_arn: `\${aws_sqs_queue.${dlqId}.arn}` },
      kms_key_arn: fromData('aws_kms_key', 'workload-key', 'arn'),
    });
    expect(fn.reserved_concurrent_executions).toBeGreaterThanOrEqual(1);
    expect(fn.vpc_config.security_group_ids).toEqual([expect.stringMatching(/cross-stack-reference-input-network.*lambda-sg/)]);
    expect(fn.vpc_config.subnet_ids).toHaveLength(3);
    const vars = fn.environment.variables as Record<string, string>;
    expect(Object.keys(vars).filter((k) => k !== 'POWERTOOLS_SERVICE_NAME').sort()).toEqual([...contractEnv[entry]].sort());
    expect(json).toHaveResourceWithProperties(CloudwatchLogGroup, {
      name: `/aws/lambda/finbatch-dev-${entry}`, retention_in_days: 365, kms_key_id: fromData('aws_kms_key', 'logs-key', 'arn'),
    });
    expect(fnId).toBeTruthy();
  });

  it('wires contract values: queue/definition ARNs, prefix, sizing, metrics namespace, window', () => {
    expect(json).toHaveResourceWithProperties(LambdaFunction, {
      function_name: 'finbatch-dev-orchestrator',
      reserved_concurrent_executions: 1,
      environment: {
        variables: expect.objectContaining({
          JOB_QUEUE_ARN: '${aws_batch_job_queue.job-queue.arn}',
          JOB_DEFINITION_ARN: '${aws_batch_job_definition.job-definition.arn}',
          INPUT_PREFIX: 'transactions/',
          TRANSACTIONS_PER_JOB: '10000',
          ENVIRONMENT: 'dev',
        }),
      },
    });
    expect(json).toHaveResourceWithProperties(LambdaFunction, {
      function_name: 'finbatch-dev-job-events', environment: { variables: expect.objectContaining({ BATCH_WINDOW_HOURS: '4' }) },
    });
  });
});

describe('compute stack: EventBridge and dead-letter queues', () => {
  const rule = (name: string) => byName('aws_cloudwatch_event_rule', 'name', name);
  const targetsOf = (ruleId: string) => Object.values(resources(tf, 'aws_cloudwatch_event_target')).filter((t) => t.rule === `\${aws_cloudwatch_event_rule.${ruleId}.name}`);
  const fnArn = (entry: string) => `\${aws_lambda_function.${byName('aws_lambda_function', 'function_name', `finbatch-dev-${entry}`)[0]}.arn}`;

  it.each([
    ['finbatch-dev-nightly-batch', 'orchestrator', 'finbatch-dev-nightly-events-dlq', 8, 1800],
    ['finbatch-dev-batch-job-state', 'job-events', 'finbatch-dev-batch-state-events-dlq', 24, 3600],
    ['finbatch-dev-object-created', 'ingest', 'finbatch-dev-object-created-events-dlq', 24, 3600],
  ])('%s -> %s with a retry policy, its own DLQ and a rule-scoped invoke permission', (ruleName, entry, dlqName, attempts, age) => {
    const [ruleId] = rule(ruleName);
    const [dlqId] = byName('aws_sqs_queue', 'name', dlqName);
    expect(targetsOf(ruleId)).toHaveLength(1);
    expect(json).toHaveResourceWithProperties(CloudwatchEventTarget, {
      rule: `\${aws_cloudwatch_event_rule.${ruleId}.name}`,
      arn: fnArn(entry),
      retry_policy: { maximum_retry_attempts: attempts, maximum_event_age_in_seconds: age },
      dead_letter_config: { arn: `\${aws_sqs_queue.${dlqId}.arn}` },
    });
    const perm = Object.values(resources(tf, 'aws_lambda_permission')).filter((p) => p.source_arn === `\${aws_cloudwatch_event_rule.${ruleId}.arn}`);
    expect(perm).toHaveLength(1);
    expect(perm[0]).toMatchObject({ action: 'lambda:InvokeFunction', principal: 'events.amazonaws.com', source_account: ACCOUNT });
    expect(perm[0].function_name).toBe(`\${aws_lambda_function.${byName('aws_lambda_function', 'function_name', `finbatch-dev-${entry}`)[0]}.function_name}`);
    const queuePolicy = Object.values(resources(tf, 'aws_sqs_queue_policy')).find((p) => p.queue_url === `\${aws_sqs_queue.${dlqId}.url}`)!;
    expect(JSON.parse(queuePolicy.policy).Statement[1]).toMatchObject({
      Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage',
      Condition: { ArnEquals: { 'aws:SourceArn': [`\${aws_cloudwatch_event_rule.${ruleId}.arn}`] }, StringEquals: { 'aws:SourceAccount': ACCOUNT } },
    });
  });

  it('schedule from config; Batch rule for this queue only; S3 rule for transactions/ and the payment bucket', () => {
    expect(json).toHaveResourceWithProperties(CloudwatchEventRule, { name: 'finbatch-dev-nightly-batch', schedule_expression: 'cron(0 0 * * ? *)' });
    expect(JSON.parse(rule('finbatch-dev-batch-job-state')[1].event_pattern)).toEqual({
      source: ['aws.batch'], 'detail-type': ['Batch Job State Change'], detail: { jobQueue: ['${aws_batch_job_queue.job-queue.arn}'] },
    });
    const s3 = JSON.parse(rule('finbatch-dev-object-created')[1].event_pattern);
    expect(s3.source).toEqual(['aws.s3']);
    expect(s3['detail-type']).toEqual(['Object Created']);
    expect(s3.detail.$or[0].object).toEqual({ key: [{ prefix: 'transactions/' }] });
    expect(s3.detail.$or[0].bucket.name[0]).toMatch(dataRef('aws_s3_bucket', 'input', 'bucket'));
    expect(s3.detail.$or[1]).toEqual({ bucket: { name: [expect.stringMatching(dataRef('aws_s3_bucket', 'payment-files', 'bucket'))] } });
  });

  it('nine DLQs (one per function, one per EventBridge target): messaging key, 14-day retention, no SQS redrive into them, TLS-only', () => {
    const queues = Object.entries(resources(tf, 'aws_sqs_queue'));
    expect(queues).toHaveLength(9);
    for (const [qid, q] of queues) {
      expect(q.kms_master_key_id).toMatch(dataRef('aws_kms_key', 'messaging-key', 'arn'));
      expect(q.message_retention_seconds).toBe(1209600);
      expect(JSON.parse(q.redrive_allow_policy)).toEqual({ redrivePermission: 'denyAll' });
      const policy = Object.values(resources(tf, 'aws_sqs_queue_policy')).find((p) => p.queue_url === `\${aws_sqs_queue.${qid}.url}`)!;
      expect(JSON.parse(policy.policy).Statement[0]).toEqual({
        Sid: 'DenyInsecureTransport', Effect: 'Deny', Principal: '*', Action: 'sqs:*', Resource: `\${aws_sqs_queue.${qid}.arn}`,
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      });
    }
  });
});

/** A schedule's target: the function, 8 retries within 30 minutes, its own DLQ. */
function expectScheduleTarget(ruleId: string, fnId: string, dlqId: string) {
  expect(json).toHaveResourceWithProperties(CloudwatchEventTarget, {
    rule: `\${aws_cloudwatch_event_rule.${ruleId}.name}`,
    arn: `\${aws_lambda_function.${fnId}.arn}`,
    retry_policy: { maximum_retry_attempts: 8, maximum_event_age_in_seconds: 1800 },
    dead_letter_config: { arn: `\${aws_sqs_queue.${dlqId}.arn}` },
  });
}

/** An alarm that pages on the first 5-minute maximum >= 1 of a FinancialBatch flag metric, quiet when it is missing. */
function expectPagingAlarm(alarmName: string, metricName: string) {
  expect(json).toHaveResourceWithProperties(CloudwatchMetricAlarm, {
    alarm_name: alarmName,
    namespace: 'FinancialBatch', metric_name: metricName, dimensions: { Environment: 'dev' }, statistic: 'Maximum', period: 300,
    comparison_operator: 'GreaterThanOrEqualToThreshold', threshold: 1, evaluation_periods: 1, treat_missing_data: 'notBreaching',
  });
}

describe('compute stack: alarms', () => {
  const alarms = Object.values(resources(tf, 'aws_cloudwatch_metric_alarm'));
  const alarm = (name: string) => byName('aws_cloudwatch_metric_alarm', 'alarm_name', name)[1];

  it('every alarm notifies the batch alerts topic and is enabled; the reporting deadline also the reporting topic', () => {
    expect(alarms).toHaveLength(1 + 8 + 9 + 4 + 1 + 1);
    for (const a of alarms) {
      expect(a.actions_enabled).toBe(true);
      const also = a.alarm_name === 'finbatch-dev-reporting-input-missing' ? [expect.stringMatching(dataRef('aws_sns_topic', 'reporting-alerts', 'arn'))] : [];
      expect(a.alarm_actions).toEqual([expect.stringMatching(dataRef('aws_sns_topic', 'batch-alerts', 'arn')), ...also]);
    }
  });

  it('failed Batch jobs from job-events\' JobsFailed metric', () => {
    expect(json).toHaveResourceWithProperties(CloudwatchMetricAlarm, {
      alarm_name: 'finbatch-dev-batch-jobs-failed',
      namespace: 'FinancialBatch', metric_name: 'JobsFailed', dimensions: { Environment: 'dev' }, statistic: 'Sum',
      comparison_operator: 'GreaterThanOrEqualToThreshold', threshold: 1, treat_missing_data: 'notBreaching',
    });
  });

  it.each(['orchestrator', 'ingest', 'job-events', 'run-deadline'])('%s: Errors and Throttles on its FunctionName', (entry) => {
    for (const metric of ['Errors', 'Throttles']) {
      expect(json).toHaveResourceWithProperties(CloudwatchMetricAlarm, {
        alarm_name: `finbatch-dev-${entry}-${metric.toLowerCase()}`,
        namespace: 'AWS/Lambda', metric_name: metric, dimensions: { FunctionName: `finbatch-dev-${entry}` }, statistic: 'Sum', threshold: 1,
      });
    }
  });

  it('each DLQ alarms on any visible message', () => {
    for (const q of Object.values(resources(tf, 'aws_sqs_queue'))) {
      expect(json).toHaveResourceWithProperties(CloudwatchMetricAlarm, {
        dimensions: { QueueName: q.name },
        namespace: 'AWS/SQS', metric_name: 'ApproximateNumberOfMessagesVisible', statistic: 'Maximum',
        comparison_operator: 'GreaterThanThreshold', threshold: 0,
      });
    }
  });

  it.each(['job-status', 'audit-log', 'transaction-metadata', 'idempotency'])('%s: read + write throttle events on TableName (the metric\'s only dimension)', (purpose) => {
    const a = alarm(`finbatch-dev-${purpose}-throttles`);
    const queries = a.metric_query as Json[];
    expect(queries.filter((q) => q.metric).map((q) => [q.metric.namespace, q.metric.metric_name, q.metric.dimensions, q.metric.stat]))
      .toEqual([
        ['AWS/DynamoDB', 'ReadThrottleEvents', { TableName: `finbatch-dev-${purpose}` }, 'Sum'],
        ['AWS/DynamoDB', 'WriteThrottleEvents', { TableName: `finbatch-dev-${purpose}` }, 'Sum'],
      ]);
    expect(queries.find((q) => q.return_data)).toMatchObject({ expression: 'FILL(reads, 0) + FILL(writes, 0)' });
    expect(alarms.some((x) => x.metric_name === 'ThrottledRequests' && !x.dimensions?.Operation)).toBe(false);
    // The table really exists under that name in the data stack.
    expect(Object.values(resources(all.data, 'aws_dynamodb_table')).map((t) => t.name)).toContain(`finbatch-dev-${purpose}`);
  });

  it('4-hour SLA: a schedule at the window end invokes run-deadline; the alarm pages on its NightlyRunLate, no metric arithmetic', () => {
    const a = alarm('finbatch-dev-nightly-run-sla');
    expectPagingAlarm('finbatch-dev-nightly-run-sla', 'NightlyRunLate');
    expect(a.metric_query).toBeUndefined();
    expect(JSON.stringify(alarms)).not.toMatch(/HOUR\(/);
    expect(a.ok_actions).toBeUndefined();
    // The deadline schedule: nightly start 00:00 + 4 h, with a retry policy and its own DLQ, to run-deadline only.
    const [ruleId] = byName('aws_cloudwatch_event_rule', 'name', 'finbatch-dev-nightly-deadline');
    expect(json).toHaveResourceWithProperties(CloudwatchEventRule, { name: 'finbatch-dev-nightly-deadline', schedule_expression: 'cron(0 4 * * ? *)' });
    const [fnId] = byName('aws_lambda_function', 'function_name', 'finbatch-dev-run-deadline');
    const [dlqId] = byName('aws_sqs_queue', 'name', 'finbatch-dev-deadline-events-dlq');
    expectScheduleTarget(ruleId, fnId, dlqId);
    expect(json).toHaveResourceWithProperties(LambdaPermission, {
      source_arn: `\${aws_cloudwatch_event_rule.${ruleId}.arn}`, principal: 'events.amazonaws.com', function_name: `\${aws_lambda_function.${fnId}.function_name}`,
    });
    expect(alarm('finbatch-dev-deadline-events-dlq-depth')).toBeDefined();
  });

  it('reporting deadline: a schedule at schedules.dailyReporting invokes run-deadline {check: "loaded", time}; the alarm pages on ReportingInputMissing', () => {
    const a = alarm('finbatch-dev-reporting-input-missing');
    expectPagingAlarm('finbatch-dev-reporting-input-missing', 'ReportingInputMissing');
    expect(a.ok_actions).toBeUndefined();
    const [ruleId] = byName('aws_cloudwatch_event_rule', 'name', 'finbatch-dev-reporting-deadline');
    expect(testConfig().schedules.dailyReporting).toBe('cron(0 5 * * ? *)');
    expect(json).toHaveResourceWithProperties(CloudwatchEventRule, { name: 'finbatch-dev-reporting-deadline', schedule_expression: 'cron(0 5 * * ? *)' });
    const targets = Object.values(resources(tf, 'aws_cloudwatch_event_target')).filter((t) => t.rule === `\${aws_cloudwatch_event_rule.${ruleId}.name}`);
    expect(targets).toHaveLength(1);
    const [fnId] = byName('aws_lambda_function', 'function_name', 'finbatch-dev-run-deadline');
    const [dlqId] = byName('aws_sqs_queue', 'name', 'finbatch-dev-reporting-deadline-events-dlq');
    expectScheduleTarget(ruleId, fnId, dlqId);
    expect(targets[0].input).toBeUndefined();
    const transformer = targets[0].input_transformer;
    expect(transformer.input_paths).toEqual({ time: '$.time' });
    // What run-deadline receives: EventBridge puts the Scheduled Event's time in as a JSON string.
    const delivered = JSON.parse(transformer.input_template.replace('<time>', JSON.stringify('2026-11-24T05:00:00Z')));
    expect(delivered).toEqual({ check: 'loaded', time: '2026-11-24T05:00:00Z' });
    // Its own permission (statement ids are unique per function), scoped to this rule.
    const perms = Object.values(resources(tf, 'aws_lambda_permission')).filter((x) => x.function_name === `\${aws_lambda_function.${fnId}.function_name}`);
    expect(perms.map((x) => x.statement_id).sort()).toEqual(['AllowEventBridgeRule', 'AllowReportingDeadlineRule']);
    expect(perms.find((x) => x.statement_id === 'AllowReportingDeadlineRule')).toMatchObject({
      principal: 'events.amazonaws.com', source_arn: `\${aws_cloudwatch_event_rule.${ruleId}.arn}`, source_account: ACCOUNT,
    });
    expect(alarm('finbatch-dev-reporting-deadline-events-dlq-depth')).toBeDefined();
    // The reporting stack no longer starts the workflow on a clock.
    expect(resources(all.reporting, 'aws_scheduler_schedule')).toEqual({});
  });

  it('run-deadline: least privilege (GetItem on the job-status table, decrypt, publish to the batch alerts topic)', () => {
    const roleName = 'finbatch-dev-run-deadline';
    const policies = Object.values(resources(tf, 'aws_iam_role_policy')).filter((x) => String(x.name).startsWith(roleName));
    const actions = policies.flatMap((x) => (JSON.parse(x.policy).Statement as Json[]).filter((st) => st.Effect === 'Allow').flatMap((st) => [].concat(st.Action)));
    expect([...new Set(actions)].sort()).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'kms:Decrypt', 'sns:Publish']));
    expect(actions.filter((a: string) => /^dynamodb:/.test(a))).toEqual(['dynamodb:GetItem']);
    expect(actions.filter((a: string) => /^(s3|batch):/.test(a))).toEqual([]);
  });

  it('slaWindow derives the check hour from the cron and the window, and refuses schedules it cannot judge', () => {
    expect(slaWindow('cron(0 0 * * ? *)', 4)).toEqual({ startMinute: 0, windowHours: 4, checkHour: 4, deadlineSchedule: 'cron(0 4 * * ? *)' });
    expect(slaWindow('cron(30 22 * * ? *)', 4)).toEqual({ startMinute: 1350, windowHours: 4, checkHour: 3, deadlineSchedule: 'cron(30 2 * * ? *)' });
    expect(slaWindow('cron(0 23 ? * * *)', 1)).toMatchObject({ checkHour: 0 });
    expect(() => slaWindow('rate(1 day)', 4)).toThrow(/schedules\.nightlyBatch: .*daily cron/);
    expect(() => slaWindow('cron(0 0 ? * MON-FRI *)', 4)).toThrow(/schedules\.nightlyBatch: .*one fixed daily start time/);
    expect(() => slaWindow('cron(0/30 0 * * ? *)', 4)).toThrow(/schedules\.nightlyBatch/);
    expect(() => platformOf('dev', { schedules: { nightlyBatch: 'rate(12 hours)' } })).toThrow(/schedules\.nightlyBatch/);
  });
});

describe('compute stack: dashboard and outputs', () => {
  const [, dash] = byName('aws_cloudwatch_dashboard', 'dashboard_name', 'finbatch-dev-nightly-run');
  const body = JSON.parse(dash.dashboard_body);
  const widget = (title: RegExp) => body.widgets.find((w: Json) => title.test(w.properties.title)).properties;

  it('shows jobs by status, records, throughput, duration against the 4-hour line, Lambda errors, DLQ depth', () => {
    expect(body.widgets).toHaveLength(6);
    expect(widget(/jobs by final status/).metrics.map((m: unknown[]) => m[1])).toEqual(['JobsSucceeded', 'JobsFailed']);
    expect(widget(/Records processed/).metrics.map((m: unknown[]) => m.slice(0, 4))).toEqual([
      ['FinancialBatch', 'RecordsProcessed', 'Environment', 'dev'], ['FinancialBatch', 'RecordsRejected', 'Environment', 'dev'],
    ]);
    expect(widget(/Throughput/).metrics[1][0]).toMatchObject({ expression: 'processed / PERIOD(processed)' });
    const duration = widget(/duration vs the 4-hour window/);
    expect(duration.metrics[0][1]).toBe('NightlyRunDurationSeconds');
    expect(duration.annotations.horizontal).toEqual([expect.objectContaining({ value: 14400, label: '4-hour SLA' })]);
    expect(widget(/Lambda errors/).metrics.map((m: unknown[]) => m[3])).toEqual(['finbatch-dev-orchestrator', 'finbatch-dev-ingest', 'finbatch-dev-job-events', 'finbatch-dev-run-deadline']);
    const queues = Object.values(resources(tf, 'aws_sqs_queue')).map((q) => q.name).sort();
    expect(widget(/Dead-letter/).metrics.map((m: unknown[]) => m[3]).sort()).toEqual(queues);
    for (const w of body.widgets) expect(w.properties.region).toBe('us-east-1');
  });

  it('the line follows the configured window', () => {
    const b = nightlyDashboardBody({ dashboardName: 'x', region: 'eu-west-1', environment: 'prod', windowHours: 6, functionNames: [], queueNames: [] });
    const d = b.widgets.find((w) => /duration/.test(w.properties.title))!;
    expect(d.properties.annotations!.horizontal[0].value).toBe(21600);
  });

  it('outputs queue, job definition, functions, ECR URL, dashboard', () => {
    expect(Object.keys(tf.output ?? {})).toEqual(expect.arrayContaining([
      'ecr_repository_url', 'job_queue_arn', 'job_definition_arn', 'compute_environment_arn',
      'orchestrator_function_name', 'orchestrator_function_arn', 'ingest_function_name', 'ingest_function_arn',
      'job_events_function_name', 'job_events_function_arn', 'dashboard_name', 'nightly_events_dlq_url',
    ]));
  });
});
