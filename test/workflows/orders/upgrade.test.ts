import { randomUUID } from 'node:crypto';
import { WorkflowUpdateStage, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createOrderActivities } from '../../../src/activities/orders';
import { GatewayRequestError, type PaymentGateway } from '../../../src/activities/orders/gateway';
import { createSimulatedGateway } from '../../../src/activities/orders/simulated-gateway';
import { findOrder, listPayments } from '../../../src/db/orders';
import type { OrderState } from '../../../src/domain/orders/order-state';
import { bundleWorkflows } from '../../../src/workers/workflow-bundle';
import {
  cancelOrderSignal,
  orderWorkflowId,
  paymentAttemptSignal,
  submitPaymentUpdate,
} from '../../../src/workflows/orders/messages';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { settled } from '../../support/order-histories';
import { seedOrder, seedPayment, testCipher } from '../../support/orders';
import { eventually } from '../../support/stack';
import { createDevServerEnv, testDataConverter } from '../../support/temporal';

const VISA = '4242424242424242';
/** Charges on this card wait until the test lets them finish. */
const HELD_CARD = '5555555555554444';
/** Charges on this card wait too, and then the provider refuses them (422: the key reused with another body). */
const REFUSED_CARD = '4000056655665556';

interface Order {
  orderId: string;
  handle: WorkflowHandle;
}

/**
 * A deploy meets open orders: orders started and partly driven by the previous workflow code (a frozen copy,
 * registered as the same `orderWorkflow` type) are finished by a new worker running today's code on the same
 * task queue, on the real dev server with real activities on MariaDB.
 */
