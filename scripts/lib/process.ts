import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';

/** The first of `names` found on PATH or in `extraDirs` (Debian keeps daemons in sbin, often off a user's PATH). */
export function findExecutable(names: string[], extraDirs: string[] = []): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...extraDirs];
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        return candidate;
      } catch {
        // not here; keep looking
      }
    }
  }
  return undefined;
}

export function forwardLines(stream: Readable | null, log: (line: string) => void): void {
  if (stream) readline.createInterface({ input: stream }).on('line', log);
}

const OUTPUT_LIMIT = 64 * 1024;

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kill the command after this long (default: no limit). */
  timeoutMs?: number;
  /** Also show the output as it comes, line by line. */
  log?: (line: string) => void;
}

/**
 * Runs a command to completion (argument array, no shell). Keeps only the tail of its output, which is
 * where pip, go, mvn and apt put the reason for a failure; that reason goes into the error.
 */
export async function run(
  command: string,
  args: string[],
  options: RunOptions = {},
): Promise<{ stdout: string; stderr: string }> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout = (stdout + chunk).slice(-OUTPUT_LIMIT);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-OUTPUT_LIMIT);
  });
  if (options.log) {
    forwardLines(child.stdout, options.log);
    forwardLines(child.stderr, options.log);
  }
  // Our own timer rather than spawn's `timeout` option: Node leaves that one running when the command
  // is not found, which keeps the process (or a test run) alive for the whole time limit.
  let timedOut = false;
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, options.timeoutMs);
  let code: number | null;
  let signal: NodeJS.Signals | null;
  try {
    [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', (err: NodeJS.ErrnoException) => {
        reject(err.code === 'ENOENT' ? new Error(`${command} not found`) : err);
      });
      child.once('close', (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
    });
  } finally {
    clearTimeout(timer);
  }
  if (code === 0) return { stdout, stderr };
  const why = signal ? `was stopped by ${signal}` : `exited with code ${code}`;
  const limit = timedOut ? ` after its time limit of ${(options.timeoutMs ?? 0) / 1000} s` : '';
  const reason = summarize(stderr) || summarize(stdout);
  throw new Error(`${path.basename(command)} ${why}${limit}${reason ? `: ${reason}` : ''}`);
}

/** The line that says why: Maven's first real [ERROR] line, otherwise the last few lines. */
function summarize(output: string): string {
  const lines = output.split('\n').map((line) => line.trim());
  const mavenError = lines.find((line) => /^\[ERROR\]\s*\S/.test(line));
  if (mavenError) return mavenError;
  return lines.filter(Boolean).slice(-3).join(' | ');
}

/** SIGTERM, then SIGKILL if the process has not exited within `graceMs`. */
export async function stopProcess(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
