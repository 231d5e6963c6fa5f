/**
 * Report recipients and how each one receives a report. Pure code: the deliver function, the config
 * schema and the infrastructure that grants read access all use these rules.
 *
 * Two delivery modes, chosen per recipient:
 * - `attachment`: the report travels inside the e-mail (a MIME message we build), its SHA-256 in the
 *   body, as long as it is at most the attachment cap; over the cap the delivery falls back to
 *   `s3-access` and the e-mail says so.
 * - `s3-access`: the recipient's AWS principal (`principalArn`: an account id, an account root ARN or an
 *   IAM role ARN) may GetObject its jurisdiction's report prefix; the e-mail names bucket, key, version
 *   id and SHA-256. A pre-signed link is never used: signed with the Lambda role's temporary
 *   credentials it dies with them.
 *
 * Config shape (`reporting.recipients`), per jurisdiction either the original single address (= one
 * attachment-mode recipient) or a list:
 *   { "EU": "esma-reports@example.eu",
 *     "US": [{ "email": "cat@example.gov", "mode": "s3-access", "principalArn": "arn:aws:iam::111122223333:role/cat-reader" }] }
 * `normalizeRecipients` turns either form into lists; `recipientsSchema(z)` is the same rules as a zod
 * schema for the platform config.
 */
import type { z as Zod } from 'zod';
import { REPORT_JURISDICTIONS, ReportJurisdiction } from './frameworks';

export const DELIVERY_MODES = ['attachment', 's3-access'] as const;
export type DeliveryMode = (typeof DELIVERY_MODES)[number];

export interface Recipient {
  email: string;
  mode: DeliveryMode;
  /** Required for `s3-access`; optional for `attachment`, where it is the route over the cap. */
  principalArn?: string;
}

export type RecipientsByJurisdiction = Partial<Record<ReportJurisdiction, Recipient[]>>;

/**
 * SES v2 accepts messages up to 40 MB including every encoding (SES developer guide, quotas and
 * attachments). Read as 40,000,000 bytes: the smaller of the two ways to read "MB".
 */
export const SES_MAX_MESSAGE_BYTES = 40_000_000;
/** Room kept for headers, the text part and the MIME part headers (ours are about 2 KB). */
export const MESSAGE_OVERHEAD_BYTES = 64 * 1024;
/**
 * Default cap on the report's own size for attachment delivery: 10 MiB, which becomes a message of
 * about 14.3 MB once base64-encoded (4/3, plus CRLF every 76 characters). SES would take up to ~29 MB
 * of report (MAX_ATTACHMENT_BYTES), but the receiving side is the tighter limit: many corporate
 * gateways and mailboxes refuse messages above 20-25 MB, and a bounce after SES accepted the message
 * only surfaces later as DELIVERY_FAILED. 14.3 MB passes those with room to spare.
 */
export const DEFAULT_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024;
/** Most recipients per jurisdiction: each is its own send, all within one deliver invocation. */
export const MAX_RECIPIENTS_PER_JURISDICTION = 10;

/** Bytes an attachment of `n` bytes takes in the message: base64 in lines of 76 characters + CRLF. */
export function encodedAttachmentBytes(n: number): number {
  const b64 = 4 * Math.ceil(n / 3);
  return b64 + 2 * Math.ceil(b64 / 76);
}

/** Largest report that still fits SES's message limit with MESSAGE_OVERHEAD_BYTES to spare. */
export const MAX_ATTACHMENT_BYTES = (() => {
  const budget = SES_MAX_MESSAGE_BYTES - MESSAGE_OVERHEAD_BYTES;
  let lo = 0;
  let hi = budget;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (encodedAttachmentBytes(mid) <= budget) lo = mid; else hi = mid - 1;
  }
  return lo;
})();

/** Same address rule as the platform config (stacks/config.ts), plus the 254-character SMTP limit. */
const EMAIL = /^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$/;
const MAX_EMAIL = 254;
const PARTITION = '(aws|aws-us-gov|aws-cn)';
const ACCOUNT_ID = /^\d{12}$/;
const ACCOUNT_ROOT = new RegExp(`^arn:${PARTITION}:iam::(\\d{12}):root$`);
/** arn:<partition>:iam::<account>:role/<optional path/>name, with IAM's role-name characters. */
const ROLE_ARN = new RegExp(`^arn:${PARTITION}:iam::(\\d{12}):role/([\\w+=,.@-]+/)*[\\w+=,.@-]{1,64}$`);

