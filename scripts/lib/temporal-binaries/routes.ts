/** How a binary is found: routes tried in order, explicit overrides, the cache, and small shared helpers. */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

export type Log = (msg: string) => void;

export const MINUTE = 60_000;

/** A route that simply doesn't apply (nothing cached, nothing on PATH): reported only if all routes fail. */
export class Miss extends Error {}

export interface Route {
  name: string;
  attempt: () => Promise<string>;
}

export async function firstHit(what: string, routes: Route[], log: Log, advice: string): Promise<string> {
  const tried: string[] = [];
  for (const route of routes) {
    try {
      const found = await route.attempt();
      log(`${what}: ${found} (${route.name})`);
      return found;
    } catch (err) {
      const reason = errorMessage(err);
      if (!(err instanceof Miss)) log(`${what}: ${route.name} failed, trying the next way: ${reason}`);
      tried.push(`  - ${route.name}: ${reason}`);
    }
  }
  throw new Error(`Could not get the ${what}. Tried, in order:\n${tried.join('\n')}\n${advice}`);
}

/** An explicit override must work: silently using something else would hide a typo. */
export async function checkOverride(
  variable: string,
  env: NodeJS.ProcessEnv,
  what: string,
): Promise<string | undefined> {
  const value = env[variable];
  if (!value) return undefined;
  const resolved = path.resolve(value);
  const problem = await whyNotExecutable(resolved);
  if (problem) {
    throw new Error(
      `${variable}=${value} ${problem}. Point it at ${what}, or unset it to let this script find or fetch one.`,
    );
  }
  return resolved;
}

export async function whyNotExecutable(file: string): Promise<string | undefined> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch {
    return 'does not exist';
  }
  if (!stat.isFile()) return 'is not a file';
  try {
    await fs.access(file, fsConstants.X_OK);
  } catch {
    return 'is not executable (chmod +x it)';
  }
  return undefined;
}

export async function findOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string> {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    // An empty PATH entry means the cwd to a shell; we don't want that surprise.
    if (!dir) continue;
    const candidate = path.resolve(dir, name);
    if (!(await whyNotExecutable(candidate))) return candidate;
  }
  throw new Miss('not found');
}

export async function cached(file: string): Promise<string> {
  const problem = await whyNotExecutable(file);
  if (problem) throw new Miss(`${file} ${problem}`);
  return file;
}

export function stagingPath(dest: string): string {
  return path.join(path.dirname(dest), `.${path.basename(dest)}.tmp-${randomBytes(4).toString('hex')}`);
}

export function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
