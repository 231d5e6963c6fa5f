/**
 * report-deliver: emails a VALIDATED report once. Runs outside the VPC (SES has no VPC API endpoint).
 * Send-once: Powertools idempotency on the DynamoDB IDEMPOTENCY_TABLE keyed by (reportId, content
 * SHA-256): the same report is never sent twice, while a corrected report (same id, regenerated after
 * late data) is delivered as a resubmission. The record is
 * written (INPROGRESS) before SES is called and completed with the message id after; a failed send
 * deletes it so a retry can send, a repeat after success returns ALREADY_SENT with the first message
 * id. Invalid reports are refused with PermanentError. Recipients come from configuration
 * (RECIPIENTS_JSON per jurisdiction, DEFAULT_RECIPIENT otherwise), never from code.
 *
 * The payload's `isValid` is not trusted on its own. Before sending, the stored object is read and
 * hashed (only in REPORTS_BUCKET when that is set); the email goes out only when that SHA-256 equals
 * the payload's and the `validated-sha256` tag report-validate put on that very object version after
 * checking it against report_log. An object changed after validation (a new version has no tag, or other bytes) or a
 * payload for a report that was never validated is refused with PermanentError and nothing is sent.
 * The check runs inside the send-once function: a repeat of a completed send returns ALREADY_SENT.
 */
import { SendEmailCommand } from '@aws-sdk/client-sesv2';
import { IdempotencyAlreadyInProgressError, IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { dynamo, ses } from '../shared/clients';
import { jsonEnv, optionalEnv, requireEnv } from '../shared/env';
import { classifyError, PermanentError, RetryableError } from '../shared/errors';
import { createLogger } from '../shared/powertools';
import { DeliveryResult, GenerateResult, parseGenerateResult, parseValidation, ValidationResult } from '../shared/report-payloads';
import { getTags, hashObject } from '../shared/s3-object';
import { bodyOf, subjectOf } from './email';

/** Written by report-validate (lambda-src/report-validate: REPORT_VALIDATED_TAG), read here. */
const VALIDATED_TAG = 'validated-sha256';

const logger = createLogger('report-deliver');
/** Idempotency records outlive any redelivery: a report date is never emailed twice within ~13 months. */
const SEND_ONCE_SECONDS = 400 * 24 * 3600;

interface Sent { messageId: string; recipient: string }

export function recipientFor(jurisdiction: string): string {
  const recipients = jsonEnv<Record<string, unknown>>('RECIPIENTS_JSON');
  const r = recipients[jurisdiction];
  if (r !== undefined && typeof r !== 'string') throw new Error(`RECIPIENTS_JSON.${jurisdiction} must be an email address`);
  return r ?? requireEnv('DEFAULT_RECIPIENT');
}

let idempotent: { config: IdempotencyConfig; send: (input: { reportId: string; report: GenerateResult; validation: ValidationResult }) => Promise<Sent> } | undefined;
let executed = false;

function sendOnce() {
  if (idempotent) return idempotent;
  const config = new IdempotencyConfig({ eventKeyJmesPath: '[reportId, report.sha256]', expiresAfterSeconds: SEND_ONCE_SECONDS });
  const persistenceStore = new DynamoDBPersistenceLayer({ tableName: requireEnv('IDEMPOTENCY_TABLE'), awsSdkV3Client: dynamo() });
  const send = makeIdempotent(async (input: { reportId: string; report: GenerateResult; validation: ValidationResult }): Promise<Sent> => {
    executed = true;
    const { report, validation } = input;
    await requireDeliveryPermit(report);
    const recipient = recipientFor(report.jurisdiction);
    const body = bodyOf(report, validation);
    try {
      const res = await ses().send(new SendEmailCommand({
        FromEmailAddress: requireEnv('SOURCE_EMAIL'),
        Destination: { ToAddresses: [recipient] },
        ConfigurationSetName: requireEnv('SES_CONFIGURATION_SET'),
        // Tags come back on the SES delivery events: report-confirm matches them to the report.
        EmailTags: [
          { Name: 'reportId', Value: report.reportId },
          { Name: 'jurisdiction', Value: report.jurisdiction },
          { Name: 'reportType', Value: report.reportType },
        ],
        Content: {
          Simple: {
            Subject: { Data: subjectOf(report), Charset: 'UTF-8' },
            Body: { Text: { Data: body.text, Charset: 'UTF-8' }, Html: { Data: body.html, Charset: 'UTF-8' } },
          },
        },
      }));
      if (!res.MessageId) throw new RetryableError('SES SendEmail returned no MessageId');
      return { messageId: res.MessageId, recipient };
    } catch (err) {
      throw classifyError(err, `SES SendEmail ${report.reportId}`);
    }
  }, { persistenceStore, config });
  idempotent = { config, send };
  return idempotent;
}

/**
 * Sends only what validation checked: the object's current bytes must hash to the payload's SHA-256
 * and to the permit report-validate tagged on that version after comparing it with report_log.
 */
export async function requireDeliveryPermit(report: GenerateResult): Promise<void> {
  // Defence in depth: the role can read only the reports bucket and only validate can tag there; with
  // REPORTS_BUCKET set, another bucket is refused before any read.
  const reportsBucket = optionalEnv('REPORTS_BUCKET');
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
}

export const handler = async (event: unknown, context?: { getRemainingTimeInMillis(): number }): Promise<DeliveryResult> => {
  const e = (event ?? {}) as { report?: unknown; validation?: unknown };
  const report = parseGenerateResult(e.report, 'report');
  const validation = parseValidation(e.validation, 'validation');
  if (validation.reportId !== report.reportId) throw new PermanentError('validation.reportId does not match report.reportId');
  if (!validation.isValid) throw new PermanentError(`report ${report.reportId} failed validation: refusing to deliver`);
  const once = sendOnce();
  // With the Lambda context an INPROGRESS record left by a crashed attempt expires with that attempt.
  if (context && typeof context.getRemainingTimeInMillis === 'function') once.config.registerLambdaContext(context as never);
  executed = false;
  let sent: Sent;
  try {
    sent = await once.send({ reportId: report.reportId, report, validation });
  } catch (err) {
    if (err instanceof IdempotencyAlreadyInProgressError) {
      throw new RetryableError(`report ${report.reportId}: another delivery attempt is in progress`, { cause: err });
    }
    if (err instanceof RetryableError || err instanceof PermanentError) throw err;
    throw classifyError(err, `deliver ${report.reportId}`);
  }
  const status = executed ? 'SENT' : 'ALREADY_SENT';
  logger.info('report delivery', { reportId: report.reportId, status, messageId: sent.messageId });
  return { reportId: report.reportId, messageId: sent.messageId, recipient: sent.recipient, status };
};
