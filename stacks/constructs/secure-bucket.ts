import { Construct } from 'constructs';
import { ITerraformDependable } from 'cdktf';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketVersioningA } from '@cdktf/provider-aws/lib/s3-bucket-versioning';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketLoggingA } from '@cdktf/provider-aws/lib/s3-bucket-logging';
import {
  S3BucketLifecycleConfiguration,
  S3BucketLifecycleConfigurationRule,
} from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketObjectLockConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-object-lock-configuration';
import { S3BucketNotification } from '@cdktf/provider-aws/lib/s3-bucket-notification';
import { PolicyStatement, renderPolicy } from './policy';
import type { GrantableKey, IGrantable } from './grants';
import { EndpointPinExceptions, endpointPinStatements } from './bucket-endpoint-pin';

export type StorageClass = 'STANDARD_IA' | 'ONEZONE_IA' | 'INTELLIGENT_TIERING' | 'GLACIER' | 'GLACIER_IR' | 'DEEP_ARCHIVE';

export interface LifecycleRule {
  readonly id: string;
  /** Applies to the whole bucket when omitted. */
  readonly prefix?: string;
  readonly transitions?: { days: number; storageClass: StorageClass }[];
  readonly expirationDays?: number;
  readonly noncurrentTransitions?: { days: number; storageClass: StorageClass }[];
  readonly noncurrentExpirationDays?: number;
}

/** SSE-KMS by key ARN, or by a grantable key (then `grantRead`/`grantWrite` also grant the key), or SSE-S3. */
export type BucketEncryption = { kmsKeyArn: string } | { key: GrantableKey } | 'SSE-S3';

export interface SecureBucketProps extends EndpointPinExceptions {
  readonly bucketName: string;
  /**
   * SSE-KMS with a customer-managed key (default for every data bucket). 'SSE-S3' exists only for the
   * server-access-log bucket, because S3 server access logging cannot write SSE-KMS objects.
   */
  readonly encryption: BucketEncryption;
  /** Target bucket for S3 server access logs; required unless this is the access-log bucket itself. */
  readonly accessLogBucket?: string;
  /**
   * The target bucket's policy granting logging.s3.amazonaws.com, when it is in the same stack: S3
   * validates the grant when logging is configured, so the logging configuration waits for it. (A
   * target in another stack exists before this stack is applied.)
   */
  readonly accessLogGrant?: ITerraformDependable;
  readonly lifecycleRules: LifecycleRule[];
  /** WORM retention in compliance mode (bucket must be created with it; cannot be added later). */
  readonly objectLock?: { mode: 'COMPLIANCE' | 'GOVERNANCE'; days: number };
  /** Deny object reads/writes that don't arrive through this S3 gateway endpoint (AWS services exempt). */
  readonly sourceVpceId?: string;
  /** Send object events to EventBridge (native, no custom resource). */
  readonly eventBridge?: boolean;
  /** Extra bucket-policy statements, e.g. CloudTrail's ACL check and write. */
  readonly extraStatements?: (bucketArn: string) => PolicyStatement[];
}

/**
 * S3 bucket with the platform's defaults always on: SSE (KMS + bucket key), versioning, all four
 * public-access blocks, bucket-owner-enforced ownership, a TLS-only policy that also rejects uploads
 * naming another KMS key (uploads without encryption headers get the default key, so clients relying on
 * default encryption keep working), access logging and lifecycle rules. Owns the least-privilege
 * statements for its own data (`readStatement`, `writeStatement`).
 */
export class SecureBucket extends Construct {
  readonly bucket: S3Bucket;
  readonly name: string;
  readonly arn: string;
  readonly policy: S3BucketPolicy;
  readonly kmsKeyArn?: string;
  /** The bucket key when it was given as a grantable key. */
  readonly key?: GrantableKey;

  constructor(scope: Construct, id: string, props: SecureBucketProps) {
    super(scope, id);
    if (!/^[a-z0-9${}._\-[\]A-Z]{3,}$/.test(props.bucketName)) {
      throw new Error(`SecureBucket ${id}: bucketName "${props.bucketName}" is not a valid bucket name`);
    }
    if (props.encryption !== 'SSE-S3' && !props.accessLogBucket) {
      throw new Error(`SecureBucket ${id}: accessLogBucket is required for every data bucket`);
    }
    if (props.lifecycleRules.length === 0) {
      throw new Error(`SecureBucket ${id}: at least one lifecycle rule is required (retention is explicit)`);
    }

    this.bucket = new S3Bucket(this, 'bucket', {
      bucket: props.bucketName,
      objectLockEnabled: props.objectLock ? true : undefined,
      forceDestroy: false,
    });
    this.name = this.bucket.bucket;
    this.arn = this.bucket.arn;
    if (props.encryption !== 'SSE-S3') {
      if ('key' in props.encryption) this.key = props.encryption.key;
      this.kmsKeyArn = 'key' in props.encryption ? props.encryption.key.arn : props.encryption.kmsKeyArn;
    }
    const publicAccess = this.baseline();
    this.encryption();
    this.logging(props);
    this.retention(props);
    if (props.eventBridge) {
      new S3BucketNotification(this, 'eventbridge', { bucket: this.bucket.id, eventbridge: true });
    }
    this.policy = new S3BucketPolicy(this, 'policy', {
      bucket: this.bucket.id,
      policy: renderPolicy([
        ...this.tlsOnlyStatements(),
        ...this.keyOnlyStatements(),
        ...(props.sourceVpceId ? endpointPinStatements(`SecureBucket ${id}`, this.arn, props.sourceVpceId, props) : []),
        ...(props.extraStatements?.(this.arn) ?? []),
      ]),
      dependsOn: [publicAccess],
    });
  }

