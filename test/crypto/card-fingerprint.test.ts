import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';
import { createCardFingerprinter, createFieldCipher } from '../../src/crypto';
import { CardFingerprinter } from '../../src/crypto/card-fingerprint';
import { generateKeySpec, parseKeyRing } from '../../src/crypto/key-ring';

const fingerprinter = (spec: string) => new CardFingerprinter(parseKeyRing(spec, 'test'));
const VISA = '4242424242424242';

describe('CardFingerprinter', () => {
  // Fixed, so the check for runs of the card number below is deterministic.
  const key = `fp1:${Buffer.alloc(32, 1).toString('base64')}`;
  const cards = fingerprinter(key);

  it('gives the same card the same fingerprint however its digits are grouped', () => {
    const plain = cards.fingerprint(VISA);
    expect(cards.fingerprint('4242 4242 4242 4242')).toBe(plain);
    expect(cards.fingerprint('4242-4242-4242-4242')).toBe(plain);
    expect(fingerprinter(key).fingerprint(VISA)).toBe(plain);
  });

  it('is `<keyId>:<hex>` of an HMAC-SHA256, and tells different cards apart', () => {
    expect(cards.fingerprint(VISA)).toMatch(/^fp1:[0-9a-f]{64}$/);
    expect(cards.fingerprint('5555555555554444')).not.toBe(cards.fingerprint(VISA));
  });

  it('differs under another key, even one with the same id', () => {
    expect(fingerprinter(generateKeySpec('fp1')).fingerprint(VISA)).not.toBe(cards.fingerprint(VISA));
    expect(fingerprinter(generateKeySpec('fp2')).fingerprint(VISA)).toMatch(/^fp2:/);
  });

  it('does not contain the card number, nor any run of it that would give away more than the last 4', () => {
    const fingerprint = cards.fingerprint(VISA);
    expect(fingerprint).not.toContain(VISA);
    const digits = fingerprint.replace(/^fp1:/, '');
    for (let i = 0; i + 5 <= VISA.length; i++) expect(digits).not.toContain(VISA.slice(i, i + 5));
  });

  it('refuses a malformed number without echoing it', () => {
    expect(() => cards.fingerprint('4242 abcd 4242 4242')).toThrow(
      'cannot fingerprint a malformed card number',
    );
    expect(() => cards.fingerprint('4242 abcd 4242 4242')).not.toThrow(/4242/);
  });

  it('takes exactly one key', () => {
    expect(() => fingerprinter(`${generateKeySpec('a')},${generateKeySpec('b')}`)).toThrow(ConfigError);
  });
});

describe('createCardFingerprinter', () => {
  it('uses DURAPAY_CARD_FINGERPRINT_KEY when set', () => {
    const key = generateKeySpec('fpk');
    const config = loadConfig({ NODE_ENV: 'test', DURAPAY_CARD_FINGERPRINT_KEY: key });
    expect(createCardFingerprinter(config, () => undefined).fingerprint(VISA)).toBe(
      fingerprinter(key).fingerprint(VISA),
    );
  });

  it('generates a development key once, separate from the field key, and warns', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'durapay-fp-'));
    try {
      const config = loadConfig({ NODE_ENV: 'development', DURAPAY_DATA_DIR: dataDir });
      const warnings: string[] = [];
      const first = createCardFingerprinter(config, (message) => warnings.push(message)).fingerprint(VISA);
      const again = createCardFingerprinter(config, () => undefined).fingerprint(VISA);
      expect(again).toBe(first);
      expect(warnings.join('\n')).toMatch(/DURAPAY_CARD_FINGERPRINT_KEY is not set/);
      createFieldCipher(config, () => undefined);
      const files = fs.readdirSync(dataDir).sort();
      expect(files).toEqual(['durapay_card_fingerprint_key.dev', 'durapay_field_keys.dev']);
      const [fingerprintKey, fieldKey] = files.map((file) =>
        fs.readFileSync(path.join(dataDir, file), 'utf8'),
      );
      expect(fingerprintKey!.split(':')[1]).not.toBe(fieldKey!.split(':')[1]);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
