import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError, WorkflowUpdateStage, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createOrderActivities } from '../../../src/activities/orders';
import { GatewayUnavailableError } from '../../../src/activities/orders/gateway';
import {
  createSimulatedGateway,
  type SimulatedGateway,
} from '../../../src/activities/orders/simulated-gateway';
import { findOrder, listPayments } from '../../../src/db/orders';
import type { OrderState } from '../../../src/domain/orders/order-state';
import {
  cancelOrderSignal,
  orderSnapshotQuery,
  orderWorkflowId,
  paymentAttemptSignal,
  submitPaymentUpdate,
  type OrderWorkflowInput,
} from '../../../src/workflows/orders/messages';
import { orderWorkflowV2 } from '../../../src/workflows/orders/order-workflow';
import type { TestDatabase } from '../../support/db';
import { seedOrder, seedPayment, testCipher } from '../../support/orders';
import { eventually } from '../../support/stack';
import { testDataConverter } from '../../support/temporal';
import { createWorkflowTestBed, dropWorkflowTestBed } from '../../support/workflow-test-bed';

const CARDS = {
  visa: '4242424242424242',
  mastercard: '5555555555554444',
  declined: '4000000000000002',
  insufficientFunds: '4000000000009995',
  flaky: '4000000000000119',
  /** Unavailable for the first minute of retries (see slowCardGateway). */
  slow: '5105105105105100',
};
const DAY_MS = 24 * 60 * 60 * 1000;

