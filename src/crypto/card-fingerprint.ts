import { createHmac } from 'node:crypto';
import { ConfigError } from '../config';
import type { KeyRing } from './key-ring';

/**
 * Keyed HMAC-SHA256 of a card number, so payments with the same card can be found without decrypting any.
 * The key is separate from every encryption key: a leaked fingerprint key reveals no ciphertext, and without
 * it the fingerprints cannot be brute-forced over the small space of card numbers. Form: `<keyId>:<hex>`, so
 * fingerprints made under another key are never mistaken for a match.
 */
export class CardFingerprinter {
  private readonly keyId: string;
  private readonly key: Buffer;

  constructor(readonly keyRing: KeyRing) {
    // One key only: a second one could never be used, since fingerprints cannot be recomputed without the PAN.
    if (keyRing.keys.size !== 1)
      throw new ConfigError('the card fingerprint key must be a single keyId:base64');
    this.keyId = keyRing.activeKeyId;
    this.key = keyRing.keys.get(this.keyId)!;
  }

  /** The same card gives the same fingerprint however its digits are grouped (spaces, dashes). */
  fingerprint(cardNumber: string): string {
    const digits = cardNumber.replace(/[ -]/g, '');
    // The message never holds the number: card input reaches here already validated, so this is a bug guard.
    if (!/^\d{12,19}$/.test(digits)) throw new Error('cannot fingerprint a malformed card number');
    return `${this.keyId}:${createHmac('sha256', this.key).update(digits, 'ascii').digest('hex')}`;
  }
}
