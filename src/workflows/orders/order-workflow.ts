/**
 * orderWorkflowV2 — one long-running workflow per order, ID `order:<orderId>`. New orders start this type;
 * orderWorkflow runs the same code for orders started before it (see below).
 *
 * Input: OrderWorkflowInput (amounts in minor units, an absolute payment deadline).
 * Messages: paymentAttemptSignal and submitPaymentUpdate enqueue an attempt; cancelOrderSignal cancels;
 *   orderSnapshotQuery answers the live state.
 * States: PENDING until the successful payments add up exactly to the amount (COMPLETED), the deadline passes
 *   (EXPIRED) or a cancel arrives (CANCELLED).
 * Guarantees: attempts run one at a time in arrival order, so racing attempts never overpay; a paymentId is
 *   applied once; an attempt in flight finishes before a cancel or the deadline takes effect; no attempt
 *   starts charging after the deadline (one whose turn comes later is refused as `deadline_passed` and the
 *   order expires); queued attempts not yet started are refused once the order is final (a cancelled order is
 *   never charged); a charge left without an answer is looked up at the provider before the payment is
 *   recorded, so a charge the provider reports is never recorded as failed (one it cannot report within a day
 *   is `charge_outcome_unknown`, for reconciliation to settle); the read model is written
 *   before an update is answered; history stays bounded by continuing as new.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  makeContinueAsNewFunc,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createOrderActivities } from '../../activities/orders';
import {
  applyPaymentResult,
  closeOrder,
  decideAttempt,
  outcomeOf,
  refusalFor,
  type AttemptContext,
  type OrderState,
  type OrderStatus,
  type PaymentAttempt,
  type PaymentOutcome,
  type PaymentSummary,
} from '../../domain/orders/order-state';
import { ORDER_STATUS } from '../search-attributes';
import {
  CHARGE_MISMATCH,
  GATEWAY_REFUSED,
  PAYMENT_DECLINED,
  PAYMENT_INVALID,
  cancelOrderSignal,
  orderSnapshotQuery,
  paymentAttemptSignal,
  submitPaymentUpdate,
  type OrderWorkflowInput,
} from './messages';

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
    nonRetryableErrorTypes: [PAYMENT_DECLINED, PAYMENT_INVALID, GATEWAY_REFUSED],
  },
});

/**
 * Asks the provider whether a charge with no answer was taken. Its answer is the only honest outcome, so it
 * retries for a day while the provider is down or still busy with the key (the payment stays PENDING
 * meanwhile), backing off to one request per 5 minutes. Past that the payment fails as
 * `charge_outcome_unknown`, and reconciliation reports a charge the provider may still have taken.
 */
const { lookUpCharge } = proxyActivities<OrderActivities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '1d',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '5m',
    nonRetryableErrorTypes: [GATEWAY_REFUSED, CHARGE_MISMATCH],
  },
});

/**
 * Gates the cheaper command sequence: read-model writes as local activities, one deadline timer per run and
 * one search-attribute upsert per status change. Runs recorded before it keep their commands.
 */
const LEAN_COMMANDS_PATCH = 'order-local-writes-one-deadline-timer-one-upsert';
/** Gates refusing attempts whose turn comes after the deadline; earlier code charged them. */
const DEADLINE_REFUSAL_PATCH = 'order-refuse-attempts-after-deadline';
/**
 * Gates, on a failed charge only, asking the provider before recording FAILED and the reasons
 * `gateway_refused` and `payment_invalid`; earlier code recorded every such failure as `gateway_unavailable`.
 */
const CHARGE_FAILURE_PATCH = 'order-charge-failure-asks-provider';

/** Whether a run takes a change: patched() for runs that may predate it, always for the V2 type. */
type HasChange = (patchId: string) => boolean;

/**
 * The workflow type of orders started before orderWorkflowV2 existed: their histories may predate any patch,
 * so every change is asked of patched(). Each patch costs a new run two history events (its marker and the
 * TemporalChangeVersion upsert the SDK adds), which is why new orders start the V2 type instead (Temporal's
 * "version the workflow name"). Remove this type, with the patches and the branches they guard, once no
 * orderWorkflow run is open.
 */
