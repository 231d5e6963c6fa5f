/**
 * Stores validated payments once. Powertools idempotency (DynamoDB IDEMPOTENCY_TABLE) keyed by
 * transactionId, with the amount/currency/cardLast4 as the payload to validate: the same payment seen
 * again (another file, a redelivered event) is a duplicate and stored nothing; the same id with
 * different content is refused (IdempotencyValidationError -> PermanentError). The metadata item has
 * allow-listed fields only, and its sort key is the payment's own time (or the object's
 * LastModified), never "now", so a retry writes the same item.
 */
import * as crypto from 'crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { IdempotencyConfig, IdempotencyValidationError, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Payment } from '../../domain/payment';
import { ddb, dynamo } from '../shared/clients';
import { environmentOf } from '../shared/env';
import { classifyError, isConditionFailure, PermanentError } from '../shared/errors';

const DEDUPE_WINDOW_SECONDS = 400 * 24 * 3600;

export interface StoreInput {
  transactionId: string;
  amount: string;
  currency: string;
  cardLast4: string;
  timestampMs: number;
  amountMinor: string;
  source: string;
  /** Per-call token: comes back only from the call that actually stored (not part of the key or payload hash). */
  nonce: string;
}

interface Stored { source: string; nonce: string }

let store: ((input: StoreInput) => Promise<Stored>) | undefined;
let config: IdempotencyConfig | undefined;

type LambdaContextLike = { getRemainingTimeInMillis(): number };

/**
 * With the invocation's context an INPROGRESS record left by a crashed invocation expires when that
 * invocation's time is up, instead of blocking the payment for the whole dedupe window.
 */
export function useLambdaContext(context: unknown): void {
  storeOnce();
  if (context && typeof (context as LambdaContextLike).getRemainingTimeInMillis === 'function') config!.registerLambdaContext(context as never);
}

function storeOnce(): (input: StoreInput) => Promise<Stored> {
  if (store) return store;
  const { TRANSACTIONS_TABLE: table, IDEMPOTENCY_TABLE: idempotencyTable } = environmentOf('ingest');
  const persistenceStore = new DynamoDBPersistenceLayer({ tableName: idempotencyTable, awsSdkV3Client: dynamo() });
  config = new IdempotencyConfig({
    eventKeyJmesPath: 'transactionId',
    payloadValidationJmesPath: '[amount, currency, cardLast4]',
    expiresAfterSeconds: DEDUPE_WINDOW_SECONDS,
  });
  store = makeIdempotent(async (input: StoreInput): Promise<Stored> => {
    try {
      await ddb().send(new PutCommand({
        TableName: table,
        Item: {
          transactionId: input.transactionId,
          timestamp: input.timestampMs,
          amount: input.amount,
          amountMinor: input.amountMinor,
          currency: input.currency,
          cardLast4: input.cardLast4,
          status: 'processed',
          processedAt: Date.now(),
          processingVersion: '1.0',
          source: input.source,
        },
        ConditionExpression: 'attribute_not_exists(transactionId)',
      }));
    } catch (err) {
      if (!isConditionFailure(err)) throw classifyError(err, `PutItem payment ${input.transactionId}`);
    }
    return { source: input.source, nonce: input.nonce };
  }, { persistenceStore, config });
  return store;
}

/** 'STORED' (this call), 'ALREADY_STORED' (same file version again) or 'DUPLICATE' (seen in another file). */
export async function storePayment(p: Payment, fallbackTimeMs: number, source: string): Promise<'STORED' | 'ALREADY_STORED' | 'DUPLICATE'> {
  const timestampMs = p.timestamp ? Date.parse(p.timestamp) : fallbackTimeMs;
  const nonce = crypto.randomUUID();
  let stored: Stored;
  try {
    stored = await storeOnce()({
      transactionId: p.transactionId, amount: p.amount, currency: p.currency, cardLast4: p.cardLast4,
      timestampMs, amountMinor: p.amountMinor.toString(), source, nonce,
    });
  } catch (err) {
    if (err instanceof IdempotencyValidationError) {
      throw new PermanentError(`payment ${p.transactionId}: conflicting duplicate (same transactionId, different content)`, { cause: err });
    }
    throw classifyError(err, `store payment ${p.transactionId}`);
  }
  if (stored.nonce === nonce) return 'STORED';
  if (stored.source !== source) return 'DUPLICATE';
  return 'ALREADY_STORED';
}
