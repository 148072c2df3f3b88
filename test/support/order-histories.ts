import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON, type History } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createOrderActivities } from '../../src/activities/orders';
import {
  GatewayRequestError,
  GatewayUnavailableError,
  type PaymentGateway,
} from '../../src/activities/orders/gateway';
import { createSimulatedGateway } from '../../src/activities/orders/simulated-gateway';
import type { FieldCipher } from '../../src/crypto/field-cipher';
import type { Db } from '../../src/db/knex';
import {
  cancelOrderSignal,
  orderSnapshotQuery,
  orderWorkflowId,
  paymentAttemptSignal,
  submitPaymentUpdate,
  type OrderSnapshot,
} from '../../src/workflows/orders/messages';
import { seedOrder, seedPayment } from './orders';
import { eventually } from './stack';
import { testDataConverter } from './temporal';

export const HISTORIES_DIR = path.resolve(__dirname, '../fixtures/histories');

const VISA = '4242424242424242';
/** Charges on this card wait until the case that holds them has taken its history. */
const HELD_CARD = '5555555555554444';
/** Charged with its answer lost; the retry is refused (422), so the workflow asks the provider. */
const LOST_ANSWER_CARD = '378282246310005';
const DAY_MS = 24 * 60 * 60 * 1000;

export type OrderHistoryCase =
  | 'created-waiting'
  | 'payment-in-flight'
  | 'partially-paid'
  | 'paid-by-update'
  | 'paid-by-signal'
  | 'cancelled'
  | 'expired'
  | 'charged-answer-lost-then-refused';

export interface RecordedHistory {
  name: OrderHistoryCase;
  history: History;
  /** The order's state when the history was taken. */
  snapshot: OrderSnapshot;
}

interface Context {
  env: TestWorkflowEnvironment;
  workflowType: string;
  db: Db;
  cipher: FieldCipher;
  taskQueue: string;
}

/**
 * Runs each order case on a real Temporal server with the given workflow code and real activities, and
 * returns each history at the point the case names. `test/workflows/orders/history-recording.test.ts` runs
 * it on every test run, and writes the histories as replay fixtures when asked to.
 */
export async function recordOrderHistories(options: {
  env: TestWorkflowEnvironment;
  db: Db;
  cipher: FieldCipher;
  workflowBundle: WorkflowBundleWithSourceMap;
  /** The workflow type new orders start in that code. */
  workflowType: string;
}): Promise<RecordedHistory[]> {
  let releaseHeld!: () => void;
  const held = new Promise<void>((resolve) => (releaseHeld = resolve));
  const simulated = createSimulatedGateway();
  const lostAnswers = new Set<string>();
  const gateway: PaymentGateway = {
    async charge(request) {
      if (request.cardNumber === HELD_CARD) await held;
      const answer = await simulated.charge(request);
      if (request.cardNumber !== LOST_ANSWER_CARD) return answer;
      if (lostAnswers.has(request.idempotencyKey))
        throw new GatewayRequestError(
          'payment gateway refused the request: 422',
          422,
          'idempotency_key_reused',
        );
      lostAnswers.add(request.idempotencyKey);
      throw new GatewayUnavailableError('payment gateway unreachable: answer lost');
    },
    findCharge: (idempotencyKey) => simulated.findCharge(idempotencyKey),
  };
  const context: Context = { ...options, taskQueue: `record-${randomUUID()}` };
  const worker = await Worker.create({
    connection: options.env.nativeConnection,
    taskQueue: context.taskQueue,
    workflowBundle: options.workflowBundle,
    dataConverter: testDataConverter,
    activities: createOrderActivities({ db: options.db, cipher: options.cipher, gateway }),
  });

  return worker.runUntil(async () => {
    const recorded: RecordedHistory[] = [];
    const take = async (name: OrderHistoryCase, handle: WorkflowHandle) => {
      const snapshot = await handle.query(orderSnapshotQuery);
      recorded.push({ name, history: await handle.fetchHistory(), snapshot });
    };

    const waiting = await startOrder(context, 1_000);
    await settled(waiting.handle);
    await take('created-waiting', waiting.handle);

    const inFlight = await startOrder(context, 1_000);
    await signalPayment(context, inFlight, 1_000, HELD_CARD);
    await eventually(
      async () => (await inFlight.handle.describe()).raw.pendingActivities ?? [],
      (activities) => activities.some((activity) => activity.lastStartedTime),
    );
    await take('payment-in-flight', inFlight.handle);

    const partial = await startOrder(context, 1_000);
    await signalPayment(context, partial, 400, VISA);
    await settled(partial.handle, (snapshot) => snapshot.amountPaid === 400);
    await take('partially-paid', partial.handle);

    const byUpdate = await startOrder(context, 1_000);
    const paymentId = await seedCardPayment(context, byUpdate.orderId, 1_000, VISA);
    await byUpdate.handle.executeUpdate(submitPaymentUpdate, { args: [{ paymentId, amount: 1_000 }] });
    await byUpdate.handle.result();
    await take('paid-by-update', byUpdate.handle);

    const bySignal = await startOrder(context, 1_000);
    await signalPayment(context, bySignal, 1_000, VISA);
    await bySignal.handle.result();
    await take('paid-by-signal', bySignal.handle);

    const cancelled = await startOrder(context, 1_000);
    await settled(cancelled.handle);
    await cancelled.handle.signal(cancelOrderSignal, { reason: 'recorded' });
    await cancelled.handle.result();
    await take('cancelled', cancelled.handle);

    const expired = await startOrder(context, 1_000, 2_000);
    await expired.handle.result();
    await take('expired', expired.handle);

    const lostAnswer = await startOrder(context, 1_000);
    await signalPayment(context, lostAnswer, 1_000, LOST_ANSWER_CARD);
    await settled(lostAnswer.handle, (snapshot) => snapshot.payments.length === 1);
    await take('charged-answer-lost-then-refused', lostAnswer.handle);

    // Let the held charge finish, so no workflow is left waiting on this worker.
    releaseHeld();
    await inFlight.handle.result();
    for (const { handle } of [waiting, partial, lostAnswer]) {
      if ((await handle.query(orderSnapshotQuery)).status !== 'PENDING') continue;
      await handle.signal(cancelOrderSignal, {});
      await handle.result();
    }
    return recorded;
  });
}

