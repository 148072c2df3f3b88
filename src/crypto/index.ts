import type { Config } from '../config';
import { FieldCipher } from './field-cipher';
import { loadOrCreateDevKeyRing } from './key-ring';

/** The one column cipher of a process, from DURAPAY_FIELD_KEYS (or the development key). */
export function createFieldCipher(config: Config, warn: (message: string) => void): FieldCipher {
  return new FieldCipher(
    loadOrCreateDevKeyRing(config.fieldKeys, config.dataDir, 'DURAPAY_FIELD_KEYS', warn),
  );
}
