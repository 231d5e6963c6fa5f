import type { Construct } from 'constructs';
import { PlatformPart } from '../platform-stack';
import { CloudwatchLogMetricFilter } from '@cdktf/provider-aws/lib/cloudwatch-log-metric-filter';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';

export interface CisCheck {
  /** Metric name and alarm suffix. */
  readonly metric: string;
  readonly description: string;
  /** CloudWatch Logs filter pattern over CloudTrail JSON events (CIS AWS Foundations, monitoring section). */
  readonly pattern: string;
}

const anyEvent = (names: string[]) => names.map((n) => `($.eventName = ${n})`).join(' || ');

/** The CIS monitoring set (CIS AWS Foundations 1.4/3.0, section "Monitoring"; Security Hub CloudWatch.1-14). */
export const CIS_CHECKS: readonly CisCheck[] = [
  {
    metric: 'UnauthorizedApiCalls',
    description: 'Unauthorized API calls / AccessDenied',
    pattern: '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }',
  },
  {
    metric: 'ConsoleSignInWithoutMfa',
    description: 'Console sign-in without MFA',
    pattern: '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
  },
  {
    metric: 'RootAccountUsage',
    description: 'Root account usage',
    pattern: '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }',
  },
  {
    metric: 'IamPolicyChanges',
    description: 'IAM policy changes',
    pattern: `{ ${anyEvent(['DeleteGroupPolicy', 'DeleteRolePolicy', 'DeleteUserPolicy', 'PutGroupPolicy', 'PutRolePolicy',
      'PutUserPolicy', 'CreatePolicy', 'DeletePolicy', 'CreatePolicyVersion', 'DeletePolicyVersion', 'AttachRolePolicy',
      'DetachRolePolicy', 'AttachUserPolicy', 'DetachUserPolicy', 'AttachGroupPolicy', 'DetachGroupPolicy'])} }`,
  },
  {
    metric: 'CloudTrailConfigChanges',
    description: 'CloudTrail configuration changes',
    pattern: `{ ${anyEvent(['CreateTrail', 'UpdateTrail', 'DeleteTrail', 'StartLogging', 'StopLogging'])} }`,
  },
  {
    metric: 'ConsoleAuthFailures',
    description: 'Console authentication failures',
    pattern: '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }',
  },
  {
    metric: 'CmkDisableOrDeletion',
    description: 'Customer-managed KMS keys disabled or scheduled for deletion',
    pattern: `{ ($.eventSource = kms.amazonaws.com) && (${anyEvent(['DisableKey', 'ScheduleKeyDeletion'])}) }`,
  },
  {
    metric: 'S3BucketPolicyChanges',
    description: 'S3 bucket policy changes',
    pattern: `{ ($.eventSource = s3.amazonaws.com) && (${anyEvent(['PutBucketAcl', 'PutBucketPolicy', 'PutBucketCors',
      'PutBucketLifecycle', 'PutBucketReplication', 'DeleteBucketPolicy', 'DeleteBucketCors', 'DeleteBucketLifecycle',
      'DeleteBucketReplication'])}) }`,
  },
  {
    metric: 'ConfigChanges',
    description: 'AWS Config configuration changes',
    pattern: `{ ($.eventSource = config.amazonaws.com) && (${anyEvent(['StopConfigurationRecorder', 'DeleteDeliveryChannel',
      'PutDeliveryChannel', 'PutConfigurationRecorder'])}) }`,
  },
  {
    metric: 'SecurityGroupChanges',
    description: 'Security group changes',
    pattern: `{ ${anyEvent(['AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupEgress', 'RevokeSecurityGroupIngress',
      'RevokeSecurityGroupEgress', 'CreateSecurityGroup', 'DeleteSecurityGroup'])} }`,
  },
  {
    metric: 'NaclChanges',
    description: 'Network ACL changes',
    pattern: `{ ${anyEvent(['CreateNetworkAcl', 'CreateNetworkAclEntry', 'DeleteNetworkAcl', 'DeleteNetworkAclEntry',
      'ReplaceNetworkAclEntry', 'ReplaceNetworkAclAssociation'])} }`,
  },
  {
    metric: 'NetworkGatewayChanges',
    description: 'Network gateway changes',
    pattern: `{ ${anyEvent(['CreateCustomerGateway', 'DeleteCustomerGateway', 'AttachInternetGateway', 'CreateInternetGateway',
      'DeleteInternetGateway', 'DetachInternetGateway'])} }`,
  },
  {
    metric: 'RouteTableChanges',
    description: 'Route table changes',
    pattern: `{ ($.eventSource = ec2.amazonaws.com) && (${anyEvent(['CreateRoute', 'CreateRouteTable', 'ReplaceRoute',
      'ReplaceRouteTableAssociation', 'DeleteRouteTable', 'DeleteRoute', 'DisassociateRouteTable'])}) }`,
  },
  {
    metric: 'VpcChanges',
    description: 'VPC changes',
    pattern: `{ ${anyEvent(['CreateVpc', 'DeleteVpc', 'ModifyVpcAttribute', 'AcceptVpcPeeringConnection',
      'CreateVpcPeeringConnection', 'DeleteVpcPeeringConnection', 'RejectVpcPeeringConnection', 'AttachClassicLinkVpc',
      'DetachClassicLinkVpc', 'DisableVpcClassicLink', 'EnableVpcClassicLink'])} }`,
  },
  {
    metric: 'OrganizationsChanges',
    description: 'AWS Organizations changes',
    pattern: `{ ($.eventSource = organizations.amazonaws.com) && (${anyEvent(['AcceptHandshake', 'AttachPolicy',
      'CreateAccount', 'CreateOrganizationalUnit', 'CreatePolicy', 'DeclineHandshake', 'DeleteOrganization',
      'DeleteOrganizationalUnit', 'DeletePolicy', 'DetachPolicy', 'DisablePolicyType', 'EnablePolicyType',
      'InviteAccountToOrganization', 'LeaveOrganization', 'MoveAccount', 'RemoveAccountFromOrganization',
      'UpdatePolicy', 'UpdateOrganizationalUnit'])}) }`,
  },
];

