import type { Construct } from 'constructs';
import { PlatformPart } from '../platform-stack';
import { FlowLog } from '@cdktf/provider-aws/lib/flow-log';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { KmsKey, cloudWatchLogsStatement } from '../constructs/kms-key';
import { EncryptedLogGroup } from '../constructs/encrypted-log-group';
import { ServiceRole } from '../constructs/grants';

export interface VpcFlowLogsProps {
  readonly vpcId: string;
  readonly retentionDays: number;
}

/**
 * VPC flow logs for ALL traffic (accepted and rejected) to a log group encrypted with a network-owned
 * key, delivered by a role that can write only to that group and that only the flow-logs service of
 * this account can assume (confused-deputy conditions on the trust policy).
 */
export class VpcFlowLogs extends PlatformPart {
  readonly key: KmsKey;
  readonly logGroup: EncryptedLogGroup;
  readonly role: IamRole;
  readonly flowLog: FlowLog;

  constructor(scope: Construct, id: string, props: VpcFlowLogsProps) {
    super(scope, id, { keepIdInAddresses: true });
    if (props.retentionDays < 365) {
      throw new Error(`VpcFlowLogs ${id}: retentionDays must be at least 365 (PCI DSS 10.5.1), got ${props.retentionDays}`);
    }
    this.key = new KmsKey(this, 'key', {
      alias: this.platform.name('network-logs'),
      description: 'VPC flow logs',
      accountId: this.platform.accountId,
      statements: [cloudWatchLogsStatement(this.platform.region, this.platform.accountId, this.platform.partition)],
    });
    this.logGroup = new EncryptedLogGroup(this, 'logs', {
      name: `/aws/vpc/${this.platform.name('flowlogs')}`,
      retentionDays: props.retentionDays,
      kmsKeyArn: this.key.arn,
    });
    const role = new ServiceRole(this, {
      roleId: 'role',
      policyId: 'policy',
      roleName: this.platform.name('vpc-flow-logs'),
      policyName: this.platform.name('vpc-flow-logs'),
      assumedBy: 'vpc-flow-logs.amazonaws.com',
      trustCondition: {
        StringEquals: { 'aws:SourceAccount': this.platform.accountId },
        ArnLike: { 'aws:SourceArn': `arn:${this.platform.partition}:ec2:${this.platform.region}:${this.platform.accountId}:vpc-flow-log/*` },
      },
    });
    this.role = role.role;
    role.addToPolicy(
      {
        Sid: 'WriteOwnLogGroupOnly',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        Resource: [this.logGroup.arn, `${this.logGroup.arn}:log-stream:*`],
      },
      {
        // The delivery service checks the group exists with DescribeLogGroups, which has no
        // resource-level permissions: AWS requires "*" (allow-listed in the guardrail Aspect).
        Sid: 'DescribeLogGroups',
        Effect: 'Allow',
        Action: 'logs:DescribeLogGroups',
        Resource: '*',
      },
    );
    this.flowLog = new FlowLog(this, 'flow-log', {
      vpcId: props.vpcId,
      trafficType: 'ALL',
      logDestinationType: 'cloud-watch-logs',
      logDestination: this.logGroup.arn,
      iamRoleArn: this.role.arn,
      // One-minute aggregation: incident response gets near-real-time records.
      maxAggregationInterval: 60,
      tags: { Name: this.platform.name('vpc-flow-logs') },
    });
  }
}
