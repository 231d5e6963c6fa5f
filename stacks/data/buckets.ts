import { Construct } from 'constructs';
import { SecureBucket } from '../constructs/secure-bucket';
import type { PolicyStatement } from '../constructs/policy';
import { readerBucketStatements, REPORT_OBJECTS_PREFIX, ReportReader } from './report-access';

/** Days in N years including leap days (7 -> 2556, 10 -> 3652). */
export function yearsToDays(years: number): number {
  return years * 365 + Math.floor(years / 4);
}

/** Prefix the orchestrator lists and the ingest rule matches. */
export const INPUT_PREFIX = 'transactions/';
/** Prefix of the processor's output (contracts.md: processed/<RUN_ID>/<JOB_ID>/...). */
export const PROCESSED_PREFIX = 'processed/';

export interface DataBuckets {
  readonly inputBucket: SecureBucket;
  readonly processedBucket: SecureBucket;
  readonly paymentFilesBucket: SecureBucket;
  readonly reportsBucket: SecureBucket;
}

export interface DataBucketsProps {
  readonly accountId: string;
  readonly name: (purpose: string) => string;
  readonly kmsKeyArn: string;
  /** Server-access-log bucket of the security baseline. */
  readonly accessLogBucket: string;
  readonly dataYears: number;
  readonly reportYears: number;
  /** WORM (compliance mode) on the reports bucket for the whole report retention. */
  readonly objectLock: boolean;
  /** Deny object reads/writes that don't come through this S3 gateway endpoint. */
  readonly sourceVpceId?: string;
  /** Roles outside the VPC that upload to the input and payment-files buckets (config producerRoleArns). */
  readonly producerRoleArns: string[];
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
 * versioning, public-access blocks, TLS-only, other-key uploads denied, access logs); this function owns
 * only what differs: names, retention and which buckets publish object events to EventBridge (input
 * and payment files: the ingest Lambda's trigger, no custom resource).
 */
export function createDataBuckets(scope: Construct, p: DataBucketsProps): DataBuckets {
  const dataDays = yearsToDays(p.dataYears);
  const reportDays = yearsToDays(p.reportYears);
  const bucket = (id: string, purpose: string, extra: Partial<ConstructorParameters<typeof SecureBucket>[2]> &
    Pick<ConstructorParameters<typeof SecureBucket>[2], 'lifecycleRules'>) => new SecureBucket(scope, id, {
    bucketName: dataBucketName(p.name, purpose, p.accountId),
    encryption: { kmsKeyArn: p.kmsKeyArn },
    accessLogBucket: p.accessLogBucket,
    sourceVpceId: p.sourceVpceId,
    ...extra,
  });
  const inputBucket = bucket('input', 'input', {
    eventBridge: true,
    outsideVpceWriters: p.producerRoleArns,
    lifecycleRules: [
      {
        id: 'transactions-retention',
        prefix: INPUT_PREFIX,
        transitions: [{ days: 90, storageClass: 'GLACIER' }],
        expirationDays: dataDays,
        noncurrentExpirationDays: 365,
      },
      // Anything outside transactions/ (misplaced uploads) still loses old versions and aborted uploads.
      { id: 'bucket-hygiene', noncurrentExpirationDays: 365 },
    ],
  });
  const processedBucket = bucket('processed', 'processed', {
    lifecycleRules: [{ id: 'retention', expirationDays: dataDays, noncurrentExpirationDays: 365 }],
  });
  const paymentFilesBucket = bucket('payment-files', 'payment-files', {
    eventBridge: true,
    outsideVpceWriters: p.producerRoleArns,
    lifecycleRules: [{
      id: 'retention',
      expirationDays: dataDays,
      noncurrentTransitions: [{ days: 90, storageClass: 'GLACIER' }],
      noncurrentExpirationDays: 365,
    }],
  });
  const reportsBucket = bucket('reports', 'reports', {
    outsideVpceWriters: [p.resultWriterRoleArn],
    // report-deliver runs outside the VPC (SES has no VPC endpoint); regulators read from their accounts.
    outsideVpceReaders: {
      prefix: REPORT_OBJECTS_PREFIX,
      principalArns: [p.reportDeliverRoleArn, ...new Set(p.reportReaders.flatMap((r) => (r.roleArn ? [r.roleArn] : [])))],
      accountIds: [...new Set(p.reportReaders.filter((r) => !r.roleArn).map((r) => r.accountId))],
    },
    extraStatements: (arn) => reportsBucketStatements(arn, p),
    // Compliance mode: nobody, root included, can shorten or remove retention of a filed report.
    objectLock: p.objectLock ? { mode: 'COMPLIANCE', days: reportDays } : undefined,
    lifecycleRules: [{
      id: 'retention',
      transitions: [{ days: 90, storageClass: 'STANDARD_IA' }, { days: 365, storageClass: 'GLACIER' }],
      expirationDays: reportDays,
      noncurrentExpirationDays: reportDays,
    }],
  });
  reportsBucket.bucket.tags = { Purpose: 'RegulatoryReporting' };
  return { inputBucket, processedBucket, paymentFilesBucket, reportsBucket };
}
