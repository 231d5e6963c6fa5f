/**
 * Who may read reports from outside the platform, and how little: the bucket-policy and key-policy
 * statements for the regulators' own AWS principals (s3-access delivery, domain/reporting/recipients.ts).
 *
 * Per configured principal and jurisdiction:
 * - bucket policy: `s3:GetObject` and `s3:GetObjectVersion` on exactly `reports/<jurisdiction>/*`;
 *   nothing else in the bucket and no `s3:ListBucket` (the e-mail names the key and version);
 * - key policy of the S3 data key: `kms:Decrypt` only through S3 in this region (`kms:ViaService`) and
 *   only for this bucket's objects (`kms:EncryptionContext:aws:s3:arn` = the bucket ARN: with S3 Bucket
 *   Keys, which every platform bucket uses, S3 asks KMS with the bucket ARN as encryption context). The
 *   key grant cannot be narrowed to a prefix; the bucket policy is what limits which objects S3 decrypts.
 * The principal's own account must also allow these actions (cross-account access needs both sides).
 *
 * Principals are written with the stack's partition (`data.aws_partition`), never a literal `arn:aws:`;
 * config load has already refused a principal of another partition (stacks/config.ts).
 */
import { normalizeRecipients, principalAccountId, RecipientsByJurisdiction } from '../../domain/reporting/recipients';
import type { PolicyStatement } from '../constructs/policy';
import type { PlatformConfig } from '../config';
import { REPORTS_PREFIX as REPORT_OBJECTS_PREFIX } from '../../contracts/buckets';

/** Object prefix of generated reports. */
export { REPORTS_PREFIX as REPORT_OBJECTS_PREFIX } from '../../contracts/buckets';

/** One external reader: a principal and the jurisdiction prefix it may read. */
export interface ReportReader {
  jurisdiction: string;
  /** The principal as configured (account id, account root ARN or role ARN). */
  configured: string;
  /** The principal in the stack's partition, as a policy `AWS` principal. */
  principal: string;
  /** Account id of the principal. */
  accountId: string;
  /** Set for a role principal: the role ARN (aws:PrincipalArn of its sessions). */
  roleArn?: string;
}

/** The recipients of a validated config as lists. */
export function configuredRecipients(cfg: PlatformConfig): RecipientsByJurisdiction {
  return normalizeRecipients(cfg.reporting.recipients, 'reporting.recipients');
}

/**
 * Every (principal, jurisdiction) that may read reports: recipients in s3-access mode and attachment
 * recipients with a principal (their route when a report is over the attachment cap). Sorted and
 * without duplicates, so the synthesized policies are stable.
 */
export function reportReaders(recipients: RecipientsByJurisdiction, partition: string): ReportReader[] {
  const out = new Map<string, ReportReader>();
  for (const [jurisdiction, list] of Object.entries(recipients)) {
    for (const r of list ?? []) {
      if (r.principalArn === undefined) continue;
      const accountId = principalAccountId(r.principalArn);
      const role = /^arn:[a-z-]+:iam::\d{12}:(role\/.+)$/.exec(r.principalArn);
      const principal = role ? `arn:${partition}:iam::${accountId}:${role[1]}` : `arn:${partition}:iam::${accountId}:root`;
      const reader: ReportReader = { jurisdiction, configured: r.principalArn, principal, accountId };
      if (role) reader.roleArn = principal;
      out.set(`${jurisdiction}\u0000${principal}`, reader);
    }
  }
  return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}

/** Sid-safe index-based suffix: `<jurisdiction><n>` (Sids allow only [A-Za-z0-9]). */
function sid(prefix: string, reader: ReportReader, index: number): string {
  return `${prefix}${reader.jurisdiction.replace(/[^A-Za-z0-9]/g, '')}${index}`;
}

/** Bucket-policy statements: each reader may get objects (and their versions) of its own prefix only. */
export function readerBucketStatements(bucketArn: string, readers: ReportReader[]): PolicyStatement[] {
  return readers.map((r, i) => ({
    Sid: sid('RegulatorReadsOwnPrefix', r, i),
    Effect: 'Allow',
    Principal: { AWS: r.principal },
    Action: ['s3:GetObject', 's3:GetObjectVersion'],
    Resource: `${bucketArn}/${REPORT_OBJECTS_PREFIX}${r.jurisdiction}/*`,
  }));
}

/** Key-policy statements: each reader may decrypt through S3 in `region`, for objects of this bucket only. */
export function readerKeyStatements(bucketArn: string, readers: ReportReader[], region: string): PolicyStatement[] {
  // One statement per principal (several jurisdictions share it: the context is the bucket, not a prefix).
  const principals = [...new Set(readers.map((r) => r.principal))];
  return principals.map((principal, i) => ({
    Sid: `RegulatorDecryptsReportsViaS3${i}`,
    Effect: 'Allow',
    Principal: { AWS: principal },
    Action: ['kms:Decrypt'],
    Resource: '*',
    Condition: {
      StringEquals: {
        'kms:ViaService': `s3.${region}.amazonaws.com`,
        'kms:EncryptionContext:aws:s3:arn': bucketArn,
      },
    },
  }));
}
