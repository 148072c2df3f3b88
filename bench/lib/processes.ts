/**
 * The processes the bench may own: the whole local stack (`scripts/start.ts`, only when none answers on the API
 * URL) and the baseline server. Both are stopped with SIGTERM and waited for; the stack stops its own
 * children in order.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { spawn, type ChildProcess } from 'node:child_process';
import { benchStackEnv, keysGiven } from './auth';
import { DEFAULT_SQLITE_SYNCHRONOUS } from '../../scripts/lib/dev-server-store';
import { commandLine } from './cli';
import { attributeOnlyDescendantsOf } from './cpu';

export const REPO_ROOT = path.resolve(__dirname, '../..');
const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');

export interface OwnedProcess {
  child: ChildProcess;
  stop(): Promise<void>;
}

/** The status /health answers, or undefined when nothing answers at all. */
export async function healthStatus(base: URL, timeoutMs = 3000): Promise<number | undefined> {
  try {
    const response = await fetch(new URL('/health', base), { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return undefined;
  }
}

export interface StackHandle {
  /** True when the bench started the stack (and so stops it), false when it found one running. */
  startedByBench: boolean;
  logFile?: string;
  stop(): Promise<void>;
}

/**
 * Uses the stack answering on `base`, or starts one with `scripts/start.ts` (NODE_ENV unset, so development;
 * it installs what is missing) and waits until /health answers 200.
 */
export async function ensureStack(
  base: URL,
  timeoutMs: number,
  log: (line: string) => void,
): Promise<StackHandle> {
  const first = await healthStatus(base);
  if (first === 200) {
    log(`using the stack already running at ${base.origin}`);
    warnUnlessKeysGiven(log);
    return { startedByBench: false, stop: async () => {} };
  }
  if (first !== undefined) {
    // Something owns the port (a stack still starting, or one whose Temporal or database is down): starting a
    // second stack would only fail on the port, so wait for this one.
    log(`${base.origin}/health answers ${first}; waiting for it to become healthy`);
    await waitForHealth(base, timeoutMs, () => undefined);
    warnUnlessKeysGiven(log);
    return { startedByBench: false, stop: async () => {} };
  }

  const logDir = path.join(REPO_ROOT, '.data', 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, 'bench-stack.log');
  const out = fs.openSync(logFile, 'w');
  const env: NodeJS.ProcessEnv = {
    // The default store (a SQLite file in WAL mode), but a fresh scratch file of the bench's own: a bench's
    // thousands of workflows must not stay behind in the developer's .data/temporal.sqlite.
    DURAPAY_DEV_TEMPORAL_DB: freshScratchStore(),
    ...process.env,
    ...benchStackEnv,
    PORT: base.port || '80',
  };
  delete env.NODE_ENV;
  log(
    `no stack at ${base.origin}: starting scripts/start.ts (output in ${path.relative(REPO_ROOT, logFile)})`,
  );
  const child = spawn(TSX, [path.join(REPO_ROOT, 'scripts', 'start.ts')], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', out, out],
    // Its own process group: a Ctrl-C in the bench's terminal reaches only the bench, which stops it in order.
    detached: true,
  });
  fs.closeSync(out);
  if (child.pid !== undefined) attributeOnlyDescendantsOf(child.pid);
  const owned = ownProcess(child, 60_000);
  try {
    await waitForHealth(base, timeoutMs, () =>
      child.exitCode !== null || child.signalCode !== null
        ? `scripts/start.ts exited (${child.signalCode ?? `code ${child.exitCode}`}):\n${tail(logFile)}`
        : undefined,
    );
  } catch (error) {
    await owned.stop();
    throw error;
  }
  log('stack is healthy');
  return { startedByBench: true, logFile, stop: () => owned.stop() };
}

/** The Temporal store of a stack the bench starts, emptied first so that every run starts from the same state. */
export const BENCH_TEMPORAL_DB = path.join(REPO_ROOT, '.data', 'bench', 'temporal.sqlite');

function freshScratchStore(): string {
  fs.mkdirSync(path.dirname(BENCH_TEMPORAL_DB), { recursive: true });
  // SQLite's write-ahead log and shared-memory index belong to the file, and go with it.
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${BENCH_TEMPORAL_DB}${suffix}`, { force: true });
  return BENCH_TEMPORAL_DB;
}

function warnUnlessKeysGiven(log: (line: string) => void): void {
  if (keysGiven) return;
  log(
    'WARNING: the bench did not start this stack, so it does not know the bench API keys: set BENCH_CLIENT_KEY ' +
      'and BENCH_OPERATOR_KEY to keys of its DURAPAY_API_KEYS (npm start keeps them in .data/durapay_api_keys.dev)',
  );
}

async function waitForHealth(base: URL, timeoutMs: number, failed: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const problem = failed();
    if (problem) throw new Error(problem);
    if ((await healthStatus(base)) === 200) return;
    if (Date.now() > deadline)
      throw new Error(`${base.origin}/health did not answer 200 within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL; calling stop twice waits for the same exit. */
function ownProcess(child: ChildProcess, graceMs: number): OwnedProcess {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  let stopping: Promise<void> | undefined;
  return {
    child,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

/** Starts bench/lib/baseline-server.ts and answers its URL once it listens. */
export async function startBaselineServer(): Promise<OwnedProcess & { url: URL }> {
  const child = spawn(TSX, [path.join(__dirname, 'baseline-server.ts')], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const owned = ownProcess(child, 10_000);
  const port = await new Promise<number>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    const timer = setTimeout(
      () => reject(new Error('the baseline server did not start within 60 s')),
      60_000,
    );
    lines.on('line', (line) => {
      const match = /^listening (\d+)$/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the baseline server exited with code ${code}`));
    });
  }).catch(async (error: unknown) => {
    await owned.stop();
    throw error;
  });
  return { ...owned, url: new URL(`http://127.0.0.1:${port}`) };
}

/**
 * The first lines of a run's settings table, the same in every bench, and `stackSetting`, which reports a
 * stack setting from the bench's environment only when the bench started the stack (a running stack keeps
 * its own).
 */
export function describeRun(
  script: string,
  repeatsVariable: (name: string) => boolean,
  stack: StackHandle,
  apiUrl: URL,
) {
  const env = process.env;
  const stackSetting = (name: string, fallback: string) =>
    stack.startedByBench
      ? (env[name] ?? fallback)
      : `as the running stack was started (bench sees ${env[name] ?? 'unset'})`;
  const cpus = os.cpus();
  const fields: Record<string, string> = {
    command: commandLine(script, (name) => name.startsWith('DURAPAY_DEV_TEMPORAL_') || repeatsVariable(name)),
    date: new Date().toISOString(),
    machine: `${cpus.length} cores (${cpus[0]?.model ?? 'unknown'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}`,
    node: process.version,
    stack: stack.startedByBench
      ? 'started by the bench (scripts/start.ts, NODE_ENV unset = development)'
      : 'already running, reused',
    'api url': apiUrl.origin,
    'temporal store (DURAPAY_DEV_TEMPORAL_DB)': stackSetting(
      'DURAPAY_DEV_TEMPORAL_DB',
      `${path.relative(REPO_ROOT, BENCH_TEMPORAL_DB)}, emptied before the stack starts`,
    ),
    'sqlite synchronous (DURAPAY_DEV_TEMPORAL_SYNCHRONOUS)': stackSetting(
      'DURAPAY_DEV_TEMPORAL_SYNCHRONOUS',
      `${DEFAULT_SQLITE_SYNCHRONOUS} (default), WAL journal`,
    ),
  };
  return { fields, stackSetting };
}
