import { Testing, TerraformStack } from 'cdktf';
import { Alarm, AlarmProps } from '../../stacks/constructs/alarm';
import { DeadLetterQueue } from '../../stacks/constructs/dead-letter-queue';
import { KEY_ADMIN_ACTIONS, KmsKey, viaServiceStatements } from '../../stacks/constructs/kms-key';

// Synthesized Terraform JSON is untyped by nature.
type Json = Record<string, any>;

function synth(build: (stack: TerraformStack) => void): Json {
  const app = Testing.app();
  const stack = new TerraformStack(app, 'constructs-test');
  build(stack);
  return JSON.parse(Testing.synth(stack));
}

describe('KmsKey root access', () => {
  const policy = (rootAccess?: 'full' | 'administer') => {
    const out = synth((s) => new KmsKey(s, 'k', {
      alias: 'finbatch-dev-test', description: 'test', accountId: '111111111111', rootAccess,
      statements: viaServiceStatements('S3', '111111111111', 'eu-west-1', ['s3'], 'aws'),
    }));
    return JSON.parse((Object.values(out.resource.aws_kms_key)[0] as Json).policy).Statement;
  };

  it('defaults to kms:* for the root (backward compatible for other stacks)', () => {
    expect(policy()[0]).toMatchObject({ Sid: 'AccountRootAdministers', Action: 'kms:*' });
  });

  it('administer: management only, and use only through the named service of this account', () => {
    const [root, use, grants] = policy('administer');
    expect(root.Action).toEqual(KEY_ADMIN_ACTIONS);
    expect(root.Action.filter((a: string) => /Decrypt|Encrypt|GenerateDataKey|CreateGrant|\*$/.test(a) && !/^kms:(Get|List)\*$/.test(a))).toEqual([]);
    expect(use.Condition).toEqual({ StringEquals: { 'kms:CallerAccount': '111111111111', 'kms:ViaService': ['s3.eu-west-1.amazonaws.com'] } });
    expect(grants.Condition.Bool).toEqual({ 'kms:GrantIsForAWSResource': true });
  });

  it('useStatement/decryptStatement grant the concrete key ARN', () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, 's');
    const key = new KmsKey(stack, 'k', { alias: 'a-b', description: 'd', accountId: '111111111111' });
    expect(key.decryptStatement('Read')).toEqual({ Sid: 'Read', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: key.arn });
    expect(key.useStatement('Rw').Action).toContain('kms:GenerateDataKey*');
  });

  it('refuses an empty service list', () => {
    expect(() => viaServiceStatements('X', '111111111111', 'eu-west-1', [], 'aws')).toThrow(/viaServiceStatements X: services must not be empty/);
  });
});

describe('DeadLetterQueue', () => {
  const build = (extra: Partial<ConstructorParameters<typeof DeadLetterQueue>[2]> = {}) => synth((s) => new DeadLetterQueue(s, 'dlq', {
    queueName: 'finbatch-dev-x-dlq', kmsKeyArn: 'arn:aws:kms:eu-west-1:111111111111:key/k', accountId: '111111111111', ...extra,
  }));

  it('is encrypted, keeps messages 14 days, and accepts no SQS redrive by default', () => {
    const q = Object.values(build().resource.aws_sqs_queue)[0] as Json;
    expect(q).toMatchObject({ name: 'finbatch-dev-x-dlq', kms_master_key_id: 'arn:aws:kms:eu-west-1:111111111111:key/k', message_retention_seconds: 1209600 });
    expect(JSON.parse(q.redrive_allow_policy)).toEqual({ redrivePermission: 'denyAll' });
  });

  it('allow-lists named source queues and EventBridge rules when given', () => {
    const out = build({ redriveSourceQueueArns: ['arn:aws:sqs:eu-west-1:111111111111:src'], eventBridgeRuleArns: ['arn:aws:events:eu-west-1:111111111111:rule/r'] });
    const q = Object.values(out.resource.aws_sqs_queue)[0] as Json;
    expect(JSON.parse(q.redrive_allow_policy)).toEqual({ redrivePermission: 'byQueue', sourceQueueArns: ['arn:aws:sqs:eu-west-1:111111111111:src'] });
    const policy = JSON.parse((Object.values(out.resource.aws_sqs_queue_policy)[0] as Json).policy);
    expect(policy.Statement.map((s: Json) => s.Sid)).toEqual(['DenyInsecureTransport', 'EventBridgeRulesSendFailedEvents']);
    expect(policy.Statement[1].Condition.ArnEquals).toEqual({ 'aws:SourceArn': ['arn:aws:events:eu-west-1:111111111111:rule/r'] });
  });

  it('rejects a bad queue name, naming the prop', () => {
    expect(() => build({ queueName: 'bad name!' })).toThrow(/DeadLetterQueue dlq: queueName "bad name!"/);
  });
});

describe('Alarm', () => {
  const base: AlarmProps = {
    alarmName: 'a', description: 'd',
    metric: { namespace: 'AWS/Lambda', metricName: 'Errors', dimensions: { FunctionName: 'f' }, statistic: 'Sum' },
    periodSeconds: 300, evaluationPeriods: 1, threshold: 1, comparison: 'GreaterThanOrEqualToThreshold',
    treatMissingData: 'notBreaching', alarmTopicArns: ['arn:aws:sns:eu-west-1:111111111111:t'],
  };
  const build = (over: Partial<AlarmProps> = {}) => Object.values(synth((s) => new Alarm(s, 'x', { ...base, ...over })).resource.aws_cloudwatch_metric_alarm)[0] as Json;

  it('notifies on ALARM and OK by default, only on ALARM when asked', () => {
    expect(build()).toMatchObject({ alarm_actions: base.alarmTopicArns, ok_actions: base.alarmTopicArns, actions_enabled: true, period: 300 });
    expect(build({ notifyOnOk: false }).ok_actions).toBeUndefined();
  });

  it('renders metric math with hidden inputs and one returned expression', () => {
    const a = build({ metric: { metrics: { r: { namespace: 'N', metricName: 'M', dimensions: { D: 'v' }, statistic: 'Sum' } }, intermediate: { f: 'FILL(r, 0)' }, expression: 'f * 2', label: 'L' } });
    expect(a.metric_query).toEqual([
      { id: 'r', return_data: false, metric: { namespace: 'N', metric_name: 'M', dimensions: { D: 'v' }, stat: 'Sum', period: 300 } },
      { id: 'f', expression: 'FILL(r, 0)', return_data: false },
      { id: 'alarmed', expression: 'f * 2', label: 'L', return_data: true },
    ]);
    expect(a.metric_name).toBeUndefined();
  });

  it.each([
    [{ alarmTopicArns: [] }, /alarmTopicArns must name at least one topic/],
    [{ periodSeconds: 90 }, /periodSeconds must be 10, 30 or a multiple of 60, got 90/],
    [{ periodSeconds: 86400, evaluationPeriods: 2 }, /periodSeconds x evaluationPeriods must be 1..86400 s, got 172800/],
    [{ evaluationPeriods: 2, datapointsToAlarm: 3 }, /datapointsToAlarm must be 1..evaluationPeriods \(2\), got 3/],
  ])('rejects %o', (over, message) => {
    expect(() => build(over as Partial<AlarmProps>)).toThrow(message);
  });
});
