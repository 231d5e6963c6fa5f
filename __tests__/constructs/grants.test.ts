import { Testing, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { KmsKey } from '../../stacks/constructs/kms-key';
import { RolePolicy, ServiceRole } from '../../stacks/constructs/grants';
import { SecureBucket } from '../../stacks/constructs/secure-bucket';
import { AlertTopic } from '../../stacks/constructs/alert-topic';
import { TableGrants } from '../../stacks/data/table-grants';
import { PlatformPart, PlatformStack } from '../../stacks/platform-stack';
import { platformScope } from '../../test-support/platform-scope';

const key = (scope: Construct, id: string, grantSid: string) => new KmsKey(scope, id, { alias: id, description: id, accountId: '111111111111', grantSid });
const sids = (policy: RolePolicy) => policy.document().map((s) => s.Sid);

describe('RolePolicy', () => {
  it('renders one statement per key, after the last statement that needed it, at the highest access asked for, with the closing denies last', () => {
    const stack = new TerraformStack(Testing.app(), 's');
    const s3 = key(stack, 'data-s3', 'S3DataKey');
    const dynamo = key(stack, 'dynamo', 'DynamoDbKey');
    const policy = new RolePolicy([{ Sid: 'Deny', Effect: 'Deny', Action: '*', Resource: '*' }]);
    const grantee = { grantPolicy: policy };
    policy.addStatements({ Sid: 'ReadA', Effect: 'Allow', Action: 's3:GetObject', Resource: 'a' });
    s3.grantDecrypt(grantee);
    policy.addStatements({ Sid: 'WriteB', Effect: 'Allow', Action: 's3:PutObject', Resource: 'b' });
    s3.grantEncryptDecrypt(grantee);
    policy.addStatements({ Sid: 'Table', Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: 't' });
    dynamo.grantDecrypt(grantee);
    policy.addStatements({ Sid: 'Other', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'q' });
    expect(sids(policy)).toEqual(['ReadA', 'WriteB', 'S3DataKey', 'Table', 'DynamoDbKeyRead', 'Other', 'Deny']);
    const doc = policy.document();
    expect(doc.find((s) => s.Sid === 'S3DataKey')!.Action).toEqual(['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey']);
    expect(doc.find((s) => s.Sid === 'DynamoDbKeyRead')!.Action).toEqual(['kms:Decrypt', 'kms:DescribeKey']);
  });

  it('never lowers an access level once granted, and keeps an explicit Sid', () => {
    const stack = new TerraformStack(Testing.app(), 's');
    const k = key(stack, 'workload', 'WorkloadKey');
    const policy = new RolePolicy();
    k.grantDataKey({ grantPolicy: policy }, 'QueueKey');
    k.grantDecrypt({ grantPolicy: policy });
    expect(policy.document()).toEqual([{ Sid: 'QueueKey', Effect: 'Allow', Action: ['kms:GenerateDataKey*', 'kms:Decrypt'], Resource: k.arn }]);
  });

  it('a ServiceRole re-renders its inline policy when grants arrive after it was created', () => {
    const stack = new TerraformStack(Testing.app(), 's');
    const bucketKey = key(stack, 'data-s3', 'S3DataKey');
    const bucket = new SecureBucket(stack, 'b', {
      bucketName: 'bucket-1', encryption: { key: bucketKey }, accessLogBucket: 'logs', lifecycleRules: [{ id: 'r', expirationDays: 1 }],
    });
    const role = new ServiceRole(stack, { roleId: 'role', policyId: 'policy', roleName: 'r', policyName: 'p', assumedBy: 'lambda.amazonaws.com' });
    bucket.grantRead(role, 'ReadIn', 'in/');
    bucket.grantWrite(role, 'WriteOut', 'out/');
    const synth = JSON.parse(Testing.synth(stack));
    const policy = JSON.parse(Object.values<{ policy: string }>(synth.resource.aws_iam_role_policy)[0].policy);
    expect(policy.Statement.map((s: { Sid: string }) => s.Sid)).toEqual(['ReadInObjects', 'ReadInList', 'WriteOutWrite', 'S3DataKey']);
    expect(policy.Statement[0].Resource).toBe(`\${aws_s3_bucket.${stack.getLogicalId(bucket.bucket)}.arn}/in/*`);
    expect(policy.Statement[1].Condition).toEqual({ StringLike: { 's3:prefix': ['in/*'] } });
  });

  it('table grants ask for decrypt only when every action reads; topic grants ask for data keys', () => {
    const stack = new TerraformStack(Testing.app(), 's');
    const dynamo = key(stack, 'dynamo', 'DynamoDbKey');
    const messaging = key(stack, 'messaging', 'MessagingKey');
    const table = new TableGrants({ arn: 'arn:table' }, dynamo);
    const reader = { grantPolicy: new RolePolicy() };
    table.grant(reader, 'Read', ['dynamodb:GetItem', 'dynamodb:Query'], { indexes: true });
    expect(sids(reader.grantPolicy)).toEqual(['Read', 'DynamoDbKeyRead']);
    expect(reader.grantPolicy.document()[0].Resource).toEqual(['arn:table', 'arn:table/index/*']);
    const writer = { grantPolicy: new RolePolicy() };
    table.grant(writer, 'Write', ['dynamodb:GetItem', 'dynamodb:PutItem']);
    expect(sids(writer.grantPolicy)).toEqual(['Write', 'DynamoDbKey']);
    const topic = new AlertTopic(stack, 't', { topicName: 't', key: messaging, email: 'ops@example.com', region: 'us-east-1', accountId: '111111111111' });
    const publisher = { grantPolicy: new RolePolicy() };
    topic.grantPublish(publisher, 'Publish');
    expect(publisher.grantPolicy.document()).toEqual([
      { Sid: 'Publish', Effect: 'Allow', Action: 'sns:Publish', Resource: [topic.arn] },
      { Sid: 'MessagingKey', Effect: 'Allow', Action: ['kms:GenerateDataKey*', 'kms:Decrypt'], Resource: messaging.arn },
    ]);
  });
});

class Group extends PlatformPart {}

describe('PlatformPart', () => {
  const addressOf = (stack: TerraformStack, queue: SqsQueue) => stack.getLogicalId(queue);

  it('is left out of resource addresses: a resource keeps its address when it moves into a part', () => {
    const flat = platformScope();
    const direct = new SqsQueue(new Construct(flat, 'holder'), 'queue', { name: 'q' });
    const grouped = platformScope();
    const inPart = new SqsQueue(new Construct(new Group(grouped, 'part'), 'holder'), 'queue', { name: 'q' });
    expect(addressOf(grouped, inPart)).toBe(addressOf(flat, direct));
    expect(inPart.node.path).toBe('test/part/holder/queue');
  });

  it('reads config, account and naming from the stack, and refuses to live outside a platform stack', () => {
    const stack = platformScope();
    expect(PlatformStack.of(new Group(stack, 'g')).name('x')).toBe(stack.name('x'));
    expect(() => new Group(new TerraformStack(Testing.app(), 'plain'), 'g')).toThrow(/not inside a platform stack/);
  });

  it('two resources that would share an address are an error, not a silent overwrite', () => {
    const stack = platformScope();
    new SqsQueue(new Group(stack, 'a'), 'queue', { name: 'q1' });
    new SqsQueue(new Group(stack, 'b'), 'queue', { name: 'q2' });
    expect(() => Testing.synth(stack)).toThrow(/test\/b\/queue and test\/a\/queue would both have the Terraform address "queue"/);
  });
});
