import type { Construct } from 'constructs';
import { PlatformPart } from '../platform-stack';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { CIS_CHECKS } from './cis-alarms';

const API_CALL = 'AWS API Call via CloudTrail';
const CONSOLE_SIGN_IN = 'AWS Console Sign In via CloudTrail';

/** Events of every service arrive with source `aws.<service>`; the two cross-service checks use this. */
const ANY_AWS_SOURCE = [{ prefix: 'aws.' }];
/** EventBridge's source of a service's CloudTrail events: `iam.amazonaws.com` arrives as `aws.iam`. */
export const sourceOf = (eventSource: string): string => `aws.${eventSource.replace(/\.amazonaws\.com$/, '')}`;

const calls = (names: string[], eventSource: string) => ({
  source: [sourceOf(eventSource)],
  'detail-type': [API_CALL],
  detail: { eventSource: [eventSource], eventName: names },
});

/**
 * EventBridge equivalents of the CIS metric filters (same keys as CIS_CHECKS), for accounts whose
 * trail is adopted (an organization trail logs to a group in another account, so there is no log
 * group here to filter). EventBridge receives this account's CloudTrail management events from any
 * trail that covers it. Two limits, stated so nobody relies on more: EventBridge delivers only
 * mutating calls (so UnauthorizedApiCalls misses denied read-only calls), and events of global
 * services (IAM, Organizations, console sign-in) arrive in us-east-1 only.
 * Every pattern names its `source` as AWS documents for CloudTrail-delivered events (`aws.iam` with
 * eventSource `iam.amazonaws.com`, `aws.signin` for console sign-in); the two checks that span every
 * service (unauthorized calls, root usage) match any `aws.` source.
 */
