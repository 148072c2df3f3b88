import type { Connection } from '@temporalio/client';
import { createApp } from '../../src/api/app';
import { parseApiKeys } from '../../src/api/auth/api-keys';
import type { CardFingerprinter } from '../../src/crypto/card-fingerprint';
import type { FieldCipher } from '../../src/crypto/field-cipher';
import { loadConfig, type Config } from '../../src/config';
import type { Db } from '../../src/db/knex';
import { createLogger } from '../../src/logging/logger';
import { listen, type RunningApp } from './http';
import { testPayloadKeyRing } from './temporal';
import { testCipher, testFingerprinter } from './orders';

/** The test API's callers: principal `ops` (operator) and the clients `alice` and `bob`. */
export const TEST_API_KEYS = {
  operator: 'test-key-operator-ops-0000000000',
  alice: 'test-key-client-alice-000000000',
  bob: 'test-key-client-bob-00000000000',
} as const;
export type TestCaller = keyof typeof TEST_API_KEYS;

const TEST_API_KEYS_SPEC = [
  `${TEST_API_KEYS.operator}:operator:ops`,
  `${TEST_API_KEYS.alice}:client:alice`,
  `${TEST_API_KEYS.bob}:client:bob`,
].join(',');

/** `Authorization: Bearer <key>` of a test caller, to spread into a request's headers. */
export function authHeaders(caller: TestCaller): { authorization: string } {
  return { authorization: `Bearer ${TEST_API_KEYS[caller]}` };
}

export interface TestApi extends RunningApp {
  config: Config;
  keys: typeof TEST_API_KEYS;
  headers: typeof authHeaders;
  /** Every line the API logged, for tests that prove what never reaches a log. */
  logLines: string[];
}

/**
 * The real Koa app on a free port, wired to the given database and Temporal connection. It knows the
 * TEST_API_KEYS and, unless `env` says otherwise, limits each caller so generously that no test meets it.
 */
export async function startTestApi(
  deps: {
    db: Db;
    connection: Connection;
    taskQueue?: string;
    cipher?: FieldCipher;
    fingerprinter?: CardFingerprinter;
    /** Default: a free one. */
    port?: number;
  },
  env: Record<string, string> = {},
): Promise<TestApi> {
  const config = loadConfig({
    NODE_ENV: 'test',
    DURAPAY_TASK_QUEUE: deps.taskQueue ?? 'durapay-test',
    DURAPAY_API_KEYS: TEST_API_KEYS_SPEC,
    DURAPAY_RATE_LIMIT: '1000000/min',
    ...env,
  });
  const logLines: string[] = [];
  const logger = createLogger({ service: 'api' }, { write: (line) => logLines.push(line) });
  const app = createApp({
    config,
    db: deps.db,
    connection: deps.connection,
    cipher: deps.cipher ?? testCipher(),
    fingerprinter: deps.fingerprinter ?? testFingerprinter(),
    logger,
    apiKeys: parseApiKeys(config.security.apiKeys ?? '', 'DURAPAY_API_KEYS'),
    payloadKeys: testPayloadKeyRing,
  });
  return {
    ...(await listen(app, config, deps.port)),
    config,
    keys: TEST_API_KEYS,
    headers: authHeaders,
    logLines,
  };
}