export async function orderWorkflow(input: OrderWorkflowInput): Promise<OrderState> {
  return runOrder(input, patched);
}

/** The order workflow of every order started since: all of today's behaviour, and no patch markers. */
export async function orderWorkflowV2(input: OrderWorkflowInput): Promise<OrderState> {
  return runOrder(input, () => true);
}

/**
 * Read-model writes are idempotent, so they retry until the database is back, with no overall timeout.
 * Backoffs up to 10 s retry inside the workflow task; longer ones wait on a durable timer, so an outage of
 * minutes neither fails the order nor holds one workflow task open throughout.
 */
const localReadModel = proxyLocalActivities<OrderActivities>({
  startToCloseTimeout: '10s',
  localRetryThreshold: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});
/** The same writes as regular activities, as runs recorded before LEAN_COMMANDS_PATCH scheduled them. */
const remoteReadModel = proxyActivities<OrderActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

async function runOrder(input: OrderWorkflowInput, hasChange: HasChange): Promise<OrderState> {
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

  let deadlineTimer: Promise<void> | undefined;
  let deadlineReached = false;
  const deadlinePassed = () => deadlineReached || Date.now() >= deadline;
  /** Waits until an attempt or a cancel arrives (true) or the deadline passes (false). */
  const waitForWork = async (): Promise<boolean> => {
    const hasWork = () => queue.length > 0 || cancelRequested;
    if (!hasChange(LEAN_COMMANDS_PATCH)) return condition(hasWork, Math.max(deadline - Date.now(), 1));
    deadlineTimer ??= sleep(Math.max(deadline - Date.now(), 1)).then(() => void (deadlineReached = true));
    await condition(() => hasWork() || deadlineReached);
    return hasWork();
  };

  let publishedStatus = 'PENDING' as OrderStatus;
  const run: RunContext = {
    hasChange,
    readModel: () => (hasChange(LEAN_COMMANDS_PATCH) ? localReadModel : remoteReadModel),
    publishStatus: (status) => {
      upsertSearchAttributes([{ key: ORDER_STATUS, value: status }]);
      publishedStatus = status;
    },
  };

  while (order.status === 'PENDING') {
    const hasWork = await waitForWork();
    if (cancelRequested) {
      order = closeOrder(order, 'CANCELLED');
    } else if (!hasWork) {
      order = closeOrder(order, 'EXPIRED');
    } else if (deadlinePassed() && hasChange(DEADLINE_REFUSAL_PATCH)) {
      // Attempts that queued while an earlier charge ran past the deadline are refused, never charged.
      while (queue.length > 0) {
        order = await processAttempt(order, queue.shift()!, run, { deadlinePassed: true });
      }
      order = closeOrder(order, 'EXPIRED');
    } else {
      order = await processAttempt(order, queue.shift()!, run);
      attemptsThisRun += 1;
    }

    if (order.status !== 'PENDING') break;
    // Queued signal attempts travel to the next run; attempts an update waits on are finished here first.
    if (
      shouldContinueAsNew(attemptsThisRun, input.maxAttemptsPerRun) &&
      allHandlersFinished() &&
      !cancelRequested
    ) {
      // Into the V2 type whatever this run's type: a fresh run takes every change, so orderWorkflow drains.
      await makeContinueAsNewFunc<typeof orderWorkflowV2>({ workflowType: 'orderWorkflowV2' })({
        ...input,
        amountPaid: order.amountPaid,
        carried: { payments: order.payments, queue, attemptsProcessed: order.attemptsProcessed },
      });
    }
  }

  if (order.status !== 'COMPLETED') {
    await run.readModel().recordOrderStatus({ orderId: order.orderId, status: order.status });
  }
  if (!hasChange(LEAN_COMMANDS_PATCH) || publishedStatus !== order.status) run.publishStatus(order.status);

  // Attempts that arrive now are late: refuse each on the record, until no message is left unanswered.
  for (;;) {
    while (queue.length > 0) order = await processAttempt(order, queue.shift()!, run);
    await condition(() => queue.length > 0 || allHandlersFinished());
    if (queue.length === 0) return order;
  }
}