export const CIS_EVENT_PATTERNS: Record<string, Record<string, unknown>> = {
  UnauthorizedApiCalls: {
    source: ANY_AWS_SOURCE,
    'detail-type': [API_CALL],
    detail: { errorCode: [{ suffix: 'UnauthorizedOperation' }, { prefix: 'AccessDenied' }] },
  },
  ConsoleSignInWithoutMfa: {
    source: ['aws.signin'],
    'detail-type': [CONSOLE_SIGN_IN],
    detail: {
      eventName: ['ConsoleLogin'],
      userIdentity: { type: ['IAMUser'] },
      additionalEventData: { MFAUsed: [{ 'anything-but': 'Yes' }] },
      responseElements: { ConsoleLogin: ['Success'] },
    },
  },
  RootAccountUsage: {
    source: ANY_AWS_SOURCE,
    'detail-type': [API_CALL, CONSOLE_SIGN_IN],
    detail: { userIdentity: { type: ['Root'], invokedBy: [{ exists: false }] }, eventType: [{ 'anything-but': 'AwsServiceEvent' }] },
  },
  IamPolicyChanges: calls(['DeleteGroupPolicy', 'DeleteRolePolicy', 'DeleteUserPolicy', 'PutGroupPolicy', 'PutRolePolicy',
    'PutUserPolicy', 'CreatePolicy', 'DeletePolicy', 'CreatePolicyVersion', 'DeletePolicyVersion', 'AttachRolePolicy',
    'DetachRolePolicy', 'AttachUserPolicy', 'DetachUserPolicy', 'AttachGroupPolicy', 'DetachGroupPolicy'], 'iam.amazonaws.com'),
  CloudTrailConfigChanges: calls(['CreateTrail', 'UpdateTrail', 'DeleteTrail', 'StartLogging', 'StopLogging'], 'cloudtrail.amazonaws.com'),
  ConsoleAuthFailures: {
    source: ['aws.signin'],
    'detail-type': [CONSOLE_SIGN_IN],
    detail: { eventName: ['ConsoleLogin'], errorMessage: ['Failed authentication'] },
  },
  CmkDisableOrDeletion: calls(['DisableKey', 'ScheduleKeyDeletion'], 'kms.amazonaws.com'),
  S3BucketPolicyChanges: calls(['PutBucketAcl', 'PutBucketPolicy', 'PutBucketCors', 'PutBucketLifecycle', 'PutBucketReplication',
    'DeleteBucketPolicy', 'DeleteBucketCors', 'DeleteBucketLifecycle', 'DeleteBucketReplication'], 's3.amazonaws.com'),
  ConfigChanges: calls(['StopConfigurationRecorder', 'DeleteDeliveryChannel', 'PutDeliveryChannel', 'PutConfigurationRecorder'],
    'config.amazonaws.com'),
  SecurityGroupChanges: calls(['AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupEgress', 'RevokeSecurityGroupIngress',
    'RevokeSecurityGroupEgress', 'CreateSecurityGroup', 'DeleteSecurityGroup'], 'ec2.amazonaws.com'),
  NaclChanges: calls(['CreateNetworkAcl', 'CreateNetworkAclEntry', 'DeleteNetworkAcl', 'DeleteNetworkAclEntry',
    'ReplaceNetworkAclEntry', 'ReplaceNetworkAclAssociation'], 'ec2.amazonaws.com'),
  NetworkGatewayChanges: calls(['CreateCustomerGateway', 'DeleteCustomerGateway', 'AttachInternetGateway', 'CreateInternetGateway',
    'DeleteInternetGateway', 'DetachInternetGateway'], 'ec2.amazonaws.com'),
  RouteTableChanges: calls(['CreateRoute', 'CreateRouteTable', 'ReplaceRoute', 'ReplaceRouteTableAssociation', 'DeleteRouteTable',
    'DeleteRoute', 'DisassociateRouteTable'], 'ec2.amazonaws.com'),
  VpcChanges: calls(['CreateVpc', 'DeleteVpc', 'ModifyVpcAttribute', 'AcceptVpcPeeringConnection', 'CreateVpcPeeringConnection',
    'DeleteVpcPeeringConnection', 'RejectVpcPeeringConnection', 'AttachClassicLinkVpc', 'DetachClassicLinkVpc',
    'DisableVpcClassicLink', 'EnableVpcClassicLink'], 'ec2.amazonaws.com'),
  OrganizationsChanges: calls(['AcceptHandshake', 'AttachPolicy', 'CreateAccount', 'CreateOrganizationalUnit', 'CreatePolicy',
    'DeclineHandshake', 'DeleteOrganization', 'DeleteOrganizationalUnit', 'DeletePolicy', 'DetachPolicy', 'DisablePolicyType',
    'EnablePolicyType', 'InviteAccountToOrganization', 'LeaveOrganization', 'MoveAccount', 'RemoveAccountFromOrganization',
    'UpdatePolicy', 'UpdateOrganizationalUnit'], 'organizations.amazonaws.com'),
};

export interface CisEventRulesProps {
  readonly alarmTopicArn: string;
}

/** One EventBridge rule per CIS check, each targeting the security topic (adopted-trail mode). */
export class CisEventRules extends PlatformPart {
  readonly rules: CloudwatchEventRule[];

  constructor(scope: Construct, id: string, p: CisEventRulesProps) {
    super(scope, id, { keepIdInAddresses: true });
    const missing = CIS_CHECKS.map((c) => c.metric).filter((m) => !CIS_EVENT_PATTERNS[m]);
    if (missing.length) throw new Error(`CisEventRules ${id}: no EventBridge pattern for CIS check(s) ${missing.join(', ')}`);
    this.rules = CIS_CHECKS.map((check) => {
      const rule = new CloudwatchEventRule(this, `${check.metric}-rule`, {
        name: this.platform.name(`cis-${check.metric}`),
        description: `CIS: ${check.description} (CloudTrail event via EventBridge)`,
        eventPattern: JSON.stringify(CIS_EVENT_PATTERNS[check.metric]),
      });
      new CloudwatchEventTarget(this, `${check.metric}-target`, { rule: rule.name, targetId: 'security-topic', arn: p.alarmTopicArn });
      return rule;
    });
  }
}
