import { Construct } from 'constructs';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { PolicyStatement, renderPolicy } from '../constructs/policy';

export interface SecurityAlertTopicProps {
  readonly topicName: string;
  readonly kmsKeyArn: string;
  readonly email: string;
  readonly region: string;
  readonly accountId: string;
}

/** Topic-policy statements: the owner account administers; EventBridge rules and CloudWatch alarms of this account publish. */
export function alertTopicStatements(topicArn: string, region: string, accountId: string): PolicyStatement[] {
  return [
    {
      Sid: 'OwnerAccountAdministers',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${accountId}:root` },
      Action: ['sns:GetTopicAttributes', 'sns:SetTopicAttributes', 'sns:AddPermission', 'sns:RemovePermission',
        'sns:DeleteTopic', 'sns:Subscribe', 'sns:ListSubscriptionsByTopic', 'sns:Publish'],
      Resource: topicArn,
    },
    {
      Sid: 'EventBridgeRulesPublish',
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'sns:Publish',
      Resource: topicArn,
      Condition: {
        StringEquals: { 'aws:SourceAccount': accountId },
        ArnLike: { 'aws:SourceArn': `arn:aws:events:${region}:${accountId}:rule/*` },
      },
    },
    {
      Sid: 'CloudWatchAlarmsPublish',
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: 'sns:Publish',
      Resource: topicArn,
      Condition: {
        StringEquals: { 'aws:SourceAccount': accountId },
        ArnLike: { 'aws:SourceArn': `arn:aws:cloudwatch:${region}:${accountId}:alarm:*` },
      },
    },
    {
      Sid: 'DenyInsecureTransport',
      Effect: 'Deny',
      Principal: '*',
      Action: 'sns:Publish',
      Resource: topicArn,
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    },
  ];
}

/**
 * Security-alert topic: encrypted with the audit key (whose policy lets events and cloudwatch use
 * it), an explicit topic policy, and an email subscription to the configured security address
 * (the recipient must confirm it once; listed in the runbook's prerequisites).
 */
export class SecurityAlertTopic extends Construct {
  readonly topic: SnsTopic;
  readonly arn: string;

  constructor(scope: Construct, id: string, props: SecurityAlertTopicProps) {
    super(scope, id);
    if (!/^[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}$/.test(props.email)) {
      throw new Error(`SecurityAlertTopic ${id}: email "${props.email}" must be an email address`);
    }
    this.topic = new SnsTopic(this, 'topic', { name: props.topicName, kmsMasterKeyId: props.kmsKeyArn });
    this.arn = this.topic.arn;
    new SnsTopicPolicy(this, 'policy', {
      arn: this.topic.arn,
      policy: renderPolicy(alertTopicStatements(this.topic.arn, props.region, props.accountId)),
    });
    new SnsTopicSubscription(this, 'email', { topicArn: this.topic.arn, protocol: 'email', endpoint: props.email });
  }
}
