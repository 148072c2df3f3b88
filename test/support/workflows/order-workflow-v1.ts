/**
 * The order workflow as it was before local read-model writes, a single deadline timer and the deadline
 * refusal (the code that recorded test/fixtures/histories/order-v1-*.json). Frozen: tests run it under the
 * same workflow type name to create orders the way the previous release did, then finish them with today's
 * code. Never change it.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createOrderActivities } from '../../../src/activities/orders';
import {
  applyPaymentResult,
  closeOrder,
  decideAttempt,
  outcomeOf,
  refusalFor,
  type OrderState,
  type PaymentAttempt,
  type PaymentOutcome,
  type PaymentSummary,
} from '../../../src/domain/orders/order-state';
import { ORDER_STATUS } from '../../../src/workflows/search-attributes';
import {
  PAYMENT_DECLINED,
  PAYMENT_INVALID,
  cancelOrderSignal,
  orderSnapshotQuery,
  paymentAttemptSignal,
  submitPaymentUpdate,
  type OrderWorkflowInput,
} from '../../../src/workflows/orders/messages';

type OrderActivities = ReturnType<typeof createOrderActivities>;

const DEFAULT_MAX_ATTEMPTS_PER_RUN = 200;

/** Declines are business outcomes, not faults: never retried. Transient gateway errors back off and retry. */
const { chargePayment } = proxyActivities<OrderActivities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '10m',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    nonRetryableErrorTypes: [PAYMENT_DECLINED, PAYMENT_INVALID],
  },
});

/** Read-model writes are idempotent, so they may retry until the database is back. */
const { recordPaymentResult, recordOrderStatus } = proxyActivities<OrderActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

export async function orderWorkflow(input: OrderWorkflowInput): Promise<OrderState> {
  let order: OrderState = {
    orderId: input.orderId,
    currency: input.currency,
    amount: input.amount,
    amountPaid: input.amountPaid,
    status: input.amountPaid === input.amount ? 'COMPLETED' : 'PENDING',
    payments: input.carried?.payments ?? [],
    attemptsProcessed: input.carried?.attemptsProcessed ?? 0,
  };
  const queue: PaymentAttempt[] = [...(input.carried?.queue ?? [])];
  const deadline = Date.parse(input.paymentDeadline);
  let cancelRequested = false;
  let attemptsThisRun = 0;

  setHandler(paymentAttemptSignal, (attempt) => void queue.push(attempt));
  setHandler(cancelOrderSignal, () => void (cancelRequested = true));
  setHandler(orderSnapshotQuery, () => ({
    ...order,
    amountDue: order.amount - order.amountPaid,
    paymentDeadline: input.paymentDeadline,
  }));
  setHandler(
    submitPaymentUpdate,
    async (attempt): Promise<PaymentOutcome> => {
      queue.push(attempt);
      await condition(() => order.payments.some((payment) => payment.paymentId === attempt.paymentId));
      return outcomeOf(
        order,
        order.payments.find((payment) => payment.paymentId === attempt.paymentId)!,
      );
    },
    {
      // Refuse synchronously what would be refused anyway; a duplicate is answered with its first outcome.
      validator: (attempt: PaymentAttempt) => {
        if (order.payments.some((payment) => payment.paymentId === attempt.paymentId)) return;
        const refusal = refusalFor(order, attempt);
        if (refusal) throw ApplicationFailure.nonRetryable(refusal.message, refusal.reason);
      },
    },
  );

  while (order.status === 'PENDING') {
    const hasWork = await condition(
      () => queue.length > 0 || cancelRequested,
      Math.max(deadline - Date.now(), 1),
    );
    if (cancelRequested) {
      order = closeOrder(order, 'CANCELLED');
    } else if (!hasWork) {
      order = closeOrder(order, 'EXPIRED');
    } else {
      order = await processAttempt(order, queue.shift()!);
      attemptsThisRun += 1;
    }

    if (order.status !== 'PENDING') break;
    // Queued signal attempts travel to the next run; attempts an update waits on are finished here first.
    if (
      shouldContinueAsNew(attemptsThisRun, input.maxAttemptsPerRun) &&
      allHandlersFinished() &&
      !cancelRequested
    ) {
      await continueAsNew<typeof orderWorkflow>({
        ...input,
        amountPaid: order.amountPaid,
        carried: { payments: order.payments, queue, attemptsProcessed: order.attemptsProcessed },
      });
    }
  }

  if (order.status !== 'COMPLETED') await recordOrderStatus({ orderId: order.orderId, status: order.status });
  upsertSearchAttributes([{ key: ORDER_STATUS, value: order.status }]);

  // Attempts that arrive now are late: refuse each on the record, until no message is left unanswered.
  for (;;) {
    while (queue.length > 0) order = await processAttempt(order, queue.shift()!);
    await condition(() => queue.length > 0 || allHandlersFinished());
    if (queue.length === 0) return order;
  }
}

async function processAttempt(order: OrderState, attempt: PaymentAttempt): Promise<OrderState> {
  const decision = decideAttempt(order, attempt);
  if (decision.kind === 'duplicate') return order;

  let result: PaymentSummary;
  if (decision.kind === 'refuse') {
    result = { ...attempt, status: 'FAILED', failureReason: decision.reason };
  } else {
    result = await charge(order, attempt);
  }
  const next = applyPaymentResult(order, result);
  await recordPaymentResult({ orderId: order.orderId, payment: result });
  if (next.status !== order.status) upsertSearchAttributes([{ key: ORDER_STATUS, value: next.status }]);
  return next;
}

async function charge(order: OrderState, attempt: PaymentAttempt): Promise<PaymentSummary> {
  try {
    await chargePayment({
      orderId: order.orderId,
      paymentId: attempt.paymentId,
      amount: attempt.amount,
      currency: order.currency,
    });
    return { ...attempt, status: 'COMPLETED' };
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    // A decline names its reason. Retries exhausted fail this payment, never the order: the client may retry.
    const cause = error.cause;
    const declined = cause instanceof ApplicationFailure && cause.type === PAYMENT_DECLINED;
    const reason = declined ? cause.message : 'gateway_unavailable';
    return { ...attempt, status: 'FAILED', failureReason: reason };
  }
}

function shouldContinueAsNew(
  attemptsThisRun: number,
  maxAttemptsPerRun = DEFAULT_MAX_ATTEMPTS_PER_RUN,
): boolean {
  return attemptsThisRun >= maxAttemptsPerRun || workflowInfo().continueAsNewSuggested;
}
