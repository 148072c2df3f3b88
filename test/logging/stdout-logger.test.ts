import { spawn } from 'node:child_process';
import path from 'node:path';

const SCRIPT = path.join(__dirname, 'fixtures', 'log-lines.ts');

/** The logger's real stdout, in its own process: lines are batched, and none is lost to the batching. */
function logLines(count: number, mode: 'exit' | 'stay') {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, String(count), mode], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const lines = () =>
    output
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { line: number }).line);
  // 'close': the process has exited and its stdout is read to the end.
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  return { child, lines, exited };
}

describe('the stdout logger', () => {
  it('writes every line, in order, when the process exits right after logging', async () => {
    const run = logLines(2000, 'exit');
    expect(await run.exited).toBe(0);
    expect(run.lines()).toEqual(Array.from({ length: 2000 }, (_, index) => index + 1));
  });

  it('writes a lone line while the process keeps running, without waiting for a full batch', async () => {
    const run = logLines(1, 'stay');
    try {
      while (run.lines().length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(run.lines()).toEqual([1]);
      expect(run.child.exitCode).toBeNull();
    } finally {
      run.child.stdin.end();
      await run.exited;
    }
  });
});
