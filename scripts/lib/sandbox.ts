import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { DEFAULT_SANDBOX_PORT } from '../../src/sandbox/config';

/** Where `npm start` runs the sandbox provider; the worker's DURAPAY_GATEWAY_URL points here. */
export const SANDBOX_URL = `http://127.0.0.1:${DEFAULT_SANDBOX_PORT}`;

/**
 * The development key shared by the sandbox (DURAPAY_SANDBOX_KEY) and the worker (DURAPAY_GATEWAY_KEY),
 * generated once into the data directory like the development API keys, so restarts keep it.
 */
export function loadOrCreateSandboxKey(dataDir: string): string {
  const file = path.join(dataDir, 'durapay_sandbox_key.dev');
  fs.mkdirSync(dataDir, { recursive: true });
  try {
    fs.writeFileSync(file, `sk_test_${randomBytes(24).toString('hex')}`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return fs.readFileSync(file, 'utf8').trim();
}

/** The sandbox's own database, beside durapay's on the same server: `<database>_sandbox`. */
export function sandboxDatabaseUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `${url.pathname.replace(/\/$/, '')}_sandbox`;
  return url.toString();
}

/** Resolves once the sandbox logs that it listens; rejects if it exits or stays silent for `timeoutMs`. */
export function sandboxListening(child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const done = (error?: Error) => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve();
    };
    const onData = (chunk: Buffer) => {
      // Only the tail is kept: the line may arrive split across chunks.
      seen = (seen + chunk.toString()).slice(-4096);
      if (seen.includes('"msg":"sandbox listening"')) done();
    };
    const onExit = () => done(new Error('the sandbox provider exited before it listened'));
    const timer = setTimeout(
      () => done(new Error(`the sandbox provider did not listen within ${timeoutMs / 1000}s`)),
      timeoutMs,
    );
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}
