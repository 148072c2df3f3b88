import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { sqlitePragmaArgs } from '../../scripts/lib/dev-server-store';
import { parseKeyRing } from '../../src/crypto/key-ring';
import { createDataConverter } from '../../src/temporal/data-converter';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';

/** Fixed payload keys: every worker, client and API of the suite (child processes too) encrypts with them. */
export const TEST_PAYLOAD_KEYS = `test1:${Buffer.alloc(32, 7).toString('base64')}`;
export const testPayloadKeyRing = parseKeyRing(TEST_PAYLOAD_KEYS, 'TEST_PAYLOAD_KEYS');
/** The data converter of every test worker and client, so the whole suite runs with encryption on. */
export const testDataConverter = createDataConverter(testPayloadKeyRing);

function binary(variable: 'TEMPORAL_TEST_SERVER_PATH' | 'TEMPORAL_CLI_PATH'): string {
  const file = process.env[variable];
  if (!file)
    throw new Error(
      `${variable} is not set: a test that needs Temporal belongs to the integration project (jest.config.js), whose global setup sets it`,
    );
  return file;
}

/** The real time-skipping test server, from the binary that globalSetup fetched, with our search attributes. */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: binary('TEMPORAL_TEST_SERVER_PATH') } },
    client: { dataConverter: testDataConverter },
  });
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      CUSTOM_SEARCH_ATTRIBUTES.map((key) => [
        key.name,
        temporal.api.enums.v1.IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}`],
      ]),
    ),
  });
  return env;
}

/** Where the dev server's Web UI listens, and the codec endpoint it is configured with (as `npm start` does). */
export interface DevServerWebUi {
  port: number;
  codecEndpoint: string;
}

/**
 * The real Temporal dev server (`temporal server start-dev`) on free ports, with our search attributes, on the
 * store `npm start` uses: a SQLite file in WAL mode (here a scratch file, removed at teardown); without a Web
 * UI unless `webUi` says where.
 */
export async function createDevServerEnv(webUi?: DevServerWebUi): Promise<TestWorkflowEnvironment> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'durapay-temporal-'));
  const removeDir = () => fs.rm(dir, { recursive: true, force: true });
  let env: TestWorkflowEnvironment;
  try {
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: binary('TEMPORAL_CLI_PATH') },
        searchAttributes: CUSTOM_SEARCH_ATTRIBUTES,
        dbFilename: path.join(dir, 'temporal.sqlite'),
        extraArgs: [...sqlitePragmaArgs(), ...(webUi ? ['--ui-codec-endpoint', webUi.codecEndpoint] : [])],
        ...(webUi && {
          ui: true,
          uiPort: webUi.port,
          // The UI's history reads log a warning each.
          log: { format: 'pretty', level: 'error' },
        }),
      },
      client: { dataConverter: testDataConverter },
    });
  } catch (error) {
    await removeDir();
    throw error;
  }
  const teardown = env.teardown.bind(env);
  env.teardown = async () => {
    try {
      await teardown();
    } finally {
      await removeDir();
    }
  };
  return env;
}
