/**
 * `npm start`: installs what is missing, then runs and supervises the whole local stack with prefixed logs:
 * MariaDB (unless DATABASE_URL answers), the Temporal dev server with its Web UI (unless TEMPORAL_ADDRESS is
 * set), the migrations, the sandbox payment provider (unless DURAPAY_GATEWAY_URL names a provider), the
 * worker and the API. Ctrl-C stops everything in reverse order.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { DEFAULT_DATA_DIR, REPO_ROOT, loadConfig, parseDatabaseUrl, type Config } from '../src/config';
import { createDb } from '../src/db/knex';
import { migrateLatest } from '../src/db/migrate';
import { WORKER_V8_FLAGS, workerNodeOptions } from '../src/workers/node-options';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../src/workflows/search-attributes';
import { ensureTemporalCli } from './lib/temporal-binaries';
import { devServerStoreArgs } from './lib/dev-server-store';
import {
  checkOwnLocalServer,
  ensureMariaDbInstalled,
  isDatabaseReachable,
  startLocalMariaDb,
} from './lib/mariadb';
import { LOCAL_MARIADB } from './lib/local-stack';
import { forwardLines, stopProcess } from './lib/process';
import { SANDBOX_URL, loadOrCreateSandboxKey, sandboxDatabaseUrl, sandboxListening } from './lib/sandbox';
import { prefixedLogger } from './lib/log-format';

const TEMPORAL_PORT = 7233;
const TEMPORAL_UI_PORT = 8233;

interface Supervised {
  name: string;
  child: ChildProcess;
}

const running: Supervised[] = [];
let stopping = false;

async function main(): Promise<void> {
  const log = prefixedLogger('start');
  const config = loadConfig();
  process.once('SIGINT', () => void shutdown('SIGINT', 0));
  process.once('SIGTERM', () => void shutdown('SIGTERM', 0));

  const { host, port, database } = parseDatabaseUrl(config.databaseUrl);
  if (config.localStack.databaseGiven) {
    if (!(await isDatabaseReachable(config.databaseUrl)))
      throw new Error('DATABASE_URL is set but the database does not answer');
    log(`database: DATABASE_URL, ${database} on ${host}:${port}`);
  } else if (await isDatabaseReachable(config.databaseUrl)) {
    await checkOwnLocalServer(config.databaseUrl, LOCAL_MARIADB.dataDir);
    log(
      `database: the project-local MariaDB already running on ${host}:${port} (data in ${LOCAL_MARIADB.dataDir})`,
    );
  } else {
    await ensureMariaDbInstalled(log);
    supervise('mariadb', await startLocalMariaDb({ ...LOCAL_MARIADB, log: prefixedLogger('mariadb') }));
    log(`database: the project-local MariaDB on ${host}:${port} (data in ${LOCAL_MARIADB.dataDir})`);
  }

  if (config.localStack.temporalGiven) {
    log(`using the Temporal cluster at ${config.temporal.connection.address}`);
  } else {
    startDevServer(await ensureTemporalCli(log), config.port, config.localStack);
  }
  await waitForTemporal(config.temporal.connection.address ?? `localhost:${TEMPORAL_PORT}`);

  const db = createDb(config.databaseUrl, { max: 1 });
  try {
    const applied = await migrateLatest(db);
    log(applied.length ? `migrations applied: ${applied.join(', ')}` : 'database schema is up to date');
  } finally {
    await db.destroy();
  }

  const gateway = await startGateway(config);
  runTypeScript(
    'worker',
    'src/workers/main.ts',
    { NODE_OPTIONS: workerNodeOptions(process.env.NODE_OPTIONS), ...gateway },
    WORKER_V8_FLAGS,
  );
  runTypeScript('api', 'src/api/main.ts');
  log(
    `API on http://localhost:${config.port} (try /health) · Temporal Web UI on http://localhost:${TEMPORAL_UI_PORT}`,
  );
  const metrics = Object.entries({ API: config.metrics.apiPort, worker: config.metrics.workerPort })
    .filter(([, port]) => port > 0)
    .map(([process, port]) => `${process} http://localhost:${port}/metrics`);
  if (metrics.length > 0) log(`metrics: ${metrics.join(' · ')}`);
}

/** The worker's gateway variables: the provider the environment names, or the sandbox, started here. */
async function startGateway(config: Config): Promise<NodeJS.ProcessEnv> {
  const log = prefixedLogger('start');
  if (config.gateway) {
    log(`charging through the payment provider at ${config.gateway.url}`);
    return {};
  }
  const key = loadOrCreateSandboxKey(config.dataDir);
  const sandbox = runTypeScript('sandbox', 'src/sandbox/main.ts', {
    DURAPAY_SANDBOX_KEY: key,
    DURAPAY_SANDBOX_PORT: new URL(SANDBOX_URL).port,
    DURAPAY_SANDBOX_DATABASE_URL: sandboxDatabaseUrl(config.databaseUrl),
  });
  await sandboxListening(sandbox);
  log(`sandbox payment provider on ${SANDBOX_URL} (its key is in ${config.dataDir})`);
  return { DURAPAY_GATEWAY_URL: SANDBOX_URL, DURAPAY_GATEWAY_KEY: key };
}

