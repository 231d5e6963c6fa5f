/**
 * Reporting stack, orchestration side: the state machine and its role, who may start it (report-loader,
 * no schedule), SES and its delivery events, alarms and outputs, the loader's trigger wiring.
 */
import { Testing } from 'cdktf';
import { ReportingEmail } from '../../stacks/reporting/ses';
import { LOG_DELIVERY_ACTIONS } from '../../stacks/reporting/workflow';
import { KEY_ADMIN_ACTIONS } from '../../stacks/constructs/kms-key';
import {
  allows, arr, cfg, expectUpstream, findResource, fnByName, fnStatements, name, platform, R, rep, resolveIn, resources, roleStatements, tf, upstream,
} from './reporting-fixture';
import { PARTITION } from '../../test-support/terraform-json';
import { platformScope } from '../../test-support/platform-scope';

describe('reporting stack: state machine', () => {
  const sm = findResource(rep, 'aws_sfn_state_machine');
  const sts = roleStatements(sm.role_arn);

  it('logs ALL with execution data to a KMS-encrypted vendedlogs group, with X-Ray tracing', () => {
    expect(sm.name).toBe(name('reporting-workflow'));
    expect(sm.logging_configuration).toMatchObject({ level: 'ALL', include_execution_data: true });
    const groupId = /^\$\{aws_cloudwatch_log_group\.([^.]+)\.arn\}:\*$/.exec(sm.logging_configuration.log_destination)![1];
    const group = resources(rep, 'aws_cloudwatch_log_group')[groupId];
    expect(group.name).toBe(`/aws/vendedlogs/states/${name('reporting-workflow')}`);
    expectUpstream(group.kms_key_id, platform.data, platform.data.logsKey.arn);
    expect(group.retention_in_days).toBe(cfg.retention.logDays);
    expect(sm.tracing_configuration).toEqual({ enabled: true });
  });

  it('may invoke exactly the five workflow functions (and their versions), publish to the reporting topic', () => {
    const invoke = allows(sts, 'lambda:InvokeFunction');
    expect(invoke).toHaveLength(1);
    const ids = ['generate', 'validate', 'deliver', 'confirm', 'failure'].map((n) => fnByName(name(`report-${n}`))[0]);
    expect(arr(invoke[0].Resource).sort()).toEqual(ids.flatMap((id) => [`\${aws_lambda_function.${id}.arn}`, `\${aws_lambda_function.${id}.arn}:*`]).sort());
    const publish = allows(sts, 'sns:Publish');
    expect(publish).toHaveLength(1);
    expectUpstream(publish[0].Resource, platform.data, platform.data.reportingAlertsTopic.arn);
    const kms = sts.filter((s) => arr(s.Action).includes('kms:GenerateDataKey')
      && String(s.Resource).startsWith('${data.terraform_remote_state.')
      && upstream(s.Resource as string) === resolveIn(platform.data, platform.data.messagingKey.arn));
    expect(kms).toHaveLength(1);
  });

  it('uses "*" only for the log-delivery and X-Ray actions that have no resource-level permissions', () => {
    const star = sts.filter((s) => arr(s.Resource).includes('*'));
    expect(star.flatMap((s) => arr(s.Action)).sort()).toEqual([...LOG_DELIVERY_ACTIONS,
      'xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'].sort());
    for (const s of sts) for (const a of arr(s.Action)) expect(a).not.toMatch(/(^\*$|:\*$)/);
    // Distributed Map children: only this state machine's executions and map runs.
    const smArn = `arn:${PARTITION}:states:us-east-1:\${data.aws_caller_identity.caller.account_id}:stateMachine:${name('reporting-workflow')}`;
    expect(allows(sts, 'states:StartExecution')[0].Resource).toBe(smArn);
    expect(allows(sts, 'states:StopExecution')[0].Resource).toBe(`${smArn.replace(':stateMachine:', ':execution:')}/*`);
  });

  it('has no schedule: only report-loader (a loaded night) and the workflow itself (its Map children) may start it', () => {
    expect(resources(rep, 'aws_scheduler_schedule')).toEqual({});
    const smId = Object.keys(resources(rep, 'aws_sfn_state_machine'))[0];
    const ref = `\${aws_sfn_state_machine.${smId}.arn}`;
    expect(Object.values(resources(rep, 'aws_cloudwatch_event_target')).filter((t) => t.arn === ref)).toEqual([]);
    // Who holds states:StartExecution on this state machine, across every role of every stack.
    const starters = Object.values(tf).flatMap((t) => Object.values(resources(t, 'aws_iam_role_policy'))
      .filter((p) => (JSON.parse(p.policy as string).Statement as R[]).some((st) => st.Effect === 'Allow' && arr(st.Action).includes('states:StartExecution')))
      .map((p) => p.name));
    expect(starters.sort()).toEqual([`${name('report-loader')}-policy`, `${name('reporting-workflow')}-policy`]);
    expect(allows(fnStatements(name('report-loader')), 'states:StartExecution')).toEqual([
      { Sid: 'StartReportingWorkflow', Effect: 'Allow', Action: 'states:StartExecution', Resource: ref },
    ]);
  });
});

