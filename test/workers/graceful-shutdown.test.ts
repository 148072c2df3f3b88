import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { FieldCipher } from '../../src/crypto/field-cipher';
import { generateKeySpec, parseKeyRing } from '../../src/crypto/key-ring';
import { startTestApi, type TestApi } from '../support/api';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { eventually } from '../support/stack';
import { createDevServerEnv } from '../support/temporal';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';

/**
 * The worker main as a real process: SIGTERM while a charge is in flight lets the charge finish (the
 * gateway answers after 3 s) before the worker exits; the next worker carries the order on from there.
 */
describe('worker process shutdown', () => {
  let env: TestWorkflowEnvironment;
  let database: TestDatabase;
  let api: TestApi;
  let worker: ChildProcess | undefined;
  const keys = generateKeySpec('k1');
  const taskQueue = `shutdown-${randomUUID()}`;

  beforeAll(async () => {
    [env, database] = await Promise.all([createDevServerEnv(), createTestDatabase()]);
    const cipher = new FieldCipher(parseKeyRing(keys, 'test'));
    api = await startTestApi({ db: database.db, connection: env.connection, taskQueue, cipher });
  });

  afterAll(async () => {
    worker?.kill('SIGKILL');
    await api?.close();
    await database?.drop();
    await env?.teardown();
  });

  function startWorker(): WorkerProcess {
    const started = startWorkerProcess({
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: 'default',
      DURAPAY_TASK_QUEUE: taskQueue,
      DURAPAY_FIELD_KEYS: keys,
      DURAPAY_GATEWAY_LATENCY_MS: '3000',
    });
    worker = started.child;
    return started;
  }

  it('finishes the in-flight charge on SIGTERM, exits cleanly, and the next worker completes the order', async () => {
    const first = startWorker();
    await first.started();

    const orderId = `ORD-${randomUUID()}`;
    const post = (url: string, body: unknown) =>
      fetch(`${api.baseUrl}${url}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...api.headers('alice') },
        body: JSON.stringify(body),
      });
    expect((await post('/orders', { orderId, amount: '10.00', currency: 'USD' })).status).toBe(201);
    const payment = (await (
      await post(`/orders/${orderId}/payments`, {
        amount: '10.00',
        method: { type: 'card', number: '4242424242424242', expMonth: 12, expYear: 2099, cvc: '123' },
      })
    ).json()) as { paymentId: string };

    const handle = env.client.workflow.getHandle(`order:${orderId}`);
    const events = async () => (await handle.fetchHistory()).events ?? [];
    await eventually(events, (history) => history.some((event) => event.activityTaskStartedEventAttributes));
    worker!.kill('SIGTERM');

    expect(await first.exited).toBe(0);
    expect(first.output.join('')).toContain('worker stopped');
    const history = await events();
    const charge = history.find(
      (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'chargePayment',
    );
    expect(
      history.some(
        (event) =>
          event.activityTaskCompletedEventAttributes &&
          String(event.activityTaskCompletedEventAttributes.scheduledEventId) === String(charge?.eventId),
      ),
    ).toBe(true);
    expect(
      history.some(
        (event) => event.activityTaskFailedEventAttributes || event.activityTaskTimedOutEventAttributes,
      ),
    ).toBe(false);

    const second = startWorker();
    await second.started();
    await eventually(
      () => database.db('orders').where({ order_id: orderId }).first(),
      (order) => order?.order_status === 'COMPLETED',
      30_000,
    );
    expect(await database.db('payments').where({ payment_id: payment.paymentId }).first()).toMatchObject({
      payment_status: 'COMPLETED',
    });
    worker!.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});
