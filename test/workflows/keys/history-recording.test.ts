import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { bundleWorkflows } from '../../../src/workers/workflow-bundle';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import {
  recordKeyRotationHistories,
  writeKeyRotationFixtures,
  type RecordedKeyRotation,
} from '../../support/key-rotation-histories';
import { createDevServerEnv, testDataConverter } from '../../support/temporal';

/**
 * Key-rotation histories taken with the workflow code of this tree. `DURAPAY_RECORD_KEY_HISTORIES=<version>`
 * writes them to test/fixtures/histories as that version; test/workflows/replay.test.ts replays every
 * fixture against later code.
 */
const version = process.env.DURAPAY_RECORD_KEY_HISTORIES;

describe('key-rotation histories recorded on the dev server', () => {
  let env: TestWorkflowEnvironment;
  let database: TestDatabase;
  let histories: RecordedKeyRotation[];

  beforeAll(async () => {
    let bundle;
    [env, database, bundle] = await Promise.all([
      createDevServerEnv(),
      createTestDatabase(),
      bundleWorkflows(require.resolve('../../../src/workflows')),
    ]);
    histories = await recordKeyRotationHistories({ env, db: database.db, workflowBundle: bundle });
    if (version) writeKeyRotationFixtures(version, histories);
  });

  afterAll(async () => {
    await database?.drop();
    await env?.teardown();
  });

  it('takes a single-run rotation, and the first and last runs of one that continued as new', () => {
    const [finished, continued, carried] = histories;
    expect(finished!.result).toMatchObject({ status: 'COMPLETED' });
    expect(finished!.history.events!.at(-1)!.workflowExecutionCompletedEventAttributes).toBeTruthy();
    expect(continued!.history.events!.at(-1)!.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
    expect(carried!.result).toMatchObject({ status: 'COMPLETED' });
    expect(carried!.history.events!.at(-1)!.workflowExecutionCompletedEventAttributes).toBeTruthy();
    // Every value the first rotation rewrote, the second rewrote again.
    const rewritten = (result: RecordedKeyRotation['result']) =>
      Object.fromEntries(result!.columns.map(({ column, rewritten }) => [column, rewritten]));
    expect(rewritten(carried!.result)).toEqual(rewritten(finished!.result));
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