describe('orderWorkflow upgrade: started by the previous code, paid under the new code', () => {
  let env: TestWorkflowEnvironment;
  let database: TestDatabase;
  let previousCode: WorkflowBundleWithSourceMap;
  let currentCode: WorkflowBundleWithSourceMap;
  const cipher = testCipher();

  beforeAll(async () => {
    [env, database, previousCode, currentCode] = await Promise.all([
      createDevServerEnv(),
      createTestDatabase(),
      bundleWorkflows(require.resolve('../../support/workflows/order-workflow-v1')),
      bundleWorkflows(require.resolve('../../../src/workflows')),
    ]);
  });

  afterAll(async () => {
    await database?.drop();
    await env?.teardown();
  });

  it('completes waiting, partly paid and in-flight orders, and fails a refused in-flight charge with its reason', async () => {
    const taskQueue = `upgrade-${randomUUID()}`;
    let releaseHeld!: () => void;
    const held = new Promise<void>((resolve) => (releaseHeld = resolve));
    const simulated = createSimulatedGateway();
    const gateway: PaymentGateway = {
      async charge(request) {
        if (request.cardNumber === HELD_CARD || request.cardNumber === REFUSED_CARD) await held;
        if (request.cardNumber === REFUSED_CARD) {
          throw new GatewayRequestError(
            'payment gateway refused the request: 422',
            422,
            'idempotency_key_reused',
          );
        }
        return simulated.charge(request);
      },
      findCharge: (idempotencyKey) => simulated.findCharge(idempotencyKey),
    };
    const activities = createOrderActivities({ db: database.db, cipher, gateway });
    // Activities run on their own worker, so a charge stays in flight while the workflow code is replaced.
    const activityWorker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      activities,
      dataConverter: testDataConverter,
    });
    const activityWorkerRun = activityWorker.run();

    let waiting!: Order, partlyPaid!: Order, inFlight!: Order, refusedInFlight!: Order;
    let results!: OrderState[];
    try {
      const startOrder = async (amount: number) => {
        const orderId = `ORD-${randomUUID()}`;
        await seedOrder(database.db, cipher, { orderId, amount });
        const handle = await env.client.workflow.start('orderWorkflow', {
          workflowId: orderWorkflowId(orderId),
          taskQueue,
          args: [
            {
              orderId,
              currency: 'USD',
              amount,
              amountPaid: 0,
              paymentDeadline: new Date(Date.now() + 24 * 60 * 60 * 1000).toISOString(),
            },
          ],
        });
        return { orderId, handle: handle as WorkflowHandle };
      };
      const seedCard = async (orderId: string, amount: number, cardNumber: string) => {
        const paymentId = `PAY-${randomUUID()}`;
        await seedPayment(database.db, cipher, { paymentId, orderId, amount, cardNumber });
        return paymentId;
      };

      const previousWorker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: previousCode,
        dataConverter: testDataConverter,
      });
      [waiting, partlyPaid, inFlight, refusedInFlight] = await previousWorker.runUntil(async () => {
        const orders = await Promise.all([
          startOrder(1_000),
          startOrder(1_000),
          startOrder(1_000),
          startOrder(1_000),
        ]);
        const [first, second, third, fourth] = orders;
        await fourth.handle.signal(paymentAttemptSignal, {
          paymentId: await seedCard(fourth.orderId, 1_000, REFUSED_CARD),
          amount: 1_000,
        });
        await second.handle.signal(paymentAttemptSignal, {
          paymentId: await seedCard(second.orderId, 400, VISA),
          amount: 400,
        });
        await third.handle.signal(paymentAttemptSignal, {
          paymentId: await seedCard(third.orderId, 1_000, HELD_CARD),
          amount: 1_000,
        });
        await settled(first.handle);
        await settled(second.handle, (snapshot) => snapshot.amountPaid === 400);
        for (const { handle } of [third, fourth]) {
          await eventually(
            async () => (await handle.describe()).raw.pendingActivities ?? [],
            (pending) => pending.some((activity) => activity.lastStartedTime),
          );
        }
        return orders;
      });

      // A new worker process has no cached workflow state: each order is replayed from its history first.
      const currentWorker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: currentCode,
        dataConverter: testDataConverter,
        // Its local activities only: the activity worker keeps taking the charges.
        activities,
        enableNonLocalActivities: false,
      });
      results = await currentWorker.runUntil(async () => {
        const update = await waiting.handle.startUpdate(submitPaymentUpdate, {
          args: [{ paymentId: await seedCard(waiting.orderId, 1_000, VISA), amount: 1_000 }],
          waitForStage: WorkflowUpdateStage.ACCEPTED,
        });
        await partlyPaid.handle.signal(paymentAttemptSignal, {
          paymentId: await seedCard(partlyPaid.orderId, 600, VISA),
          amount: 600,
        });
        releaseHeld();
        expect(await update.result()).toMatchObject({ status: 'COMPLETED', orderStatus: 'COMPLETED' });
        // The charge the previous code started is refused under today's: the provider is asked first (it has
        // no charge), then the payment fails with its own reason and the order waits for another attempt.
        await settled(refusedInFlight.handle, (snapshot) => snapshot.payments.length === 1);
        await refusedInFlight.handle.signal(cancelOrderSignal, {});
        expect(await refusedInFlight.handle.result()).toMatchObject({
          status: 'CANCELLED',
          amountPaid: 0,
          payments: [{ status: 'FAILED', failureReason: 'gateway_refused' }],
        });
        return Promise.all(
          [waiting, partlyPaid, inFlight].map(({ handle }) => handle.result() as Promise<OrderState>),
        );
      });
    } finally {
      releaseHeld();
      activityWorker.shutdown();
      await activityWorkerRun;
    }

    for (const [index, { orderId, handle }] of [waiting, partlyPaid, inFlight].entries()) {
      expect(results[index]).toMatchObject({ status: 'COMPLETED', amountPaid: 1_000 });
      expect(await findOrder(database.db, orderId)).toMatchObject({
        order_status: 'COMPLETED',
        amount_paid: '10.0000',
      });
      const payments = await listPayments(database.db, orderId);
      expect(payments.map((payment) => payment.payment_status)).toEqual(payments.map(() => 'COMPLETED'));
      // The previous code ran the first workflow task (its timer comes before any patch marker); the new
      // code took over later in the same run.
      const events = (await handle.fetchHistory()).events ?? [];
      const firstTimer = events.findIndex((event) => event.timerStartedEventAttributes);
      const firstMarker = events.findIndex(
        (event) => event.markerRecordedEventAttributes?.markerName === 'core_patch',
      );
      expect(firstTimer).toBeGreaterThan(0);
      expect(firstMarker).toBeGreaterThan(firstTimer);
    }
    expect((await listPayments(database.db, partlyPaid.orderId)).map((p) => p.payment_amount)).toEqual([
      '4.0000',
      '6.0000',
    ]);
    expect(simulated.charges.size).toBe(4);
    expect(
      (await listPayments(database.db, refusedInFlight.orderId)).map((p) => [
        p.payment_status,
        p.failure_reason,
      ]),
    ).toEqual([['FAILED', 'gateway_refused']]);
  });
});