export const EMAIL_RULE = 'must be an email address like ops@example.com';
export const PRINCIPAL_RULE = 'must be a 12-digit AWS account id, an account root ARN (arn:aws:iam::111122223333:root) '
  + 'or an IAM role ARN (arn:aws:iam::111122223333:role/name); partition aws, aws-us-gov or aws-cn';

export function isRecipientEmail(v: unknown): v is string {
  return typeof v === 'string' && v.length <= MAX_EMAIL && EMAIL.test(v);
}

export function isPrincipal(v: unknown): v is string {
  return typeof v === 'string' && (ACCOUNT_ID.test(v) || ACCOUNT_ROOT.test(v) || ROLE_ARN.test(v));
}

/** The account a principal belongs to. */
export function principalAccountId(principal: string): string {
  if (ACCOUNT_ID.test(principal)) return principal;
  const m = ACCOUNT_ROOT.exec(principal) ?? ROLE_ARN.exec(principal);
  if (!m) throw new Error(`principal ${PRINCIPAL_RULE}`);
  return m[2];
}

/** The partition named in a principal ARN; undefined for a bare account id (it fits any partition). */
export function principalPartition(principal: string): string | undefined {
  if (ACCOUNT_ID.test(principal)) return undefined;
  const m = ACCOUNT_ROOT.exec(principal) ?? ROLE_ARN.exec(principal);
  if (!m) throw new Error(`principal ${PRINCIPAL_RULE}`);
  return m[1];
}

/** The principal as a bucket-policy `AWS` principal in `partition` (an account id becomes its root ARN). */
export function principalForPolicy(principal: string, partition: string): string {
  if (ACCOUNT_ID.test(principal)) return `arn:${partition}:iam::${principal}:root`;
  principalAccountId(principal);
  return principal;
}

/** Thrown for bad recipient configuration; the message lists every problem, one per line, naming the path. */
export class RecipientConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('\n'));
    this.name = 'RecipientConfigError';
    this.problems = problems;
  }
}

const REQUIRED_PRINCIPAL = 'is required for mode s3-access (the AWS principal that may read the report prefix)';
const RECIPIENT_KEYS = ['email', 'mode', 'principalArn'];

function checkRecipient(value: unknown, path: string, problems: string[]): Recipient | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`${path}: must be an object {email, mode, principalArn?}`);
    return undefined;
  }
  const o = value as Record<string, unknown>;
  const before = problems.length;
  for (const k of Object.keys(o).sort()) {
    if (!RECIPIENT_KEYS.includes(k)) problems.push(`${path}: unknown field ${JSON.stringify(k)} (allowed: ${RECIPIENT_KEYS.join(', ')})`);
  }
  if (!isRecipientEmail(o.email)) problems.push(`${path}.email: ${EMAIL_RULE}`);
  if (!(DELIVERY_MODES as readonly unknown[]).includes(o.mode)) problems.push(`${path}.mode: must be one of ${DELIVERY_MODES.join(', ')}`);
  if (o.principalArn !== undefined && !isPrincipal(o.principalArn)) problems.push(`${path}.principalArn: ${PRINCIPAL_RULE}`);
  else if (o.principalArn === undefined && o.mode === 's3-access') problems.push(`${path}.principalArn: ${REQUIRED_PRINCIPAL}`);
  if (problems.length > before) return undefined;
  const r: Recipient = { email: o.email as string, mode: o.mode as DeliveryMode };
  if (o.principalArn !== undefined) r.principalArn = o.principalArn as string;
  return r;
}

/**
 * Either config form -> lists of recipients per jurisdiction. Throws RecipientConfigError naming every
 * problem (the values themselves are not echoed beyond the path: they are addresses and ARNs).
 */
