/**
 * `POST /v1/charges` as a provider answers it: at most one charge per idempotency key, the first answer
 * repeated to every retry, outcomes by the shared test cards. The key's row in the database, not memory,
 * decides who handles a request, so concurrent requests, several processes and restarts all agree.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import type { Db } from '../db/knex';
import { CARD_NUMBER_PATTERN, luhnValid, maskedCard } from '../domain/cards';
import {
  testCardDecline,
  transientFailuresBeforeAnswer,
  type DeclineCode,
} from '../domain/payments/test-cards';
import {
  completeKey,
  findChargeByKey,
  findKey,
  insertCharge,
  insertLockedKey,
  lockKey,
  newChargeId,
  recordTransientFailure,
  unlockKey,
  type Charge,
} from './store';

/** Printable ASCII without spaces, as providers accept. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

const metadataValue = z.string().min(1).max(128);

export const chargeRequestSchema = z.strictObject({
  amount: z.int().positive(),
  currency: z
    .string()
    .regex(/^[A-Za-z]{3}$/, 'must be a three-letter ISO 4217 code')
    .transform((code) => code.toUpperCase()),
  card: z.strictObject({
    number: z
      .string()
      .regex(CARD_NUMBER_PATTERN, 'must be 12 to 19 digits')
      .refine(luhnValid, 'is not a valid card number'),
    exp_month: z.int().min(1).max(12),
    exp_year: z.int().min(1000, 'must have four digits').max(9999, 'must have four digits'),
    // Optional: durapay erases the CVC once a payment has its outcome, and a retry after that sends none.
    cvc: z
      .string()
      .regex(/^\d{3,4}$/, 'must be 3 or 4 digits')
      .optional(),
  }),
  metadata: z.strictObject({ order_id: metadataValue, payment_id: metadataValue }),
});
export type ChargeRequest = z.infer<typeof chargeRequestSchema>;

/** What the HTTP layer sends back: a status and a JSON body. */
export interface Answer {
  status: number;
  body: unknown;
}

const DECLINE_MESSAGES: Record<DeclineCode, string> = {
  card_declined: 'The card was declined.',
  insufficient_funds: 'The card has insufficient funds.',
  expired_card: 'The card has expired.',
  incorrect_cvc: "The card's security code is incorrect.",
};

export interface ChargeServiceDeps {
  db: Db;
  /** Marks the idempotency keys this process holds. */
  instanceId: string;
  /** Keys the request fingerprint, so the stored hash cannot be brute-forced back to a card number. */
  apiKey: string;
  /** The `latencyMs` fault, waited while the charge is taken and its key still in progress. */
  latency: () => Promise<void>;
  now?: () => Date;
}

export function createChargeService({
  db,
  instanceId,
  apiKey,
  latency,
  now = () => new Date(),
}: ChargeServiceDeps) {
  const fingerprintKey = createHmac('sha256', apiKey).update('durapay sandbox request fingerprint').digest();

  /**
   * Identifies a request body without keeping its card: a keyed hash (a plain hash of a card number is
   * reversible by trying every number). The CVC is left out, so a retry sent after it was erased is still
   * the same request.
   */
  const fingerprint = (request: ChargeRequest): string =>
    createHmac('sha256', fingerprintKey)
      .update(
        JSON.stringify([
          request.amount,
          request.currency,
          request.card.number,
          request.card.exp_month,
          request.card.exp_year,
          request.metadata.order_id,
          request.metadata.payment_id,
        ]),
      )
      .digest('hex');

  async function answerFor(key: string, outcome: string): Promise<Answer> {
    if (outcome !== 'succeeded') return declined(outcome as DeclineCode);
    const charge = await findChargeByKey(db, key);
    if (!charge) throw new Error(`idempotency key recorded as charged has no charge`);
    return { status: 200, body: chargeView(charge) };
  }

  /** Runs the request while holding its key: the charge, if any, is taken here and only here. */
  async function handle(key: string, request: ChargeRequest): Promise<Answer> {
    const record = await findKey(db, key);
    if (!record) throw new Error('held idempotency key has no record');
    // A charge without an answer: an earlier life of the sandbox took it and died before answering.
    let outcome = (await findChargeByKey(db, key)) ? 'succeeded' : undefined;
    if (!outcome) {
      if (record.transientFailures < transientFailuresBeforeAnswer(request.card.number)) {
        await recordTransientFailure(db, key, instanceId);
        return unavailable('processing_error', 'The charge could not be processed; retry with the same key.');
      }
      const decline = testCardDecline(
        {
          number: request.card.number,
          expMonth: request.card.exp_month,
          expYear: request.card.exp_year,
          cvc: request.card.cvc,
        },
        now(),
      );
      if (!decline) {
        const masked = maskedCard(request.card.number);
        await insertCharge(db, {
          id: newChargeId(),
          idempotencyKey: key,
          amount: request.amount,
          currency: request.currency,
          cardBrand: masked.brand,
          cardLast4: masked.last4,
          orderId: request.metadata.order_id,
          paymentId: request.metadata.payment_id,
          createdAt: now(),
        });
      }
      outcome = decline ?? 'succeeded';
    }
    await latency();
    await completeKey(db, key, instanceId, outcome, now());
    return answerFor(key, outcome);
  }

  return {
    async charge(key: string, request: ChargeRequest): Promise<Answer> {
      const requestHash = fingerprint(request);
      if (!(await insertLockedKey(db, key, requestHash, instanceId, now()))) {
        const record = await findKey(db, key);
        if (!record) throw new Error('idempotency key vanished');
        if (record.requestHash !== requestHash) {
          return idempotencyError(
            422,
            'idempotency_key_reused',
            'This idempotency key was already used with a different request body.',
          );
        }
        if (record.outcome) return answerFor(key, record.outcome);
        if (!(await lockKey(db, key, instanceId))) {
          const latest = await findKey(db, key);
          if (latest?.outcome) return answerFor(key, latest.outcome);
          return idempotencyError(
            409,
            'idempotency_key_in_use',
            'A request with this idempotency key is still in progress; retry later.',
          );
        }
      }
      try {
        return await handle(key, request);
      } catch (error) {
        // Frees the key for the caller's retry. The first error is the one to report; a key this fails to
        // free stays held until the sandbox restarts (see releaseAllKeys).
        await unlockKey(db, key, instanceId).catch(() => undefined);
        throw error;
      }
    },
  };
}

export type ChargeService = ReturnType<typeof createChargeService>;

/** A charge as the API shows it: the card only as brand and last 4. */
export function chargeView(charge: Charge) {
  return {
    id: charge.id,
    object: 'charge',
    status: 'succeeded',
    amount: charge.amount,
    currency: charge.currency,
    created: charge.createdAt.toISOString(),
    card: { brand: charge.cardBrand, last4: charge.cardLast4 },
    metadata: { order_id: charge.orderId, payment_id: charge.paymentId },
  };
}

const declined = (code: DeclineCode): Answer => ({
  status: 402,
  body: { error: { type: 'card_error', code, message: DECLINE_MESSAGES[code] } },
});

const idempotencyError = (status: number, code: string, message: string): Answer => ({
  status,
  body: { error: { type: 'idempotency_error', code, message } },
});

const unavailable = (code: string, message: string): Answer => ({
  status: 503,
  body: { error: { type: 'api_error', code, message } },
});