/** What an attempt needs of its run: where the read model is written, and how a status is published. */
interface RunContext {
  hasChange: HasChange;
  readModel: () => typeof localReadModel;
  publishStatus: (status: OrderStatus) => void;
}

async function processAttempt(
  order: OrderState,
  attempt: PaymentAttempt,
  run: RunContext,
  context: AttemptContext = {},
): Promise<OrderState> {
  const decision = decideAttempt(order, attempt, context);
  if (decision.kind === 'duplicate') return order;

  let result: PaymentSummary;
  if (decision.kind === 'refuse') {
    result = { ...attempt, status: 'FAILED', failureReason: decision.reason };
  } else {
    result = await charge(order, attempt, run.hasChange);
  }
  const next = applyPaymentResult(order, result);
  await run.readModel().recordPaymentResult({ orderId: order.orderId, payment: result });
  if (next.status !== order.status) run.publishStatus(next.status);
  return next;
}

async function charge(
  order: OrderState,
  attempt: PaymentAttempt,
  hasChange: HasChange,
): Promise<PaymentSummary> {
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
    // A failed charge fails this payment, never the order: the client may retry. A decline names its reason.
    const cause = error.cause;
    const type = cause instanceof ApplicationFailure ? cause.type : undefined;
    const failed = (failureReason: string): PaymentSummary => ({
      ...attempt,
      status: 'FAILED',
      failureReason,
    });
    if (type === PAYMENT_DECLINED) return failed(cause!.message);
    if (!hasChange(CHARGE_FAILURE_PATCH)) return failed('gateway_unavailable');
    // Retries ran out without an answer, or a retry was refused after an attempt whose answer was lost (a
    // worker of the previous release calls that refusal invalid): the provider may have charged, and only its
    // record can tell. A payment it was never asked about finds nothing. Retries that ran out of time may leave
    // their last attempt still sending, so the lookup waits for it.
    const lookup = await lookUpChargeOf(order, attempt, error.retryState === 'TIMEOUT');
    if (lookup === 'taken') return { ...attempt, status: 'COMPLETED' };
    if (lookup === 'refused' || type === GATEWAY_REFUSED) return failed('gateway_refused');
    if (lookup === 'unknown') return failed('charge_outcome_unknown');
    return failed(type === PAYMENT_INVALID ? 'payment_invalid' : 'gateway_unavailable');
  }
}

/** Longer than a charge attempt may run (its start-to-close timeout), so none is still on its way. */
const LOOKUP_DELAY = '1m';

async function lookUpChargeOf(
  order: OrderState,
  attempt: PaymentAttempt,
  attemptMayStillRun: boolean,
): Promise<'taken' | 'none' | 'refused' | 'unknown'> {
  if (attemptMayStillRun) await sleep(LOOKUP_DELAY);
  try {
    const found = await lookUpCharge({
      paymentId: attempt.paymentId,
      amount: attempt.amount,
      currency: order.currency,
    });
    return found === null ? 'none' : 'taken';
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    // The provider refuses durapay's requests as such (a wrong key): the payment fails as refused, and
    // reconciliation, under the right key, reports a charge an earlier attempt may have taken.
    if (error.cause instanceof ApplicationFailure && error.cause.type === GATEWAY_REFUSED) return 'refused';
    // Still no answer after a day, or a charge under the key that is not this payment's: reconciliation
    // reports the charge, if there is one.
    return 'unknown';
  }
}

function shouldContinueAsNew(
  attemptsThisRun: number,
  maxAttemptsPerRun = DEFAULT_MAX_ATTEMPTS_PER_RUN,
): boolean {
  return attemptsThisRun >= maxAttemptsPerRun || workflowInfo().continueAsNewSuggested;
}
