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
/** IVs drawn from the CSPRNG per call of it: one call for 12 bytes costs a third of a whole encryption. */
const IVS_PER_DRAW = 1024;

/**
 * AES-256-GCM for database columns. Sealed form: `v1:<keyId>:<base64url(iv)>:<base64url(ciphertext‖tag)>`,
 * ASCII so it fits a VARCHAR and survives dumps. A fresh random 96-bit IV per value.
 */
export class FieldCipher {
  /** Imported once: a raw key buffer would be imported again by every cipher made from it. */
  private readonly keyObjects: ReadonlyMap<string, KeyObject>;
  /**
   * The location's bound data up to the row id, by key, table and column: the same few strings for every value.
   * Nested maps, so a lookup builds no key string.
   */
  private readonly aadPrefixes = new Map<string, Map<string, Map<string, string>>>();
  /** Random bytes not yet used as an IV; each IV is taken once. */
  private ivPool = Buffer.alloc(0);
  private ivOffset = 0;

  /** Readable so a FieldCipherThread can build the same cipher on its thread. */
  constructor(readonly keyRing: KeyRing) {
    this.keyObjects = new Map([...keyRing.keys].map(([id, key]) => [id, createSecretKey(key)]));
  }

  /** The key new values are sealed under; a key rotation rewrites every value to it. */
  get activeKeyId(): string {
    return this.keyRing.activeKeyId;
  }

  encrypt(plaintext: string, location: FieldLocation): string {
    const keyId = this.keyRing.activeKeyId;
    const iv = this.nextIv();
    const cipher = createCipheriv('aes-256-gcm', this.key(keyId), iv);
    cipher.setAAD(this.additionalData(keyId, location));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}:${keyId}:${iv.toString('base64url')}:${body.toString('base64url')}`;
  }

  decrypt(sealed: string, location: FieldLocation): string {
    const { keyId, iv, body } = parseSealed(sealed);
    const key = this.key(keyId);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(this.additionalData(keyId, location));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      const plaintext = decipher.update(body.subarray(0, body.length - TAG_BYTES));
      // GCM gives every byte from update(); final() only checks the tag, and throws when it does not match.
      decipher.final();
      return plaintext.toString('utf8');
    } catch {
      throw new FieldDecryptionError(`ciphertext does not authenticate for ${describe(location)}`);
    }
  }

  /** True when the value is sealed under a key other than the active one (it should be re-encrypted). */
  needsReencryption(sealed: string): boolean {
    return parseSealed(sealed).keyId !== this.keyRing.activeKeyId;
  }

  /** A fresh random 96-bit IV: the next unused bytes of a pool filled by the CSPRNG. */
  private nextIv(): Buffer {
    if (this.ivOffset + IV_BYTES > this.ivPool.length) {
      this.ivPool = randomBytes(IV_BYTES * IVS_PER_DRAW);
      this.ivOffset = 0;
    }
    const iv = this.ivPool.subarray(this.ivOffset, this.ivOffset + IV_BYTES);
    this.ivOffset += IV_BYTES;
    return iv;
  }

  /**
   * JSON array encoding keeps the parts unambiguous whatever characters a row id holds:
   * `["v1",keyId,table,column,rowId]`, built from a cached prefix (the same bytes JSON.stringify gives).
   */
  private additionalData(keyId: string, { table, column, rowId }: FieldLocation): Buffer {
    let byTable = this.aadPrefixes.get(keyId);
    if (!byTable) this.aadPrefixes.set(keyId, (byTable = new Map<string, Map<string, string>>()));
    let byColumn = byTable.get(table);
    if (!byColumn) byTable.set(table, (byColumn = new Map<string, string>()));
    let prefix = byColumn.get(column);
    if (prefix === undefined) {
      prefix = JSON.stringify([VERSION, keyId, table, column]).slice(0, -1);
      byColumn.set(column, prefix);
    }
    return Buffer.from(`${prefix},${JSON.stringify(rowId)}]`, 'utf8');
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

function describe({ table, column, rowId }: FieldLocation): string {
  return `${table}.${column} of row ${rowId}`;
}
