/**
 * Reconciliation with real processes: the sandbox provider as its own process, the dev server, a real
 * worker, MariaDB and the API. Each kind of disagreement is planted, a run records it once, a run with
 * nothing new records that, and the schedule is created idempotently and runs the workflow.
 */
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { ensureReconciliationSchedule } from '../../../src/api/admin/reconciliation-schedule';
import { createReconciliationActivities } from '../../../src/activities/reconciliation';
import {
  createProviderCharges,
  type ProviderCharges,
} from '../../../src/activities/reconciliation/provider-charges';
import { loadConfig } from '../../../src/config';
import { insertPayment, newCardPaymentRow } from '../../../src/db/orders';
import { RECONCILIATION_SCHEDULE_ID } from '../../../src/workflows/reconciliation/messages';
import { reconciliationWorkflow } from '../../../src/workflows/reconciliation/reconciliation-workflow';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { seedOrder } from '../../support/orders';
import { startSandboxProcess, TEST_SANDBOX_KEY, type SandboxProcess } from '../../support/sandbox-process';
import { eventually, startTestStack, type TestStack } from '../../support/stack';
import { testDataConverter } from '../../support/temporal';

const CARD = '4242424242424242';
const EXP_YEAR = new Date().getUTCFullYear() + 3;

let stack: TestStack;
let sandboxDatabase: TestDatabase;
let sandbox: SandboxProcess;
let providerCharges: ProviderCharges;
let worker: Worker;
let running: Promise<void>;
const taskQueue = `reconciliation-${randomUUID()}`;

beforeAll(async () => {
  [stack, sandboxDatabase] = await Promise.all([startTestStack(), createTestDatabase({ migrate: false })]);
  sandbox = await startSandboxProcess({ databaseUrl: sandboxDatabase.url });
  providerCharges = createProviderCharges({ url: sandbox.url, apiKey: TEST_SANDBOX_KEY });
  worker = await Worker.create({
    connection: stack.env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../../../src/workflows'),
    dataConverter: testDataConverter,
    activities: createReconciliationActivities({ db: stack.database.db, providerCharges }),
  });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await providerCharges?.close();
  await sandbox?.stop();
  await sandboxDatabase?.drop();
  await stack?.stop();
});

