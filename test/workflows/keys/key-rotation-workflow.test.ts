import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createKeyActivities } from '../../../src/activities/keys';
import { createOrderActivities } from '../../../src/activities/orders';
import type { ChargeRequest, PaymentGateway } from '../../../src/activities/orders/gateway';
import type { FieldCipher } from '../../../src/crypto/field-cipher';
import { generateKeySpec } from '../../../src/crypto/key-ring';
import { readSealedBatch, replaceSealed } from '../../../src/db/encrypted-columns';
import {
  ENCRYPTED_COLUMNS,
  keyRotationProgressQuery,
  keyRotationWorkflowId,
  type KeyRotationProgress,
  type ReencryptBatchInput,
} from '../../../src/workflows/keys/messages';
import { keyRotationWorkflow } from '../../../src/workflows/keys/reencrypt-workflow';
import type { TestDatabase } from '../../support/db';
import {
  cipherOf,
  readEncryptedRows,
  seedEncryptedRows,
  type Plaintexts,
} from '../../support/encrypted-rows';
import { testFingerprinter } from '../../support/orders';
import { testDataConverter } from '../../support/temporal';
import { createWorkflowTestBed, dropWorkflowTestBed } from '../../support/workflow-test-bed';

type KeyActivities = ReturnType<typeof createKeyActivities>;

/**
 * The rotation workflow with its real activities on a real MariaDB database: values written under key 1,
 * then rotated by a worker whose ring is [key2, key1], in batches small enough to continue as new.
 */
