/**
 * The order workflow's contract, shared by the workflow and the API so names and payloads cannot drift.
 * Amounts are integer minor units. Card data never appears here: the API stores the card encrypted on the
 * payment row and the workflow only ever sees the payment ID.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  OrderSnapshot,
  OrderStatus,
  PaymentAttempt,
  PaymentOutcome,
} from '../../domain/orders/order-state';

export type { OrderSnapshot, OrderStatus, PaymentAttempt, PaymentOutcome };

export const orderWorkflowId = (orderId: string): string => `order:${orderId}`;

export interface OrderWorkflowInput {
  orderId: string;
  currency: string;
  amount: number;
  /** Already paid before this run: by an import, or by earlier runs of a continued-as-new chain. */
  amountPaid: number;
  /** Absolute, so the timer survives continue-as-new and imports. ISO 8601. */
  paymentDeadline: string;
  customerId?: string;
  /** Carried across continue-as-new: payments seen so far and attempts still queued. */
  carried?: { payments: OrderSnapshot['payments']; queue: PaymentAttempt[]; attemptsProcessed: number };
  /** Continue-as-new after this many attempts in one run (tests lower it). */
  maxAttemptsPerRun?: number;
}

/** Activity failure types the workflow reacts to. A decline is a business outcome, never retried. */
export const PAYMENT_DECLINED = 'PaymentDeclined';
/** The payment record cannot be charged as asked (no card, amount mismatch): retrying cannot help. */
export const PAYMENT_INVALID = 'PaymentInvalid';
/** The provider refused the request as such (credentials, a key reused with another body): never retried. */
export const GATEWAY_REFUSED = 'GatewayRefused';
/** The provider holds a charge under the payment's key that is not the payment's (amount, currency, payment). */
export const CHARGE_MISMATCH = 'ChargeMismatch';

export interface CancelRequest {
  reason?: string;
}

/** Asynchronous path: the attempt joins the queue and the caller polls GET /payments/:id. */
export const paymentAttemptSignal = defineSignal<[PaymentAttempt]>('paymentAttempt');
export const cancelOrderSignal = defineSignal<[CancelRequest]>('cancelOrder');
export const orderSnapshotQuery = defineQuery<OrderSnapshot>('orderSnapshot');
/** Synchronous path (`?wait=true`): the validator refuses at once, the result arrives when the charge ends. */
export const submitPaymentUpdate = defineUpdate<PaymentOutcome, [PaymentAttempt]>('submitPayment');
