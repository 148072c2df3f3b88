/**
 * The time-skipping test server as a JVM library from Maven Central, run by a generated wrapper script, and
 * the check that a test server binary runs here.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { run } from '../process';
import { cached, errorMessage, Miss, MINUTE, seconds, stagingPath, type Log } from './routes';

/** `io.temporal:temporal-test-server` on Maven Central: the same server as a JVM library (Java 8+). */
export const TEST_SERVER_MAVEN_VERSION = '1.38.0';
/** Pinned so that the Maven route does not depend on whichever plugin version the local Maven defaults to. */
const MAVEN_DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.6.1';
/** The test server logs through slf4j 1.7; without a binding it prints a three-line warning on every start. */
const SLF4J_NOP_VERSION = '1.7.36';
export const JVM_DIR_NAME = 'temporal-test-server-jvm';

/** Our JVM wrapper is only usable while the jars it points at are still there. */
export async function cachedTestServer(file: string, jvmDir: string): Promise<string> {
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

export async function installTestServerFromMaven(opts: {
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

/** Without arguments the test server prints its usage and exits instead of serving. */
export async function verifyTestServer(exe: string, env: NodeJS.ProcessEnv): Promise<void> {
  const { stdout, stderr } = await run(exe, [], { env, timeoutMs: 2 * MINUTE });
  if (!`${stdout}\n${stderr}`.includes('<port>')) {
    throw new Error(`${exe} without arguments did not print the test server's usage`);
  }
}
