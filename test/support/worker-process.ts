import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { WORKER_V8_FLAGS, workerNodeOptions } from '../../src/workers/node-options';
import { eventually } from './stack';
import { TEST_PAYLOAD_KEYS } from './temporal';

const REPO = path.resolve(__dirname, '../..');

export interface WorkerProcess {
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
  /** Resolves once the worker polls its task queue. */
  started(): Promise<unknown>;
}

/**
 * The real worker main (src/workers/main.ts) as its own process, loaded through tsx in that same process,
 * so a signal sent to `child` reaches the worker itself (SIGKILL included).
 */
export function startWorkerProcess(env: Record<string, string>): WorkerProcess {
  const output: string[] = [];
  const child = spawn(
    process.execPath,
    [...WORKER_V8_FLAGS, '--import', 'tsx', path.join(REPO, 'src/workers/main.ts')],
    {
      cwd: REPO,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        DURAPAY_PAYLOAD_KEYS: TEST_PAYLOAD_KEYS,
        NODE_OPTIONS: workerNodeOptions(process.env.NODE_OPTIONS),
        // No metrics port unless the test asks for one: test files run in parallel, each with its workers.
        DURAPAY_WORKER_METRICS_PORT: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  // 'close', not 'exit': the lines the worker flushes as it exits are in `output` by then.
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  return {
    child,
    output,
    exited,
    started: () =>
      eventually(
        () => Promise.resolve(output.join('')),
        (text) => text.includes('worker started'),
        // A hang guard: the worker bundles its workflow code first, slow on a busy machine.
        180_000,
      ),
  };
}