describe('reporting stack: state machine encryption', () => {
  const sm = findResource(rep, 'aws_sfn_state_machine');
  const smArn = `arn:${PARTITION}:states:us-east-1:\${data.aws_caller_identity.caller.account_id}:stateMachine:${name('reporting-workflow')}`;
  const stateMachineContext = { StringEquals: { 'kms:EncryptionContext:aws:states:stateMachineArn': smArn } };
  // The state machine and its Distributed Map runs (children report under <arn>/<label>), nothing else.
  const stateMachineDataContext = { StringLike: { 'kms:EncryptionContext:aws:states:stateMachineArn': [smArn, `${smArn}/*`] } };
  const logsContext = { StringEquals: { 'kms:EncryptionContext:SourceArn': `arn:${PARTITION}:logs:us-east-1:\${data.aws_caller_identity.caller.account_id}:*` } };
  const keyRef = sm.encryption_configuration?.kms_key_id as string;
  const keyId = /^\$\{aws_kms_key\.([^.]+)\.arn\}$/.exec(keyRef ?? '')?.[1];
  const key = keyId ? resources(rep, 'aws_kms_key')[keyId] : undefined;
  const keyPolicy = key ? JSON.parse(key.policy as string).Statement as R[] : [];
  const bySid = (sid: string) => keyPolicy.find((st) => st.Sid === sid);

  it('encrypts definition and execution history with a dedicated, rotated customer-managed key', () => {
    expect(sm.encryption_configuration).toEqual({
      type: 'CUSTOMER_MANAGED_KMS_KEY', kms_key_id: keyRef, kms_data_key_reuse_period_seconds: 300,
    });
    expect(key).toBeDefined();
    expect(key!.enable_key_rotation).toBe(true);
    // Not the function key (shared with EventBridge and every reporting Lambda).
    expect(keyRef).not.toBe(`\${aws_kms_key.${Object.keys(resources(rep, 'aws_kms_key')).find((k) => /Lambda environment/.test(resources(rep, 'aws_kms_key')[k].description as string))}.arn}`);
    const alias = findResource(rep, 'aws_kms_alias', (a) => a.target_key_id === `\${aws_kms_key.${keyId}.key_id}`);
    expect(alias.name).toBe(`alias/${name('reporting-workflow')}`);
  });

  it('key policy: the root only administers; every use is for this state machine (or its log data keys)', () => {
    const root = bySid('AccountRootAdministers')!;
    expect(arr(root.Action).sort()).toEqual([...KEY_ADMIN_ACTIONS].sort());
    for (const a of ['kms:*', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:CreateGrant']) expect(arr(root.Action)).not.toContain(a);
    expect(keyPolicy.map((st) => st.Sid).sort()).toEqual(
      ['AccountRootAdministers', 'AccountViaStepFunctions', 'ExecutionRoleLogDeliveryKeys', 'ExecutionRoleStateMachineData', 'LogDeliveryDecrypt'].sort());
    // The execution role: its state machine's data (and the Distributed Map children, same ARN).
    expect(bySid('ExecutionRoleStateMachineData')).toEqual({
      Sid: 'ExecutionRoleStateMachineData', Effect: 'Allow', Principal: { AWS: sm.role_arn }, Resource: '*',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Condition: stateMachineDataContext,
    });
    expect(bySid('ExecutionRoleLogDeliveryKeys')).toMatchObject({ Principal: { AWS: sm.role_arn }, Action: 'kms:GenerateDataKey', Condition: logsContext });
    // Account principals (Terraform, the schedule role, operators) only through Step Functions, only this state machine.
    expect(bySid('AccountViaStepFunctions')).toMatchObject({
      Principal: { AWS: `arn:${PARTITION}:iam::\${data.aws_caller_identity.caller.account_id}:root` },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Condition: {
        StringEquals: { 'kms:CallerAccount': '${data.aws_caller_identity.caller.account_id}', 'kms:ViaService': 'states.us-east-1.amazonaws.com' },
        ...stateMachineDataContext,
      },
    });
    // CloudWatch Logs delivery of the ALL-level execution logs decrypts the role's log data keys.
    expect(bySid('LogDeliveryDecrypt')).toMatchObject({ Principal: { Service: 'delivery.logs.amazonaws.com' }, Action: 'kms:Decrypt', Condition: logsContext });
    // The ARN is built from the name: referencing the state machine would be a cycle (it references the key).
    expect(key!.policy as string).not.toMatch(/aws_sfn_state_machine/);
  });

  it('grants the execution role Decrypt/GenerateDataKey on the key for this state machine, and log data keys', () => {
    const sts = roleStatements(sm.role_arn).filter((st) => arr(st.Resource).includes(keyRef));
    expect(sts.map((st) => ({ Action: st.Action, Condition: st.Condition }))).toEqual([
      { Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Condition: stateMachineDataContext },
      { Action: 'kms:GenerateDataKey', Condition: logsContext },
    ]);
  });

  it('grants report-loader GenerateDataKey/Decrypt on the key for this state machine only (StartExecution encrypts the input)', () => {
    const sts = fnStatements(name('report-loader')).filter((st) => arr(st.Resource).includes(keyRef));
    expect(sts).toEqual([{ Sid: 'WorkflowInputKey', Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: keyRef, Condition: stateMachineContext }]);
  });
});

describe('reporting stack: SES', () => {
  it('verifies the configured domain and routes delivery events of its configuration set to report-confirm', () => {
    const identity = findResource(rep, 'aws_sesv2_email_identity');
    expect(identity.email_identity).toBe(cfg.reporting.sesIdentity);
    const set = findResource(rep, 'aws_sesv2_configuration_set');
    expect(set.configuration_set_name).toBe(name('reports'));
    expect(set.delivery_options).toEqual({ tls_policy: 'REQUIRE' });
    const dest = findResource(rep, 'aws_sesv2_configuration_set_event_destination');
    expect(dest.event_destination.event_bridge_destination.event_bus_arn)
      .toBe(`arn:${PARTITION}:events:us-east-1:\${data.aws_caller_identity.caller.account_id}:event-bus/default`);
    expect([...dest.event_destination.matching_event_types].sort()).toEqual(['BOUNCE', 'COMPLAINT', 'DELIVERY', 'REJECT']);

    const rule = findResource(rep, 'aws_cloudwatch_event_rule');
    const pattern = JSON.parse(rule.event_pattern as string);
    expect(pattern.source).toEqual(['aws.ses']);
    expect(pattern['detail-type'].sort()).toEqual(['Email Bounced', 'Email Complaint Received', 'Email Delivered', 'Email Rejected']);
    expect(pattern.detail.mail.tags['ses:configuration-set']).toEqual([name('reports')]);
    const target = findResource(rep, 'aws_cloudwatch_event_target');
    const [confirmId] = fnByName(name('report-confirm'));
    expect(target.arn).toBe(`\${aws_lambda_function.${confirmId}.arn}`);
    expect(target.dead_letter_config.arn).toMatch(/^\$\{aws_sqs_queue\./);
    const perm = findResource(rep, 'aws_lambda_permission', (p) => p.principal === 'events.amazonaws.com');
    expect(perm).toMatchObject({ principal: 'events.amazonaws.com', action: 'lambda:InvokeFunction' });
    expect(perm.source_arn).toMatch(/^\$\{aws_cloudwatch_event_rule\.[^.]+\.arn\}$/);
    // The target's DLQ admits exactly this rule (by the ARN of its name) and no other queue admits EventBridge.
    const dlqId = /^\$\{aws_sqs_queue\.([^.]+)\.arn\}$/.exec(target.dead_letter_config.arn)![1];
    const policies = Object.values(resources(rep, 'aws_sqs_queue_policy'));
    const admitsEvents = policies.filter((qp) => JSON.parse(qp.policy as string).Statement.some((st: any) => st.Principal?.Service === 'events.amazonaws.com'));
    expect(admitsEvents).toHaveLength(1);
    expect(admitsEvents[0].queue_url).toBe(`\${aws_sqs_queue.${dlqId}.url}`);
    const statements = JSON.parse(admitsEvents[0].policy as string).Statement;
    expect(statements.find((st: any) => st.Sid === 'EventBridgeRulesSendFailedEvents').Condition).toEqual({
      ArnEquals: { 'aws:SourceArn': [`arn:${PARTITION}:events:us-east-1:\${data.aws_caller_identity.caller.account_id}:rule/${rule.name}`] },
      StringEquals: { 'aws:SourceAccount': '${data.aws_caller_identity.caller.account_id}' },
    });
    expect(statements.find((st: any) => st.Sid === 'DenyInsecureTransport')).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
  });

  it('uses an email identity when sesIdentity is an address, and rejects a malformed domain', () => {
    const stack = platformScope();
    const email = new ReportingEmail(stack, 'email', { identity: 'reports@example.com', configurationSetName: 'x-reports' });
    expect(email.isDomain).toBe(false);
    expect(Testing.synth(stack)).toHaveResourceWithProperties({ tfResourceType: 'aws_sesv2_email_identity' }, { email_identity: 'reports@example.com' });
    expect(() => new ReportingEmail(stack, 'bad', { identity: 'not a domain', configurationSetName: 'y' }))
      .toThrow('reporting.sesIdentity: "not a domain" must be a domain');
  });
});

describe('reporting stack: alarms and outputs', () => {
  const alarms = Object.values(resources(rep, 'aws_cloudwatch_metric_alarm'));
  const topic = resolveIn(platform.data, platform.data.reportingAlertsTopic.arn);

  it('alarms on failed and timed-out runs and generate/validate errors, notifying the reporting topic', () => {
    const smId = Object.keys(resources(rep, 'aws_sfn_state_machine'))[0];
    const byMetric = (metric: string) => alarms.filter((a) => a.metric_name === metric);
    for (const m of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
      expect(byMetric(m).filter((a) => !(a.dimensions.StateMachineArn as string).includes('/'))).toEqual([expect.objectContaining({
        namespace: 'AWS/States', dimensions: { StateMachineArn: `\${aws_sfn_state_machine.${smId}.arn}` }, threshold: 1,
      })]);
    }
    const errors = byMetric('Errors').map((a) => a.dimensions.FunctionName).sort();
    expect(errors).toEqual(['generate', 'validate'].map((n) => `\${aws_lambda_function.${fnByName(name(`report-${n}`))[0]}.function_name}`).sort());
    for (const a of alarms) {
      expect(a.alarm_actions).toHaveLength(1);
      expect(upstream(a.alarm_actions[0])).toBe(topic);
    }
    expect(alarms).toHaveLength(6);
  });

  it('alarms on failed reports through the Map Run children\'s own ExecutionsFailed metric', () => {
    const sm = findResource(rep, 'aws_sfn_state_machine');
    const def = JSON.parse(sm.definition as string);
    const label = def.States.GenerateReports.Label;
    expect(label).toBeTruthy();
    const reports = alarms.filter((a) => a.metric_name === 'ExecutionsFailed' && (a.dimensions.StateMachineArn as string).endsWith(`/${label}`));
    expect(reports).toHaveLength(1);
    expect(reports[0].dimensions.StateMachineArn)
      .toBe(`arn:${PARTITION}:states:us-east-1:\${data.aws_caller_identity.caller.account_id}:stateMachine:${sm.name}/${label}`);
    expect(reports[0]).toMatchObject({ namespace: 'AWS/States', statistic: 'Sum', threshold: 1 });
  });

  it('alarms on delivery failures with a query matching all three ReportsDelivered dimensions', () => {
    const delivery = alarms.find((a) => a.metric_query);
    const q = delivery!.metric_query[0];
    expect(q.return_data).toBe(true);
    expect(q.expression).toBe(
      'SELECT SUM(ReportsDelivered) FROM SCHEMA("RegulatoryReporting", Jurisdiction, ReportType, Status) WHERE Status = \'DELIVERY_FAILED\'');
  });

  it('outputs the state machine, reports bucket, cluster endpoint, secret and topic', () => {
    const out = rep.output!;
    const smId = Object.keys(resources(rep, 'aws_sfn_state_machine'))[0];
    const cluster = Object.keys(resources(rep, 'aws_rds_cluster'))[0];
    expect(out.state_machine_arn.value).toBe(`\${aws_sfn_state_machine.${smId}.arn}`);
    expect(out.aurora_cluster_endpoint.value).toBe(`\${aws_rds_cluster.${cluster}.endpoint}`);
    expect(out.db_secret_arn.value).toBe(`\${aws_rds_cluster.${cluster}.master_user_secret[0].secret_arn}`);
    expect(upstream(out.reports_bucket.value as string)).toEqual(resolveIn(platform.data, platform.data.reportsBucket.name));
    expect(upstream(out.reporting_topic_arn.value as string)).toEqual(topic);
  });
});

describe('reporting stack: nightly load', () => {
  it('subscribes the loader to RUN_COMPLETED on the batch-alerts topic, with a DLQ for failed loads', () => {
    const loaderId = Object.entries(rep.resource!.aws_lambda_function).find(([, f]) => (f as any).function_name === 'finbatch-dev-report-loader')![0];
    const loader = rep.resource!.aws_lambda_function[loaderId] as any;
    const subs = Object.values(rep.resource!.aws_sns_topic_subscription) as any[];
    expect(subs).toHaveLength(1);
    expect(subs[0]).toMatchObject({ protocol: 'lambda', endpoint: `\${aws_lambda_function.${loaderId}.arn}`, filter_policy_scope: 'MessageAttributes' });
    expect(JSON.parse(subs[0].filter_policy)).toEqual({ event: ['RUN_COMPLETED'] });
    // The topic is the data stack's batch-alerts topic, read through remote state.
    expectUpstream(subs[0].topic_arn, platform.data, platform.data.batchAlertsTopic.arn);
    expect(tf.data.resource!.aws_sns_topic).toBeDefined();
    const perm = (Object.values(rep.resource!.aws_lambda_permission) as any[]).find((p) => p.principal === 'sns.amazonaws.com');
    expect(perm).toMatchObject({ action: 'lambda:InvokeFunction', source_arn: subs[0].topic_arn, function_name: `\${aws_lambda_function.${loaderId}.function_name}` });
    expect(loader.dead_letter_config.target_arn).toMatch(/^\$\{aws_sqs_queue\.[^.]+\.arn\}$/);
  });

  it('gives the loader the trigger env: run records, the reporting state machine, the reporting alerts topic', () => {
    const env = fnByName(name('report-loader'))[1].environment.variables as Record<string, string>;
    const smId = Object.keys(resources(rep, 'aws_sfn_state_machine'))[0];
    expect(Object.keys(env).sort()).toEqual(['ALERTS_TOPIC_ARN', 'DB_HOST', 'DB_NAME', 'DB_PORT', 'DB_SECRET_ARN', 'ENVIRONMENT',
      'JOB_STATUS_TABLE', 'POWERTOOLS_SERVICE_NAME', 'PROCESSED_BUCKET', 'PROCESSED_KMS_KEY_ARN', 'STATE_MACHINE_ARN'].sort());
    expectUpstream(env.PROCESSED_KMS_KEY_ARN, platform.data, platform.data.s3Key.arn);
    expect(env.ENVIRONMENT).toBe('dev');
    expect(env.STATE_MACHINE_ARN).toBe(`\${aws_sfn_state_machine.${smId}.arn}`);
    expectUpstream(env.JOB_STATUS_TABLE, platform.data, platform.data.jobStatusTable.name);
    expectUpstream(env.ALERTS_TOPIC_ARN, platform.data, platform.data.reportingAlertsTopic.arn);
  });

  it('lets the loader read and mark run records only (LeadingKeys run#*), update only its attributes, publish to the reporting topic', () => {
    const sts = fnStatements(name('report-loader'));
    const table = resolveIn(platform.data, platform.data.jobStatusTable.arn);
    const leadingKeys = { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['run#*'] } };
    const ddb = sts.filter((st) => st.Effect === 'Allow' && arr(st.Action).some((a) => a.startsWith('dynamodb:')));
    expect(ddb.map((st) => [st.Sid, st.Action])).toEqual([['RunRecordRead', 'dynamodb:GetItem'], ['RunRecordMarkLoaded', 'dynamodb:UpdateItem']]);
    for (const st of ddb) expect(upstream(st.Resource as string)).toBe(table);
    expect(ddb[0].Condition).toEqual(leadingKeys);
    expect(ddb[1].Condition).toEqual({
      ...leadingKeys,
      'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['jobId', 'completedAt', 'loadedAt', 'loadedRows', 'reportDate',
        'runRead', 'runAccepted', 'runRejected', 'runShardDuplicates', 'runCrossShardDuplicates', 'runTotalsByCurrency'] },
      StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
    });
    // The table's key, as the other writers of the table get it.
    const key = sts.find((st) => st.Sid === 'DynamoDbKey')!;
    expect(upstream(key.Resource as string)).toBe(resolveIn(platform.data, platform.data.dynamoKey.arn));
    const publish = allows(sts, 'sns:Publish');
    expect(publish).toHaveLength(1);
    expectUpstream(publish[0].Resource, platform.data, platform.data.reportingAlertsTopic.arn);
    const topicKey = sts.find((st) => st.Sid === 'ReportingAlertsKey')!;
    expect(upstream(topicKey.Resource as string)).toBe(resolveIn(platform.data, platform.data.messagingKey.arn));
  });

  it('lets the loader write only processed/<run>/run-summary.json, with the processed bucket key through S3', () => {
    const sts = fnStatements(name('report-loader'));
    const puts = allows(sts, 's3:PutObject');
    expect(puts.map((st) => st.Sid)).toEqual(['RunSummaryWrite']);
    expect(puts[0].Action).toBe('s3:PutObject');
    expect(puts[0].Resource).toMatch(/\}\/processed\/\*\/run-summary\.json$/);
    expect(upstream((puts[0].Resource as string).replace(/\/processed\/\*\/run-summary\.json$/, ''))).toBe(resolveIn(platform.data, platform.data.processedBucket.arn));
    const key = sts.find((st) => st.Sid === 'RunSummaryKey')!;
    expect(key.Action).toBe('kms:GenerateDataKey');
    expect(upstream(key.Resource as string)).toBe(resolveIn(platform.data, platform.data.s3Key.arn));
    expect(key.Condition).toEqual({ StringEquals: { 'kms:ViaService': expect.stringMatching(/^s3\..+\.amazonaws\.com$/) } });
    expect(JSON.stringify(sts)).not.toContain('arn:aws:');
  });

  it('keeps loader -> state machine -> report functions acyclic: the workflow never references the loader', () => {
    const [loaderId] = fnByName(name('report-loader'));
    const sm = findResource(rep, 'aws_sfn_state_machine');
    const smRole = roleStatements(sm.role_arn);
    expect(JSON.stringify(sm)).not.toContain(`aws_lambda_function.${loaderId}`);
    expect(JSON.stringify(smRole)).not.toContain(`aws_lambda_function.${loaderId}`);
    expect(platform.reporting.functions.workflowFunctions()).not.toContain(platform.reporting.functions.loader);
  });
});
