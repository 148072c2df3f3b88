import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflows } from '../../../src/workers/workflow-bundle';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import {
  recordOrderHistories,
  writeHistoryFixtures,
  type RecordedHistory,
} from '../../support/order-histories';
import { testCipher } from '../../support/orders';
import { createDevServerEnv, testDataConverter } from '../../support/temporal';

/**
 * Which workflow code, and which workflow type in it, records which fixture version: v1 the first order
 * workflow, v3 today's orderWorkflowV2. v2 came from the orderWorkflow type with its `patched()` changes
 * before a failed charge asked the provider; that code is not kept. `DURAPAY_RECORD_HISTORIES=<version>`
 * writes that version's histories to test/fixtures/histories; without it, today's code records and nothing
 * is written.
 */
const WORKFLOW_CODE: Record<string, { workflowsPath: string; workflowType: string }> = {
  v1: {
    workflowsPath: require.resolve('../../support/workflows/order-workflow-v1'),
    workflowType: 'orderWorkflow',
  },
  v3: { workflowsPath: require.resolve('../../../src/workflows'), workflowType: 'orderWorkflowV2' },
};
const version = process.env.DURAPAY_RECORD_HISTORIES;

describe('order histories recorded on the dev server', () => {
  let env: TestWorkflowEnvironment;
  let database: TestDatabase;
  let histories: RecordedHistory[];

  beforeAll(async () => {
    const code = version ? WORKFLOW_CODE[version] : WORKFLOW_CODE.v3;
    if (!code) throw new Error(`no workflow code for history version ${version}`);
    let bundle;
    [env, database, bundle] = await Promise.all([
      createDevServerEnv(),
      createTestDatabase(),
      bundleWorkflows(code.workflowsPath),
    ]);
    histories = await recordOrderHistories({
      env,
      db: database.db,
      cipher: testCipher(),
      workflowBundle: bundle,
      workflowType: code.workflowType,
    });
    if (version) writeHistoryFixtures(version, histories);
  });

  afterAll(async () => {
    await database?.drop();
    await env?.teardown();
  });

  it('takes each case at the state it names', () => {
    const states = Object.fromEntries(
      histories.map(({ name, snapshot }) => [name, [snapshot.status, snapshot.amountPaid]]),
    );
    expect(states).toEqual({
      'created-waiting': ['PENDING', 0],
      'payment-in-flight': ['PENDING', 0],
      'partially-paid': ['PENDING', 400],
      'paid-by-update': ['COMPLETED', 1_000],
      'paid-by-signal': ['COMPLETED', 1_000],
      cancelled: ['CANCELLED', 0],
      expired: ['EXPIRED', 0],
      // Code before the lookup fails the payment although the provider charged it.
      'charged-answer-lost-then-refused': version === 'v1' ? ['PENDING', 0] : ['COMPLETED', 1_000],
    });
  });

  it('replays every history it recorded with the workflow code of this tree', async () => {
    const replays = Worker.runReplayHistories(
      { workflowsPath: require.resolve('../../../src/workflows'), dataConverter: testDataConverter },
      histories.map(({ name, history }) => ({ workflowId: name, history })),
    );
    for await (const result of replays)
      expect([result.workflowId, result.error]).toEqual([result.workflowId, undefined]);
  });
});
