import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../config';

/** AES-256 keys by id. The active key encrypts; every key in the ring decrypts, so keys can rotate. */
export interface KeyRing {
  activeKeyId: string;
  keys: ReadonlyMap<string, Buffer>;
}

/** A key ring as another thread receives it: structured cloning turns each Buffer into a Uint8Array. */
export function keyRingFromThread(ring: KeyRing): KeyRing {
  return {
    activeKeyId: ring.activeKeyId,
    keys: new Map([...ring.keys].map(([id, key]) => [id, Buffer.from(key)])),
  };
}

export const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const KEY_BYTES = 32;

/** Parses `id:base64,id:base64,…`; the first entry is the active key. Messages never echo key material. */
export function parseKeyRing(spec: string, source: string): KeyRing {
  const keys = new Map<string, Buffer>();
  for (const [index, entry] of spec.split(',').entries()) {
    const separator = entry.indexOf(':');
    const id = entry.slice(0, separator).trim();
    const material = entry.slice(separator + 1).trim();
    if (separator < 0 || !KEY_ID.test(id)) {
      throw new ConfigError(
        `${source} entry ${index + 1} must be keyId:base64 with a keyId of [A-Za-z0-9_-]{1,32}`,
      );
    }
    const key = Buffer.from(material, 'base64');
    if (key.length !== KEY_BYTES || key.toString('base64') !== material) {
      throw new ConfigError(`${source} key "${id}" must be ${KEY_BYTES} bytes of standard base64`);
    }
    if (keys.has(id)) throw new ConfigError(`${source} lists key "${id}" twice`);
    keys.set(id, key);
  }
  const activeKeyId = keys.keys().next().value;
  if (activeKeyId === undefined) throw new ConfigError(`${source} lists no keys`);
  return { activeKeyId, keys };
}

export function generateKeySpec(keyId: string): string {
  return `${keyId}:${randomBytes(KEY_BYTES).toString('base64')}`;
}

/**
 * The configured key ring, or in development a key generated once into the data folder.
 * Creation is exclusive (`wx`) so the API and the worker starting together agree on one key. Its id is
 * random per installation, so a value sealed by another installation reads as "unknown key", not as
 * tampered.
 */
export function loadOrCreateDevKeyRing(
  spec: string | undefined,
  dataDir: string,
  source: string,
  warn: (message: string) => void,
): KeyRing {
  if (spec) return parseKeyRing(spec, source);
  const file = path.join(dataDir, `${source.toLowerCase()}.dev`);
  fs.mkdirSync(dataDir, { recursive: true });
  try {
    fs.writeFileSync(file, generateKeySpec(`dev-${randomBytes(4).toString('hex')}`), {
      flag: 'wx',
      mode: 0o600,
    });
    warn(`${source} is not set: generated a development key into ${file}. Never use it in production.`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    warn(`${source} is not set: using the development key in ${file}.`);
  }
  return parseKeyRing(fs.readFileSync(file, 'utf8').trim(), file);
}
