/**
 * Exactly once, with real processes: the sandbox provider, the worker main, the Temporal dev server and
 * MariaDB. Each case breaks the path between the charge and its record, and then asserts the provider's own
 * charge list for the payment's idempotency key: one charge, of the payment's amount.
 */
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { FieldCipher } from '../../src/crypto/field-cipher';
import { generateKeySpec, parseKeyRing } from '../../src/crypto/key-ring';
import { startTestApi, type TestApi } from '../support/api';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { sandboxClient, type SandboxClient } from '../support/sandbox-client';
import { startSandboxProcess, TEST_SANDBOX_KEY, type SandboxProcess } from '../support/sandbox-process';
import { eventually } from '../support/stack';
import { createDevServerEnv } from '../support/temporal';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';

const VISA = '4242424242424242';
const CVC = '842';
const EXP_YEAR = new Date().getUTCFullYear() + 3;
const STORM_ORDERS = 100;
const STORM_PAYMENTS_PER_ORDER = 5;

describe('exactly-once charging across crashes, drops and outages', () => {
  let env: TestWorkflowEnvironment;
  let database: TestDatabase;
  let sandboxDatabase: TestDatabase;
  let sandbox: SandboxProcess;
  let provider: SandboxClient;
  let api: TestApi;
  let worker: WorkerProcess | undefined;
  const workerOutput: string[] = [];
  const keys = generateKeySpec('k1');
  const taskQueue = `exactly-once-${randomUUID()}`;

  beforeAll(async () => {
    [env, database, sandboxDatabase] = await Promise.all([
      createDevServerEnv(),
      createTestDatabase(),
      createTestDatabase({ migrate: false }),
    ]);
    sandbox = await startSandboxProcess({ databaseUrl: sandboxDatabase.url });
    provider = sandboxClient(sandbox.url);
    api = await startTestApi({
      db: database.db,
      connection: env.connection,
      taskQueue,
      cipher: new FieldCipher(parseKeyRing(keys, 'test')),
    });
    await startWorker();
  });

  afterEach(async () => {
    if (sandbox.child.exitCode === null) await provider.resetFaults();
  });

  afterAll(async () => {
    await stopWorker();
    await api?.close();
    await sandbox?.stop();
    await database?.drop();
    await sandboxDatabase?.drop();
    await env?.teardown();
  });

  async function startWorker(gatewayKey = TEST_SANDBOX_KEY): Promise<void> {
    worker = startWorkerProcess({
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: 'default',
      DURAPAY_TASK_QUEUE: taskQueue,
      DURAPAY_FIELD_KEYS: keys,
      DURAPAY_GATEWAY_URL: sandbox.url,
      DURAPAY_GATEWAY_KEY: gatewayKey,
    });
    await worker.started();
  }

  async function stopWorker(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!worker) return;
    if (worker.child.exitCode === null) worker.child.kill(signal);
    await worker.exited;
    workerOutput.push(...worker.output);
    worker = undefined;
  }

  const post = async (url: string, body: unknown) => {
    const response = await fetch(`${api.baseUrl}${url}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...api.headers('alice') },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  const newOrder = async (amount: string) => {
    const orderId = `ORD-${randomUUID()}`;
    expect((await post('/orders', { orderId, amount, currency: 'USD' })).status).toBe(201);
    return orderId;
  };
  const pay = async (orderId: string, amount: string) => {
    const accepted = await post(`/orders/${orderId}/payments`, {
      amount,
      method: { type: 'card', number: VISA, expMonth: 10, expYear: EXP_YEAR, cvc: CVC },
    });
    // On any other answer, the API's own account of it (a 5xx is logged as "request failed") is in the failure.
    const failures =
      accepted.status === 202 ? [] : api.logLines.filter((line) => line.includes('request failed'));
    expect({ status: accepted.status, failures }).toEqual({ status: 202, failures: [] });
    return accepted.body.paymentId as string;
  };
  const paymentRow = (paymentId: string) => database.db('payments').where({ payment_id: paymentId }).first();
  const settled = (paymentId: string, timeoutMs = 120_000) =>
    eventually(
      () => paymentRow(paymentId),
      (row) => row?.payment_status !== 'PENDING',
      timeoutMs,
    );
  const orderRow = (orderId: string) => database.db('orders').where({ order_id: orderId }).first();

  async function expectChargedOnce(paymentId: string, amount: number): Promise<void> {
    expect((await provider.chargesFor(paymentId)).map((charge) => charge.amount)).toEqual([amount]);
  }

  it('a worker killed after the provider charged and before the record: after a restart, one charge', async () => {
    // The provider holds the charge, already taken, this long before answering: the window to kill in.
    await provider.setFaults({ latencyMs: 5_000 });
    const orderId = await newOrder('25.00');
    const paymentId = await pay(orderId, '25.00');
    await eventually(
      () => provider.chargesFor(paymentId),
      (charges) => charges.length === 1,
    );
    await stopWorker('SIGKILL');
    expect((await paymentRow(paymentId)).payment_status).toBe('PENDING');
    await provider.resetFaults();

    // The attempt the dead worker held times out (the activity's 30 s), and the new worker retries it.
    await startWorker();
    expect((await settled(paymentId)).payment_status).toBe('COMPLETED');
    const order = await orderRow(orderId);
    // Counted once: paid exactly the one payment.
    expect({ status: order.order_status, paid: Number(order.amount_paid) }).toEqual({
      status: 'COMPLETED',
      paid: 25,
    });
    await expectChargedOnce(paymentId, 2_500);
  });

  it('a response dropped after the charge: the retry with the same key gets that charge', async () => {
    await provider.setFaults({ dropResponseRate: 1 });
    const orderId = await newOrder('12.00');
    const paymentId = await pay(orderId, '12.00');
    await eventually(
      () => provider.chargesFor(paymentId),
      (charges) => charges.length === 1,
    );
    await provider.resetFaults();
    expect((await settled(paymentId)).payment_status).toBe('COMPLETED');
    await expectChargedOnce(paymentId, 1_200);
  });

  it('the provider down for 60 s: attempts are still accepted and complete once', async () => {
    await provider.setFaults({ down: true });
    const orders = [await newOrder('7.00'), await newOrder('8.00')];
    const payments = [await pay(orders[0]!, '7.00'), await pay(orders[1]!, '8.00')];
    // The charge's retries back off to one per 30 s within its 10 minutes, so they outlast the outage.
    const downUntil = Date.now() + 60_000;
    // Accepted (202) all along the outage.
    while (Date.now() < downUntil) {
      const orderId = await newOrder('1.00');
      orders.push(orderId);
      payments.push(await pay(orderId, '1.00'));
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
    for (const paymentId of payments) expect((await paymentRow(paymentId)).payment_status).toBe('PENDING');
    await provider.resetFaults();

    for (const [index, paymentId] of payments.entries()) {
      expect((await settled(paymentId)).payment_status).toBe('COMPLETED');
      await expectChargedOnce(paymentId, index === 0 ? 700 : index === 1 ? 800 : 100);
    }
  });

  it('the provider restarted mid-charge: its idempotency survives, one charge', async () => {
    await provider.setFaults({ latencyMs: 5_000 });
    const orderId = await newOrder('31.00');
    const paymentId = await pay(orderId, '31.00');
    await eventually(
      () => provider.chargesFor(paymentId),
      (charges) => charges.length === 1,
    );
    await sandbox.kill();
    sandbox = await startSandboxProcess({ databaseUrl: sandboxDatabase.url, port: sandbox.port });

    expect((await settled(paymentId)).payment_status).toBe('COMPLETED');
    await expectChargedOnce(paymentId, 3_100);
  });

  it(`a storm of ${STORM_ORDERS * STORM_PAYMENTS_PER_ORDER} payments over ${STORM_ORDERS} orders at errorRate 0.2 and dropResponseRate 0.1`, async () => {
    await provider.setFaults({ errorRate: 0.2, dropResponseRate: 0.1 });
    const orderIds = await Promise.all(
      Array.from({ length: STORM_ORDERS }, () => newOrder(String(STORM_PAYMENTS_PER_ORDER * 3) + '.00')),
    );
    const paymentIds = (
      await Promise.all(
        orderIds.map(async (orderId) => {
          const ids: string[] = [];
          for (let i = 0; i < STORM_PAYMENTS_PER_ORDER; i++) ids.push(await pay(orderId, '3.00'));
          return ids;
        }),
      )
    ).flat();
    for (const paymentId of paymentIds) await settled(paymentId, 300_000);
    await provider.resetFaults();

    const rows = await database.db('payments').whereIn('payment_id', paymentIds);
    const completed = rows.filter((row) => row.payment_status === 'COMPLETED');
    const charges = (await provider.allCharges()).filter((charge) =>
      paymentIds.includes(charge.metadata.payment_id),
    );
    const keys = charges.map((charge) => charge.metadata.payment_id);
    expect(new Set(keys).size).toBe(keys.length);
    expect(charges.reduce((sum, charge) => sum + charge.amount, 0)).toBe(completed.length * 300);
    expect(keys.sort()).toEqual(completed.map((row) => row.payment_id as string).sort());
    for (const orderId of orderIds) {
      const order = await orderRow(orderId);
      expect(Number(order.amount_paid)).toBeLessThanOrEqual(Number(order.order_amount));
    }
  });

  it('a worker with a wrong provider key: the payment fails at once as gateway_refused, and nothing is charged', async () => {
    await stopWorker();
    await startWorker('sk_test_not_the_sandbox_key_000');
    try {
      const orderId = await newOrder('9.00');
      const paymentId = await pay(orderId, '9.00');
      // Well inside the 10 minutes a transient failure would be retried for.
      expect((await settled(paymentId, 60_000)).failure_reason).toBe('gateway_refused');
      const response = await fetch(`${api.baseUrl}/payments/${paymentId}`, { headers: api.headers('alice') });
      expect(await response.json()).toMatchObject({ status: 'FAILED', failureReason: 'gateway_refused' });
      expect(await provider.chargesFor(paymentId)).toEqual([]);
    } finally {
      await stopWorker();
      await startWorker();
    }
  });

  it('never logs the card number or the CVC in the worker', async () => {
    await stopWorker();
    const logs = workerOutput.join('');
    expect(logs).toContain('worker started');
    expect(logs).not.toContain(VISA);
    // As a JSON value or a field: its three digits alone also turn up in timestamps' milliseconds.
    expect(logs).not.toContain(`"${CVC}"`);
    expect(logs).not.toMatch(/"cvc"/i);
    await startWorker();
  });
});
