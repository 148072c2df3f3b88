/**
 * What the orders API does, between HTTP and the rest: the read model in MySQL answers reads; writes go to
 * MySQL first and then to the order's workflow. Every workflow call "starts if missing" (start, signal-with-
 * start, update-with-start), so an order whose workflow is not running yet (an import, or a create whose
 * start failed half-way) heals on first use, and a retried request never starts a second workflow.
 */
import { randomUUID } from 'node:crypto';
import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateFailedError,
  WorkflowUpdateStage,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { CardFingerprinter } from '../../crypto/card-fingerprint';
import type { FieldCipher } from '../../crypto/field-cipher';
import type { Db } from '../../db/knex';
import {
  findOrder,
  findOrderWithPayments,
  findPayment,
  findPaymentByIdempotencyKey,
  insertOrder,
  insertPayment,
  listOrders,
  newCardPaymentRow,
  newOrderRow,
  settlePayment,
  type OrderRow,
  type OrderScope,
  type PaymentRow,
} from '../../db/orders';
import { formatAmount, parseDbDecimal } from '../../domain/money';
import { CUSTOMER_ID, ORDER_STATUS } from '../../workflows/search-attributes';
import {
  cancelOrderSignal,
  orderWorkflowId,
  paymentAttemptSignal,
  submitPaymentUpdate,
  type OrderWorkflowInput,
} from '../../workflows/orders/messages';
import type { orderWorkflowV2 } from '../../workflows/orders/order-workflow';
import type { Principal } from '../auth/api-keys';
import { isRetryOf, orderScopeOf } from '../auth/access';
import { Problem } from '../http/problem';
import type { TemporalCalls } from '../http/temporal';
import { nextCursor } from '../http/pages';
import { invalid, paymentCommand, type CreateOrderCommand } from './commands';
import type { CancelAccepted, CreatePaymentBody, ListOrdersQuery, Order, Payment } from './schemas';
import { orderView, orderWorkflowLabels, paymentView } from './views';

export interface OrderServiceDeps {
  db: Db;
  client: Client;
  cipher: FieldCipher;
  fingerprinter: CardFingerprinter;
  taskQueue: string;
  /** How long `?wait=true` waits for a payment's outcome before answering 202. */
  paymentWaitMs: number;
  /** Payment window of an order stored without a deadline (an import), counted from its first use. */
  defaultDeadlineMs: number;
  /** Starts, signals and updates, each with a deadline; a retry is safe (same body, or Idempotency-Key). */
  temporal: TemporalCalls;
  now?: () => Date;
}

export type OrderServiceResult<T> = { status: number; body: T; location?: string };

