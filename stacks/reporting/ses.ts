/**
 * Report email: the SES identity (domain, or a single address when the config value contains "@"),
 * a configuration set that requires TLS and suppresses bounced/complained addresses, and its
 * delivery/bounce/complaint/reject events routed through the default EventBridge bus to report-confirm,
 * so "confirmed" means SES saw the recipient's server accept (or refuse) the message.
 */
import type { Construct } from 'constructs';
import { ITerraformDependable } from 'cdktf';
import { PlatformPart } from '../platform-stack';
import { Sesv2EmailIdentity } from '@cdktf/provider-aws/lib/sesv2-email-identity';
import { Sesv2ConfigurationSet } from '@cdktf/provider-aws/lib/sesv2-configuration-set';
import { Sesv2ConfigurationSetEventDestination } from '@cdktf/provider-aws/lib/sesv2-configuration-set-event-destination';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { PolicyStatement } from '../constructs/policy';
import type { NodejsFunction } from '../constructs/nodejs-function';

/** SES event types that settle a report's delivery status. */
export const SES_EVENT_TYPES = ['DELIVERY', 'BOUNCE', 'COMPLAINT', 'REJECT'] as const;
/** The EventBridge detail-types SES uses for those events. */
export const SES_DETAIL_TYPES = ['Email Delivered', 'Email Bounced', 'Email Complaint Received', 'Email Rejected'] as const;

export interface ReportingEmailProps {
  readonly identity: string;
  readonly configurationSetName: string;
}

export class ReportingEmail extends PlatformPart {
  readonly identity: Sesv2EmailIdentity;
  readonly configurationSet: Sesv2ConfigurationSet;
  readonly identityArn: string;
  readonly configurationSetArn: string;
  readonly configurationSetName: string;
  readonly isDomain: boolean;
  private readonly props: ReportingEmailProps;

  constructor(scope: Construct, id: string, props: ReportingEmailProps) {
    super(scope, id, { keepIdInAddresses: true });
    this.props = props;
    this.isDomain = !props.identity.includes('@');
    if (this.isDomain && !/^([a-z0-9-]+\.)+[a-z]{2,}$/i.test(props.identity)) {
      throw new Error(`reporting.sesIdentity: "${props.identity}" must be a domain (reports.example.com) or an email address`);
    }
    this.configurationSet = new Sesv2ConfigurationSet(this, 'configuration-set', {
      configurationSetName: props.configurationSetName,
      deliveryOptions: { tlsPolicy: 'REQUIRE' },
      reputationOptions: { reputationMetricsEnabled: true },
      sendingOptions: { sendingEnabled: true },
      suppressionOptions: { suppressedReasons: ['BOUNCE', 'COMPLAINT'] },
    });
    this.configurationSetName = this.configurationSet.configurationSetName;
    this.configurationSetArn = this.configurationSet.arn;
    this.identity = new Sesv2EmailIdentity(this, 'identity', {
      emailIdentity: props.identity,
      configurationSetName: this.configurationSet.configurationSetName,
    });
    this.identityArn = this.identity.arn;

    new Sesv2ConfigurationSetEventDestination(this, 'events', {
      configurationSetName: this.configurationSet.configurationSetName,
      eventDestinationName: 'delivery-status-to-eventbridge',
      eventDestination: {
        enabled: true,
        matchingEventTypes: [...SES_EVENT_TYPES],
        eventBridgeDestination: { eventBusArn: `arn:${this.platform.partition}:events:${this.platform.region}:${this.platform.accountId}:event-bus/default` },
      },
    });
  }

  /**
   * Statement letting a sender use this identity through this configuration set, from the configured
   * address. SES v2 SendEmail is authorized as ses:SendEmail, and as ses:SendRawEmail when it sends
   * Content.Raw (the attachment delivery), so both are granted with the same resources and condition.
   */
  sendStatement(sid: string, sourceEmail: string): PolicyStatement {
    return {
      Sid: sid,
      Effect: 'Allow',
      Action: ['ses:SendEmail', 'ses:SendRawEmail'],
      Resource: [this.identityArn, this.configurationSetArn],
      Condition: { StringEquals: { 'ses:FromAddress': sourceEmail } },
    };
  }

  /**
   * Rule for this configuration set's delivery events -> `fn`, with retries and a DLQ (whose queue policy
   * must admit exactly this rule: DeadLetterQueue `eventBridgeRuleArns`).
   */
  routeEventsTo(fn: NodejsFunction, deadLetterQueue: { arn: string; policy: ITerraformDependable }, ruleName: string): CloudwatchEventRule {
    const rule = new CloudwatchEventRule(this, 'delivery-events', {
      name: ruleName,
      description: 'SES delivery/bounce/complaint/reject events of the report configuration set -> report-confirm',
      eventPattern: JSON.stringify({
        source: ['aws.ses'],
        'detail-type': [...SES_DETAIL_TYPES],
        detail: { mail: { tags: { 'ses:configuration-set': [this.props.configurationSetName] } } },
      }),
    });
    new CloudwatchEventTarget(this, 'delivery-events-target', {
      rule: rule.name,
      arn: fn.arn,
      retryPolicy: { maximumRetryAttempts: 185, maximumEventAgeInSeconds: 86400 },
      deadLetterConfig: { arn: deadLetterQueue.arn },
      // The queue must admit this rule before the target names it (first apply included).
      dependsOn: [deadLetterQueue.policy],
    });
    new LambdaPermission(this, 'delivery-events-invoke', {
      statementId: 'AllowSesDeliveryEvents',
      action: 'lambda:InvokeFunction',
      functionName: fn.functionName,
      principal: 'events.amazonaws.com',
      sourceArn: rule.arn,
    });
    return rule;
  }
}
