import type { Construct } from 'constructs';
import { PlatformPart } from '../platform-stack';
import { ITerraformDependable } from 'cdktf';
import { SecureBucket } from '../constructs/secure-bucket';
import { PolicyStatement } from '../constructs/policy';

export const TRAIL_PREFIX = 'cloudtrail';
export const CONFIG_PREFIX = 'config';

export interface AuditBucketProps {
  readonly bucketName: string;
  readonly kmsKeyArn: string;
  readonly accessLogBucket: string;
  /** The access-log bucket's policy (same stack): logging is configured only after it grants S3 logging. */
  readonly accessLogGrant?: ITerraformDependable;
  /** Days objects are kept (>= 2557, 7 years); Glacier after 90 days. */
  readonly retentionDays: number;
  readonly objectLock: boolean;
  /** ARN of the trail this stack creates (built from its name, so the bucket policy has no cycle). */
  readonly trailArn?: string;
  readonly configDelivery: boolean;
}

/** CloudTrail's documented bucket statements, pinned to our trail with aws:SourceArn. */
export function cloudTrailBucketStatements(bucketArn: string, trailArn: string, accountId: string): PolicyStatement[] {
  return [
    {
      Sid: 'AWSCloudTrailAclCheck',
      Effect: 'Allow',
      Principal: { Service: 'cloudtrail.amazonaws.com' },
      Action: 's3:GetBucketAcl',
      Resource: bucketArn,
      Condition: { StringEquals: { 'aws:SourceArn': trailArn } },
    },
    {
      Sid: 'AWSCloudTrailWrite',
      Effect: 'Allow',
      Principal: { Service: 'cloudtrail.amazonaws.com' },
      Action: 's3:PutObject',
      Resource: `${bucketArn}/${TRAIL_PREFIX}/AWSLogs/${accountId}/*`,
      Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceArn': trailArn } },
    },
  ];
}

/** AWS Config's documented delivery statements, pinned to this account. */
export function configBucketStatements(bucketArn: string, accountId: string): PolicyStatement[] {
  return [
    {
      Sid: 'AWSConfigBucketPermissionsCheck',
      Effect: 'Allow',
      Principal: { Service: 'config.amazonaws.com' },
      Action: ['s3:GetBucketAcl', 's3:ListBucket'],
      Resource: bucketArn,
      Condition: { StringEquals: { 'aws:SourceAccount': accountId } },
    },
    {
      Sid: 'AWSConfigBucketDelivery',
      Effect: 'Allow',
      Principal: { Service: 'config.amazonaws.com' },
      Action: 's3:PutObject',
      Resource: `${bucketArn}/${CONFIG_PREFIX}/AWSLogs/${accountId}/Config/*`,
      Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceAccount': accountId } },
    },
  ];
}

/**
 * The audit-trail bucket: SSE-KMS with the audit key, access logs to the access-log bucket, Glacier
 * at 90 days, kept for the audit retention (>= 7 years), optional Object Lock in COMPLIANCE mode
 * (WORM: not even the root user can shorten it, so it is a per-environment config choice). CloudTrail
 * writes under `cloudtrail/`, AWS Config under `config/`.
 */
export class AuditBucket extends PlatformPart {
  readonly bucket: SecureBucket;

  /** `bucketId` is the SecureBucket's id (its resources' addresses); this part's own id is not in them. */
  constructor(scope: Construct, id: string, bucketId: string, p: AuditBucketProps) {
    super(scope, id);
    if (p.retentionDays < 2557) {
      throw new Error(`AuditBucket ${bucketId}: retentionDays must be at least 2557 (7-year audit trail), got ${p.retentionDays}`);
    }
    const { accountId } = this.platform;
    this.bucket = new SecureBucket(this, bucketId, {
      bucketName: p.bucketName,
      encryption: { kmsKeyArn: p.kmsKeyArn },
      accessLogBucket: p.accessLogBucket,
      accessLogGrant: p.accessLogGrant,
      lifecycleRules: [{
        id: 'glacier-then-expire',
        transitions: [{ days: 90, storageClass: 'GLACIER' }],
        expirationDays: p.retentionDays,
        noncurrentExpirationDays: p.retentionDays,
      }],
      objectLock: p.objectLock ? { mode: 'COMPLIANCE', days: p.retentionDays } : undefined,
      extraStatements: (arn) => [
        ...(p.trailArn ? cloudTrailBucketStatements(arn, p.trailArn, accountId) : []),
        ...(p.configDelivery ? configBucketStatements(arn, accountId) : []),
      ],
    });
  }
}
