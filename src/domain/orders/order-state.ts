/**
 * The order state machine, as plain functions the workflow calls.
 *
 *   PENDING ──paid in full──▶ COMPLETED
 *      │ ──cancel─────────▶ CANCELLED
 *      └ ──deadline───────▶ EXPIRED
 *
 * Invariants: amountPaid never exceeds amount; each paymentId is applied at most once; only a PENDING
 * order takes payments, and none once its payment deadline has passed.
 */
import { DomainError } from '../errors';

export const ORDER_STATUSES = ['PENDING', 'COMPLETED', 'CANCELLED', 'EXPIRED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];
export const PAYMENT_STATUSES = ['PENDING', 'COMPLETED', 'FAILED'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export const isOrderStatus = (text: string): text is OrderStatus =>
  (ORDER_STATUSES as readonly string[]).includes(text);
export const isPaymentStatus = (text: string): text is PaymentStatus =>
  (PAYMENT_STATUSES as readonly string[]).includes(text);

export type RefusalReason = 'amount_exceeds_due' | 'order_not_pending' | 'deadline_passed';

export interface PaymentAttempt {
  paymentId: string;
  amount: number;
}

export interface PaymentSummary {
  paymentId: string;
  amount: number;
  status: PaymentStatus;
  failureReason?: string;
}

export interface PaymentOutcome {
  paymentId: string;
  status: 'COMPLETED' | 'FAILED';
  failureReason?: string;
  amountPaid: number;
  orderStatus: OrderStatus;
}

export interface OrderState {
  orderId: string;
  currency: string;
  amount: number;
  amountPaid: number;
  status: OrderStatus;
  payments: PaymentSummary[];
  attemptsProcessed: number;
}

export type OrderSnapshot = OrderState & { amountDue: number; paymentDeadline: string };

export const amountDue = (order: OrderState): number => order.amount - order.amountPaid;

export type AttemptDecision =
  | { kind: 'duplicate'; previous: PaymentSummary }
  | { kind: 'refuse'; reason: RefusalReason; message: string }
  | { kind: 'charge' };

export interface AttemptContext {
  /** The payment deadline has passed: nothing may start charging any more. */
  deadlinePassed?: boolean;
}

/** What to do with an attempt when its turn comes. */
export function decideAttempt(
  order: OrderState,
  attempt: PaymentAttempt,
  context: AttemptContext = {},
): AttemptDecision {
  const previous = order.payments.find((payment) => payment.paymentId === attempt.paymentId);
  if (previous) return { kind: 'duplicate', previous };
  const refusal = refusalFor(order, attempt, context);
  return refusal ? { kind: 'refuse', ...refusal } : { kind: 'charge' };
}

/** Why an attempt cannot be taken now, or undefined. Also the update validator's check. */
export function refusalFor(
  order: OrderState,
  attempt: PaymentAttempt,
  context: AttemptContext = {},
): { reason: RefusalReason; message: string } | undefined {
  if (order.status !== 'PENDING') {
    return { reason: 'order_not_pending', message: `order ${order.orderId} is ${order.status}, not PENDING` };
  }
  if (context.deadlinePassed) {
    return {
      reason: 'deadline_passed',
      message: `the payment deadline of order ${order.orderId} has passed`,
    };
  }
  if (!Number.isSafeInteger(attempt.amount) || attempt.amount <= 0) {
    throw new DomainError('AMOUNT_NOT_POSITIVE', 'payment amount must be a positive number of minor units');
  }
  if (attempt.amount > amountDue(order)) {
    return {
      reason: 'amount_exceeds_due',
      message: `payment of ${attempt.amount} minor units exceeds the ${amountDue(order)} still due`,
    };
  }
  return undefined;
}

/** Records a finished attempt. A completed payment that would overpay is a bug upstream: refuse loudly. */
export function applyPaymentResult(order: OrderState, result: PaymentSummary): OrderState {
  if (result.status === 'PENDING')
    throw new DomainError('PAYMENT_NOT_FINAL', 'only final payments are applied');
  const paid = result.status === 'COMPLETED' ? result.amount : 0;
  if (order.amountPaid + paid > order.amount) {
    throw new DomainError('OVERPAYMENT', `payment ${result.paymentId} would pay more than the order total`);
  }
  const amountPaid = order.amountPaid + paid;
  return {
    ...order,
    amountPaid,
    status: amountPaid === order.amount ? 'COMPLETED' : order.status,
    payments: [...order.payments, result],
    attemptsProcessed: order.attemptsProcessed + 1,
  };
}

/** Cancels or expires a PENDING order; a final order keeps its status. */
export function closeOrder(order: OrderState, status: 'CANCELLED' | 'EXPIRED'): OrderState {
  return order.status === 'PENDING' ? { ...order, status } : order;
}

export function outcomeOf(order: OrderState, payment: PaymentSummary): PaymentOutcome {
  return {
    paymentId: payment.paymentId,
    status: payment.status === 'COMPLETED' ? 'COMPLETED' : 'FAILED',
    ...(payment.failureReason === undefined ? {} : { failureReason: payment.failureReason }),
    amountPaid: order.amountPaid,
    orderStatus: order.status,
  };
}