export function normalizeRecipients(raw: unknown, path = 'recipients'): RecipientsByJurisdiction {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new RecipientConfigError([`${path}: must be an object keyed by jurisdiction (${REPORT_JURISDICTIONS.join(', ')})`]);
  }
  const problems: string[] = [];
  const out: RecipientsByJurisdiction = {};
  for (const [jurisdiction, value] of Object.entries(raw as Record<string, unknown>)) {
    const at = `${path}.${jurisdiction}`;
    if (!(REPORT_JURISDICTIONS as readonly string[]).includes(jurisdiction)) {
      problems.push(`${at}: unknown jurisdiction (allowed: ${REPORT_JURISDICTIONS.join(', ')})`);
      continue;
    }
    if (typeof value === 'string') {
      if (isRecipientEmail(value)) out[jurisdiction as ReportJurisdiction] = [{ email: value, mode: 'attachment' }];
      else problems.push(`${at}: ${EMAIL_RULE}`);
      continue;
    }
    if (!Array.isArray(value)) {
      problems.push(`${at}: must be an email address or a list of recipients {email, mode, principalArn?}`);
      continue;
    }
    if (value.length < 1 || value.length > MAX_RECIPIENTS_PER_JURISDICTION) {
      problems.push(`${at}: must list 1 to ${MAX_RECIPIENTS_PER_JURISDICTION} recipients`);
      continue;
    }
    const list: Recipient[] = [];
    const seen = new Set<string>();
    value.forEach((v, i) => {
      const r = checkRecipient(v, `${at}.${i}`, problems);
      if (!r) return;
      const email = r.email.toLowerCase();
      if (seen.has(email)) problems.push(`${at}.${i}.email: listed twice for ${jurisdiction}`);
      seen.add(email);
      list.push(r);
    });
    out[jurisdiction as ReportJurisdiction] = list;
  }
  if (problems.length) throw new RecipientConfigError(problems);
  return out;
}

/** Principals whose partition is not the deployment's: they could never be granted access. */
export function partitionProblems(recipients: RecipientsByJurisdiction, partition: string, path = 'recipients'): string[] {
  const problems: string[] = [];
  for (const [jurisdiction, list] of Object.entries(recipients)) {
    (list ?? []).forEach((r, i) => {
      const p = r.principalArn === undefined ? undefined : principalPartition(r.principalArn);
      if (p !== undefined && p !== partition) {
        problems.push(`${path}.${jurisdiction}.${i}.principalArn: is in partition ${p}, the platform is deployed in ${partition}`);
      }
    });
  }
  return problems;
}

/**
 * The recipients of a jurisdiction's report: its configured list, else the default address as one
 * attachment-mode recipient (the existing behaviour), else none.
 */
export function recipientsFor(recipients: RecipientsByJurisdiction, jurisdiction: ReportJurisdiction, defaultRecipient?: string): Recipient[] {
  const list = recipients[jurisdiction];
  if (list && list.length) return list.map((r) => ({ ...r }));
  if (defaultRecipient === undefined) return [];
  if (!isRecipientEmail(defaultRecipient)) throw new RecipientConfigError([`defaultRecipient: ${EMAIL_RULE}`]);
  return [{ email: defaultRecipient, mode: 'attachment' }];
}

/** Validates an attachment cap (bytes of the report itself): a whole number in [1, MAX_ATTACHMENT_BYTES]. */
export function checkAttachmentMaxBytes(value: unknown, path = 'attachmentMaxBytes'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > MAX_ATTACHMENT_BYTES) {
    throw new RecipientConfigError([`${path}: must be a whole number of bytes from 1 to ${MAX_ATTACHMENT_BYTES} `
      + `(SES's ${SES_MAX_MESSAGE_BYTES}-byte message limit after base64), default ${DEFAULT_ATTACHMENT_MAX_BYTES}`]);
  }
  return value;
}

/** The cap from an environment-variable string: unset/blank -> the default; anything else must be valid. */
export function parseAttachmentMaxBytes(raw: string | undefined, name = 'ATTACHMENT_MAX_BYTES'): number {
  if (raw === undefined || raw.trim() === '') return DEFAULT_ATTACHMENT_MAX_BYTES;
  if (!/^[0-9]{1,9}$/.test(raw.trim())) return checkAttachmentMaxBytes(NaN, name);
  return checkAttachmentMaxBytes(Number(raw.trim()), name);
}