/** Writes histories as `order-<version>-<case>.json` replay fixtures, formatted the way the lint wants. */
export function writeHistoryFixtures(version: string, histories: RecordedHistory[]): void {
  const files = histories.map(({ name, history }) => {
    const file = path.join(HISTORIES_DIR, `order-${version}-${name}.json`);
    fs.writeFileSync(file, historyToJSON(history));
    return file;
  });
  execFileSync(process.execPath, [require.resolve('prettier/bin/prettier.cjs'), '--write', ...files]);
}

async function startOrder(context: Context, amount: number, deadlineInMs = 7 * DAY_MS) {
  const orderId = `ORD-${randomUUID()}`;
  await seedOrder(context.db, context.cipher, { orderId, amount });
  const handle = await context.env.client.workflow.start(context.workflowType, {
    workflowId: orderWorkflowId(orderId),
    taskQueue: context.taskQueue,
    args: [
      {
        orderId,
        currency: 'USD',
        amount,
        amountPaid: 0,
        paymentDeadline: new Date(Date.now() + deadlineInMs).toISOString(),
      },
    ],
  });
  return { orderId, handle };
}

async function seedCardPayment(context: Context, orderId: string, amount: number, cardNumber: string) {
  const paymentId = `PAY-${randomUUID()}`;
  await seedPayment(context.db, context.cipher, { paymentId, orderId, amount, cardNumber });
  return paymentId;
}

async function signalPayment(
  context: Context,
  order: { orderId: string; handle: WorkflowHandle },
  amount: number,
  cardNumber: string,
) {
  const paymentId = await seedCardPayment(context, order.orderId, amount, cardNumber);
  await order.handle.signal(paymentAttemptSignal, { paymentId, amount });
}

/** Until the workflow waits with nothing in flight (no workflow task, no activity) and `accept` holds. */
export async function settled(
  handle: WorkflowHandle,
  accept: (snapshot: OrderSnapshot) => boolean = () => true,
) {
  await eventually(
    async () => {
      const { raw } = await handle.describe();
      const idle = !raw.pendingWorkflowTask && (raw.pendingActivities ?? []).length === 0;
      return idle && accept(await handle.query(orderSnapshotQuery));
    },
    (done) => done,
  );
}
