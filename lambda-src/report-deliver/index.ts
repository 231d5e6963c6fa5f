/**
 * report-deliver: e-mails a VALIDATED report once to each recipient of its jurisdiction. Runs outside
 * the VPC (SES has no VPC API endpoint).
 *
 * Recipients come from configuration, never from code: RECIPIENTS_JSON (per jurisdiction a list of
 * `{email, mode, principalArn?}`, domain/reporting/recipients.ts; the older single-address form is
 * still read), DEFAULT_RECIPIENT (optional: one attachment-mode recipient for a jurisdiction without
 * a list). Per recipient the mode is chosen (`chooseDelivery`): `attachment` carries the report in the
 * message (SES v2 Content.Raw) when it is at most ATTACHMENT_MAX_BYTES, otherwise the recipient gets
 * the `s3-access` e-mail naming bucket, key, version and SHA-256, saying why (fallback); `s3-access`
 * recipients read `reports/<jurisdiction>/*` with their own AWS principal (the bucket and key policies
 * grant exactly that, stacks/data/report-access.ts). Messages are built by modes.ts.
 *
 * Send-once per (reportId, content SHA-256, recipient): Powertools idempotency on the DynamoDB
 * IDEMPOTENCY_TABLE. A record is written (INPROGRESS) before SES is called and completed with the
 * message id after; a failed send deletes it so a retry can send, a repeat after success returns the
 * first delivery. Recipients are sent one after the other: when one fails, the ones before it stay
 * sent and a retry of the invocation sends only what is missing. A corrected report (same id, new
 * content) is delivered again as a resubmission.
 *
 * The payload's `isValid` is not trusted on its own. Before the first send of an invocation the
 * stored object is read and hashed (only in REPORTS_BUCKET when that is set); anything goes out only
 * when that SHA-256 equals the payload's and the `validated-sha256` tag report-validate put on that very
 * object version after checking it against report_log. An attachment is read from that version and its
 * bytes are hashed again before they are attached. An object changed after validation (a new version
 * has no tag, or other bytes) or a payload for a report that was never validated is refused with
 * PermanentError and nothing is sent. The check runs inside the send-once function: a repeat of a
 * completed send returns ALREADY_SENT without reading the object.
 */