export interface DeliveryDecision {
  /** The mode actually used. */
  mode: DeliveryMode;
  /** The recipient's configured mode. */
  requestedMode: DeliveryMode;
  /** Set when mode differs from requestedMode: why, in words fit for the e-mail body. */
  fallbackReason?: string;
}

/**
 * The mode a report of `reportBytes` bytes is delivered with to `recipient` under attachment cap `cap`.
 * Over the cap an attachment-mode recipient falls back to s3-access (whether or not a principal is
 * registered for it: the e-mail then says access has to be arranged; the report is never cut).
 */
export function chooseDelivery(recipient: Recipient, reportBytes: number, cap: number): DeliveryDecision {
  if (!Number.isSafeInteger(reportBytes) || reportBytes < 0) throw new RangeError('reportBytes must be a whole number of bytes >= 0');
  checkAttachmentMaxBytes(cap, 'cap');
  if (recipient.mode === 's3-access') return { mode: 's3-access', requestedMode: 's3-access' };
  if (reportBytes <= cap) return { mode: 'attachment', requestedMode: 'attachment' };
  return {
    mode: 's3-access',
    requestedMode: 'attachment',
    fallbackReason: `The report is ${reportBytes} bytes, over the attachment limit of ${cap} bytes, so it is not attached.`,
  };
}

/**
 * The same rules as a zod schema, for `reporting.recipients` in the platform config. Takes zod as an
 * argument so this module (bundled into the deliver function) carries no zod at runtime:
 *   import { z } from 'zod';
 *   recipients: recipientsSchema(z),
 *   attachmentMaxBytes: attachmentMaxBytesSchema(z),
 * The schema validates without transforming (the config keeps its written form); pass the parsed value
 * through `normalizeRecipients` where the lists are needed.
 */
export function recipientsSchema(z: typeof Zod) {
  const email = z.string().refine(isRecipientEmail, { message: EMAIL_RULE });
  const recipient = z.object({
    email,
    mode: z.enum(DELIVERY_MODES),
    principalArn: z.string().refine(isPrincipal, { message: PRINCIPAL_RULE }).optional(),
  }).strict().superRefine((r, ctx) => {
    if (r.mode === 's3-access' && r.principalArn === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['principalArn'], message: REQUIRED_PRINCIPAL });
    }
  });
  const list = z.array(recipient)
    .min(1, `must list 1 to ${MAX_RECIPIENTS_PER_JURISDICTION} recipients`)
    .max(MAX_RECIPIENTS_PER_JURISDICTION, `must list 1 to ${MAX_RECIPIENTS_PER_JURISDICTION} recipients`)
    .superRefine((rs, ctx) => {
      const seen = new Set<string>();
      rs.forEach((r, i) => {
        const e = r.email.toLowerCase();
        if (seen.has(e)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i, 'email'], message: 'listed twice for this jurisdiction' });
        seen.add(e);
      });
    });
  // Dispatch on the form instead of z.union, whose failure is a bare "Invalid input" at the jurisdiction:
  // this way every problem names its own path (recipients.US.0.principalArn ...).
  const entry = z.custom<string | Recipient[]>(() => true).superRefine((v, ctx) => {
    const schema = typeof v === 'string' ? email : Array.isArray(v) ? list : undefined;
    if (!schema) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be an email address or a list of recipients {email, mode, principalArn?}' });
      return;
    }
    const result = schema.safeParse(v);
    if (!result.success) {
      for (const issue of result.error.issues) ctx.addIssue({ code: z.ZodIssueCode.custom, path: issue.path, message: issue.message });
    }
  });
  return z.record(z.enum(REPORT_JURISDICTIONS), entry);
}

/** `reporting.attachmentMaxBytes`: optional, default DEFAULT_ATTACHMENT_MAX_BYTES. */
export function attachmentMaxBytesSchema(z: typeof Zod) {
  return z.number().int().min(1).max(MAX_ATTACHMENT_BYTES,
    `must be at most ${MAX_ATTACHMENT_BYTES} bytes (SES's ${SES_MAX_MESSAGE_BYTES}-byte message limit after base64)`)
    .default(DEFAULT_ATTACHMENT_MAX_BYTES);
}
