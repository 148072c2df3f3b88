import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createOrderActivities } from '../../../src/activities/orders';
import {
  GatewayRequestError,
  GatewayUnavailableError,
  type ChargeRequest,
  type PaymentGateway,
} from '../../../src/activities/orders/gateway';
import { createSimulatedGateway } from '../../../src/activities/orders/simulated-gateway';
import { findOrder, listPayments } from '../../../src/db/orders';
import { orderWorkflowId, paymentAttemptSignal } from '../../../src/workflows/orders/messages';
import type { orderWorkflowV2 } from '../../../src/workflows/orders/order-workflow';
import type { TestDatabase } from '../../support/db';
import { seedOrder, seedPayment, testCipher } from '../../support/orders';
import { testDataConverter } from '../../support/temporal';
import { createWorkflowTestBed, dropWorkflowTestBed } from '../../support/workflow-test-bed';

const VISA = '4242424242424242';
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * A charge that ends without a usable answer, on the time-skipping server with the real activities on
 * MariaDB: the provider's own record of the payment's idempotency key decides between COMPLETED and FAILED,
 * and a request the provider refuses as such fails with its own reason.
 */
// orderWorkflowV2 for new orders; orderWorkflow for those started by earlier releases, through its patch.
describe.each(['orderWorkflowV2', 'orderWorkflow'])(
  '%s when a charge ends without an answer',
  (workflowType) => {
    let env: TestWorkflowEnvironment;
    let database: TestDatabase;
    let bundle: WorkflowBundleWithSourceMap;
    const cipher = testCipher();

    beforeAll(async () => {
      ({ env, database, bundle } = await createWorkflowTestBed(require.resolve('../../../src/workflows')));
    });

    afterAll(() => dropWorkflowTestBed(env, database));

    /** Pays a 1,000 order in full with one attempt through `gateway`, and returns the order's end state. */
    async function payThrough(gateway: PaymentGateway) {
      const taskQueue = `charge-failures-${randomUUID()}`;
      const orderId = `ORD-${randomUUID()}`;
      const paymentId = `PAY-${randomUUID()}`;
      await seedOrder(database.db, cipher, { orderId, amount: 1_000 });
      await seedPayment(database.db, cipher, { paymentId, orderId, amount: 1_000, cardNumber: VISA });
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: bundle,
        dataConverter: testDataConverter,
        activities: createOrderActivities({ db: database.db, cipher, gateway }),
      });
      const state = await worker.runUntil(async () => {
        const handle = await env.client.workflow.start<typeof orderWorkflowV2>(workflowType, {
          workflowId: orderWorkflowId(orderId),
          taskQueue,
          args: [
            {
              orderId,
              currency: 'USD',
              amount: 1_000,
              amountPaid: 0,
              // Short enough that an unpaid order ends on its own once the attempt is settled.
              paymentDeadline: new Date((await env.currentTimeMs()) + DAY_MS / 2).toISOString(),
            },
          ],
        });
        await handle.signal(paymentAttemptSignal, { paymentId, amount: 1_000 });
        return handle.result();
      });
      const [payment] = await listPayments(database.db, orderId);
      return {
        order: [state.status, state.amountPaid],
        payment: [state.payments[0]!.status, state.payments[0]!.failureReason],
        record: [payment!.payment_status, payment!.failure_reason],
        orderRecord: (await findOrder(database.db, orderId))!.order_status,
      };
    }

    /** The simulator, with `answer` deciding what each charge call returns after the simulator has run. */
    function gatewayAfterSimulator(answer: (attempt: number) => Error | undefined) {
      const simulated = createSimulatedGateway();
      let attempts = 0;
      const lookups: string[] = [];
      const gateway: PaymentGateway = {
        async charge(request: ChargeRequest) {
          const result = await simulated.charge(request);
          const error = answer(++attempts);
          if (error) throw error;
          return result;
        },
        findCharge: (idempotencyKey) => {
          lookups.push(idempotencyKey);
          return simulated.findCharge(idempotencyKey);
        },
      };
      return { gateway, simulated, lookups, attempts: () => attempts };
    }

    it('charged, but every answer lost until the retries run out: the lookup finds the charge, COMPLETED once', async () => {
      const { gateway, simulated, lookups, attempts } = gatewayAfterSimulator(
        () => new GatewayUnavailableError('response dropped'),
      );
      expect(await payThrough(gateway)).toEqual({
        order: ['COMPLETED', 1_000],
        payment: ['COMPLETED', undefined],
        record: ['COMPLETED', null],
        orderRecord: 'COMPLETED',
      });
      expect([...simulated.charges.values()].map((charge) => charge.amount)).toEqual([1_000]);
      // Retried for the charge's whole window (many attempts, each the same key), then asked once.
      expect(attempts()).toBeGreaterThan(5);
      expect(lookups).toHaveLength(1);
    });

    it('never charged, and no answer: the lookup finds nothing, FAILED gateway_unavailable', async () => {
      const { gateway, simulated, lookups } = gatewayAfterSimulator(() => undefined);
      gateway.charge = () => Promise.reject(new GatewayUnavailableError('connection refused'));
      expect(await payThrough(gateway)).toEqual({
        order: ['EXPIRED', 0],
        payment: ['FAILED', 'gateway_unavailable'],
        record: ['FAILED', 'gateway_unavailable'],
        orderRecord: 'EXPIRED',
      });
      expect(simulated.charges.size).toBe(0);
      expect(lookups).toHaveLength(1);
    });

    it('the provider still down when asked: the payment waits, and completes once the lookup is answered', async () => {
      const { gateway, simulated } = gatewayAfterSimulator(() => new GatewayUnavailableError('no answer'));
      let lookups = 0;
      const findCharge = gateway.findCharge.bind(gateway);
      gateway.findCharge = (key) =>
        ++lookups <= 8 ? Promise.reject(new GatewayUnavailableError('still down')) : findCharge(key);
      const outcome = await payThrough(gateway);
      expect(outcome.payment).toEqual(['COMPLETED', undefined]);
      expect(lookups).toBe(9);
      expect(simulated.charges.size).toBe(1);
    });

    it('refused as such (a wrong key): FAILED gateway_refused, charged nothing', async () => {
      const { gateway, simulated } = gatewayAfterSimulator(() => undefined);
      const refused = () =>
        Promise.reject(new GatewayRequestError('payment gateway refused the request: 401', 401));
      gateway.charge = refused;
      gateway.findCharge = refused;
      expect(await payThrough(gateway)).toMatchObject({
        payment: ['FAILED', 'gateway_refused'],
        record: ['FAILED', 'gateway_refused'],
      });
      expect(simulated.charges.size).toBe(0);
    });

    it('a charge under the key that is not this payment’s: FAILED charge_outcome_unknown, never COMPLETED', async () => {
      const { gateway, simulated } = gatewayAfterSimulator(() => new GatewayUnavailableError('no answer'));
      const findCharge = gateway.findCharge.bind(gateway);
      gateway.findCharge = async (key) => {
        const charge = await findCharge(key);
        return charge && { ...charge, amount: charge.amount - 1 };
      };
      expect(await payThrough(gateway)).toMatchObject({
        order: ['EXPIRED', 0],
        payment: ['FAILED', 'charge_outcome_unknown'],
        record: ['FAILED', 'charge_outcome_unknown'],
      });
      expect(simulated.charges.size).toBe(1);
    });

    it('charged with its answer lost, then a retry refused (422): the lookup finds the charge, COMPLETED', async () => {
      const { gateway, simulated, attempts } = gatewayAfterSimulator((attempt) =>
        attempt === 1
          ? new GatewayUnavailableError('response dropped')
          : new GatewayRequestError(
              'payment gateway refused the request: 422',
              422,
              'idempotency_key_reused',
            ),
      );
      expect(await payThrough(gateway)).toMatchObject({
        order: ['COMPLETED', 1_000],
        payment: ['COMPLETED', undefined],
      });
      expect(attempts()).toBe(2);
      expect(simulated.charges.size).toBe(1);
    });
  },
);
