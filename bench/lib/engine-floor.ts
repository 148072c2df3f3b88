/**
 * Runs the engine floor (bench/engine-floor/main.ts) in a process of its own, so that its CPU is told apart
 * from the stack's, and answers its result with the CPU every process used while its measured orders ran.
 */
import path from 'node:path';
import readline from 'node:readline';
import { spawn } from 'node:child_process';
import type { FloorResult, FloorSettings } from '../engine-floor/main';
import { cpuSnapshot, cpuUsage, type CpuSnapshot, type CpuUsage } from './cpu';
import { REPO_ROOT } from './processes';

const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const MAIN = path.join(REPO_ROOT, 'bench', 'engine-floor', 'main.ts');

export async function runEngineFloor(
  settings: FloorSettings,
  timeoutMs: number,
): Promise<{ result: FloorResult; cpu: CpuUsage }> {
  const child = spawn(TSX, [MAIN, JSON.stringify(settings)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    let before: CpuSnapshot | undefined;
    let measured: { result: FloorResult; cpu: CpuUsage } | undefined;
    for await (const line of readline.createInterface({ input: child.stdout })) {
      if (line === 'measuring') before = cpuSnapshot();
      else if (line.startsWith('result ') && before) {
        measured = {
          result: JSON.parse(line.slice('result '.length)) as FloorResult,
          cpu: cpuUsage(before, cpuSnapshot()),
        };
      }
    }
    const code = await exited;
    if (!measured) throw new Error(`the engine floor exited with code ${code} and no result`);
    return measured;
  } finally {
    clearTimeout(timer);
  }
}