  /** Owner-enforced objects, all four public-access blocks, versioning. */
  private baseline(): S3BucketPublicAccessBlock {
    new S3BucketOwnershipControls(this, 'ownership', {
      bucket: this.bucket.id,
      rule: { objectOwnership: 'BucketOwnerEnforced' },
    });
    const publicAccess = new S3BucketPublicAccessBlock(this, 'public-access', {
      bucket: this.bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketVersioningA(this, 'versioning', {
      bucket: this.bucket.id,
      versioningConfiguration: { status: 'Enabled' },
    });
    return publicAccess;
  }

  /** Default encryption: SSE-KMS with a bucket key, or SSE-S3 for the access-log bucket. */
  private encryption(): void {
    new S3BucketServerSideEncryptionConfigurationA(this, 'encryption', {
      bucket: this.bucket.id,
      rule: this.kmsKeyArn
        ? [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: this.kmsKeyArn }, bucketKeyEnabled: true }]
        : [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }],
    });
  }

  private logging(props: SecureBucketProps): void {
    if (!props.accessLogBucket) return;
    new S3BucketLoggingA(this, 'logging', {
      bucket: this.bucket.id,
      targetBucket: props.accessLogBucket,
      targetPrefix: `${props.bucketName}/`,
      dependsOn: props.accessLogGrant ? [props.accessLogGrant] : undefined,
    });
  }

  /** Lifecycle rules and, when asked, WORM retention. */
  private retention(props: SecureBucketProps): void {
    new S3BucketLifecycleConfiguration(this, 'lifecycle', {
      bucket: this.bucket.id,
      rule: props.lifecycleRules.map((r) => lifecycleRule(r)),
    });
    if (props.objectLock) {
      new S3BucketObjectLockConfigurationA(this, 'object-lock', {
        bucket: this.bucket.id,
        rule: { defaultRetention: { mode: props.objectLock.mode, days: props.objectLock.days } },
      });
    }
  }

  /** Deny every request without TLS, and with TLS older than 1.2. */
  private tlsOnlyStatements(): PolicyStatement[] {
    return [
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [this.arn, `${this.arn}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
      {
        Sid: 'DenyOutdatedTls',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [this.arn, `${this.arn}/*`],
        Condition: { NumericLessThan: { 's3:TlsVersion': '1.2' } },
      },
    ];
  }

  /** With SSE-KMS: deny uploads that ask for another encryption or another key. */
  private keyOnlyStatements(): PolicyStatement[] {
    if (!this.kmsKeyArn) return [];
    return [
      {
        Sid: 'DenyNonKmsEncryptionHeader',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:PutObject',
        Resource: `${this.arn}/*`,
        Condition: { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption': 'aws:kms' } },
      },
      {
        Sid: 'DenyOtherKmsKey',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:PutObject',
        Resource: `${this.arn}/*`,
        Condition: { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption-aws-kms-key-id': this.kmsKeyArn } },
      },
    ];
  }

  /** ARN pattern of objects under a prefix (`transactions/`), or all objects. */
  objectsArn(prefix = ''): string {
    return `${this.arn}/${prefix}*`;
  }

  /** Least-privilege read of objects (optionally under a prefix) and listing of the bucket. */
  readStatements(sid: string, prefix = ''): PolicyStatement[] {
    return [
      { Sid: `${sid}Objects`, Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: this.objectsArn(prefix) },
      {
        Sid: `${sid}List`,
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: this.arn,
        ...(prefix ? { Condition: { StringLike: { 's3:prefix': [`${prefix}*`] } } } : {}),
      },
    ];
  }

  /**
   * Grant reading objects under `prefix` (GetObject, GetObjectVersion) and listing them, and decrypting
   * with the bucket key. `sid` names the statements (`<sid>Objects`, `<sid>List`).
   */
  grantRead(grantee: IGrantable, sid: string, prefix = ''): void {
    grantee.grantPolicy.addStatements(...this.readStatements(sid, prefix));
    if (this.key) grantee.grantPolicy.requireKey(this.key, 'decrypt');
  }

  /** Grant writing objects under `prefix` (streaming uploads included) and encrypting with the bucket key. */
  grantWrite(grantee: IGrantable, sid: string, prefix = ''): void {
    grantee.grantPolicy.addStatements(...this.writeStatements(sid, prefix));
    if (this.key) grantee.grantPolicy.requireKey(this.key, 'encryptDecrypt');
  }

  /** Least-privilege write of objects under a prefix, including multipart abort for streaming uploads. */
  writeStatements(sid: string, prefix = ''): PolicyStatement[] {
    return [{
      Sid: `${sid}Write`,
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      Resource: this.objectsArn(prefix),
    }];
  }
}

function lifecycleRule(r: LifecycleRule): S3BucketLifecycleConfigurationRule {
  return {
    id: r.id,
    status: 'Enabled',
    filter: [{ prefix: r.prefix ?? '' }],
    transition: r.transitions?.map((t) => ({ days: t.days, storageClass: t.storageClass })),
    expiration: r.expirationDays !== undefined ? [{ days: r.expirationDays }] : undefined,
    noncurrentVersionTransition: r.noncurrentTransitions?.map((t) => ({ noncurrentDays: t.days, storageClass: t.storageClass })),
    noncurrentVersionExpiration: r.noncurrentExpirationDays !== undefined
      ? [{ noncurrentDays: r.noncurrentExpirationDays }] : undefined,
    abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
  };
}
