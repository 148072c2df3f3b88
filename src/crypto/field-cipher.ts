import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import type { KeyRing } from './key-ring';

/** Where a value lives. It is bound into the ciphertext, so a value copied to another cell fails to decrypt. */
export interface FieldLocation {
  table: string;
  column: string;
  rowId: string;
}

export class FieldDecryptionError extends Error {
  override name = 'FieldDecryptionError';
}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM for database columns. Sealed form: `v1:<keyId>:<base64url(iv)>:<base64url(ciphertext‖tag)>`,
 * ASCII so it fits a VARCHAR and survives dumps. A fresh random 96-bit IV per value.
 */
export class FieldCipher {
  /** Imported once: a raw key buffer would be imported again by every cipher made from it. */
  private readonly keyObjects: ReadonlyMap<string, KeyObject>;

  constructor(private readonly keyRing: KeyRing) {
    this.keyObjects = new Map([...keyRing.keys].map(([id, key]) => [id, createSecretKey(key)]));
  }

  /** The key new values are sealed under; a key rotation rewrites every value to it. */
  get activeKeyId(): string {
    return this.keyRing.activeKeyId;
  }

  encrypt(plaintext: string, location: FieldLocation): string {
    const keyId = this.keyRing.activeKeyId;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key(keyId), iv);
    cipher.setAAD(additionalData(keyId, location));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return [VERSION, keyId, iv.toString('base64url'), body.toString('base64url')].join(':');
  }

  decrypt(sealed: string, location: FieldLocation): string {
    const { keyId, iv, body } = parseSealed(sealed);
    const key = this.key(keyId);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(additionalData(keyId, location));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([
        decipher.update(body.subarray(0, body.length - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new FieldDecryptionError(`ciphertext does not authenticate for ${describe(location)}`);
    }
  }

  /** True when the value is sealed under a key other than the active one (it should be re-encrypted). */
  needsReencryption(sealed: string): boolean {
    return parseSealed(sealed).keyId !== this.keyRing.activeKeyId;
  }

  private key(keyId: string): KeyObject {
    const key = this.keyObjects.get(keyId);
    if (!key) throw new FieldDecryptionError(`no key "${keyId}" in the key ring`);
    return key;
  }
}

function parseSealed(sealed: string): { keyId: string; iv: Buffer; body: Buffer } {
  const [version, keyId, iv, body, ...rest] = sealed.split(':');
  if (version !== VERSION || !keyId || !iv || !body || rest.length > 0) {
    throw new FieldDecryptionError('value is not a v1 field ciphertext');
  }
  const ivBytes = Buffer.from(iv, 'base64url');
  const bodyBytes = Buffer.from(body, 'base64url');
  if (ivBytes.length !== IV_BYTES || bodyBytes.length < TAG_BYTES) {
    throw new FieldDecryptionError('field ciphertext is truncated');
  }
  return { keyId, iv: ivBytes, body: bodyBytes };
}

/** JSON array encoding keeps the parts unambiguous whatever characters a row id holds. */
function additionalData(keyId: string, { table, column, rowId }: FieldLocation): Buffer {
  return Buffer.from(JSON.stringify([VERSION, keyId, table, column, rowId]), 'utf8');
}

function describe({ table, column, rowId }: FieldLocation): string {
  return `${table}.${column} of row ${rowId}`;
}