function startDevServer(
  cli: string,
  apiPort: number,
  { devTemporalDb, devTemporalSynchronous }: Config['localStack'],
): void {
  fs.mkdirSync(DEFAULT_DATA_DIR, { recursive: true });
  const searchAttributes = CUSTOM_SEARCH_ATTRIBUTES.flatMap((key) => [
    '--search-attribute',
    `${key.name}=${cliTypeName(key.type)}`,
  ]);
  spawnSupervised('temporal', cli, [
    'server',
    'start-dev',
    '--port',
    String(TEMPORAL_PORT),
    '--ui-port',
    String(TEMPORAL_UI_PORT),
    // The Web UI decodes payloads through the API's codec server (an operator signs in at /codec/session).
    '--ui-codec-endpoint',
    `http://localhost:${apiPort}/codec`,
    // .data/temporal.sqlite by default, so workflows survive a restart (scripts/lib/dev-server-store.ts).
    ...devServerStoreArgs(devTemporalDb, devTemporalSynchronous),
    '--log-level',
    'error',
    ...searchAttributes,
  ]);
}

/** KEYWORD_LIST → KeywordList: the CLI's spelling of the SDK's search attribute types. */
function cliTypeName(type: string): string {
  return type
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}

async function waitForTemporal(address: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      await connection.close();
      return;
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`Temporal at ${address} did not answer within 60s`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

function runTypeScript(
  name: string,
  entry: string,
  env: NodeJS.ProcessEnv = {},
  nodeFlags: readonly string[] = [],
): ChildProcess {
  return spawnSupervised(
    name,
    path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'),
    [...nodeFlags, path.join(REPO_ROOT, entry)],
    env,
  );
}

function spawnSupervised(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): ChildProcess {
  // Own process group: Ctrl-C reaches only this supervisor, which then stops children in order.
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, ...env },
  });
  forwardLines(child.stdout, prefixedLogger(name));
  forwardLines(child.stderr, prefixedLogger(name));
  supervise(name, child);
  return child;
}

/** Tracks a child: if it dies on its own, the whole stack stops, because a half-running stack misleads. */
function supervise(name: string, child: ChildProcess): void {
  const log = prefixedLogger(name);
  running.push({ name, child });
  child.once('exit', (code, signal) => {
    if (stopping) return;
    log(`exited unexpectedly (${signal ?? `code ${code}`}); stopping the stack`);
    void shutdown('child exit', 1);
  });
}

async function shutdown(reason: string, exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  const log = prefixedLogger('start');
  log(`stopping (${reason})`);
  for (const { name, child } of [...running].reverse()) {
    await stopProcess(child);
    log(`${name} stopped`);
  }
  process.exit(exitCode);
}

main().catch((error: unknown) => {
  prefixedLogger('start')(`failed: ${error instanceof Error ? error.message : String(error)}`);
  void shutdown('start-up failure', 1);
});
