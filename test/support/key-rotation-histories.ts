import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { historyToJSON, type History } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createKeyActivities } from '../../src/activities/keys';
import { generateKeySpec } from '../../src/crypto/key-ring';
import type { Db } from '../../src/db/knex';
import { keyRotationWorkflowId, type KeyRotationProgress } from '../../src/workflows/keys/messages';
import { cipherOf, seedEncryptedRows } from './encrypted-rows';
import { HISTORIES_DIR } from './order-histories';
import { testFingerprinter } from './orders';
import { testDataConverter } from './temporal';

export type KeyRotationHistoryCase = 'finished' | 'continued-as-new' | 'carried-finished';

export interface RecordedKeyRotation {
  name: KeyRotationHistoryCase;
  history: History;
  /** The run's result, or undefined for a run that continued as new. */
  result: KeyRotationProgress | undefined;
}

/**
 * Rotates seeded rows twice on a real Temporal server with the given workflow code and real activities: once
 * in a single run (`finished`), then to a third key in runs small enough to continue as new (its first run,
 * `continued-as-new`, and its last, `carried-finished`, which started from carried state).
 * `test/workflows/keys/history-recording.test.ts` runs it on every test run, and writes the histories as
 * replay fixtures when asked to.
 */
export async function recordKeyRotationHistories(options: {
  env: TestWorkflowEnvironment;
  db: Db;
  workflowBundle: WorkflowBundleWithSourceMap;
}): Promise<RecordedKeyRotation[]> {
  const [key1, key2, key3] = ['k1', 'k2', 'k3'].map((id) => generateKeySpec(id)) as [string, string, string];
  await seedEncryptedRows(options.db, cipherOf(key1), testFingerprinter(), {
    prefix: `REC-${randomUUID().slice(0, 8)}`,
    orders: 6,
    staged: 2,
  });

  const rotate = async (keySpecs: string[], batchRows: number, batchesPerRun: number) => {
    const cipher = cipherOf(...keySpecs);
    const taskQueue = `record-keys-${randomUUID()}`;
    const worker = await Worker.create({
      connection: options.env.nativeConnection,
      taskQueue,
      workflowBundle: options.workflowBundle,
      dataConverter: testDataConverter,
      activities: createKeyActivities({ db: options.db, cipher }),
    });
    return worker.runUntil(async () => {
      const handle = await options.env.client.workflow.start('keyRotationWorkflow', {
        workflowId: keyRotationWorkflowId(cipher.activeKeyId),
        taskQueue,
        args: [{ keyId: cipher.activeKeyId, batchRows, batchesPerRun }],
      });
      const result = (await handle.result()) as KeyRotationProgress;
      const first = options.env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId);
      return { result, firstRun: await first.fetchHistory(), lastRun: await handle.fetchHistory() };
    });
  };

  const single = await rotate([key2, key1], 100, 100);
  const chained = await rotate([key3, key2], 2, 2);
  return [
    { name: 'finished', history: single.lastRun, result: single.result },
    { name: 'continued-as-new', history: chained.firstRun, result: undefined },
    { name: 'carried-finished', history: chained.lastRun, result: chained.result },
  ];
}

/** Writes histories as `key-rotation-<version>-<case>.json` replay fixtures, formatted the way the lint wants. */
export function writeKeyRotationFixtures(version: string, histories: RecordedKeyRotation[]): void {
  const files = histories.map(({ name, history }) => {
    const file = path.join(HISTORIES_DIR, `key-rotation-${version}-${name}.json`);
    fs.writeFileSync(file, historyToJSON(history));
    return file;
  });
  execFileSync(process.execPath, [require.resolve('prettier/bin/prettier.cjs'), '--write', ...files]);
}
