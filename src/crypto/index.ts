import type { Config } from '../config';
import { CardFingerprinter } from './card-fingerprint';
import { FieldCipher } from './field-cipher';
import { loadOrCreateDevKeyRing, type KeyRing } from './key-ring';

/** The one column cipher of a process, from DURAPAY_FIELD_KEYS (or the development key). */
export function createFieldCipher(config: Config, warn: (message: string) => void): FieldCipher {
  return new FieldCipher(
    loadOrCreateDevKeyRing(config.fieldKeys, config.dataDir, 'DURAPAY_FIELD_KEYS', warn),
  );
}

/** The key ring of the Temporal payload codec, from DURAPAY_PAYLOAD_KEYS (or the development key). */
export function createPayloadKeyRing(config: Config, warn: (message: string) => void): KeyRing {
  return loadOrCreateDevKeyRing(config.security.payloadKeys, config.dataDir, 'DURAPAY_PAYLOAD_KEYS', warn);
}

/** The one card fingerprinter of a process, from DURAPAY_CARD_FINGERPRINT_KEY (or the development key). */
export function createCardFingerprinter(config: Config, warn: (message: string) => void): CardFingerprinter {
  return new CardFingerprinter(
    loadOrCreateDevKeyRing(
      config.security.cardFingerprintKey,
      config.dataDir,
      'DURAPAY_CARD_FINGERPRINT_KEY',
      warn,
    ),
  );
}
