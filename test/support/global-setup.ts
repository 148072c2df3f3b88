import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_DATA_DIR } from '../../src/config';
import { ensureTemporalCli, ensureTemporalTestServer } from '../../scripts/lib/temporal-binaries';
import { ensureMariaDbInstalled, isDatabaseReachable, startLocalMariaDb } from '../../scripts/lib/mariadb';
import { TEST_DATABASE_URL, TEST_MARIADB } from '../../scripts/lib/local-stack';

/**
 * Runs once before the integration project's test files (jest skips it when none is selected, so a unit run
 * starts nothing): makes sure the real servers the tests use exist, and exports their locations through the
 * environment that every test worker inherits.
 * - Temporal CLI (dev server) and time-skipping test server binaries, fetched once into .tools/.
 * - MariaDB: DURAPAY_TEST_DATABASE_URL if set (each test file creates its own database there), else a project-local test
 *   server with its own port and data folder (started here, stopped in teardown).
 */
export default async function globalSetup(): Promise<void> {
  const logFile = path.join(DEFAULT_DATA_DIR, 'logs', 'test-setup.log');
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const log = (line: string) => fs.appendFileSync(logFile, `${line}\n`);
  const say = (line: string) => {
    process.stderr.write(`[setup] ${line}\n`);
    log(line);
  };

  process.env.TEMPORAL_CLI_PATH = await ensureTemporalCli(say);
  process.env.TEMPORAL_TEST_SERVER_PATH = await ensureTemporalTestServer(say);

  const configuredUrl = process.env.DURAPAY_TEST_DATABASE_URL;
  const url = configuredUrl ?? TEST_DATABASE_URL;
  if (!(await isDatabaseReachable(url))) {
    if (configuredUrl) throw new Error('DURAPAY_TEST_DATABASE_URL is set but the database does not answer');
    await ensureMariaDbInstalled(say);
    say('starting the project-local MariaDB');
    globalThis.__DURAPAY_MARIADB__ = await startLocalMariaDb({ ...TEST_MARIADB, log });
  }
  process.env.DURAPAY_TEST_DATABASE_URL = url;
}
