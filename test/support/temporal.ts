import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseKeyRing } from '../../src/crypto/key-ring';
import { createDataConverter } from '../../src/temporal/data-converter';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';

/** Fixed payload keys: every worker, client and API of the suite (child processes too) encrypts with them. */
export const TEST_PAYLOAD_KEYS = `test1:${Buffer.alloc(32, 7).toString('base64')}`;
export const testPayloadKeyRing = parseKeyRing(TEST_PAYLOAD_KEYS, 'TEST_PAYLOAD_KEYS');
/** The data converter of every test worker and client, so the whole suite runs with encryption on. */
export const testDataConverter = createDataConverter(testPayloadKeyRing);

function binary(variable: 'TEMPORAL_TEST_SERVER_PATH' | 'TEMPORAL_CLI_PATH'): string {
  const path = process.env[variable];
  if (!path)
    throw new Error(
      `${variable} is not set: a test that needs Temporal belongs to the integration project (jest.config.js), whose global setup sets it`,
    );
  return path;
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
 * The real Temporal dev server (`temporal server start-dev`) on free ports, with our search attributes;
 * without a Web UI unless `webUi` says where.
 */
export function createDevServerEnv(webUi?: DevServerWebUi): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: binary('TEMPORAL_CLI_PATH') },
      searchAttributes: CUSTOM_SEARCH_ATTRIBUTES,
      ...(webUi && {
        ui: true,
        uiPort: webUi.port,
        // The UI's history reads log a warning each.
        log: { format: 'pretty', level: 'error' },
        extraArgs: ['--ui-codec-endpoint', webUi.codecEndpoint],
      }),
    },
    client: { dataConverter: testDataConverter },
  });
}
