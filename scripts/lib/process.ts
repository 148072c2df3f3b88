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

/** Runs a command to completion; output goes to `log` line by line, or is kept for the error when `quiet`. */
export async function run(
  [command, ...args]: string[],
  options: { log?: (line: string) => void; quiet?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<void> {
  if (!command) throw new Error('run() needs a command');
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
  const output: string[] = [];
  const sink = (line: string) => (options.quiet || !options.log ? output.push(line) : options.log(line));
  forwardLines(child.stdout, sink);
  forwardLines(child.stderr, sink);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) {
    const tail = output.slice(-20).join('\n');
    throw new Error(
      `${path.basename(command)} ${args[0] ?? ''} exited with code ${code}${tail ? `:\n${tail}` : ''}`,
    );
  }
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
