/**
 * Runs the engine floor (bench/engine-floor/main.ts) in a process of its own, so that its CPU is told apart
 * from the stack's, and answers its result with the CPU every process used while its measured orders ran.
 */
import path from 'node:path';
import readline from 'node:readline';
import { spawn } from 'node:child_process';
import {
  GO,
  MEASURING,
  RESULT,
  WARMED_UP,
  type EngineFloorResult,
  type EngineFloorSettings,
} from '../engine-floor/protocol';
import { cpuSnapshot, cpuUsage, type CpuSnapshot, type CpuUsage } from './cpu';
import { REPO_ROOT } from './processes';

const MAIN = path.join(REPO_ROOT, 'bench', 'engine-floor', 'main.ts');

export interface EngineFloorRun {
  settings: EngineFloorSettings;
  /** Past it the floor's process is killed and the phase fails. */
  timeoutMs: number;
  /** Runs between the warm-up and the measured orders (the bench waits for the stack to go quiet). */
  afterWarmUp: () => Promise<void>;
  /** Takes a stop function, for the bench to call should it be stopped first. */
  onCleanUp: (stop: () => Promise<void>) => void;
}

export async function runEngineFloor({
  settings,
  timeoutMs,
  afterWarmUp,
  onCleanUp,
}: EngineFloorRun): Promise<{ result: EngineFloorResult; cpu: CpuUsage }> {
  // Node itself, not the tsx wrapper, so that a kill reaches the process doing the work.
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, JSON.stringify(settings)], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ?? `code ${code}`));
    child.once('error', (error) => resolve(error.message));
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  onCleanUp(stop);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void stop();
  }, timeoutMs);
  try {
    let before: CpuSnapshot | undefined;
    let measured: { result: EngineFloorResult; cpu: CpuUsage } | undefined;
    for await (const line of readline.createInterface({ input: child.stdout })) {
      if (line === WARMED_UP) {
        await afterWarmUp();
        child.stdin.write(`${GO}\n`);
      } else if (line === MEASURING) {
        before = cpuSnapshot();
      } else if (line.startsWith(RESULT) && before) {
        const result = JSON.parse(line.slice(RESULT.length)) as EngineFloorResult;
        measured = { result, cpu: cpuUsage(before, cpuSnapshot()) };
        child.stdin.end();
      }
    }
    const ended = await exited;
    if (timedOut) throw new Error(`the engine floor did not finish within ${timeoutMs / 1000} s`);
    if (!measured) throw new Error(`the engine floor ended (${ended}) without a result`);
    return measured;
  } finally {
    clearTimeout(timer);
  }
}
