import type { Command } from 'commander';
import { createApiClient, type ApiClient } from './client';
import { createOutput, type Output } from './output';
import { loadSettings } from './settings';

export interface CommandContext {
  api: ApiClient;
  out: Output;
}

/**
 * Runs a command's body with a client and an output built from the environment and the global options.
 * The body returns the exit code: 0, or 2 for an outcome that is not an error but not a success either.
 */
export async function withContext(
  command: Command,
  body: (context: CommandContext) => Promise<number | void>,
  options: { maxSockets?: number } = {},
): Promise<void> {
  const { json } = command.optsWithGlobals<{ json?: boolean }>();
  const api = createApiClient(loadSettings(), options);
  try {
    const code = await body({ api, out: createOutput({ json: json === true }) });
    if (code) process.exitCode = code;
  } finally {
    api.close();
  }
}

/** Calls `probe` every `intervalMs` until `done` accepts its value; undefined once `deadline` (epoch ms) passes. */
export async function pollUntil<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  intervalMs: number,
  deadline = Infinity,
): Promise<T | undefined> {
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() + intervalMs > deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