describe('keyRotationWorkflow (time-skipping server, MariaDB)', () => {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;
  let database: TestDatabase;
  let expected: Plaintexts;
  const key1 = generateKeySpec('k1');
  const key2 = generateKeySpec('k2');
  const BATCH_ROWS = 4;

  beforeAll(async () => {
    ({ env, database, bundle } = await createWorkflowTestBed(
      require.resolve('../../../src/workflows/keys/reencrypt-workflow'),
    ));
    const fingerprinter = testFingerprinter();
    expected = await seedEncryptedRows(database.db, cipherOf(key1), fingerprinter, {
      prefix: 'OLD',
      orders: 13,
      staged: 6,
    });
    // Already under the new key: read, counted as scanned, never rewritten.
    await seedEncryptedRows(
      database.db,
      cipherOf(key2, key1),
      fingerprinter,
      { prefix: 'NEW', orders: 2, staged: 0 },
      expected,
    );
  });

  afterAll(() => dropWorkflowTestBed(env, database));

  async function rotate(cipher: FieldCipher, options = { batchRows: BATCH_ROWS, batchesPerRun: 5 }) {
    const taskQueue = `keys-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      dataConverter: testDataConverter,
      activities: createKeyActivities({ db: database.db, cipher }),
    });
    return worker.runUntil(async () => {
      const handle = await env.client.workflow.start(keyRotationWorkflow, {
        workflowId: keyRotationWorkflowId(cipher.activeKeyId),
        taskQueue,
        args: [{ keyId: cipher.activeKeyId, ...options }],
      });
      const result = await handle.result();
      // A closed workflow still answers the query (the worker replays it).
      const queried = await handle.query(keyRotationProgressQuery);
      return { result, queried, workflowId: handle.workflowId, firstRunId: handle.firstExecutionRunId };
    });
  }

  const counts = (progress: KeyRotationProgress) =>
    Object.fromEntries(progress.columns.map(({ column, ...rest }) => [column, rest]));

  it('rewrites every value under key 1 to key 2, in batches over several runs, and each reads back', async () => {
    const { result, queried, workflowId, firstRunId } = await rotate(cipherOf(key2, key1));

    // 13 orders + 2 already new: emails 15, names every third of each (5 + 1), payments 15, CVCs of every
    // other payment (6 + 1), staged 6.
    expect(counts(result)).toEqual({
      'orders.customer_email_enc': { scanned: 15, rewritten: 13, done: true },
      'orders.customer_name_enc': { scanned: 6, rewritten: 5, done: true },
      'payments.card_number_enc': { scanned: 15, rewritten: 13, done: true },
      'payments.card_cvc_enc': { scanned: 7, rewritten: 6, done: true },
      'upload_rows.fields_enc': { scanned: 6, rewritten: 6, done: true },
    });
    expect(result).toMatchObject({ keyId: 'k2', status: 'COMPLETED' });
    expect(queried).toEqual(result);

    // Only key 2 left in the ring: every value still reads back, and is under key 2.
    const after = await readEncryptedRows(database.db, cipherOf(key2));
    for (const column of ENCRYPTED_COLUMNS) {
      const values = [...after[column]];
      expect(values.map(([row, value]) => [row, value.plaintext])).toEqual([...expected[column]].sort());
      expect(new Set(values.map(([, value]) => value.keyId))).toEqual(new Set(['k2']));
    }

    // 15 + 6 + 15 + 7 + 6 values in batches of 4 take 14 batches: three runs of 5.
    const firstRun = await env.client.workflow.getHandle(workflowId, firstRunId).fetchHistory();
    expect(firstRun.events!.at(-1)!.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
    // The batch records were only needed while it ran.
    expect(await database.db('key_rotation_batches').count({ n: '*' }).first()).toEqual({ n: '0' });
  });

  it('rewrites nothing when run again', async () => {
    const { result } = await rotate(cipherOf(key2, key1), { batchRows: 100, batchesPerRun: 100 });
    expect(counts(result)).toEqual({
      'orders.customer_email_enc': { scanned: 15, rewritten: 0, done: true },
      'orders.customer_name_enc': { scanned: 6, rewritten: 0, done: true },
      'payments.card_number_enc': { scanned: 15, rewritten: 0, done: true },
      'payments.card_cvc_enc': { scanned: 7, rewritten: 0, done: true },
      'upload_rows.fields_enc': { scanned: 6, rewritten: 0, done: true },
    });
  });

  it("sends a pending payment's CVC, rotated to key 2, to the gateway unchanged once key 1 is gone", async () => {
    const [paymentId, cvc] = [...expected['payments.card_cvc_enc']][0]!;
    const stored = await database.db('payments').where({ payment_id: paymentId }).first();
    expect(stored.card_cvc_enc).toMatch(/^v1:k2:/);
    const requests: ChargeRequest[] = [];
    const gateway: PaymentGateway = {
      charge: (request) => {
        requests.push(request);
        return Promise.resolve({ status: 'succeeded', chargeId: 'ch_rotated' });
      },
      findCharge: () => Promise.resolve(undefined),
    };
    const activities = createOrderActivities({ db: database.db, cipher: cipherOf(key2), gateway });
    await expect(
      activities.chargePayment({ orderId: stored.order_id, paymentId, amount: 1000, currency: 'USD' }),
    ).resolves.toBe('ch_rotated');
    expect(requests.map((request) => [request.cardNumber, request.cvc])).toEqual([
      [expected['payments.card_number_enc'].get(paymentId), cvc],
    ]);
  });

  // Every value is under key 2 by now; the columns are walked side by side, so any of them may fail first.
  it('fails at once, naming the row, when a value is under a key no longer in the ring', async () => {
    const failure = await rotate(cipherOf(generateKeySpec('k9'))).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause?.cause as Error & { type?: string };
    expect(cause.type).toBe('ValueUnreadable');
    const named = /^cannot re-encrypt ([a-z_]+\.[a-z_]+) of row (\S+): no key "k2" in the key ring$/.exec(
      cause.message,
    );
    expect(named).not.toBeNull();
    const [, column, row] = named!;
    expect(expected[column as keyof Plaintexts].has(row!)).toBe(true);
  });

  describe('a batch on its own', () => {
    const cipher = cipherOf(generateKeySpec('k3'), key2);
    type Batch = Awaited<ReturnType<KeyActivities['reencryptBatch']>>;
    // Each call a fresh activity context, as each attempt of a real activity has.
    const run = (input: ReencryptBatchInput) =>
      new MockActivityEnvironment().run<[ReencryptBatchInput], Batch, KeyActivities['reencryptBatch']>(
        (batch) => createKeyActivities({ db: database.db, cipher }).reencryptBatch(batch),
        input,
      );
    const batch = {
      batchId: `run-${randomUUID()}/0`,
      keyId: 'k3',
      column: 'payments.card_number_enc' as const,
      after: null,
      limit: 4,
    };

    it('answers a retry with the counts of the attempt that committed, not a second count', async () => {
      const first = await run(batch);
      expect(first).toEqual({ scanned: 4, rewritten: 4, cursor: ['OLD-000001-p'] });
      const retried = await run(batch);
      expect(retried).toEqual(first);
      const next = await run({
        ...batch,
        batchId: `run-${randomUUID()}/1`,
        after: first.cursor,
      });
      expect(next).toMatchObject({ scanned: 4, rewritten: 4 });
    });

    it('refuses to run on a worker whose active key is not the rotation target', async () => {
      await expect(run({ ...batch, keyId: 'k2' })).rejects.toMatchObject({
        type: 'KeyMismatch',
        nonRetryable: false,
      });
    });

    it('leaves a value a concurrent writer replaced (compare-and-set)', async () => {
      const [value] = await readSealedBatch(database.db, 'orders.customer_email_enc', null, 1);
      const stale = { ...value!, sealed: `${value!.sealed.slice(0, -2)}xx` };
      expect(await replaceSealed(database.db, 'orders.customer_email_enc', stale, 'v1:other')).toBe(false);
      expect(await readSealedBatch(database.db, 'orders.customer_email_enc', null, 1)).toEqual([value]);
    });
  });
});