/** A charge taken at the sandbox directly, as anyone holding the provider key could. */
async function chargeAtSandbox(charge: {
  key: string;
  paymentId: string;
  amount: number;
  currency?: string;
}) {
  const response = await fetch(`${sandbox.url}/v1/charges`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${TEST_SANDBOX_KEY}`,
      'content-type': 'application/json',
      'idempotency-key': charge.key,
    },
    body: JSON.stringify({
      amount: charge.amount,
      currency: charge.currency ?? 'USD',
      card: { number: CARD, exp_month: 12, exp_year: EXP_YEAR, cvc: '123' },
      metadata: { order_id: 'ORD-planted', payment_id: charge.paymentId },
    }),
  });
  const body = (await response.json()) as { id: string };
  expect(response.status).toBe(200);
  return body.id;
}

/** A COMPLETED card payment as the API and the order workflow leave it, completed a minute ago. */
async function completedPayment(amount: number) {
  const orderId = `ORD-${randomUUID()}`;
  const paymentId = `PAY-${randomUUID()}`;
  await seedOrder(stack.database.db, stack.cipher, { orderId, amount: 100_00 });
  const row = newCardPaymentRow(
    { paymentId, orderId, amount, currency: 'USD', cardNumber: CARD, requestHash: 'a'.repeat(64) },
    stack.cipher,
    stack.fingerprinter,
    new Date(Date.now() - 120_000),
  );
  await insertPayment(stack.database.db, {
    ...row,
    payment_status: 'COMPLETED',
    updated_at: new Date(Date.now() - 60_000),
  });
  return paymentId;
}

const settings = { graceMs: 0, pageSize: 2, pagesPerRun: 2 };

async function runReconciliation() {
  return stack.env.client.workflow.execute(reconciliationWorkflow, {
    taskQueue,
    workflowId: `reconciliation-test-${randomUUID()}`,
    args: [settings],
  });
}

async function listReconciliations(query = '', caller: 'operator' | 'alice' = 'operator') {
  const response = await fetch(`${stack.api.baseUrl}/admin/reconciliations${query}`, {
    headers: stack.api.headers(caller),
  });
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: (await response.json()) as any,
  };
}

describe('reconciliation of the sandbox provider with the payments', () => {
  const planted: Record<string, string> = {};

  it('records a charge without a payment, a payment without a charge, an amount mismatch and a second charge', async () => {
    planted.ghostPayment = `PAY-ghost-${randomUUID()}`;
    planted.ghostCharge = await chargeAtSandbox({
      key: `someone-else:${randomUUID()}`,
      paymentId: planted.ghostPayment,
      amount: 4200,
    });
    planted.unchargedPayment = await completedPayment(25_00);
    planted.mismatchedPayment = await completedPayment(12_50);
    planted.mismatchedCharge = await chargeAtSandbox({
      key: `durapay:payment:${planted.mismatchedPayment}`,
      paymentId: planted.mismatchedPayment,
      amount: 13_00,
    });
    const matchingPayment = await completedPayment(10_00);
    await chargeAtSandbox({
      key: `durapay:payment:${matchingPayment}`,
      paymentId: matchingPayment,
      amount: 10_00,
    });
    // The matched payment charged again, under another key with the same metadata: a double charge.
    planted.secondCharge = await chargeAtSandbox({
      key: `someone-else:${randomUUID()}`,
      paymentId: matchingPayment,
      amount: 10_00,
    });
    planted.matchingPayment = matchingPayment;

    // Four charges and three payments at two a page and two pages a run: the workflow continues as new.
    const result = await runReconciliation();
    expect(result).toMatchObject({ done: true, chargesExamined: 4, paymentsExamined: 3, findingsCount: 4 });

    const listed = await listReconciliations();
    expect(listed.status).toBe(200);
    const [run] = listed.body.items;
    expect(run).toMatchObject({
      runId: result.runId,
      status: 'COMPLETED',
      chargesExamined: 4,
      paymentsExamined: 3,
      findingsCount: 4,
    });
    const findings = [...run.findings].sort((a: any, b: any) => a.kind.localeCompare(b.kind));
    expect(findings).toEqual([
      {
        kind: 'AMOUNT_MISMATCH',
        paymentId: planted.mismatchedPayment,
        chargeId: planted.mismatchedCharge,
        expected: { currency: 'USD', minorUnits: 12_50, amount: '12.50' },
        actual: { currency: 'USD', minorUnits: 13_00, amount: '13.00' },
        detectedAt: expect.any(String),
      },
      {
        kind: 'CHARGE_WITHOUT_PAYMENT',
        paymentId: planted.ghostPayment,
        chargeId: planted.ghostCharge,
        expected: null,
        actual: { currency: 'USD', minorUnits: 42_00, amount: '42.00' },
        detectedAt: expect.any(String),
      },
      {
        kind: 'DUPLICATE_CHARGE',
        paymentId: planted.matchingPayment,
        chargeId: planted.secondCharge,
        expected: { currency: 'USD', minorUnits: 10_00, amount: '10.00' },
        actual: { currency: 'USD', minorUnits: 10_00, amount: '10.00' },
        detectedAt: expect.any(String),
      },
      {
        kind: 'PAYMENT_WITHOUT_CHARGE',
        paymentId: planted.unchargedPayment,
        chargeId: null,
        expected: { currency: 'USD', minorUnits: 25_00, amount: '25.00' },
        actual: null,
        detectedAt: expect.any(String),
      },
    ]);
  });

  it('records a run that finds nothing new, and no finding twice, when it reads the same window again', async () => {
    const result = await runReconciliation();
    // The window overlaps the last one, so the same charges and payments are read again.
    expect(result).toMatchObject({ done: true, chargesExamined: 4, paymentsExamined: 3, findingsCount: 0 });

    const listed = await listReconciliations();
    expect(listed.body.items[0]).toMatchObject({ runId: result.runId, findingsCount: 0, findings: [] });
    expect(listed.body.items).toHaveLength(2);
    const all = listed.body.items.flatMap((run: any) => run.findings);
    expect(all).toHaveLength(4);
  });

  it('commits a retried page once: its findings, counts and watermark', async () => {
    const activities = createReconciliationActivities({ db: stack.database.db, providerCharges });
    const uncharged = await completedPayment(7_00);
    const runId = await activities.startReconciliationRun({ runId: `retry-${randomUUID()}`, graceMs: 0 });
    const page = { runId, pageSize: 100 };
    const charges = await activities.reconcilePage({ ...page, page: 0 });
    // The same page again, as after a worker that committed it died before reporting.
    expect(await activities.reconcilePage({ ...page, page: 0 })).toEqual(charges);
    const payments = await activities.reconcilePage({ ...page, page: 1 });
    expect(await activities.reconcilePage({ ...page, page: 1 })).toEqual(payments);
    expect(payments).toMatchObject({ done: true, chargesExamined: 4, paymentsExamined: 4, findingsCount: 1 });
    const findings = await stack.database.db('reconciliation_findings').where({ payment_id: uncharged });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      run_id: runId,
      kind: 'PAYMENT_WITHOUT_CHARGE',
      expected_amount: '700',
    });
  });

  it('pages the runs newest first, for operators only, with problem details for a bad query', async () => {
    const first = await listReconciliations('?limit=1');
    expect(first.body.items).toHaveLength(1);
    const second = await listReconciliations(`?limit=1&cursor=${first.body.nextCursor}`);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.items[0].runId).not.toBe(first.body.items[0].runId);
    expect(second.body.items[0].findingsCount).toBe(0);

    const badLimit = await listReconciliations('?limit=0');
    expect(badLimit.status).toBe(400);
    expect(badLimit.type).toContain('application/problem+json');
    expect(badLimit.body.detail).toMatch(/limit/);
    const badCursor = await listReconciliations('?cursor=nonsense');
    expect(badCursor.status).toBe(400);
    expect((await listReconciliations('', 'alice')).status).toBe(403);
  });

  it('creates the schedule once, updates its interval, and its runs reach the API', async () => {
    const env = { NODE_ENV: 'test', DURAPAY_TASK_QUEUE: taskQueue, DURAPAY_RECONCILIATION_GRACE: 'PT0S' };
    const config = loadConfig({ ...env, DURAPAY_RECONCILIATION_INTERVAL: 'PT1H' });
    const client = stack.env.client;
    expect(await ensureReconciliationSchedule(client, config)).toBe('created');
    expect(await ensureReconciliationSchedule(client, config)).toBe('unchanged');
    const handle = client.schedule.getHandle(RECONCILIATION_SCHEDULE_ID);
    const interval = async () => (await handle.describe()).spec.intervals?.map(({ every }) => every);
    expect(await interval()).toEqual([3_600_000]);

    const every15Minutes = loadConfig({ ...env, DURAPAY_RECONCILIATION_INTERVAL: 'PT15M' });
    expect(await ensureReconciliationSchedule(client, every15Minutes)).toBe('updated');
    expect(await interval()).toEqual([900_000]);
    expect(await ensureReconciliationSchedule(client, every15Minutes)).toBe('unchanged');

    const before = (await listReconciliations()).body.items.length;
    await handle.trigger();
    const listed = await eventually(
      () => listReconciliations(),
      (answer) => answer.body.items.length > before && answer.body.items[0].status === 'COMPLETED',
    );
    expect(listed.body.items[0]).toMatchObject({ findingsCount: 0, chargesExamined: 4 });
    await handle.delete();
  });
});