export function createOrderService(deps: OrderServiceDeps) {
  const {
    db,
    client,
    cipher,
    fingerprinter,
    taskQueue,
    paymentWaitMs,
    defaultDeadlineMs,
    now = () => new Date(),
  } = deps;
  const withinDeadline = deps.temporal.call;
  const ORDER_WORKFLOW = 'orderWorkflowV2';
  const workflowOptions = (order: OrderRow) => ({
    workflowId: orderWorkflowId(order.order_id),
    taskQueue,
    args: [workflowInput(order, new Date(now().getTime() + defaultDeadlineMs))] as [OrderWorkflowInput],
    // One workflow chain per order, ever: a finished order's ID is never reused for a new run.
    workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
    typedSearchAttributes: [
      { key: ORDER_STATUS, value: 'PENDING' },
      ...(order.customer_id ? [{ key: CUSTOMER_ID, value: order.customer_id }] : []),
    ],
    ...orderWorkflowLabels(order),
  });

  /** An order outside the caller's scope is answered exactly like one that does not exist. */
  async function requireOrder(orderId: string, scope: OrderScope): Promise<OrderRow> {
    const order = await findOrder(db, orderId, scope);
    if (!order) throw new Problem(404, 'Not Found', `no order "${orderId}"`);
    return order;
  }

  async function startWorkflow(order: OrderRow): Promise<void> {
    // Already running, or ran to its end: the order exists, which is all a create retry needs.
    await deps.temporal.start<typeof orderWorkflowV2>(ORDER_WORKFLOW, {
      ...workflowOptions(order),
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
  }

  /** A payment the workflow can no longer take (the order became final first) is failed on the record. */
  async function refuseLate(payment: PaymentRow): Promise<never> {
    await settlePayment(
      db,
      {
        orderId: payment.order_id,
        paymentId: payment.payment_id,
        status: 'FAILED',
        failureReason: 'order_not_pending',
      },
      now(),
    );
    throw notPending(await requireOrder(payment.order_id, {}), { paymentId: payment.payment_id });
  }

  return {
    async createOrder(principal: Principal, command: CreateOrderCommand): Promise<OrderServiceResult<Order>> {
      const orderId = command.orderId ?? `ord_${randomUUID()}`;
      const created = now();
      const row = newOrderRow(
        {
          orderId,
          amount: command.amount,
          currency: command.currency,
          customer: command.customer,
          paymentDeadline: new Date(created.getTime() + command.paymentDeadlineMs),
          requestHash: command.requestHash,
          ownerPrincipal: principal.id,
        },
        cipher,
        created,
      );
      const inserted = await insertOrder(db, row);
      // Read unscoped: another caller's order under this ID must get the same 409 as a different body.
      const order = await requireOrder(orderId, {});
      if (!inserted && !isRetryOf(order, principal, command.requestHash)) {
        throw new Problem(409, 'Conflict', `order "${orderId}" exists with a different body`);
      }
      await startWorkflow(order);
      return { status: inserted ? 201 : 200, body: orderView(order, []), location: `/orders/${orderId}` };
    },

    async getOrder(principal: Principal, orderId: string) {
      const found = await findOrderWithPayments(db, orderId, orderScopeOf(principal));
      if (!found) throw new Problem(404, 'Not Found', `no order "${orderId}"`);
      return orderView(found.order, found.payments);
    },

    async listOrders(principal: Principal, { cursor, ...query }: ListOrdersQuery) {
      const rows = await listOrders(db, {
        ...query,
        ...(cursor && { after: { createdAt: cursor.at, orderId: cursor.id } }),
        ...orderScopeOf(principal),
      });
      return {
        items: rows.map((row) => orderView(row)),
        nextCursor: nextCursor(rows, query.limit, (row) => ({ at: row.created_at, id: row.order_id })),
      };
    },

    async getPayment(principal: Principal, paymentId: string) {
      const payment = await findPayment(db, paymentId);
      const order = payment && (await findOrder(db, payment.order_id, orderScopeOf(principal)));
      if (!payment || !order) throw new Problem(404, 'Not Found', `no payment "${paymentId}"`);
      return paymentView(payment, order.currency);
    },

    async submitPayment(
      principal: Principal,
      orderId: string,
      body: CreatePaymentBody,
      options: { idempotencyKey: string | undefined; wait: boolean },
    ): Promise<OrderServiceResult<Payment>> {
      const order = await requireOrder(orderId, orderScopeOf(principal));
      const command = paymentCommand(body, order.currency, now());

      const replay = await findReplay(orderId, command, options.idempotencyKey);
      // A retry of a payment still PENDING delivers it again: the first delivery may be what failed, and the
      // workflow applies a paymentId once.
      if (replay) {
        return replay.payment_status === 'PENDING'
          ? deliver(order, replay, options.wait)
          : paymentResponse(replay, order.currency);
      }

      if (order.order_status !== 'PENDING') throw notPending(order);
      const due =
        parseDbDecimal(order.order_amount, order.currency) -
        parseDbDecimal(order.amount_paid, order.currency);
      if (command.amount > due) {
        throw invalid(
          `amount ${formatAmount(command.amount, order.currency)} is more than the ${formatAmount(due, order.currency)} ${order.currency} still due`,
        );
      }

      const paymentId = command.paymentId ?? `pay_${randomUUID()}`;
      const row = newCardPaymentRow(
        {
          paymentId,
          orderId: order.order_id,
          amount: command.amount,
          currency: order.currency,
          cardNumber: command.card.number,
          expMonth: command.card.expMonth,
          expYear: command.card.expYear,
          // Kept encrypted until the payment's outcome, then erased: the provider checks it (PCI DSS 3.3.2).
          cvc: body.method.cvc,
          ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
          requestHash: command.requestHash,
        },
        cipher,
        fingerprinter,
        now(),
      );
      if (!(await insertPayment(db, row))) {
        // A concurrent twin of this request won the insert: answer as its replay.
        const twin = await findReplay(orderId, command, options.idempotencyKey);
        if (twin) return paymentResponse(twin, order.currency);
        throw invalid(`paymentId "${paymentId}" is already used by another payment`);
      }
      return deliver(order, row, options.wait);
    },

    async cancelOrder(principal: Principal, orderId: string): Promise<OrderServiceResult<CancelAccepted>> {
      const order = await requireOrder(orderId, orderScopeOf(principal));
      if (order.order_status === 'COMPLETED' || order.order_status === 'EXPIRED') {
        throw new Problem(
          409,
          'Conflict',
          `order ${orderId} is ${order.order_status} and cannot be cancelled`,
        );
      }
      if (order.order_status === 'PENDING') {
        try {
          await withinDeadline(() =>
            client.workflow.signalWithStart<typeof orderWorkflowV2, [object]>(ORDER_WORKFLOW, {
              ...workflowOptions(order),
              signal: cancelOrderSignal,
              signalArgs: [{}],
            }),
          );
        } catch (error) {
          if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
          const final = await requireOrder(orderId, {});
          if (final.order_status !== 'CANCELLED') {
            throw new Problem(
              409,
              'Conflict',
              `order ${orderId} is ${final.order_status} and cannot be cancelled`,
            );
          }
        }
      }
      return { status: 202, body: { orderId, status: 'CANCELLING' }, location: `/orders/${orderId}` };
    },
  };

  /** Hands a PENDING payment to its order's workflow (starting it if needed), by signal or by update. */
  async function deliver(
    order: OrderRow,
    row: PaymentRow,
    wait: boolean,
  ): Promise<OrderServiceResult<Payment>> {
    const orderId = order.order_id;
    const paymentId = row.payment_id;
    const attempt = { paymentId, amount: parseDbDecimal(row.payment_amount, order.currency) };
    const accepted = paymentResponse(row, order.currency);
    try {
      if (!wait) {
        await withinDeadline(() =>
          client.workflow.signalWithStart<typeof orderWorkflowV2, [typeof attempt]>(ORDER_WORKFLOW, {
            ...workflowOptions(order),
            signal: paymentAttemptSignal,
            signalArgs: [attempt],
          }),
        );
        return accepted;
      }
      const update = await withinDeadline(() =>
        client.workflow.startUpdateWithStart(submitPaymentUpdate, {
          args: [attempt],
          waitForStage: WorkflowUpdateStage.ACCEPTED,
          startWorkflowOperation: new WithStartWorkflowOperation<typeof orderWorkflowV2>(ORDER_WORKFLOW, {
            ...workflowOptions(order),
            workflowIdConflictPolicy: 'USE_EXISTING',
          }),
        }),
      );
      const outcome = await withTimeout(update.result(), paymentWaitMs);
      if (!outcome) return accepted;
      // The workflow answers only after the read model is written, so the row is final here.
      return paymentResponse((await findPayment(db, paymentId)) ?? row, order.currency, {
        status: outcome.orderStatus,
        amountPaid: formatAmount(outcome.amountPaid, order.currency),
      });
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return refuseLate(row);
      if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
        // The validator refused: the workflow saw a state the read model had not caught up with yet.
        await settlePayment(
          db,
          { orderId, paymentId, status: 'FAILED', failureReason: error.cause.type ?? 'refused' },
          now(),
        );
        const status = error.cause.type === 'order_not_pending' ? 409 : 422;
        throw new Problem(
          status,
          status === 409 ? 'Conflict' : 'Unprocessable Content',
          error.cause.message,
          { paymentId },
        );
      }
      throw error;
    }
  }

  /** The earlier payment this request repeats (same Idempotency-Key or paymentId), if its body matches. */
  async function findReplay(
    orderId: string,
    command: { paymentId: string | undefined; requestHash: string },
    idempotencyKey: string | undefined,
  ): Promise<PaymentRow | undefined> {
    const byKey =
      idempotencyKey === undefined
        ? undefined
        : await findPaymentByIdempotencyKey(db, orderId, idempotencyKey);
    if (byKey && byKey.request_hash !== command.requestHash) {
      throw invalid('Idempotency-Key was already used with a different request body');
    }
    if (byKey) return byKey;
    const byId = command.paymentId === undefined ? undefined : await findPayment(db, command.paymentId);
    if (byId && (byId.order_id !== orderId || byId.request_hash !== command.requestHash)) {
      throw invalid(`paymentId "${command.paymentId}" was already used with a different request`);
    }
    return byId;
  }
}

function notPending(order: OrderRow, extensions: Record<string, unknown> = {}): Problem {
  return new Problem(
    409,
    'Conflict',
    `order ${order.order_id} is ${order.order_status}, not PENDING`,
    extensions,
  );
}

export function workflowInput(order: OrderRow, deadlineIfUnset: Date): OrderWorkflowInput {
  return {
    orderId: order.order_id,
    currency: order.currency,
    amount: parseDbDecimal(order.order_amount, order.currency),
    amountPaid: parseDbDecimal(order.amount_paid, order.currency),
    paymentDeadline: (order.payment_deadline ?? deadlineIfUnset).toISOString(),
    ...(order.customer_id === null ? {} : { customerId: order.customer_id }),
  };
}

/** Every payment answer has one shape: 202 while it is PENDING, 200 once final; `order` with `?wait=true`. */
function paymentResponse(
  payment: PaymentRow,
  currency: string,
  order?: Payment['order'],
): OrderServiceResult<Payment> {
  return {
    status: payment.payment_status === 'PENDING' ? 202 : 200,
    body: { ...paymentView(payment, currency), ...(order ? { order } : {}) },
    location: `/payments/${payment.payment_id}`,
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
