import { Construct } from 'constructs';
import { Token } from 'cdktf';
import { partitionOf } from '../platform-stack';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { PolicyStatement, renderPolicy } from './policy';
import type { GrantableKey, IGrantable } from './grants';

export interface AlertTopicProps {
  readonly topicName: string;
  /**
   * Customer-managed key whose policy lets cloudwatch.amazonaws.com and events.amazonaws.com use it:
   * `key` (then `grantPublish` also grants its use) or, for a key only known by ARN, `kmsKeyArn`.
   */
  readonly key?: GrantableKey;
  readonly kmsKeyArn?: string;
  readonly email: string;
  readonly region: string;
  readonly accountId: string;
}

/** Topic-policy statements: CloudWatch alarms and EventBridge rules of this account publish; no publish without TLS. */
export function alertTopicStatements(topicArn: string, region: string, accountId: string, partition: string): PolicyStatement[] {
  const fromThisAccount = (sourceArn: string): PolicyStatement['Condition'] => ({
    StringEquals: { 'aws:SourceAccount': accountId },
    ArnLike: { 'aws:SourceArn': sourceArn },
  });
  return [
    {
      Sid: 'CloudWatchAlarmsPublish',
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: 'sns:Publish',
      Resource: topicArn,
      Condition: fromThisAccount(`arn:${partition}:cloudwatch:${region}:${accountId}:alarm:*`),
    },
    {
      Sid: 'EventBridgeRulesPublish',
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'sns:Publish',
      Resource: topicArn,
      Condition: fromThisAccount(`arn:${partition}:events:${region}:${accountId}:rule/*`),
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
 * A KMS-encrypted SNS topic for alerts (security, batch, reporting) with an explicit topic policy and
 * an email subscription. An encrypted topic that alarms cannot publish to fails silently, so the key
 * must grant CloudWatch and EventBridge; the platform's roles publish through their own IAM policies
 * (same-account access needs only one side), so they are not listed here. The subscription stays
 * pending until the recipient confirms it (docs/operations.md).
 */
export class AlertTopic extends Construct {
  readonly topic: SnsTopic;
  readonly arn: string;
  private readonly key?: GrantableKey;

  constructor(scope: Construct, id: string, props: AlertTopicProps) {
    super(scope, id);
    // A Terraform variable's value is checked by the variable's own validation at plan time.
    if (!Token.isUnresolved(props.email) && !/^[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}$/.test(props.email)) {
      throw new Error(`AlertTopic ${id}: email "${props.email}" must be an email address`);
    }
    if ((props.key === undefined) === (props.kmsKeyArn === undefined)) {
      throw new Error(`AlertTopic ${id}: give exactly one of key and kmsKeyArn`);
    }
    this.key = props.key;
    const kmsMasterKeyId = props.key?.arn ?? props.kmsKeyArn;
    this.topic = new SnsTopic(this, 'topic', { name: props.topicName, kmsMasterKeyId });
    this.arn = this.topic.arn;
    new SnsTopicPolicy(this, 'policy', {
      arn: this.topic.arn,
      policy: renderPolicy(alertTopicStatements(this.topic.arn, props.region, props.accountId, partitionOf(this))),
    });
    new SnsTopicSubscription(this, 'email', { topicArn: this.topic.arn, protocol: 'email', endpoint: props.email });
  }

  /** Grant publishing to this topic (statement `sid`) and the data keys its encryption needs. */
  grantPublish(grantee: IGrantable, sid: string): void {
    grantee.grantPolicy.addStatements({ Sid: sid, Effect: 'Allow', Action: 'sns:Publish', Resource: [this.arn] });
    if (this.key) grantee.grantPolicy.requireKey(this.key, 'dataKey');
  }
}
