import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { createOrderActivities } from '../../../src/activities/orders';
import type { OrderStatus, PaymentSummary } from '../../../src/domain/orders/order-state';
import { bundleWorkflows } from '../../../src/workers/workflow-bundle';
import {
  PAYMENT_DECLINED,
  cancelOrderSignal,
  orderWorkflowId,
  paymentAttemptSignal,
  type OrderWorkflowInput,
} from '../../../src/workflows/orders/messages';
import { orderWorkflowV2 } from '../../../src/workflows/orders/order-workflow';
import { createTimeSkippingEnv, testDataConverter } from '../../support/temporal';

type OrderActivities = ReturnType<typeof createOrderActivities>;

/**
 * The workflow's decisions alone: activities are stand-ins that record what they were asked, and answer by
 * the payment ID's prefix (`declined-…` is declined, `slow-…` fails for its first minute of retries).
 * order-workflow.test.ts runs the same workflow on the real activities and MariaDB.
 */
describe('orderWorkflowV2 decisions (time-skipping server, mocked activities)', () => {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;

  beforeAll(async () => {
    [env, bundle] = await Promise.all([
      createTimeSkippingEnv(),
      bundleWorkflows(require.resolve('../../../src/workflows')),
    ]);
  });

  afterAll(async () => {
    await env?.teardown();
  });

  function mockActivities(options: { readModelFailures?: number } = {}) {
    const calls = {
      charged: [] as string[],
      chargeAttempts: [] as string[],
      paymentResults: [] as PaymentSummary[],
      orderStatuses: [] as OrderStatus[],
      readModelFailures: 0,
    };
    const slowFailures = new Map<string, number>();
    const readModelWrite = () => {
      if (calls.readModelFailures < (options.readModelFailures ?? 0)) {
        calls.readModelFailures += 1;
        throw new Error('database unavailable');
      }
    };
    const activities: OrderActivities = {
      async chargePayment({ paymentId }) {
        calls.chargeAttempts.push(paymentId);
        if (paymentId.startsWith('declined-'))
          throw ApplicationFailure.nonRetryable('card_declined', PAYMENT_DECLINED);
        const failures = slowFailures.get(paymentId) ?? 0;
        if (paymentId.startsWith('slow-') && failures < 6) {
          slowFailures.set(paymentId, failures + 1);
          throw new Error('gateway unavailable');
        }
        calls.charged.push(paymentId);
        return Promise.resolve(`charge-${paymentId}`);
      },
      async lookUpCharge({ paymentId }) {
        return Promise.resolve(calls.charged.includes(paymentId) ? `charge-${paymentId}` : null);
      },
      async recordPaymentResult({ payment }) {
        readModelWrite();
        calls.paymentResults.push(payment);
        return Promise.resolve();
      },
      async recordOrderStatus({ status }) {
        readModelWrite();
        calls.orderStatuses.push(status);
        return Promise.resolve();
      },
    };
    return { activities, calls };
  }

  async function run(
    amount: number,
    drive: (handle: WorkflowHandle<typeof orderWorkflowV2>) => Promise<void>,
    options: { deadlineMs?: number; readModelFailures?: number } = {},
  ) {
    const taskQueue = `decisions-${randomUUID()}`;
    const { activities, calls } = mockActivities(options);
    const start = async () =>
      env.client.workflow.start(orderWorkflowV2, {
        workflowId: orderWorkflowId(`ORD-${randomUUID()}`),
        taskQueue,
        args: [
          {
            orderId: `ORD-${randomUUID()}`,
            currency: 'USD',
            amount,
            amountPaid: 0,
            paymentDeadline: new Date(
              (await env.currentTimeMs()) + (options.deadlineMs ?? 24 * 60 * 60 * 1000),
            ).toISOString(),
          } satisfies OrderWorkflowInput,
        ],
      });
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      dataConverter: testDataConverter,
      activities,
    });
    const result = await worker.runUntil(async () => {
      const handle = await start();
      await drive(handle);
      return handle.result();
    });
    return { result, calls };
  }

  const attempt = (paymentId: string, amount: number) => [{ paymentId, amount }] as const;

  it('charges attempts in order, records each result and completes on the last cent', async () => {
    const { result, calls } = await run(1_000, async (handle) => {
      await handle.signal(paymentAttemptSignal, ...attempt('p1', 300));
      await handle.signal(paymentAttemptSignal, ...attempt('declined-p2', 700));
      await handle.signal(paymentAttemptSignal, ...attempt('p3', 800));
      await handle.signal(paymentAttemptSignal, ...attempt('p4', 700));
    });

    expect(result).toMatchObject({ status: 'COMPLETED', amountPaid: 1_000 });
    expect(calls.charged).toEqual(['p1', 'p4']);
    expect(calls.chargeAttempts).toEqual(['p1', 'declined-p2', 'p4']);
    expect(calls.paymentResults).toEqual([
      { paymentId: 'p1', amount: 300, status: 'COMPLETED' },
      { paymentId: 'declined-p2', amount: 700, status: 'FAILED', failureReason: 'card_declined' },
      { paymentId: 'p3', amount: 800, status: 'FAILED', failureReason: 'amount_exceeds_due' },
      { paymentId: 'p4', amount: 700, status: 'COMPLETED' },
    ]);
    // Settling the last payment closes the order row; no separate status write.
    expect(calls.orderStatuses).toEqual([]);
  });

  it('cancels, charges nothing and records the status', async () => {
    const { result, calls } = await run(1_000, async (handle) => {
      await handle.signal(cancelOrderSignal, {});
    });

    expect(result).toMatchObject({ status: 'CANCELLED', amountPaid: 0 });
    expect(calls.chargeAttempts).toEqual([]);
    expect(calls.orderStatuses).toEqual(['CANCELLED']);
  });

  it('expires at the deadline, and never starts a charge after it', async () => {
    const { result, calls } = await run(
      1_000,
      async (handle) => {
        await handle.signal(paymentAttemptSignal, ...attempt('slow-p1', 400));
        await handle.signal(paymentAttemptSignal, ...attempt('p2', 600));
      },
      { deadlineMs: 30_000 },
    );

    expect(result).toMatchObject({ status: 'EXPIRED', amountPaid: 400 });
    expect(calls.charged).toEqual(['slow-p1']);
    expect(new Set(calls.chargeAttempts)).toEqual(new Set(['slow-p1']));
    expect(calls.paymentResults).toEqual([
      { paymentId: 'slow-p1', amount: 400, status: 'COMPLETED' },
      { paymentId: 'p2', amount: 600, status: 'FAILED', failureReason: 'deadline_passed' },
    ]);
    expect(calls.orderStatuses).toEqual(['EXPIRED']);
  });

  it('retries a failing read-model write until it succeeds, and the order completes', async () => {
    const { result, calls } = await run(
      500,
      async (handle) => {
        await handle.signal(paymentAttemptSignal, ...attempt('p1', 500));
      },
      { readModelFailures: 3 },
    );

    expect(result).toMatchObject({ status: 'COMPLETED', amountPaid: 500 });
    expect(calls.readModelFailures).toBe(3);
    expect(calls.charged).toEqual(['p1']);
    expect(calls.paymentResults).toEqual([{ paymentId: 'p1', amount: 500, status: 'COMPLETED' }]);
  });
});
