import fs from 'node:fs';
import path from 'node:path';

export type Role = 'client' | 'operator';

export interface Settings {
  baseUrl: URL;
  /** The key a command sends: DURAPAY_KEY, else the development key of the role the command needs. */
  keyFor(role: Role): string;
}

const DEFAULT_URL = 'http://localhost:3000';
const DEV_KEYS_FILE = 'durapay_api_keys.dev';

export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * DURAPAY_URL and DURAPAY_KEY. Without a key the CLI uses the development keys the local stack generates
 * (`key:role:principal,…` in the data folder), picking the role each command needs: operators upload,
 * export and act on every order, while only clients create orders.
 */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const urlText = env.DURAPAY_URL || DEFAULT_URL;
  let baseUrl: URL;
  try {
    baseUrl = new URL(urlText);
  } catch {
    throw new UsageError(`DURAPAY_URL "${urlText}" is not a URL, such as ${DEFAULT_URL}`);
  }
  if (baseUrl.protocol !== 'http:' && baseUrl.protocol !== 'https:') {
    throw new UsageError(`DURAPAY_URL must be an http or https URL, not "${urlText}"`);
  }
  const key = env.DURAPAY_KEY;
  const dataDir = env.DURAPAY_DATA_DIR
    ? path.resolve(env.DURAPAY_DATA_DIR)
    : path.join(projectRoot(), '.data');
  return { baseUrl, keyFor: (role) => key || devKey(path.join(dataDir, DEV_KEYS_FILE), role) };
}

function devKey(file: string, role: Role): string {
  let spec: string;
  try {
    spec = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new UsageError(
      `DURAPAY_KEY is not set and there are no development keys in ${file}: set DURAPAY_KEY to an API key ` +
        '(or start the local stack once with `npm start`, which creates them)',
    );
  }
  for (const entry of spec.trim().split(',')) {
    const [key, entryRole] = entry.trim().split(':');
    if (key && key !== 'sha256' && entryRole === role) return key;
  }
  throw new UsageError(`${file} has no ${role} key; set DURAPAY_KEY to a ${role} API key`);
}

/** The folder holding package.json: the CLI runs from src/cli or, built, from dist/src/cli. */
function projectRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return process.cwd();
  }
}