describe('orderWorkflowV2 (time-skipping server, real activities on MariaDB)', () => {
  let env: TestWorkflowEnvironment;
  let database: TestDatabase;
  let bundle: WorkflowBundleWithSourceMap;
  const cipher = testCipher();
  let gateway: SimulatedGateway;
  let taskQueue: string;

  beforeAll(async () => {
    ({ env, database, bundle } = await createWorkflowTestBed(require.resolve('../../../src/workflows')));
  });

  afterAll(() => dropWorkflowTestBed(env, database));

  beforeEach(() => {
    gateway = createSimulatedGateway();
    taskQueue = `orders-${randomUUID()}`;
  });

  async function withWorker<T>(body: () => Promise<T>): Promise<T> {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      dataConverter: testDataConverter,
      activities: createOrderActivities({ db: database.db, cipher, gateway }),
    });
    return worker.runUntil(body());
  }

  async function startOrder(
    amount: number,
    extra: Partial<OrderWorkflowInput> = {},
    workflowType = 'orderWorkflowV2',
  ) {
    const orderId = `ORD-${randomUUID()}`;
    await seedOrder(database.db, cipher, { orderId, amount });
    const handle = await env.client.workflow.start<typeof orderWorkflowV2>(workflowType, {
      workflowId: orderWorkflowId(orderId),
      taskQueue,
      args: [
        {
          orderId,
          currency: 'USD',
          amount,
          amountPaid: 0,
          paymentDeadline: new Date((await env.currentTimeMs()) + 7 * DAY_MS).toISOString(),
          ...extra,
        },
      ],
    });
    return { orderId, handle };
  }

  async function pay(handle: WorkflowHandle, orderId: string, amount: number, cardNumber: string) {
    const paymentId = `PAY-${randomUUID()}`;
    await seedPayment(database.db, cipher, { paymentId, orderId, amount, cardNumber });
    await handle.signal(paymentAttemptSignal, { paymentId, amount });
    return paymentId;
  }

  async function paymentStatuses(orderId: string) {
    return (await listPayments(database.db, orderId)).map((p) => [
      p.payment_amount,
      p.payment_status,
      p.failure_reason,
    ]);
  }

  it('takes partial payments until the total is paid, then completes', async () => {
    const { orderId, handle } = await startOrder(10_000);
    const result = await withWorker(async () => {
      await pay(handle, orderId, 3_000, CARDS.visa);
      await pay(handle, orderId, 7_000, CARDS.mastercard);
      return handle.result();
    });

    expect(result).toMatchObject({ status: 'COMPLETED', amountPaid: 10_000 });
    expect(await findOrder(database.db, orderId)).toMatchObject({
      order_status: 'COMPLETED',
      amount_paid: '100.0000',
    });
    expect(await paymentStatuses(orderId)).toEqual([
      ['30.0000', 'COMPLETED', null],
      ['70.0000', 'COMPLETED', null],
    ]);
    expect([...gateway.charges.values()].map((charge) => charge.amount)).toEqual([3_000, 7_000]);
  });

  it('records a decline with its reason and completes on the retry', async () => {
    const { orderId, handle } = await startOrder(5_000);
    const result = await withWorker(async () => {
      await pay(handle, orderId, 5_000, CARDS.declined);
      await pay(handle, orderId, 5_000, CARDS.insufficientFunds);
      await pay(handle, orderId, 5_000, CARDS.visa);
      return handle.result();
    });

    expect(result).toMatchObject({ status: 'COMPLETED', amountPaid: 5_000 });
    expect(await paymentStatuses(orderId)).toEqual([
      ['50.0000', 'FAILED', 'card_declined'],
      ['50.0000', 'FAILED', 'insufficient_funds'],
      ['50.0000', 'COMPLETED', null],
    ]);
    expect(gateway.charges.size).toBe(1);
  });

  it('retries a transient gateway error to success and charges once', async () => {
    const { orderId, handle } = await startOrder(2_500);
    const result = await withWorker(async () => {
      await pay(handle, orderId, 2_500, CARDS.flaky);
      return handle.result();
    });

    expect(result).toMatchObject({ status: 'COMPLETED', amountPaid: 2_500 });
    expect(gateway.charges.size).toBe(1);
    const history = await handle.fetchHistory();
    const chargeAttempts = history.events!.filter((event) => event.activityTaskStartedEventAttributes);
    expect(chargeAttempts.map((event) => event.activityTaskStartedEventAttributes!.attempt)).toContain(3);
  });

  it('refuses an attempt above the amount due, and racing attempts never overpay', async () => {
    const { orderId, handle } = await startOrder(5_000);
    const snapshot = await withWorker(async () => {
      await pay(handle, orderId, 6_000, CARDS.visa);
      await pay(handle, orderId, 4_000, CARDS.visa);
      await pay(handle, orderId, 4_000, CARDS.mastercard);
      const live = await eventually(
        () => handle.query(orderSnapshotQuery),
        (snapshot) => snapshot.attemptsProcessed === 3,
      );
      // Leave no running order behind: the time-skipping server stops skipping while any workflow waits on a worker.
      await handle.signal(cancelOrderSignal, {});
      await handle.result();
      return live;
    });

    expect(snapshot).toMatchObject({ status: 'PENDING', amountPaid: 4_000, amountDue: 1_000 });
    expect(await paymentStatuses(orderId)).toEqual(
      expect.arrayContaining([
        ['60.0000', 'FAILED', 'amount_exceeds_due'],
        ['40.0000', 'COMPLETED', null],
        ['40.0000', 'FAILED', 'amount_exceeds_due'],
      ]),
    );
    expect(await findOrder(database.db, orderId)).toMatchObject({ amount_paid: '40.0000' });
    expect(gateway.charges.size).toBe(1);
  });

  it('applies a repeated paymentId once', async () => {
    const { orderId, handle } = await startOrder(3_000);
    const result = await withWorker(async () => {
      const paymentId = await pay(handle, orderId, 1_000, CARDS.visa);
      await handle.signal(paymentAttemptSignal, { paymentId, amount: 1_000 });
      await handle.signal(paymentAttemptSignal, { paymentId, amount: 1_000 });
      await pay(handle, orderId, 2_000, CARDS.visa);
      return handle.result();
    });

    expect(result.payments).toHaveLength(2);
    expect(result).toMatchObject({ status: 'COMPLETED', amountPaid: 3_000 });
    expect(gateway.charges.size).toBe(2);
  });

  it('expires at the payment deadline, with time skipped', async () => {
    const { orderId, handle } = await startOrder(1_000);
    const result = await withWorker(async () => {
      await pay(handle, orderId, 400, CARDS.visa);
      return handle.result();
    });

    expect(result).toMatchObject({ status: 'EXPIRED', amountPaid: 400 });
    expect(await findOrder(database.db, orderId)).toMatchObject({
      order_status: 'EXPIRED',
      amount_paid: '4.0000',
    });
  });

  describe('the payment deadline', () => {
    // The charge retries at 0, 1, 3, 7, 15, 31 s and succeeds at 61 s; the deadline passes at 30 s.
    const SLOW_FAILURES = 6;
    const DEADLINE_MS = 30_000;

    beforeEach(() => {
      gateway = slowCardGateway(gateway, SLOW_FAILURES);
    });

    const startWithNearDeadline = async (amount: number) =>
      startOrder(amount, {
        paymentDeadline: new Date((await env.currentTimeMs()) + DEADLINE_MS).toISOString(),
      });

    it('refuses an attempt queued behind a charge still retrying at the deadline, and the order expires', async () => {
      const { orderId, handle } = await startWithNearDeadline(1_000);
      const queuedId = `PAY-${randomUUID()}`;
      await seedPayment(database.db, cipher, {
        paymentId: queuedId,
        orderId,
        amount: 600,
        cardNumber: CARDS.visa,
      });

      const { result, outcome } = await withWorker(async () => {
        await pay(handle, orderId, 400, CARDS.slow);
        const update = await handle.startUpdate(submitPaymentUpdate, {
          args: [{ paymentId: queuedId, amount: 600 }],
          waitForStage: WorkflowUpdateStage.ACCEPTED,
        });
        return { result: await handle.result(), outcome: await update.result() };
      });

      // The charge in flight at the deadline finishes; the one queued behind it never starts.
      expect(result).toMatchObject({ status: 'EXPIRED', amountPaid: 400 });
      expect(outcome).toMatchObject({
        paymentId: queuedId,
        status: 'FAILED',
        failureReason: 'deadline_passed',
      });
      expect(await paymentStatuses(orderId)).toEqual(
        expect.arrayContaining([
          ['4.0000', 'COMPLETED', null],
          ['6.0000', 'FAILED', 'deadline_passed'],
        ]),
      );
      expect(await findOrder(database.db, orderId)).toMatchObject({
        order_status: 'EXPIRED',
        amount_paid: '4.0000',
      });
      expect([...gateway.charges.values()].map((charge) => charge.amount)).toEqual([400]);
    });

    it('completes when the charge in flight at the deadline pays the order in full', async () => {
      const { orderId, handle } = await startWithNearDeadline(1_000);
      const result = await withWorker(async () => {
        await pay(handle, orderId, 1_000, CARDS.slow);
        await pay(handle, orderId, 1_000, CARDS.visa);
        return handle.result();
      });

      expect(result).toMatchObject({ status: 'COMPLETED', amountPaid: 1_000 });
      expect(await paymentStatuses(orderId)).toEqual(
        expect.arrayContaining([
          ['10.0000', 'COMPLETED', null],
          ['10.0000', 'FAILED', 'order_not_pending'],
        ]),
      );
      expect(await findOrder(database.db, orderId)).toMatchObject({ order_status: 'COMPLETED' });
      expect(gateway.charges.size).toBe(1);
    });
  });

  it('cancels on the cancel signal', async () => {
    const { orderId, handle } = await startOrder(1_000);
    const result = await withWorker(async () => {
      await handle.signal(cancelOrderSignal, { reason: 'customer changed their mind' });
      return handle.result();
    });

    expect(result).toMatchObject({ status: 'CANCELLED', amountPaid: 0 });
    expect(await findOrder(database.db, orderId)).toMatchObject({ order_status: 'CANCELLED' });
  });

  it('answers the update with the final result, and its validator refuses an overpayment', async () => {
    const { orderId, handle } = await startOrder(2_000);
    const paymentId = `PAY-${randomUUID()}`;
    await seedPayment(database.db, cipher, { paymentId, orderId, amount: 2_000, cardNumber: CARDS.declined });
    const retryId = `PAY-${randomUUID()}`;
    await seedPayment(database.db, cipher, {
      paymentId: retryId,
      orderId,
      amount: 2_000,
      cardNumber: CARDS.visa,
    });

    await withWorker(async () => {
      await expect(
        handle.executeUpdate(submitPaymentUpdate, { args: [{ paymentId, amount: 2_000 }] }),
      ).resolves.toEqual({
        paymentId,
        status: 'FAILED',
        failureReason: 'card_declined',
        amountPaid: 0,
        orderStatus: 'PENDING',
      });
      const refused = handle.executeUpdate(submitPaymentUpdate, {
        args: [{ paymentId: 'PAY-too-much', amount: 2_001 }],
      });
      await expect(refused).rejects.toThrow(WorkflowUpdateFailedError);
      await expect(
        handle.executeUpdate(submitPaymentUpdate, { args: [{ paymentId: retryId, amount: 2_000 }] }),
      ).resolves.toMatchObject({
        status: 'COMPLETED',
        amountPaid: 2_000,
        orderStatus: 'COMPLETED',
      });
      await handle.result();
    });
    expect(await paymentStatuses(orderId)).toHaveLength(2);
  });

  // Runs of the orderWorkflow type (orders started by earlier releases) continue as the V2 type.
  it.each(['orderWorkflowV2', 'orderWorkflow'])(
    '%s continues as new after many attempts and loses nothing',
    async (workflowType) => {
      const { orderId, handle } = await startOrder(700, { maxAttemptsPerRun: 3 }, workflowType);
      const firstRunId = (await handle.describe()).runId;
      const result: OrderState = await withWorker(async () => {
        for (let i = 0; i < 4; i += 1)
          await pay(handle, orderId, 100, i % 2 === 0 ? CARDS.declined : CARDS.visa);
        const repeated = (await listPayments(database.db, orderId))[0]!.payment_id;
        await handle.signal(paymentAttemptSignal, { paymentId: repeated, amount: 100 });
        for (let i = 0; i < 5; i += 1) await pay(handle, orderId, 100, CARDS.visa);
        return handle.result();
      });

      expect(result).toMatchObject({ status: 'COMPLETED', amountPaid: 700, attemptsProcessed: 9 });
      expect(result.payments.filter((p) => p.status === 'FAILED')).toHaveLength(2);
      const lastRun = await env.client.workflow.getHandle(handle.workflowId).describe();
      expect([lastRun.runId === firstRunId, lastRun.type]).toEqual([false, 'orderWorkflowV2']);
      const firstRun = await env.client.workflow.getHandle(handle.workflowId, firstRunId).fetchHistory();
      expect(firstRun.events!.at(-1)!.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
      expect(gateway.charges.size).toBe(7);
    },
  );
});

/** The simulated gateway, except that the slow card is unavailable for its first `failures` charges. */
function slowCardGateway(inner: SimulatedGateway, failures: number): SimulatedGateway {
  let failed = 0;
  return {
    charges: inner.charges,
    async charge(request) {
      if (request.cardNumber === CARDS.slow && failed < failures) {
        failed += 1;
        throw new GatewayUnavailableError('simulated gateway outage');
      }
      return inner.charge(request);
    },
    findCharge: (idempotencyKey) => inner.findCharge(idempotencyKey),
  };
}
