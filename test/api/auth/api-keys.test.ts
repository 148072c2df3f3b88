import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  generateApiKey,
  hashApiKey,
  loadOrCreateDevApiKeys,
  parseApiKeys,
} from '../../../src/api/auth/api-keys';
import { ConfigError, loadConfig } from '../../../src/config';

const OPERATOR_KEY = 'op-key-0123456789abcdefghij';
const CLIENT_KEY = 'client_key_0123456789ABCDEF';

describe('parseApiKeys', () => {
  it('finds each principal by its key, and nothing for any other key', () => {
    const keys = parseApiKeys(`${OPERATOR_KEY}:operator:ops, ${CLIENT_KEY}:client:alice@example.com`, 'test');
    expect(keys.lookup(OPERATOR_KEY)).toEqual({ id: 'ops', role: 'operator' });
    expect(keys.lookup(CLIENT_KEY)).toEqual({ id: 'alice@example.com', role: 'client' });
    expect(keys.lookup(`${CLIENT_KEY}x`)).toBeUndefined();
    expect(keys.lookup(CLIENT_KEY.toLowerCase())).toBeUndefined();
    expect(keys.lookup('')).toBeUndefined();
  });

  it('accepts a key given only as its SHA-256 digest', () => {
    const hashed = hashApiKey(CLIENT_KEY);
    expect(hashed).toMatch(/^sha256:[0-9a-f]{64}$/);
    const keys = parseApiKeys(`${hashed}:client:bob`, 'test');
    expect(keys.lookup(CLIENT_KEY)).toEqual({ id: 'bob', role: 'client' });
    // The digest itself is not a key.
    expect(keys.lookup(hashed)).toBeUndefined();
  });

  it('lets two principals share a role, and one principal hold two keys (rotation)', () => {
    const keys = parseApiKeys(
      `${CLIENT_KEY}:client:alice,${OPERATOR_KEY}:client:alice,${generateApiKey()}:client:bob`,
      'test',
    );
    expect(keys.lookup(CLIENT_KEY)).toEqual(keys.lookup(OPERATOR_KEY));
  });

  it.each([
    ['too short a key', 'short:client:alice', /key of 24 to 128 characters/],
    ['a key with other characters', `${'k'.repeat(23)}!:client:alice`, /key of 24 to 128/],
    ['a missing principal', `${CLIENT_KEY}:client`, /key:role:principal/],
    ['an extra part', `${CLIENT_KEY}:client:alice:extra`, /key:role:principal/],
    ['an unknown role', `${CLIENT_KEY}:admin:alice`, /role "admin"; roles are client and operator/],
    ['an empty principal', `${CLIENT_KEY}:client:`, /principal of 1 to 64/],
    ['a principal with spaces', `${CLIENT_KEY}:client:al ice`, /principal of 1 to 64/],
    ['a malformed digest', `sha256:abc:client:alice`, /sha256:<hex>/],
    ['an empty entry', `${CLIENT_KEY}:client:alice,`, /entry 2/],
    ['a repeated key', `${CLIENT_KEY}:client:alice,${hashApiKey(CLIENT_KEY)}:operator:ops`, /repeats a key/],
  ])('refuses %s', (_what, spec, message) => {
    expect(() => parseApiKeys(spec, 'DURAPAY_API_KEYS')).toThrow(ConfigError);
    expect(() => parseApiKeys(spec, 'DURAPAY_API_KEYS')).toThrow(message);
  });

  it('never echoes key material in its messages', () => {
    const secret = 'secret-key-material-that-must-not-leak';
    for (const spec of [
      `${secret}:admin:alice`,
      `${secret}:client:`,
      `${secret}:client:a,${secret}:client:b`,
    ]) {
      let message = '';
      try {
        parseApiKeys(spec, 'DURAPAY_API_KEYS');
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/^DURAPAY_API_KEYS entry \d/);
      expect(message).not.toContain(secret);
    }
  });
});

describe('generateApiKey', () => {
  it('makes distinct keys that parseApiKeys accepts', () => {
    const [a, b] = [generateApiKey(), generateApiKey()];
    expect(a).not.toBe(b);
    expect(a).toMatch(/^dpk_[A-Za-z0-9_-]{32}$/);
    expect(parseApiKeys(`${a}:client:x`, 'test').lookup(a)).toEqual({ id: 'x', role: 'client' });
  });
});

describe('loadOrCreateDevApiKeys', () => {
  let dataDir: string;

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'durapay-keys-'));
  });

  afterEach(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const config = (apiKeys?: string, env: 'development' | 'production' = 'development') => ({
    ...loadConfig({ DURAPAY_DATA_DIR: dataDir, ...(apiKeys ? { DURAPAY_API_KEYS: apiKeys } : {}) }),
    env,
  });

  it('uses the configured keys and writes nothing', () => {
    const announce = jest.fn();
    const keys = loadOrCreateDevApiKeys(config(`${CLIENT_KEY}:client:alice`), announce);
    expect(keys.lookup(CLIENT_KEY)).toEqual({ id: 'alice', role: 'client' });
    expect(announce).not.toHaveBeenCalled();
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });

  it('generates an operator and a client key once, shows them once, and keeps them for the next start', () => {
    const first: string[] = [];
    const keys = loadOrCreateDevApiKeys(config(), (message) => first.push(message));
    const shown = first.join('\n');
    const operator = /operator \(dev-operator\): (\S+)/.exec(shown)?.[1];
    const client = /client {3}\(dev-client\): {3}(\S+)/.exec(shown)?.[1];
    expect(operator).toBeDefined();
    expect(client).toBeDefined();
    expect(keys.lookup(operator!)).toEqual({ id: 'dev-operator', role: 'operator' });
    expect(keys.lookup(client!)).toEqual({ id: 'dev-client', role: 'client' });

    const file = path.join(dataDir, 'durapay_api_keys.dev');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);

    const second: string[] = [];
    const again = loadOrCreateDevApiKeys(config(), (message) => second.push(message));
    expect(again.lookup(operator!)).toEqual({ id: 'dev-operator', role: 'operator' });
    expect(again.lookup(client!)).toEqual({ id: 'dev-client', role: 'client' });
    expect(second.join('\n')).toContain(file);
    expect(second.join('\n')).not.toContain(operator!);
    expect(second.join('\n')).not.toContain(client!);
  });

  it('refuses to start in production without keys, and generates nothing', () => {
    expect(() => loadOrCreateDevApiKeys(config(undefined, 'production'), jest.fn())).toThrow(
      'DURAPAY_API_KEYS is required in production',
    );
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });
});
