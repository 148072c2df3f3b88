import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { generateKeySpec } from '../../src/crypto/key-ring';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { freePort } from '../support/http';
import { eventually } from '../support/stack';
import { createDevServerEnv, TEST_PAYLOAD_KEYS } from '../support/temporal';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';

const REPO = path.resolve(__dirname, '../..');
const KEY = 'metrics-test-key-client-0000000000';
const HEADER =
  'order_id,order_amount,currency,order_status,created_at,customer_email,payment_id,payment_amount,payment_status,payment_method,card_number';

/** The value of one series in a Prometheus text exposition, or undefined when it is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [
        m[1],
        m[2],
      ]),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

/**
 * The API and the worker as the real processes `npm start` runs, each serving Prometheus metrics on its own
 * port: after a payment and an upload, the request histogram moved for the route's template, the worker's
 * business counters counted the payment and the rows, and the Temporal SDK's own series are there.
 */
describe('metrics of the real API and worker processes', () => {
  let env: TestWorkflowEnvironment;
  let database: TestDatabase;
  let api: ChildProcess | undefined;
  let worker: WorkerProcess | undefined;
  const apiOutput: string[] = [];
  let apiUrl: string;
  let apiMetricsUrl: string;
  let workerMetricsUrl: string;

  beforeAll(async () => {
    [env, database] = await Promise.all([createDevServerEnv(), createTestDatabase()]);
    const [apiPort, apiMetricsPort, workerMetricsPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    apiUrl = `http://127.0.0.1:${apiPort}`;
    apiMetricsUrl = `http://127.0.0.1:${apiMetricsPort}/metrics`;
    workerMetricsUrl = `http://127.0.0.1:${workerMetricsPort}/metrics`;
    const shared = {
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: 'default',
      DURAPAY_TASK_QUEUE: `metrics-${randomUUID()}`,
      DURAPAY_FIELD_KEYS: generateKeySpec('k1'),
      DURAPAY_CARD_FINGERPRINT_KEY: generateKeySpec('f1'),
      DURAPAY_PAYLOAD_KEYS: TEST_PAYLOAD_KEYS,
      DURAPAY_API_METRICS_PORT: String(apiMetricsPort),
      DURAPAY_WORKER_METRICS_PORT: String(workerMetricsPort),
    };
    // At debug the SDK logs each activity's completion, with the log attributes the worker adds.
    worker = startWorkerProcess({ ...shared, LOG_LEVEL: 'debug' });
    api = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/api/main.ts')], {
      cwd: REPO,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        PORT: String(apiPort),
        DURAPAY_API_KEYS: `${KEY}:client:alice,${KEY}-ops:operator:ops`,
        ...shared,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    api.stdout?.on('data', (chunk: Buffer) => apiOutput.push(chunk.toString()));
    api.stderr?.on('data', (chunk: Buffer) => apiOutput.push(chunk.toString()));
    await Promise.all([
      worker.started(),
      eventually(
        () => Promise.resolve(apiOutput.join('')),
        (text) => text.includes('"msg":"listening"') && text.includes('"msg":"metrics listening"'),
      ),
    ]);
  });

  afterAll(async () => {
    api?.kill('SIGKILL');
    worker?.child.kill('SIGKILL');
    await database?.drop();
    await env?.teardown();
  });

  const call = async (method: string, url: string, key: string, body?: string, type = 'application/json') => {
    const response = await fetch(`${apiUrl}${url}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': type } : {}) },
      body,
    });
    return (await response.json()) as Record<string, any>;
  };
  const scrape = (url: string) => fetch(url).then((response) => response.text());

  it('moves the request histogram, the business counters and the SDK series', async () => {
    const orderId = `ORD-${randomUUID()}`;
    await call('POST', '/orders', KEY, JSON.stringify({ orderId, amount: '125.50', currency: 'USD' }));
    const card = { type: 'card', number: '4242424242424242', expMonth: 12, expYear: 2099, cvc: '123' };
    const paid = await call(
      'POST',
      `/orders/${orderId}/payments?wait=true`,
      KEY,
      JSON.stringify({ amount: '125.50', method: card }),
    );
    expect(paid.status).toBe('COMPLETED');
    // A card that fails transiently twice before it is charged: two charge retries, then a third payment.
    const flakyOrderId = `ORD-${randomUUID()}`;
    await call(
      'POST',
      '/orders',
      KEY,
      JSON.stringify({ orderId: flakyOrderId, amount: '5.00', currency: 'USD' }),
    );
    await call(
      'POST',
      `/orders/${flakyOrderId}/payments`,
      KEY,
      JSON.stringify({ amount: '5.00', method: { ...card, number: '4000000000000119' } }),
    );
    const charged = await eventually(
      () =>
        Promise.resolve(
          worker!.output
            .join('')
            .split('\n')
            .filter((line) => line.startsWith('{') && line.endsWith('}'))
            .map((line) => JSON.parse(line) as Record<string, unknown>)
            .find((line) => line.msg === 'Activity completed' && line.activityType === 'chargePayment'),
        ),
      (line) => line !== undefined,
    );
    expect(charged).toMatchObject({
      orderId,
      paymentId: paid.paymentId,
      workflowId: `order:${orderId}`,
    });

    const rows = [
      `UP-1,10.00,USD,COMPLETED,2026-03-01T09:15:00Z,a@example.com,UP-P1,10.00,COMPLETED,CARD,4242424242424242`,
      `UP-2,20.00,USD,COMPLETED,2026-03-01T09:15:00Z,b@example.com,UP-P2,20.00,COMPLETED,CARD,4242424242424242`,
      `UP-3,not-money,USD,COMPLETED,2026-03-01T09:15:00Z,c@example.com,UP-P3,1.00,COMPLETED,CARD,4242424242424242`,
    ];
    const { uploadId } = await call(
      'POST',
      '/uploads',
      `${KEY}-ops`,
      [HEADER, ...rows].join('\n'),
      'text/csv',
    );
    const upload = await eventually(
      () => call('GET', `/uploads/${uploadId as string}`, `${KEY}-ops`),
      (view) => String(view.status).startsWith('COMPLETED'),
    );
    expect(upload).toMatchObject({ status: 'COMPLETED_WITH_ERRORS', rowsImported: 2, rowsRejected: 1 });

    const apiMetrics = await scrape(apiMetricsUrl);
    expect(
      sample(apiMetrics, 'durapay_api_request_duration_seconds_count', {
        method: 'POST',
        route: '/orders/:orderId/payments',
        status: '200',
      }),
    ).toBe(1);
    expect(sample(apiMetrics, 'durapay_api_temporal_calls_in_flight')).toBe(0);
    expect(apiMetrics).not.toContain(orderId);

    // The SDK's exporter publishes what the worker recorded on its next collection: poll, do not wait.
    const workerMetrics = await eventually(
      () => scrape(workerMetricsUrl),
      (text) =>
        sample(text, 'durapay_upload_rows_total', { result: 'rejected' }) === 1 &&
        sample(text, 'durapay_payments_total', { outcome: 'COMPLETED' }) === 2,
    );
    expect(sample(workerMetrics, 'durapay_payments_total', { outcome: 'COMPLETED' })).toBe(2);
    expect(sample(workerMetrics, 'durapay_charge_retries_total')).toBe(2);
    expect(sample(workerMetrics, 'durapay_upload_rows_total', { result: 'imported' })).toBe(2);
    expect(sample(workerMetrics, 'temporal_activity_execution_latency_count')).toBeGreaterThan(0);
    expect(sample(workerMetrics, 'temporal_workflow_task_schedule_to_start_latency_count')).toBeGreaterThan(
      0,
    );
  });
});
