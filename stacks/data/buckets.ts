import type { Construct } from 'constructs';
import { PlatformPart } from '../platform-stack';
import type { KmsKey } from '../constructs/kms-key';
import { SecureBucket, SecureBucketProps } from '../constructs/secure-bucket';
import type { PolicyStatement } from '../constructs/policy';
import { readerBucketStatements, REPORT_OBJECTS_PREFIX, ReportReader } from './report-access';
import { INPUT_PREFIX } from '../../contracts/buckets';

/** Days in N years including leap days (7 -> 2556, 10 -> 3652). */
export function yearsToDays(years: number): number {
  return years * 365 + Math.floor(years / 4);
}

/** Input (`transactions/`: the orchestrator lists it, the ingest rule matches it) and processor output prefixes. */
export { INPUT_PREFIX, PROCESSED_PREFIX } from '../../contracts/buckets';

export interface DataBucketsProps {
  /** The S3 data key (SSE-KMS with bucket keys; grants on the buckets also grant it). */
  readonly key: KmsKey;
  /** Server-access-log bucket of the security baseline. */
  readonly accessLogBucket: string;
  /** Deny object reads/writes that don't come through this S3 gateway endpoint. */
  readonly sourceVpceId?: string;
  /** The reporting workflow's execution role: its Distributed Map ResultWriter writes to the reports bucket. */
  readonly resultWriterRoleArn: string;
  /** report-deliver's role: runs outside the VPC and reads reports/* (exempt from the endpoint pin there). */
  readonly reportDeliverRoleArn: string;
  /** report-validate's role: the only principal that may tag objects of the reports bucket (the delivery permit). */
  readonly reportTaggerRoleArn: string;
  /** External principals (s3-access recipients) and the jurisdiction prefix each may read. */
  readonly reportReaders: ReportReader[];
}

/** `${project}-${env}-${purpose}-${account}`: the name of a data bucket (also used to build its ARN before it exists). */
export function dataBucketName(name: (purpose: string) => string, purpose: string, accountId: string): string {
  return `${name(purpose)}-${accountId}`;
}

/** Actions that set or remove object tags (PutObject with tags also needs s3:PutObjectTagging). */
export const OBJECT_TAGGING_ACTIONS = ['s3:PutObjectTagging', 's3:PutObjectVersionTagging', 's3:DeleteObjectTagging', 's3:DeleteObjectVersionTagging'];

/**
 * The reports bucket's own statements: nobody but report-validate may tag its objects (the
 * `validated-sha256` tag is the delivery permit), and each external reader may get objects of its
 * jurisdiction's prefix.
 */
export function reportsBucketStatements(bucketArn: string, p: Pick<DataBucketsProps, 'reportTaggerRoleArn' | 'reportReaders'>): PolicyStatement[] {
  return [
    {
      Sid: 'DenyTaggingExceptReportValidate',
      Effect: 'Deny',
      Principal: '*',
      Action: OBJECT_TAGGING_ACTIONS,
      Resource: `${bucketArn}/*`,
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': p.reportTaggerRoleArn } },
    },
    ...readerBucketStatements(bucketArn, p.reportReaders),
  ];
}

/**
 * The four data buckets. All get SecureBucket's defaults (SSE-KMS + bucket key with the S3 data key,
 * versioning, public-access blocks, TLS-only, other-key uploads denied, access logs); this part owns
 * only what differs: names, retention (config `retention`), object lock (config `security.objectLock`),
 * the producers that may upload from outside the VPC (config `security.producerRoleArns`) and which
 * buckets publish object events to EventBridge (input and payment files: the ingest Lambda's trigger).
 */
export class DataBuckets extends PlatformPart {
  readonly inputBucket: SecureBucket;
  readonly processedBucket: SecureBucket;
  readonly paymentFilesBucket: SecureBucket;
  readonly reportsBucket: SecureBucket;

  constructor(scope: Construct, id: string, p: DataBucketsProps) {
    super(scope, id);
    const { cfg } = this.platform;
    this.inputBucket = this.bucket('input', p, {
      eventBridge: true,
      outsideVpceWriters: cfg.security.producerRoleArns,
      lifecycleRules: [
        {
          id: 'transactions-retention',
          prefix: INPUT_PREFIX,
          transitions: [{ days: 90, storageClass: 'GLACIER' }],
          expirationDays: yearsToDays(cfg.retention.dataYears),
          noncurrentExpirationDays: 365,
        },
        // Anything outside transactions/ (misplaced uploads) still loses old versions and aborted uploads.
        { id: 'bucket-hygiene', noncurrentExpirationDays: 365 },
      ],
    });
    this.processedBucket = this.bucket('processed', p, {
      lifecycleRules: [{ id: 'retention', expirationDays: yearsToDays(cfg.retention.dataYears), noncurrentExpirationDays: 365 }],
    });
    this.paymentFilesBucket = this.bucket('payment-files', p, {
      eventBridge: true,
      outsideVpceWriters: cfg.security.producerRoleArns,
      lifecycleRules: [{
        id: 'retention',
        expirationDays: yearsToDays(cfg.retention.dataYears),
        noncurrentTransitions: [{ days: 90, storageClass: 'GLACIER' }],
        noncurrentExpirationDays: 365,
      }],
    });
    this.reportsBucket = this.reports(p);
  }

  /** The reports bucket: WORM for the report retention, reachable from outside the VPC only by the named readers. */
  private reports(p: DataBucketsProps): SecureBucket {
    const reportDays = yearsToDays(this.platform.cfg.retention.reportYears);
    const reports = this.bucket('reports', p, {
      outsideVpceWriters: [p.resultWriterRoleArn],
      // report-deliver runs outside the VPC (SES has no VPC endpoint); regulators read from their accounts.
      outsideVpceReaders: {
        prefix: REPORT_OBJECTS_PREFIX,
        principalArns: [p.reportDeliverRoleArn, ...new Set(p.reportReaders.flatMap((r) => (r.roleArn ? [r.roleArn] : [])))],
        accountIds: [...new Set(p.reportReaders.filter((r) => !r.roleArn).map((r) => r.accountId))],
      },
      extraStatements: (arn) => reportsBucketStatements(arn, p),
      // Compliance mode: nobody, root included, can shorten or remove retention of a filed report.
      objectLock: this.platform.cfg.security.objectLock ? { mode: 'COMPLIANCE', days: reportDays } : undefined,
      lifecycleRules: [{
        id: 'retention',
        transitions: [{ days: 90, storageClass: 'STANDARD_IA' }, { days: 365, storageClass: 'GLACIER' }],
        expirationDays: reportDays,
        noncurrentExpirationDays: reportDays,
      }],
    });
    reports.bucket.tags = { Purpose: 'RegulatoryReporting' };
    return reports;
  }

  /** A data bucket named `${project}-${env}-<id>-<account>` with the shared settings. */
  private bucket(id: string, p: DataBucketsProps, extra: Partial<SecureBucketProps> & Pick<SecureBucketProps, 'lifecycleRules'>): SecureBucket {
    return new SecureBucket(this, id, {
      bucketName: dataBucketName((purpose) => this.platform.name(purpose), id, this.platform.accountId),
      encryption: { key: p.key },
      accessLogBucket: p.accessLogBucket,
      sourceVpceId: p.sourceVpceId,
      ...extra,
    });
  }
}
