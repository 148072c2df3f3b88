import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { eventually } from './stack';

const REPO = path.resolve(__dirname, '../..');

export const TEST_SANDBOX_KEY = 'sk_test_durapay_sandbox_0123456789';

export interface SandboxProcess {
  child: ChildProcess;
  /** Everything it wrote, stdout and stderr. */
  output: string[];
  port: number;
  /** Its base URL, what DURAPAY_GATEWAY_URL would be. */
  url: string;
  exited: Promise<number | null>;
  /** SIGKILL: no shutdown code runs, as in a crash. */
  kill(): Promise<void>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/**
 * The real sandbox provider (src/sandbox/main.ts) as its own process, loaded through tsx in that same
 * process, so SIGKILL reaches the sandbox itself. Port 0 takes a free port; a restart passes the old one,
 * so clients keep their URL.
 */
export async function startSandboxProcess(options: {
  databaseUrl: string;
  apiKey?: string;
  port?: number;
}): Promise<SandboxProcess> {
  const output: string[] = [];
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/sandbox/main.ts')], {
    cwd: REPO,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      DURAPAY_SANDBOX_KEY: options.apiKey ?? TEST_SANDBOX_KEY,
      DURAPAY_SANDBOX_DATABASE_URL: options.databaseUrl,
      DURAPAY_SANDBOX_PORT: String(options.port ?? 0),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      resolve(code);
    }),
  );
  const listening = await eventually(
    () => Promise.resolve(output.join('')),
    (text) => /"msg":"sandbox listening"/.test(text) || exitCode !== undefined,
    // A hang guard only: tsx compiles on first start, slow on a busy machine.
    120_000,
  );
  const port = listening
    .split('\n')
    .filter((line) => line.includes('"msg":"sandbox listening"'))
    .map((line) => JSON.parse(line) as { port?: number })[0]
    ?.port?.toString();
  if (!port) throw new Error(`the sandbox did not start:\n${listening}`);
  const signal = async (name: NodeJS.Signals) => {
    if (exitCode === undefined) child.kill(name);
    await exited;
  };
  return {
    child,
    output,
    port: Number(port),
    url: `http://127.0.0.1:${port}`,
    exited,
    kill: () => signal('SIGKILL'),
    stop: () => signal('SIGTERM'),
  };
}
