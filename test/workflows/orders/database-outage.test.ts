import { randomUUID } from 'node:crypto';
import net from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createOrderActivities } from '../../../src/activities/orders';
import { createSimulatedGateway } from '../../../src/activities/orders/simulated-gateway';
import { createDb, type Db } from '../../../src/db/knex';
import { findOrder, listPayments } from '../../../src/db/orders';
import { bundleWorkflows } from '../../../src/workers/workflow-bundle';
import { orderWorkflowId, paymentAttemptSignal } from '../../../src/workflows/orders/messages';
import { orderWorkflowV2 } from '../../../src/workflows/orders/order-workflow';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { seedOrder, seedPayment, testCipher } from '../../support/orders';
import { createDevServerEnv, testDataConverter } from '../../support/temporal';

const OUTAGE_MS = 30_000;

/** A TCP relay in front of MariaDB that can go down like the database would: refusing and dropping connections. */
class DatabaseRelay {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly target: { host: string; port: number },
    readonly port = 0,
  ) {}

  async up(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    (this as { port: number }).port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  down(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/**
 * The read-model writes are local activities: a database outage while an order is being paid delays the
 * order but does not fail it, and nothing is charged twice. Real dev server, real MariaDB behind a relay.
 */
describe('orderWorkflowV2 through a database outage (dev server, MariaDB)', () => {
  let env: TestWorkflowEnvironment;
  let database: TestDatabase;
  let relay: DatabaseRelay;
  let relayedDb: Db;

  beforeAll(async () => {
    [env, database] = await Promise.all([createDevServerEnv(), createTestDatabase()]);
    const url = new URL(database.url);
    relay = new DatabaseRelay({ host: url.hostname, port: Number(url.port || 3306) });
    await relay.up();
    url.hostname = '127.0.0.1';
    url.port = String(relay.port);
    relayedDb = createDb(url.toString());
  });

  afterAll(async () => {
    await relayedDb?.destroy();
    await relay?.down();
    await database?.drop();
    await env?.teardown();
  });

  it(`completes an order whose database goes away for ${OUTAGE_MS / 1000} s right after the charge`, async () => {
    const cipher = testCipher();
    const simulated = createSimulatedGateway();
    let outage: Promise<void> | undefined;
    const taskQueue = `outage-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await bundleWorkflows(require.resolve('../../../src/workflows')),
      dataConverter: testDataConverter,
      activities: createOrderActivities({
        db: relayedDb,
        cipher,
        gateway: {
          // The charge is taken, then the database goes away before the result is written.
          async charge(request) {
            const answer = await simulated.charge(request);
            outage ??= relay
              .down()
              .then(() => new Promise((resolve) => setTimeout(resolve, OUTAGE_MS)))
              .then(() => relay.up());
            return answer;
          },
          findCharge: (idempotencyKey) => simulated.findCharge(idempotencyKey),
        },
      }),
    });

    const orderId = `ORD-${randomUUID()}`;
    const paymentId = `PAY-${randomUUID()}`;
    await seedOrder(database.db, cipher, { orderId, amount: 1_500 });
    await seedPayment(database.db, cipher, {
      paymentId,
      orderId,
      amount: 1_500,
      cardNumber: '4242424242424242',
    });
    const result = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(orderWorkflowV2, {
        workflowId: orderWorkflowId(orderId),
        taskQueue,
        args: [
          {
            orderId,
            currency: 'USD',
            amount: 1_500,
            amountPaid: 0,
            paymentDeadline: new Date(Date.now() + 24 * 60 * 60 * 1000).toISOString(),
          },
        ],
      });
      await handle.signal(paymentAttemptSignal, { paymentId, amount: 1_500 });
      return handle.result();
    });

    expect(outage).toBeDefined();
    await outage;
    expect(result).toMatchObject({ status: 'COMPLETED', amountPaid: 1_500 });
    expect(await findOrder(database.db, orderId)).toMatchObject({
      order_status: 'COMPLETED',
      amount_paid: '15.0000',
    });
    expect((await listPayments(database.db, orderId)).map((p) => p.payment_status)).toEqual(['COMPLETED']);
    expect(simulated.charges.size).toBe(1);
  });
});
