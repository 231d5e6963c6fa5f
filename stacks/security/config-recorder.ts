import type { Construct } from 'constructs';
import { PlatformPart } from '../platform-stack';
import { ConfigConfigurationRecorder } from '@cdktf/provider-aws/lib/config-configuration-recorder';
import { ConfigDeliveryChannel } from '@cdktf/provider-aws/lib/config-delivery-channel';
import { ConfigConfigurationRecorderStatus } from '@cdktf/provider-aws/lib/config-configuration-recorder-status';
import { ConfigConfigRule } from '@cdktf/provider-aws/lib/config-config-rule';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { ITerraformDependable } from 'cdktf';
import { ServiceRole } from '../constructs/grants';
import { CONFIG_PREFIX } from './audit-bucket';

/**
 * AWS-managed Config rules (source identifiers) the platform is evaluated against. LAMBDA_INSIDE_VPC
 * is expected to flag `report-deliver`: it runs outside the VPC by design (SES has no VPC endpoint).
 */
export const MANAGED_CONFIG_RULES: Record<string, string> = {
  's3-bucket-sse': 'S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED',
  's3-bucket-ssl-only': 'S3_BUCKET_SSL_REQUESTS_ONLY',
  's3-public-read-prohibited': 'S3_BUCKET_PUBLIC_READ_PROHIBITED',
  's3-public-write-prohibited': 'S3_BUCKET_PUBLIC_WRITE_PROHIBITED',
  'cloudtrail-enabled': 'CLOUD_TRAIL_ENABLED',
  'cloudtrail-log-validation': 'CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED',
  'dynamodb-pitr': 'DYNAMODB_PITR_ENABLED',
  'kms-rotation': 'CMK_BACKING_KEY_ROTATION_ENABLED',
  'vpc-flow-logs': 'VPC_FLOW_LOGS_ENABLED',
  'vpc-default-sg-closed': 'VPC_DEFAULT_SECURITY_GROUP_CLOSED',
  'lambda-in-vpc': 'LAMBDA_INSIDE_VPC',
  'rds-storage-encrypted': 'RDS_STORAGE_ENCRYPTED',
  'restricted-ssh': 'INCOMING_SSH_DISABLED',
  'restricted-common-ports': 'RESTRICTED_INCOMING_TRAFFIC',
  'log-groups-encrypted': 'CLOUDWATCH_LOG_GROUP_ENCRYPTED',
};

export interface ConfigBaselineProps {
  /** false = the account already has a recorder and channel (e.g. from the organization): rules only. */
  readonly createRecorder: boolean;
  readonly bucketName: string;
  readonly bucketArn: string;
  readonly kmsKeyArn: string;
  /** The audit bucket policy: the channel's create call test-writes to the bucket. */
  readonly bucketPolicy: ITerraformDependable;
}

/**
 * AWS Config: role (AWS_ConfigRole + delivery to the audit bucket), recorder of every supported and
 * global resource type, delivery channel under `config/`, recorder status enabled only after the
 * channel exists, and the managed rules. In adopt mode only the rules are created.
 */
export class ConfigBaseline extends PlatformPart {
  readonly recorder?: ConfigConfigurationRecorder;
  readonly rules: ConfigConfigRule[];

  constructor(scope: Construct, id: string, p: ConfigBaselineProps) {
    super(scope, id, { keepIdInAddresses: true });
    let ruleDeps: ITerraformDependable[] = [];
    if (p.createRecorder) {
      const role = new ServiceRole(this, {
        roleId: 'role',
        policyId: 'delivery-policy',
        roleName: this.platform.name('config'),
        policyName: this.platform.name('config-delivery'),
        assumedBy: 'config.amazonaws.com',
        sourceAccount: this.platform.accountId,
      });
      new IamRolePolicyAttachment(this, 'managed-policy', {
        role: role.role.name,
        policyArn: `arn:${this.platform.partition}:iam::aws:policy/service-role/AWS_ConfigRole`,
      });
      role.addToPolicy(
        { Sid: 'CheckAuditBucket', Effect: 'Allow', Action: ['s3:GetBucketAcl', 's3:ListBucket'], Resource: p.bucketArn },
        {
          Sid: 'DeliverToAuditBucket',
          Effect: 'Allow',
          Action: 's3:PutObject',
          Resource: `${p.bucketArn}/${CONFIG_PREFIX}/AWSLogs/${this.platform.accountId}/Config/*`,
          Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } },
        },
        { Sid: 'EncryptWithAuditKey', Effect: 'Allow', Action: ['kms:GenerateDataKey*', 'kms:Decrypt'], Resource: p.kmsKeyArn },
      );
      const delivery = role.policy;
      this.recorder = new ConfigConfigurationRecorder(this, 'recorder', {
        name: this.platform.name('config-recorder'),
        roleArn: role.arn,
        recordingGroup: { allSupported: true, includeGlobalResourceTypes: true },
      });
      const channel = new ConfigDeliveryChannel(this, 'channel', {
        name: this.platform.name('config-delivery'),
        s3BucketName: p.bucketName,
        s3KeyPrefix: CONFIG_PREFIX,
        s3KmsKeyArn: p.kmsKeyArn,
        snapshotDeliveryProperties: { deliveryFrequency: 'TwentyFour_Hours' },
        dependsOn: [this.recorder, delivery, p.bucketPolicy],
      });
      const status = new ConfigConfigurationRecorderStatus(this, 'status', {
        name: this.recorder.name,
        isEnabled: true,
        dependsOn: [channel],
      });
      ruleDeps = [status];
    }
    this.rules = Object.entries(MANAGED_CONFIG_RULES).map(([purpose, identifier]) => new ConfigConfigRule(this, purpose, {
      name: this.platform.name(purpose),
      source: { owner: 'AWS', sourceIdentifier: identifier },
      ...(ruleDeps.length ? { dependsOn: ruleDeps } : {}),
    }));
  }
}