import type { Context } from 'aws-lambda';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { SendEmailCommand } from '@aws-sdk/client-sesv2';
import { IdempotencyAlreadyInProgressError, IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import {
  DeliveryMode, normalizeRecipients, Recipient, RecipientConfigError, recipientsFor,
} from '../../domain/reporting/recipients';
import type { ReportJurisdiction } from '../../domain/reporting/frameworks';
import { dynamo, s3, ses } from '../shared/clients';
import { environmentOf, optionalEnv } from '../shared/env';
import { classifyError, PermanentError, RetryableError } from '../shared/errors';
import { createLogger, powertoolsHandler } from '../shared/powertools';
import { DeliveryResult, GenerateResult, parseGenerateResult, parseValidation, ValidationResult } from '../shared/report-payloads';
import { getTags, hashObject } from '../shared/s3-object';
import { deliveryEmail, needsReportBytes, StoredReport } from './modes';

/** Written by report-validate (lambda-src/report-validate: REPORT_VALIDATED_TAG), read here. */
const VALIDATED_TAG = 'validated-sha256';

const logger = createLogger('report-deliver');
/** Idempotency records outlive any redelivery: a report date is never emailed twice within ~13 months. */
const SEND_ONCE_SECONDS = 400 * 24 * 3600;

/** One recipient's delivery, as recorded by the send-once store and returned to the workflow. */
export interface Delivery {
  recipient: string;
  /** The mode used. */
  mode: DeliveryMode;
  /** The recipient's configured mode. */
  requestedMode: DeliveryMode;
  /** Set when mode differs from requestedMode. */
  fallbackReason?: string;
  messageId: string;
  /** SHA-256 of the report the message carried (attachment) or named (s3-access). */
  sha256: string;
  /** SENT by this invocation, ALREADY_SENT by an earlier one. */
  status: 'SENT' | 'ALREADY_SENT';
}

/** The workflow's delivery result: the first delivery at top level (as before), every delivery in `deliveries`. */
export interface MultiDeliveryResult extends DeliveryResult {
  deliveries: Delivery[];
}

type Sent = Omit<Delivery, 'status'>;

interface SendInput {
  reportId: string;
  report: GenerateResult;
  recipient: Recipient;
  recipientCount: number;
}

/** The recipients of a jurisdiction's report from RECIPIENTS_JSON and DEFAULT_RECIPIENT. */
export function recipientsOf(jurisdiction: ReportJurisdiction): Recipient[] {
  const env = environmentOf('report-deliver');
  try {
    const list = recipientsFor(normalizeRecipients(env.RECIPIENTS_JSON, 'RECIPIENTS_JSON'), jurisdiction, env.DEFAULT_RECIPIENT);
    if (!list.length) throw new PermanentError(`no recipient configured for ${jurisdiction} (RECIPIENTS_JSON.${jurisdiction} or DEFAULT_RECIPIENT)`);
    return list;
  } catch (err) {
    if (err instanceof RecipientConfigError) throw new PermanentError(`recipient configuration: ${err.message}`);
    throw err;
  }
}

/**
 * The stored report as checked by the permit, with its bytes when an attachment needs them. One per
 * invocation (memoised by the caller): every send of the invocation is of this checked version.
 */
interface Permitted { object: StoredReport }

/** The invocation's own state: the permit (checked at most once) and which recipients it sent to. */
interface InvocationState { permitted?: Promise<Permitted>; recipients: Recipient[]; sentNow: Set<string> }

let store: { config: IdempotencyConfig; persistenceStore: DynamoDBPersistenceLayer } | undefined;

/** The send-once store, created once per container. */
function sendOnceStore() {
  store ??= {
    config: new IdempotencyConfig({ eventKeyJmesPath: '[reportId, report.sha256, recipient.email]', expiresAfterSeconds: SEND_ONCE_SECONDS }),
    persistenceStore: new DynamoDBPersistenceLayer({ tableName: environmentOf('report-deliver').IDEMPOTENCY_TABLE, awsSdkV3Client: dynamo() }),
  };
  return store;
}

/**
 * The send-once function of one invocation: it closes over that invocation's state, so invocations
 * side by side in one process (local runs, tests) never share a permit or recipients.
 */
function sendOnce(invocation: InvocationState): (input: SendInput) => Promise<Sent> {
  const { config, persistenceStore } = sendOnceStore();
  return makeIdempotent(async (input: SendInput): Promise<Sent> => {
    const { report, recipient } = input;
    invocation.permitted ??= permittedReport(report, invocation.recipients);
    const { object } = await invocation.permitted;
    const env = environmentOf('report-deliver');
    const email = deliveryEmail({
      report,
      object,
      recipient,
      attachmentMaxBytes: env.ATTACHMENT_MAX_BYTES,
      sourceEmail: env.SOURCE_EMAIL,
      configurationSetName: env.SES_CONFIGURATION_SET,
      date: new Date(),
      region: optionalEnv('AWS_REGION'),
      recipientCount: input.recipientCount,
    });
    let messageId: string | undefined;
    try {
      messageId = (await ses().send(new SendEmailCommand(email.input))).MessageId;
    } catch (err) {
      throw classifyError(err, `SES SendEmail ${report.reportId}`);
    }
    if (!messageId) throw new RetryableError('SES SendEmail returned no MessageId');
    invocation.sentNow.add(recipient.email);
    const sent: Sent = { recipient: recipient.email, mode: email.mode, requestedMode: email.requestedMode, messageId, sha256: email.sha256 };
    if (email.fallbackReason) sent.fallbackReason = email.fallbackReason;
    return sent;
  }, { persistenceStore, config });
}

/**
 * Sends only what validation checked: the object's current bytes must hash to the payload's SHA-256
 * and to the permit report-validate tagged on that version after comparing it with report_log.
 * Returns the version checked and its size.
 */
export async function requireDeliveryPermit(report: GenerateResult): Promise<{ sha256: string; bytes: number; versionId?: string }> {
  // Defence in depth: the role can read only reports/* of the reports bucket and only validate can tag
  // there; with REPORTS_BUCKET set, another bucket is refused before any read.
  const reportsBucket = environmentOf('report-deliver').REPORTS_BUCKET;
  if (reportsBucket !== undefined && report.bucket !== reportsBucket) {
    throw new PermanentError(`report ${report.reportId}: report.bucket must be the reports bucket (REPORTS_BUCKET)`);
  }
  const stored = await hashObject(report.bucket, report.key);
  if (stored.sha256 !== report.sha256) {
    throw new PermanentError(`report ${report.reportId}: the stored object does not match the payload SHA-256 (changed after validation?): refusing to deliver`);
  }
  const permit = (await getTags(report.bucket, report.key, stored.versionId))[VALIDATED_TAG];
  if (permit !== stored.sha256) {
    throw new PermanentError(`report ${report.reportId}: the stored object carries no validation permit for its content: refusing to deliver`);
  }
  return stored;
}

/** The permit, then (only when some recipient gets an attachment) the bytes of exactly that version. */
async function permittedReport(report: GenerateResult, recipients: Recipient[]): Promise<Permitted> {
  const stored = await requireDeliveryPermit(report);
  const object: StoredReport = { size: stored.bytes, versionId: stored.versionId };
  if (needsReportBytes(recipients, stored.bytes, environmentOf('report-deliver').ATTACHMENT_MAX_BYTES)) {
    object.bytes = await readVersion(report, stored.versionId);
    // deliveryEmail checks these bytes against the size and SHA-256 again before attaching them.
  }
  return { object };
}

async function readVersion(report: GenerateResult, versionId: string | undefined): Promise<Uint8Array> {
  try {
    const res = await s3().send(new GetObjectCommand({ Bucket: report.bucket, Key: report.key, VersionId: versionId }));
    return await res.Body!.transformToByteArray();
  } catch (err) {
    throw classifyError(err, `GetObject s3://${report.bucket}/${report.key}`);
  }
}

/** The workflow's state after validation (contracts.md); parsed strictly, the types check nothing. */
export interface DeliverEvent { report: GenerateResult; validation: ValidationResult }

export const handler = powertoolsHandler('report-deliver', logger, async (event: DeliverEvent, context?: Context): Promise<MultiDeliveryResult> => {
  const e = (event ?? {}) as { report?: unknown; validation?: unknown };
  const report = parseGenerateResult(e.report, 'report');
  const validation = parseValidation(e.validation, 'validation');
  if (validation.reportId !== report.reportId) throw new PermanentError('validation.reportId does not match report.reportId');
  if (!validation.isValid) throw new PermanentError(`report ${report.reportId} failed validation: refusing to deliver`);
  const recipients = recipientsOf(report.jurisdiction as ReportJurisdiction);
  // With the Lambda context an INPROGRESS record left by a crashed attempt expires with that attempt.
  if (context && typeof context.getRemainingTimeInMillis === 'function') sendOnceStore().config.registerLambdaContext(context as never);
  const invocation: InvocationState = { recipients, sentNow: new Set() };
  const send = sendOnce(invocation);
  const deliveries: Delivery[] = [];
  for (const recipient of recipients) {
    deliveries.push(await sendTo(send, { reportId: report.reportId, report, recipient, recipientCount: recipients.length }, invocation, deliveries, recipients.length));
  }
  const status = deliveries.some((d) => d.status === 'SENT') ? 'SENT' : 'ALREADY_SENT';
  for (const d of deliveries) {
    logger.info('report delivery', { reportId: report.reportId, status: d.status, mode: d.mode, requestedMode: d.requestedMode, messageId: d.messageId });
  }
  const first = deliveries[0];
  return { reportId: report.reportId, messageId: first.messageId, recipient: first.recipient, status, deliveries };
});

/** One recipient through the send-once function; errors become RetryableError/PermanentError. */
async function sendTo(send: (input: SendInput) => Promise<Sent>, input: SendInput, invocation: InvocationState, done: Delivery[], of: number): Promise<Delivery> {
  const { report, recipient } = input;
  let sent: Sent;
  try {
    sent = await send(input);
  } catch (err) {
    if (done.length) logger.warn('delivery stopped part-way; a retry sends only what is missing', { reportId: report.reportId, delivered: done.length, of });
    if (err instanceof IdempotencyAlreadyInProgressError) {
      throw new RetryableError(`report ${report.reportId}: another delivery attempt is in progress`, { cause: err });
    }
    if (err instanceof RetryableError || err instanceof PermanentError) throw err;
    throw classifyError(err, `deliver ${report.reportId}`);
  }
  return { ...sent, status: invocation.sentNow.has(recipient.email) ? 'SENT' : 'ALREADY_SENT' };
}
