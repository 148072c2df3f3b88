import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { FieldCipher } from '../../src/crypto/field-cipher';
import { generateKeySpec, parseKeyRing } from '../../src/crypto/key-ring';
import { startTestApi, type TestApi } from '../support/api';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { eventually } from '../support/stack';
import { createDevServerEnv } from '../support/temporal';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';

const ORDERS = 2000;
const HEADER =
  'order_id,order_amount,currency,order_status,created_at,customer_email,payment_id,payment_amount,payment_status,payment_method,card_number';

/**
 * A worker killed outright (SIGKILL) in the middle of an upload, then a new worker: every chunk is imported
 * exactly once — a chunk caught mid-transaction rolled back and ran again; a committed one is recognised.
 * Meanwhile the status comes from MySQL, as nothing can answer the workflow's query.
 */
describe('worker crash during an upload', () => {
  let env: TestWorkflowEnvironment;
  let database: TestDatabase;
  let api: TestApi;
  const workers: WorkerProcess[] = [];
  const keys = generateKeySpec('k1');
  const taskQueue = `crash-${randomUUID()}`;

  beforeAll(async () => {
    [env, database] = await Promise.all([createDevServerEnv(), createTestDatabase()]);
    const cipher = new FieldCipher(parseKeyRing(keys, 'test'));
    api = await startTestApi(
      { db: database.db, connection: env.connection, taskQueue, cipher },
      { DURAPAY_UPLOAD_CHUNK_ROWS: '50', DURAPAY_UPLOAD_WINDOW: '2' },
    );
  });

  afterAll(async () => {
    for (const worker of workers) worker.child.kill('SIGKILL');
    await api?.close();
    await database?.drop();
    await env?.teardown();
  });

  const startWorker = async () => {
    const worker = startWorkerProcess({
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: 'default',
      DURAPAY_TASK_QUEUE: taskQueue,
      DURAPAY_FIELD_KEYS: keys,
    });
    workers.push(worker);
    await worker.started();
    return worker;
  };

  it('imports every row exactly once after the worker is killed and restarted', async () => {
    const rows = Array.from(
      { length: ORDERS },
      (_, i) =>
        `CR-${i},12.34,USD,COMPLETED,2026-03-01T09:15:00Z,c${i}@example.com,CP-${i},12.34,COMPLETED,CARD,4242424242424242`,
    );
    const first = await startWorker();
    // The import runs with the bounded heap every start of the worker uses (src/workers/node-options.ts).
    expect(Number(/"heapLimitMiB":(\d+)/.exec(first.output.join(''))?.[1])).toBeLessThanOrEqual(320);
    const accepted = await fetch(`${api.baseUrl}/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', ...api.headers('operator') },
      body: [HEADER, ...rows].join('\n'),
    });
    const { uploadId } = (await accepted.json()) as { uploadId: string };
    const view = () =>
      fetch(`${api.baseUrl}/uploads/${uploadId}`, { headers: api.headers('operator') }).then(
        (r) => r.json() as Promise<any>,
      );

    const midway = await eventually(view, (v) => v.chunks.completed >= 3, 300_000);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(midway.chunks.completed).toBeLessThan(midway.chunks.total);

    // No worker answers the progress query now: MySQL does, with exactly the chunks that committed.
    const stalled = await view();
    expect(stalled.status).toBe('RUNNING');
    expect(stalled.chunks.completed).toBeGreaterThanOrEqual(midway.chunks.completed);
    expect(stalled.rowsImported).toBe(Number((await database.db('payments').count({ n: '*' }).first())?.n));
    expect(stalled.rowsRejected).toBe(0);

    await startWorker();
    const final = await eventually(view, (v) => v.status !== 'RUNNING', 300_000);
    expect(final).toMatchObject({
      status: 'COMPLETED',
      rowsTotal: ORDERS,
      rowsImported: ORDERS,
      rowsRejected: 0,
      chunks: { total: ORDERS / 50, completed: ORDERS / 50, failed: 0 },
    });
    const totals = await database.db('orders').count({ orders: '*' }).sum({ paid: 'amount_paid' }).first();
    expect(Number(totals?.orders)).toBe(ORDERS);
    expect(String(totals?.paid)).toBe(`${(1234 * ORDERS) / 100}.0000`);
    expect(Number((await database.db('payments').count({ n: '*' }).first())?.n)).toBe(ORDERS);
    // The waits above are hang guards, long enough for a slow moment of a shared machine.
  }, 900_000);
});
