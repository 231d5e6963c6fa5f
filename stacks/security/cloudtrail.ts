import type { Construct } from 'constructs';
import { PlatformPart } from '../platform-stack';
import { Cloudtrail, CloudtrailAdvancedEventSelector } from '@cdktf/provider-aws/lib/cloudtrail';
import { ITerraformDependable } from 'cdktf';
import { EncryptedLogGroup } from '../constructs/encrypted-log-group';
import { ServiceRole } from '../constructs/grants';
import { TRAIL_PREFIX } from './audit-bucket';

export interface AuditTrailProps {
  readonly trailName: string;
  /** `arn:<partition>:cloudtrail:<region>:<account>:trail/<trailName>`, the same string the policies use. */
  readonly trailArn: string;
  readonly bucketName: string;
  readonly kmsKeyArn: string;
  readonly logRetentionDays: number;
  /** `${project}-${env}-`: data events are selected by this name prefix, never by reference. */
  readonly namePrefix: string;
  /**
   * Buckets the trail and S3 itself write logs to (audit-trail and access-log buckets): their object
   * events are excluded, or every log delivery would be a data event that is logged again.
   */
  readonly logBucketNames: string[];
  readonly roleName: string;
  /** Resources the trail must wait for (bucket policy): CloudTrail checks them on create. */
  readonly dependsOn: ITerraformDependable[];
}

/**
 * Advanced selectors: all management events + data events of the platform's buckets, tables and
 * functions, except objects of the log buckets (`logBucketNames`): a trail recording the writes of its
 * own log deliveries (and of S3 server access logging) would log itself without end.
 */
export function trailEventSelectors(region: string, accountId: string, namePrefix: string, partition: string,
  logBucketNames: string[]): CloudtrailAdvancedEventSelector[] {
  const data = (name: string, type: string, arnPrefix: string, excluded: string[] = []): CloudtrailAdvancedEventSelector => ({
    name,
    fieldSelector: [
      { field: 'eventCategory', equalTo: ['Data'] },
      { field: 'resources.type', equalTo: [type] },
      { field: 'resources.ARN', startsWith: [arnPrefix], ...(excluded.length ? { notStartsWith: excluded } : {}) },
    ],
  });
  return [
    { name: 'All management events', fieldSelector: [{ field: 'eventCategory', equalTo: ['Management'] }] },
    data('Platform S3 objects', 'AWS::S3::Object', `arn:${partition}:s3:::${namePrefix}`,
      logBucketNames.map((b) => `arn:${partition}:s3:::${b}/`)),
    data('Platform DynamoDB tables', 'AWS::DynamoDB::Table', `arn:${partition}:dynamodb:${region}:${accountId}:table/${namePrefix}`),
    data('Platform Lambda functions', 'AWS::Lambda::Function', `arn:${partition}:lambda:${region}:${accountId}:function:${namePrefix}`),
  ];
}

/**
 * The platform's trail: multi-region, global service events, log-file validation, SSE-KMS with the
 * audit key, delivered to the audit bucket and to a KMS-encrypted CloudWatch log group (the CIS
 * metric filters read it) through a role that can only write to that group.
 */
export class AuditTrail extends PlatformPart {
  readonly trail: Cloudtrail;
  readonly logGroup: EncryptedLogGroup;

  constructor(scope: Construct, id: string, p: AuditTrailProps) {
    super(scope, id, { keepIdInAddresses: true });
    this.logGroup = new EncryptedLogGroup(this, 'logs', {
      name: `/aws/cloudtrail/${p.trailName}`,
      retentionDays: p.logRetentionDays,
      kmsKeyArn: p.kmsKeyArn,
    });
    const role = new ServiceRole(this, {
      roleId: 'role',
      policyId: 'policy',
      roleName: p.roleName,
      policyName: p.roleName,
      assumedBy: 'cloudtrail.amazonaws.com',
      trustCondition: { StringEquals: { 'aws:SourceAccount': this.platform.accountId, 'aws:SourceArn': p.trailArn } },
    });
    role.addToPolicy({
      Sid: 'WriteTrailLogGroupOnly',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: `${this.logGroup.arn}:log-stream:*`,
    });
    this.trail = new Cloudtrail(this, 'trail', {
      name: p.trailName,
      s3BucketName: p.bucketName,
      s3KeyPrefix: TRAIL_PREFIX,
      kmsKeyId: p.kmsKeyArn,
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
      enableLogFileValidation: true,
      enableLogging: true,
      cloudWatchLogsGroupArn: `${this.logGroup.arn}:*`,
      cloudWatchLogsRoleArn: role.arn,
      advancedEventSelector: trailEventSelectors(this.platform.region, this.platform.accountId, p.namePrefix, this.platform.partition, p.logBucketNames),
      dependsOn: [...p.dependsOn, role.policy],
    });
  }
}
