import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { KeyRing } from '../crypto/key-ring';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

export class PayloadDecryptionError extends Error {
  override name = 'PayloadDecryptionError';
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM over each whole payload, its metadata included, so not even the original encoding shows.
 * The sealed payload's data is iv ‖ ciphertext ‖ tag, with a fresh random 96-bit IV each time; its metadata
 * names the key, which is also bound as additional data so a relabelled payload does not decrypt.
 * The first key of the ring encrypts, every key decrypts. Decoding passes payloads that are not
 * `binary/encrypted` through unchanged: histories written before encryption was turned on still read.
 */
export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keyRing: KeyRing) {}

  // Synchronous work behind the async interface: `new Promise` turns a throw into a rejection.
  encode(payloads: Payload[]): Promise<Payload[]> {
    return new Promise((resolve) => resolve(payloads.map((payload) => this.seal(payload))));
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    return new Promise((resolve) => resolve(payloads.map((payload) => this.open(payload))));
  }

  private seal(payload: Payload): Payload {
    const keyId = this.keyRing.activeKeyId;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key(keyId), iv);
    cipher.setAAD(Buffer.from(keyId, 'utf8'));
    const plaintext = temporal.api.common.v1.Payload.encode(payload).finish();
    return {
      metadata: {
        encoding: Buffer.from(ENCRYPTED_ENCODING, 'utf8'),
        [KEY_ID_METADATA]: Buffer.from(keyId, 'utf8'),
      },
      data: Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]),
    };
  }

  private open(payload: Payload): Payload {
    if (metadataText(payload, 'encoding') !== ENCRYPTED_ENCODING) return payload;
    const keyId = metadataText(payload, KEY_ID_METADATA);
    if (keyId === undefined)
      throw new PayloadDecryptionError(`encrypted payload names no ${KEY_ID_METADATA}`);
    const key = this.key(keyId);
    const sealed = Buffer.from(payload.data ?? new Uint8Array());
    if (sealed.length < IV_BYTES + TAG_BYTES)
      throw new PayloadDecryptionError('encrypted payload is truncated');
    let plaintext: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(keyId, 'utf8'));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      plaintext = Buffer.concat([
        decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new PayloadDecryptionError(`encrypted payload does not authenticate under key "${keyId}"`);
    }
    return temporal.api.common.v1.Payload.decode(plaintext);
  }

  private key(keyId: string): Buffer {
    const key = this.keyRing.keys.get(keyId);
    if (!key) throw new PayloadDecryptionError(`no payload key "${keyId}" in the key ring`);
    return key;
  }
}

function metadataText(payload: Payload, name: string): string | undefined {
  const value = payload.metadata?.[name];
  return value ? Buffer.from(value).toString('utf8') : undefined;
}
