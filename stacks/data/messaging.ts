import { Construct } from 'constructs';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { PolicyStatement, renderPolicy } from '../constructs/policy';

export interface AlertTopicProps {
  readonly topicName: string;
  readonly kmsKeyArn: string;
  readonly accountId: string;
  readonly region: string;
  readonly email: string;
}

/**
 * A KMS-encrypted SNS topic for operational alerts with an explicit topic policy: CloudWatch alarms and
 * EventBridge rules of this account may publish (aws:SourceAccount + aws:SourceArn of this account's
 * alarms/rules), nothing may publish without TLS. The platform's roles publish through their own IAM
 * policies (same-account access needs only one side), so they are not listed here. The e-mail
 * subscription stays pending until the recipient confirms it (docs/operations.md).
 */
export function createAlertTopic(scope: Construct, id: string, p: AlertTopicProps): SnsTopic {
  const topic = new SnsTopic(scope, id, { name: p.topicName, kmsMasterKeyId: p.kmsKeyArn });
  const statements: PolicyStatement[] = [
    {
      Sid: 'CloudWatchAlarmsPublish',
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: 'sns:Publish',
      Resource: topic.arn,
      Condition: {
        StringEquals: { 'aws:SourceAccount': p.accountId },
        ArnLike: { 'aws:SourceArn': `arn:aws:cloudwatch:${p.region}:${p.accountId}:alarm:*` },
      },
    },
    {
      Sid: 'EventBridgeRulesPublish',
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'sns:Publish',
      Resource: topic.arn,
      Condition: {
        StringEquals: { 'aws:SourceAccount': p.accountId },
        ArnLike: { 'aws:SourceArn': `arn:aws:events:${p.region}:${p.accountId}:rule/*` },
      },
    },
    {
      Sid: 'DenyInsecureTransport',
      Effect: 'Deny',
      Principal: '*',
      Action: 'sns:Publish',
      Resource: topic.arn,
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    },
  ];
  new SnsTopicPolicy(scope, `${id}-policy`, { arn: topic.arn, policy: renderPolicy(statements) });
  new SnsTopicSubscription(scope, `${id}-email`, { topicArn: topic.arn, protocol: 'email', endpoint: p.email });
  return topic;
}

/** Identity-policy statement letting a role publish to exactly these topics. */
export function publishStatement(sid: string, topics: SnsTopic[]): PolicyStatement {
  return { Sid: sid, Effect: 'Allow', Action: 'sns:Publish', Resource: topics.map((t) => t.arn) };
}
