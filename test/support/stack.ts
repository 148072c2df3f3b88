import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { createHttpGateway } from '../../src/activities/orders/http-gateway';
import type { CardFingerprinter } from '../../src/crypto/card-fingerprint';
import type { FieldCipher } from '../../src/crypto/field-cipher';
import { startTestApi, type TestApi } from './api';
import { freePort } from './http';
import { createTestDatabase, type TestDatabase } from './db';
import { sandboxClient, type SandboxClient } from './sandbox-client';
import { startSandboxProcess, TEST_SANDBOX_KEY, type SandboxProcess } from './sandbox-process';
import { testCipher, testFingerprinter } from './orders';
import { createDevServerEnv, testDataConverter, type DevServerWebUi } from './temporal';

/**
 * The whole stack in one test file: real dev server, real MariaDB, a real worker charging the real sandbox
 * provider (its own process and database) over HTTP, and the real API.
 */
export interface TestStack {
  env: TestWorkflowEnvironment;
  database: TestDatabase;
  api: TestApi;
  /** The sandbox provider's process, and its API for reading charges and setting faults. */
  sandbox: SandboxProcess & SandboxClient;
  cipher: FieldCipher;
  fingerprinter: CardFingerprinter;
  /** With `webUi`: the dev server's Web UI, and the codec endpoint it uses (the API, named as a browser names it). */
  webUi?: { url: string; codecEndpoint: string };
  /** Another API on this stack with other settings (close it yourself); `taskQueue` overrides the worker's. */
  startApi(env: Record<string, string>, options?: { taskQueue?: string }): Promise<TestApi>;
  stop(): Promise<void>;
}

/**
 * `webUi` also starts the dev server's Web UI, pointed at the API's codec server as `npm start` does; the
 * ports are chosen up front because the UI is told the API's address before the API starts.
 */
export async function startTestStack(
  env: Record<string, string> = {},
  options: { webUi?: boolean } = {},
): Promise<TestStack> {
  const taskQueue = `durapay-${randomUUID()}`;
  let apiPort: number | undefined;
  let webUi: TestStack['webUi'];
  let devServerUi: DevServerWebUi | undefined;
  if (options.webUi) {
    const uiPort = await freePort();
    apiPort = await freePort();
    webUi = { url: `http://localhost:${uiPort}`, codecEndpoint: `http://localhost:${apiPort}/codec` };
    devServerUi = { port: uiPort, codecEndpoint: webUi.codecEndpoint };
    env = { DURAPAY_CODEC_CORS_ORIGIN: webUi.url, ...env };
  }
  const [temporal, database, sandboxDatabase] = await Promise.all([
    createDevServerEnv(devServerUi),
    createTestDatabase(),
    createTestDatabase({ migrate: false }),
  ]);
  const sandboxProcess = await startSandboxProcess({ databaseUrl: sandboxDatabase.url });
  const cipher = testCipher();
  const fingerprinter = testFingerprinter();
  const gateway = createHttpGateway({ url: sandboxProcess.url, apiKey: TEST_SANDBOX_KEY });
  const worker = await Worker.create({
    connection: temporal.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../../src/workflows'),
    dataConverter: testDataConverter,
    activities: createActivities({ db: database.db, cipher, fingerprinter, gateway }),
  });
  const running = worker.run();
  const startApi = (apiEnv: Record<string, string>, apiOptions: { taskQueue?: string; port?: number } = {}) =>
    startTestApi(
      {
        db: database.db,
        connection: temporal.connection,
        taskQueue: apiOptions.taskQueue ?? taskQueue,
        cipher,
        fingerprinter,
        port: apiOptions.port,
      },
      apiEnv,
    );
  const api = await startApi(env, { port: apiPort });
  return {
    env: temporal,
    database,
    api,
    webUi,
    startApi,
    sandbox: Object.assign(sandboxProcess, sandboxClient(sandboxProcess.url)),
    cipher,
    fingerprinter,
    async stop() {
      await api.close();
      worker.shutdown();
      await running;
      await gateway.close();
      await sandboxProcess.stop();
      await Promise.all([database.drop(), sandboxDatabase.drop()]);
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
