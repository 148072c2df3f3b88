import type { Connection } from '@temporalio/client';
import { createApp } from '../../src/api/app';
import type { FieldCipher } from '../../src/crypto/field-cipher';
import { loadConfig, type Config } from '../../src/config';
import type { Db } from '../../src/db/knex';
import { createLogger } from '../../src/logging/logger';
import { listen, type RunningApp } from './http';
import { testCipher } from './orders';

export interface TestApi extends RunningApp {
  config: Config;
  /** Every line the API logged, for tests that prove what never reaches a log. */
  logLines: string[];
}

/** The real Koa app on a free port, wired to the given database and Temporal connection. */
export async function startTestApi(
  deps: { db: Db; connection: Connection; taskQueue?: string; cipher?: FieldCipher },
  env: Record<string, string> = {},
): Promise<TestApi> {
  const config = loadConfig({
    NODE_ENV: 'test',
    DURAPAY_TASK_QUEUE: deps.taskQueue ?? 'durapay-test',
    ...env,
  });
  const logLines: string[] = [];
  const logger = createLogger({ service: 'api' }, { write: (line) => logLines.push(line) });
  const app = createApp({
    config,
    db: deps.db,
    connection: deps.connection,
    cipher: deps.cipher ?? testCipher(),
    logger,
  });
  return { ...(await listen(app)), config, logLines };
}
