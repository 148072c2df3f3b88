import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { createSimulatedGateway, type SimulatedGateway } from '../../src/activities/orders/simulated-gateway';
import type { CardFingerprinter } from '../../src/crypto/card-fingerprint';
import type { FieldCipher } from '../../src/crypto/field-cipher';
import { startTestApi, type TestApi } from './api';
import { createTestDatabase, type TestDatabase } from './db';
import { testCipher, testFingerprinter } from './orders';
import { createDevServerEnv, testDataConverter } from './temporal';

/** The whole stack in one test file: real dev server, real MariaDB, a real worker and the real API. */
export interface TestStack {
  env: TestWorkflowEnvironment;
  database: TestDatabase;
  api: TestApi;
  gateway: SimulatedGateway;
  cipher: FieldCipher;
  fingerprinter: CardFingerprinter;
  /** Another API on this stack with other settings (close it yourself); `taskQueue` overrides the worker's. */
  startApi(env: Record<string, string>, options?: { taskQueue?: string }): Promise<TestApi>;
  stop(): Promise<void>;
}

export async function startTestStack(env: Record<string, string> = {}): Promise<TestStack> {
  const taskQueue = `durapay-${randomUUID()}`;
  const [temporal, database] = await Promise.all([createDevServerEnv(), createTestDatabase()]);
  const cipher = testCipher();
  const fingerprinter = testFingerprinter();
  const gateway = createSimulatedGateway();
  const worker = await Worker.create({
    connection: temporal.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../../src/workflows'),
    dataConverter: testDataConverter,
    activities: createActivities({ db: database.db, cipher, fingerprinter, gateway }),
  });
  const running = worker.run();
  const startApi = (apiEnv: Record<string, string>, options: { taskQueue?: string } = {}) =>
    startTestApi(
      {
        db: database.db,
        connection: temporal.connection,
        taskQueue: options.taskQueue ?? taskQueue,
        cipher,
        fingerprinter,
      },
      apiEnv,
    );
  const api = await startApi(env);
  return {
    env: temporal,
    database,
    api,
    startApi,
    gateway,
    cipher,
    fingerprinter,
    async stop() {
      await api.close();
      worker.shutdown();
      await running;
      await database.drop();
      await temporal.teardown();
    },
  };
}

/** Polls until `accept`; the timeout is a hang guard, generous because a slow moment must not fail a test. */
export async function eventually<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
