import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { ConfigError, type Config } from '../../config';

export const ROLES = ['client', 'operator'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: the role decides what they may do, the id what they own. */
export interface Principal {
  id: string;
  role: Role;
}

export interface ApiKeys {
  /** The principal of a presented key, or undefined for an unknown key. */
  lookup(presentedKey: string): Principal | undefined;
}

const KEY = /^[A-Za-z0-9_-]{24,128}$/;
const HASHED_KEY = /^sha256:([0-9a-f]{64})$/;
const PRINCIPAL_ID = /^[A-Za-z0-9_.@-]{1,64}$/;

/**
 * Parses `key:role:principal,…`. A key may also be given hashed as `sha256:<hex>`, so the variable need not
 * hold the secret itself. Keys are kept only as SHA-256 digests: a lookup hashes the presented key and finds
 * it by digest, so no comparison runs over the secret bytes. Messages never echo key material.
 */
export function parseApiKeys(spec: string, source: string): ApiKeys {
  const principals = new Map<string, Principal>();
  for (const [index, entry] of spec.split(',').entries()) {
    const parts = entry.trim().split(':');
    const hashed = parts.length === 4 ? HASHED_KEY.exec(`${parts[0]}:${parts[1]}`) : null;
    const [key, role, id] = hashed ? [undefined, parts[2], parts[3]] : parts;
    const where = `${source} entry ${index + 1}`;
    if (!hashed && (parts.length !== 3 || !key || !KEY.test(key))) {
      throw new ConfigError(
        `${where} must be key:role:principal with a key of 24 to 128 characters [A-Za-z0-9_-], or sha256:<hex>:role:principal`,
      );
    }
    if (!isRole(role)) throw new ConfigError(`${where} has role "${role}"; roles are ${ROLES.join(' and ')}`);
    if (!id || !PRINCIPAL_ID.test(id)) {
      throw new ConfigError(`${where} needs a principal of 1 to 64 characters [A-Za-z0-9_.@-]`);
    }
    const digest = hashed ? hashed[1]! : digestOf(key!);
    if (principals.has(digest)) throw new ConfigError(`${where} repeats a key listed before it`);
    principals.set(digest, { id, role });
  }
  return { lookup: (presentedKey) => principals.get(digestOf(presentedKey)) };
}

/** The `sha256:<hex>` form of a key, for configurations that should not hold the key itself. */
export function hashApiKey(key: string): string {
  return `sha256:${digestOf(key)}`;
}

export function generateApiKey(): string {
  return `dpk_${randomBytes(24).toString('base64url')}`;
}

/**
 * The configured keys, or outside production one operator and one client key generated once into the data
 * folder. `announce` receives the keys only on the start that creates them: they are printed once.
 * Only the API authenticates callers, so this, not loadConfig, is where production insists on keys.
 */
export function loadOrCreateDevApiKeys(
  config: Pick<Config, 'env' | 'dataDir' | 'security'>,
  announce: (message: string) => void,
): ApiKeys {
  const spec = config.security.apiKeys;
  if (spec) return parseApiKeys(spec, 'DURAPAY_API_KEYS');
  if (config.env === 'production') {
    throw new ConfigError(
      'DURAPAY_API_KEYS is required in production: comma-separated key:role:principal, role client or operator',
    );
  }
  const dataDir = config.dataDir;
  const file = path.join(dataDir, 'durapay_api_keys.dev');
  fs.mkdirSync(dataDir, { recursive: true });
  const operator = generateApiKey();
  const client = generateApiKey();
  try {
    fs.writeFileSync(file, `${operator}:operator:dev-operator,${client}:client:dev-client`, {
      flag: 'wx',
      mode: 0o600,
    });
    announce(
      [
        `DURAPAY_API_KEYS is not set: generated development API keys into ${file}. They are shown only this once:`,
        `  operator (dev-operator): ${operator}`,
        `  client   (dev-client):   ${client}`,
        'Send them as "Authorization: Bearer <key>". Never use them in production.',
      ].join('\n'),
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    announce(`DURAPAY_API_KEYS is not set: using the development API keys in ${file}.`);
  }
  return parseApiKeys(fs.readFileSync(file, 'utf8').trim(), file);
}

function isRole(value: string | undefined): value is Role {
  return (ROLES as readonly string[]).includes(value ?? '');
}

function digestOf(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