export interface CisAlarmsProps {
  /** The trail's CloudWatch log group. */
  readonly logGroupName: string;
  readonly namespace: string;
  readonly alarmTopicArn: string;
}

/**
 * One metric filter + alarm per CIS check on the trail's log group: any single matching event in a
 * 5-minute period alarms, and every alarm notifies the security topic (alarm and recovery).
 */
export class CisAlarms extends PlatformPart {
  readonly alarms: CloudwatchMetricAlarm[];

  constructor(scope: Construct, id: string, p: CisAlarmsProps) {
    super(scope, id, { keepIdInAddresses: true });
    if (!p.namespace || p.namespace.startsWith('AWS/')) {
      throw new Error(`CisAlarms ${id}: namespace "${p.namespace}" must be non-empty and not start with AWS/`);
    }
    this.alarms = CIS_CHECKS.map((check) => {
      const filter = new CloudwatchLogMetricFilter(this, `${check.metric}-filter`, {
        name: this.platform.name(`cis-${check.metric}`),
        logGroupName: p.logGroupName,
        pattern: check.pattern,
        metricTransformation: { name: check.metric, namespace: p.namespace, value: '1', defaultValue: '0' },
      });
      return new CloudwatchMetricAlarm(this, `${check.metric}-alarm`, {
        alarmName: this.platform.name(`cis-${check.metric}`),
        alarmDescription: `CIS: ${check.description} (CloudTrail metric filter)`,
        namespace: p.namespace,
        metricName: check.metric,
        statistic: 'Sum',
        period: 300,
        evaluationPeriods: 1,
        threshold: 1,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        treatMissingData: 'notBreaching',
        alarmActions: [p.alarmTopicArn],
        okActions: [p.alarmTopicArn],
        dependsOn: [filter],
      });
    });
  }
}
