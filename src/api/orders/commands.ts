/**
 * Parsed request bodies turned into commands: amounts and cards checked against the order's currency by
 * src/domain, and a hash of each request's meaning, so a retry is recognised and a different body under
 * the same ID is not. Pure functions; nothing here touches the database.
 */
import { createHash } from 'node:crypto';
import { validateCard, type ValidatedCard } from '../../domain/cards';
import { parseAmount } from '../../domain/money';
import { Problem } from '../http/problem';
import type { CreateOrderBody, CreatePaymentBody } from './schemas';

export interface CreateOrderCommand {
  orderId: string | undefined;
  amount: number;
  currency: string;
  customer: { id?: string; email?: string; name?: string };
  paymentDeadlineMs: number;
  requestHash: string;
}

export interface PaymentCommand {
  paymentId: string | undefined;
  amount: number;
  card: ValidatedCard;
  requestHash: string;
}

export function invalid(detail: string, extensions: Record<string, unknown> = {}): Problem {
  return new Problem(422, 'Unprocessable Content', detail, extensions);
}

export function createOrderCommand(body: CreateOrderBody, defaultDeadlineMs: number): CreateOrderCommand {
  const { orderId, currency, customer = {} } = body;
  const amount = parseAmount(body.amount, currency);
  const paymentDeadlineMs = body.paymentDeadline ?? defaultDeadlineMs;
  return {
    orderId,
    amount,
    currency,
    customer,
    paymentDeadlineMs,
    requestHash: hashOf({ orderId, amount, currency, customer, paymentDeadlineMs }),
  };
}

/** Completes a payment once the order's currency is known; the CVC is checked here, and kept out of the hash. */
export function paymentCommand(body: CreatePaymentBody, currency: string, now: Date): PaymentCommand {
  const amount = parseAmount(body.amount, currency);
  const { number, expMonth, expYear, cvc } = body.method;
  const card = validateCard({ number, expMonth, expYear, cvc }, now);
  // The full card number stays out of the hash: a hash of a card number can be reversed by brute force.
  const requestHash = hashOf({
    paymentId: body.paymentId,
    amount,
    card: {
      brand: card.masked.brand,
      last4: card.masked.last4,
      expMonth: card.expMonth,
      expYear: card.expYear,
    },
  });
  return { paymentId: body.paymentId, amount, card, requestHash };
}

function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}
