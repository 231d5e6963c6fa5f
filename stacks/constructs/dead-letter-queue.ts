import { Construct } from 'constructs';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueuePolicy } from '@cdktf/provider-aws/lib/sqs-queue-policy';
import { PolicyStatement, renderPolicy } from './policy';

/** SQS's maximum retention: a dead letter must outlive a long weekend plus an investigation. */
export const DLQ_RETENTION_SECONDS = 14 * 24 * 3600;

export interface DeadLetterQueueProps {
  readonly queueName: string;
  /** Customer-managed key; its policy must let every sender (role via SQS, or service principal) use it. */
  readonly kmsKeyArn: string;
  readonly accountId: string;
  /**
   * Lets EventBridge deliver failed events of exactly these rules (target dead-letter config). Lambda's
   * own async-invoke DLQ needs nothing here: Lambda sends with the function's role (NodejsFunction
   * grants `sqs:SendMessage` on this queue).
   */
  readonly eventBridgeRuleArns?: string[];
  /**
   * Source queues allowed to name this queue in their redrive policy. Empty (default) = `denyAll`:
   * these queues receive from Lambda and EventBridge, never from an SQS redrive.
   */
  readonly redriveSourceQueueArns?: string[];
}

/**
 * A KMS-encrypted dead-letter queue with 14-day retention, a TLS-only queue policy, an explicit
 * redrive-allow policy and, when asked, permission for named EventBridge rules to send to it.
 */
export class DeadLetterQueue extends Construct {
  readonly queue: SqsQueue;
  readonly arn: string;
  readonly name: string;
  /** The configured (literal) name, for alarm dimensions and dashboards that must not wait on a token. */
  readonly queueName: string;
  readonly url: string;
  /** The grant an EventBridge target's dead-letter config needs: targets depend on it. */
  readonly policy: SqsQueuePolicy;

  constructor(scope: Construct, id: string, props: DeadLetterQueueProps) {
    super(scope, id);
    if (!/^[A-Za-z0-9_${}.\-[\]]{1,80}$/.test(props.queueName)) {
      throw new Error(`DeadLetterQueue ${id}: queueName "${props.queueName}" must be 1-80 chars of [A-Za-z0-9_-]`);
    }
    const sources = props.redriveSourceQueueArns ?? [];
    this.queue = new SqsQueue(this, 'queue', {
      name: props.queueName,
      kmsMasterKeyId: props.kmsKeyArn,
      // Reusing a data key for 5 minutes cuts KMS calls (and cost) during a failure burst.
      kmsDataKeyReusePeriodSeconds: 300,
      messageRetentionSeconds: DLQ_RETENTION_SECONDS,
      redriveAllowPolicy: JSON.stringify(sources.length
        ? { redrivePermission: 'byQueue', sourceQueueArns: sources }
        : { redrivePermission: 'denyAll' }),
    });
    this.arn = this.queue.arn;
    this.name = this.queue.name;
    this.queueName = props.queueName;
    this.url = this.queue.url;

    const statements: PolicyStatement[] = [{
      Sid: 'DenyInsecureTransport',
      Effect: 'Deny',
      Principal: '*',
      Action: 'sqs:*',
      Resource: this.arn,
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    }];
    if (props.eventBridgeRuleArns?.length) {
      statements.push({
        Sid: 'EventBridgeRulesSendFailedEvents',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: this.arn,
        Condition: {
          ArnEquals: { 'aws:SourceArn': props.eventBridgeRuleArns },
          StringEquals: { 'aws:SourceAccount': props.accountId },
        },
      });
    }
    this.policy = new SqsQueuePolicy(this, 'policy', { queueUrl: this.queue.url, policy: renderPolicy(statements) });
  }

  /** Identity-policy statement for an operator/redrive role that inspects and drains this queue. */
  consumeStatement(sid: string): PolicyStatement {
    return {
      Sid: sid,
      Effect: 'Allow',
      Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
      Resource: this.arn,
    };
  }
}
