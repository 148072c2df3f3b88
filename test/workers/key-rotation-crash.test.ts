import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { CardFingerprinter } from '../../src/crypto/card-fingerprint';
import { generateKeySpec, parseKeyRing } from '../../src/crypto/key-ring';
import { ENCRYPTED_COLUMNS, type EncryptedColumn } from '../../src/workflows/keys/messages';
import { startTestApi, type TestApi, type TestCaller } from '../support/api';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { cipherOf, readEncryptedRows, seedEncryptedRows, type Plaintexts } from '../support/encrypted-rows';
import { eventually } from '../support/stack';
import { TEST_PAYLOAD_KEYS, createDevServerEnv } from '../support/temporal';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';

const REPO = path.resolve(__dirname, '../..');
const ORDERS = 1000;
const STAGED = 300;
const VISA = '4242424242424242';

/**
 * A whole key rotation as an operator runs it: data written under key 1, every process given the ring
 * `k2,k1`, the rotation started through the API, its worker killed outright (SIGKILL) midway and started
 * again. The counts come out exact (a batch that committed just before the kill is not counted twice), every
 * value ends under key 2, and with key 1 gone from the ring every value still reads back.
 */
describe('key rotation across a worker crash (dev server, worker process, MariaDB)', () => {
  let env: TestWorkflowEnvironment;
  let database: TestDatabase;
  const apis: TestApi[] = [];
  const workers: WorkerProcess[] = [];
  const key1 = generateKeySpec('k1');
  const key2 = generateKeySpec('k2');
  const fingerprintKey = generateKeySpec('fp1');
  const fingerprinter = new CardFingerprinter(parseKeyRing(fingerprintKey, 'test'));
  const taskQueue = `rotation-${randomUUID()}`;

  beforeAll(async () => {
    [env, database] = await Promise.all([createDevServerEnv(), createTestDatabase()]);
  });

  afterAll(async () => {
    for (const worker of workers) worker.child.kill('SIGKILL');
    for (const api of apis) await api.close();
    await database?.drop();
    await env?.teardown();
  });

  const startApi = async (keys: string[], settings: Record<string, string> = {}) => {
    const api = await startTestApi(
      { db: database.db, connection: env.connection, taskQueue, cipher: cipherOf(...keys), fingerprinter },
      settings,
    );
    apis.push(api);
    return api;
  };

  const startWorker = async (keys: string[]) => {
    const worker = startWorkerProcess({
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: 'default',
      DURAPAY_TASK_QUEUE: taskQueue,
      DURAPAY_FIELD_KEYS: keys.join(','),
      DURAPAY_CARD_FINGERPRINT_KEY: fingerprintKey,
    });
    workers.push(worker);
    await worker.started();
    return worker;
  };

  async function call(api: TestApi, caller: TestCaller, method: string, url: string, body?: unknown) {
    const response = await fetch(`${api.baseUrl}${url}`, {
      method,
      headers: {
        ...api.headers(caller),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as any };
  }

  /** An order with a card payment through the API, under key 1; it joins what must read back. */
  async function createThroughApi(api: TestApi, expected: Plaintexts) {
    const orderId = `API-${randomUUID()}`;
    const customer = { email: 'api@example.com', name: 'A. Pi' };
    const order = await call(api, 'alice', 'POST', '/orders', {
      orderId,
      amount: '10.00',
      currency: 'USD',
      customer,
    });
    expect(order.status).toBe(201);
    const payment = await call(api, 'alice', 'POST', `/orders/${orderId}/payments`, {
      amount: '10.00',
      method: { type: 'card', number: '4242 4242 4242 4242', expMonth: 12, expYear: 2099, cvc: '123' },
    });
    expect(payment.status).toBe(202);
    const { paymentId } = payment.body as { paymentId: string };
    expected['orders.customer_email_enc'].set(orderId, customer.email);
    expected['orders.customer_name_enc'].set(orderId, customer.name);
    expected['payments.card_number_enc'].set(paymentId, VISA);
    return paymentId;
  }

  const total = (columns: { rewritten: number }[]) => columns.reduce((sum, c) => sum + c.rewritten, 0);

  it('rewrites every value to key 2 exactly once, and with key 1 gone every value reads back', async () => {
    // Written under key 1, through the API and in bulk.
    const before = await startApi([key1]);
    const expected = await seedEncryptedRows(database.db, cipherOf(key1), fingerprinter, {
      prefix: 'E2E',
      orders: ORDERS,
      staged: STAGED,
    });
    const apiPaymentId = await createThroughApi(before, expected);
    const stored = await database.db('payments').where({ payment_id: apiPaymentId }).first();
    expect(stored.card_fingerprint).toBe(fingerprinter.fingerprint(VISA));
    expect(stored.card_number_enc).toMatch(/^v1:k1:/);
    const values = ENCRYPTED_COLUMNS.reduce((sum, column) => sum + expected[column].size, 0);

    // Every process gets the ring k2,k1 (key 2 encrypts, key 1 only decrypts); then the rotation starts.
    const api = await startApi([key2, key1], {
      DURAPAY_ROTATION_BATCH_ROWS: '20',
      DURAPAY_ROTATION_BATCHES_PER_RUN: '20',
    });
    const first = await startWorker([key2, key1]);
    // The worker charges the API's payment, which erases its CVC: settled before the rotation starts, so the
    // CVC column holds exactly the seeded pending payments' values.
    await eventually(
      () => database.db('payments').where({ payment_id: apiPaymentId }).first(),
      (row) => row.payment_status === 'COMPLETED' && row.card_cvc_enc === null,
    );
    const started = Date.now();
    const accepted = await call(api, 'operator', 'POST', '/admin/key-rotations');
    expect(accepted).toEqual({ status: 202, body: { rotationId: 'k2', status: 'RUNNING' } });
    // A status poll may get a 503 while the restarted worker catches up (the query waits on it): poll again.
    const view = async () =>
      (
        await eventually(
          () => call(api, 'operator', 'GET', '/admin/key-rotations/k2'),
          (response) => response.status !== 503,
        )
      ).body;

    const midway = await eventually(
      view,
      (v) => v.status !== 'RUNNING' || total(v.columns) >= values / 5,
      180_000,
    );
    const midwayMs = Date.now() - started;
    first.child.kill('SIGKILL');
    await first.exited;
    expect(midway.status).toBe('RUNNING');
    expect(total(midway.columns)).toBeLessThan(values);

    await startWorker([key2, key1]);
    const final = await eventually(view, (v) => v.status !== 'RUNNING', 300_000);
    const finalMs = Date.now() - started;
    expect(final).toEqual({
      rotationId: 'k2',
      status: 'COMPLETED',
      columns: ENCRYPTED_COLUMNS.map((column) => ({
        column,
        scanned: expected[column].size,
        rewritten: expected[column].size,
        done: true,
      })),
    });
    process.stdout.write(
      `key rotation: ${values} values; ${Math.round((total(midway.columns) * 1000) / midwayMs)} values/s ` +
        `before the crash, ${Math.round((values * 1000) / finalMs)} values/s overall (${finalMs} ms with the restart)\n`,
    );

    // Key 1 removed from the ring entirely: every value is under key 2 and reads back.
    const after = await readEncryptedRows(database.db, cipherOf(key2));
    for (const column of ENCRYPTED_COLUMNS) expectReadBack(column, after[column], expected[column]);

    // `npm run rotate-keys` (the script, as an operator runs it) finds nothing left to rewrite.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', path.join(REPO, 'scripts/rotate-keys.ts')],
      {
        cwd: REPO,
        env: {
          ...process.env,
          NODE_ENV: 'test',
          TEMPORAL_ADDRESS: env.address,
          TEMPORAL_NAMESPACE: 'default',
          DURAPAY_TASK_QUEUE: taskQueue,
          DURAPAY_FIELD_KEYS: key2,
          DURAPAY_PAYLOAD_KEYS: TEST_PAYLOAD_KEYS,
        },
      },
    );
    expect(stdout).toMatch(/^started the rotation to key "k2"$/m);
    const last = stdout.trim().split('\n').at(-1)!;
    expect(last).toMatch(/^COMPLETED /);
    for (const column of ENCRYPTED_COLUMNS) {
      expect(last).toContain(`${column} scanned ${expected[column].size} rewritten 0 done`);
    }
  }, 900_000);
});

function expectReadBack(
  column: EncryptedColumn,
  actual: Map<string, { keyId: string; plaintext: string }>,
  expected: Map<string, string>,
) {
  expect({ column, rows: actual.size }).toEqual({ column, rows: expected.size });
  const wrong = [...expected].filter(([row, plaintext]) => actual.get(row)?.plaintext !== plaintext);
  expect({ column, wrong: wrong.length }).toEqual({ column, wrong: 0 });
  expect({ column, keys: [...new Set([...actual.values()].map((value) => value.keyId))] }).toEqual({
    column,
    keys: ['k2'],
  });
}
