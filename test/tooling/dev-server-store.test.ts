import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { devServerStoreArgs } from '../../scripts/lib/dev-server-store';
import { REPO_ROOT, loadConfig } from '../../src/config';

describe('the store flags', () => {
  const flagsFor = (env: Record<string, string>) => {
    const { devTemporalDb, devTemporalSynchronous } = loadConfig(env).localStack;
    return devServerStoreArgs(devTemporalDb, devTemporalSynchronous);
  };

  test('a file in WAL mode with synchronous=NORMAL by default', () => {
    expect(flagsFor({})).toEqual([
      '--db-filename',
      path.join(REPO_ROOT, '.data', 'temporal.sqlite'),
      '--sqlite-pragma',
      'journal_mode=wal',
      '--sqlite-pragma',
      'synchronous=NORMAL',
    ]);
  });

  test('DURAPAY_DEV_TEMPORAL_DB names another file, or memory', () => {
    expect(flagsFor({ DURAPAY_DEV_TEMPORAL_DB: '/tmp/x.sqlite' })).toContain('/tmp/x.sqlite');
    expect(flagsFor({ DURAPAY_DEV_TEMPORAL_DB: 'memory' })).toEqual([]);
  });

  test('DURAPAY_DEV_TEMPORAL_SYNCHRONOUS picks the setting, and a value SQLite does not know is refused', () => {
    expect(flagsFor({ DURAPAY_DEV_TEMPORAL_SYNCHRONOUS: 'OFF' })).toContain('synchronous=OFF');
    expect(() => flagsFor({ DURAPAY_DEV_TEMPORAL_SYNCHRONOUS: 'fast' })).toThrow(
      'DURAPAY_DEV_TEMPORAL_SYNCHRONOUS must be NORMAL, OFF or FULL',
    );
  });
});

describe('a dev server on the default store', () => {
  let dir: string;
  let server: ChildProcess | undefined;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dev-server-store-test-'));
  });

  afterEach(async () => {
    if (server) await stop(server, 'SIGTERM');
    server = undefined;
    await fs.rm(dir, { recursive: true, force: true });
  });

  test('keeps a running workflow through a crash of the server, in a WAL-mode file', async () => {
    const file = path.join(dir, 'temporal.sqlite');
    const port = await freePort();
    const args = ['--port', String(port), ...devServerStoreArgs(file, 'NORMAL')];

    server = await startDevServer(args, port);
    const workflowId = `survives-crash-${Date.now()}`;
    await withClient(port, (client) =>
      client.workflow.start('noWorkerRunsThis', { taskQueue: 'nobody-polls', workflowId }),
    );
    await stop(server, 'SIGKILL');

    server = await startDevServer(args, port);
    const description = await withClient(port, (client) => client.workflow.getHandle(workflowId).describe());
    expect(description.status.name).toBe('RUNNING');
    // SQLite's header says WAL (2) in its read and write format versions once the file is in WAL mode.
    const header = Buffer.alloc(20);
    const handle = await fs.open(file, 'r');
    try {
      await handle.read(header, 0, 20, 0);
    } finally {
      await handle.close();
    }
    expect([header[18], header[19]]).toEqual([2, 2]);
  });
});

function cli(): string {
  const file = process.env.TEMPORAL_CLI_PATH;
  if (!file)
    throw new Error('TEMPORAL_CLI_PATH is not set: run the tests through jest (globalSetup sets it)');
  return file;
}

async function startDevServer(storeArgs: string[], port: number): Promise<ChildProcess> {
  const child = spawn(
    cli(),
    ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--log-level', 'error', ...storeArgs],
    {
      stdio: 'ignore',
    },
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the dev server exited with code ${child.exitCode}`);
    try {
      const connection = await Connection.connect({ address: `127.0.0.1:${port}`, connectTimeout: 1000 });
      await connection.close();
      return child;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

async function withClient<T>(port: number, use: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
  try {
    return await use(new Client({ connection }));
  } finally {
    await connection.close();
  }
}

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
