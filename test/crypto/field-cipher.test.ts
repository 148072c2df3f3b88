import { createCipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../src/config';
import { FieldCipher, FieldDecryptionError, type FieldLocation } from '../../src/crypto/field-cipher';
import { generateKeySpec, loadOrCreateDevKeyRing, parseKeyRing } from '../../src/crypto/key-ring';

const cell: FieldLocation = { table: 'payments', column: 'card_number_enc', rowId: 'PAY-1' };
const key1 = generateKeySpec('k1');
const key2 = generateKeySpec('k2');

describe('FieldCipher', () => {
  const cipher = new FieldCipher(parseKeyRing(key1, 'test'));

  it('round-trips unicode text and never shows the plaintext', () => {
    const sealed = cipher.encrypt('4242 4242 4242 4242 — Zoë', cell);
    expect(sealed).toMatch(/^v1:k1:[\w-]{16}:[\w-]+$/);
    expect(sealed).not.toContain('4242');
    expect(cipher.decrypt(sealed, cell)).toBe('4242 4242 4242 4242 — Zoë');
  });

  it('uses a fresh IV for every value', () => {
    const a = cipher.encrypt('same', cell);
    const b = cipher.encrypt('same', cell);
    expect(a.split(':')[2]).not.toBe(b.split(':')[2]);
    expect(a).not.toBe(b);
    // Across several refills of the cipher's pool of random bytes, no IV comes twice, and each decrypts.
    const sealed = Array.from({ length: 5000 }, (_, i) => cipher.encrypt(`value ${i}`, cell));
    expect(new Set(sealed.map((value) => value.split(':')[2])).size).toBe(5000);
    expect(sealed.map((value) => cipher.decrypt(value, cell))).toEqual(sealed.map((_, i) => `value ${i}`));
  });

  it('rejects a ciphertext with one flipped bit', () => {
    const [version, keyId, iv, body] = cipher.encrypt('4242424242424242', cell).split(':') as [
      string,
      ...string[],
    ];
    const bytes = Buffer.from(body!, 'base64url');
    bytes[0] = bytes[0]! ^ 0x01;
    const tampered = [version, keyId, iv, bytes.toString('base64url')].join(':');
    expect(() => cipher.decrypt(tampered, cell)).toThrow(FieldDecryptionError);
  });

  it.each([
    ['table', { ...cell, table: 'orders' }],
    ['column', { ...cell, column: 'customer_email_enc' }],
    ['row', { ...cell, rowId: 'PAY-2' }],
  ])('refuses a value copied to another %s', (_what, elsewhere) => {
    const sealed = cipher.encrypt('4242424242424242', cell);
    expect(() => cipher.decrypt(sealed, elsewhere)).toThrow('does not authenticate');
  });

  it('binds the location as the JSON array ["v1", key id, table, column, row id], so stored values stay readable', () => {
    const rowId = 'PAY-"1é\\';
    const iv = randomBytes(12);
    const sealer = createCipheriv('aes-256-gcm', parseKeyRing(key1, 'test').keys.get('k1')!, iv);
    sealer.setAAD(Buffer.from(JSON.stringify(['v1', 'k1', cell.table, cell.column, rowId]), 'utf8'));
    const body = Buffer.concat([
      sealer.update('4242424242424242', 'utf8'),
      sealer.final(),
      sealer.getAuthTag(),
    ]);
    const sealed = ['v1', 'k1', iv.toString('base64url'), body.toString('base64url')].join(':');
    expect(cipher.decrypt(sealed, { ...cell, rowId })).toBe('4242424242424242');
    expect(cipher.decrypt(cipher.encrypt('x', { ...cell, rowId }), { ...cell, rowId })).toBe('x');
  });

  it('keeps row ids unambiguous in the bound location', () => {
    const sealed = cipher.encrypt('x', { table: 'a', column: 'b', rowId: 'c' });
    expect(() => cipher.decrypt(sealed, { table: 'a', column: 'b"', rowId: 'c' })).toThrow(
      FieldDecryptionError,
    );
  });

  it('rejects malformed and truncated values with a clear error', () => {
    expect(() => cipher.decrypt('4242424242424242', cell)).toThrow('not a v1 field ciphertext');
    expect(() => cipher.decrypt('v1:k1:AAAA:AAAA', cell)).toThrow('truncated');
  });

  describe('key rotation', () => {
    const oldRing = new FieldCipher(parseKeyRing(key1, 'test'));
    const rotated = new FieldCipher(parseKeyRing(`${key2},${key1}`, 'test'));

    it('still decrypts values sealed under a retired key', () => {
      const sealedUnderK1 = oldRing.encrypt('ana@example.com', cell);
      expect(rotated.decrypt(sealedUnderK1, cell)).toBe('ana@example.com');
      expect(rotated.needsReencryption(sealedUnderK1)).toBe(true);
    });

    it('seals new values under the active key', () => {
      const sealed = rotated.encrypt('ana@example.com', cell);
      expect(sealed.startsWith('v1:k2:')).toBe(true);
      expect(rotated.needsReencryption(sealed)).toBe(false);
    });

    it('cannot decrypt a value whose key has left the ring', () => {
      const sealedUnderK2 = rotated.encrypt('ana@example.com', cell);
      expect(() => oldRing.decrypt(sealedUnderK2, cell)).toThrow('no key "k2"');
    });
  });
});

describe('key ring configuration', () => {
  it.each([
    ['', 'entry 1 must be keyId:base64'],
    ['k1', 'entry 1 must be keyId:base64'],
    ['k1:c2hvcnQ=', 'key "k1" must be 32 bytes'],
    [`${key1},${key1}`, 'lists key "k1" twice'],
    [`bad id:${key1.split(':')[1]}`, 'entry 1 must be keyId:base64'],
  ])('refuses %j with a clear message', (spec, message) => {
    expect(() => parseKeyRing(spec, 'DURAPAY_FIELD_KEYS')).toThrow(ConfigError);
    expect(() => parseKeyRing(spec, 'DURAPAY_FIELD_KEYS')).toThrow(message);
  });

  it('never echoes key material in errors', () => {
    const material = 'c2VjcmV0LXNlY3JldC1zZWNyZXQ=';
    expect(() => parseKeyRing(`k1:${material}`, 'DURAPAY_FIELD_KEYS')).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining(material) as unknown }),
    );
  });

  it('generates one development key into the data folder, warns, and reuses it', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'durapay-keys-'));
    const warnings: string[] = [];
    const first = loadOrCreateDevKeyRing(undefined, dataDir, 'DURAPAY_FIELD_KEYS', (w) => warnings.push(w));
    const second = loadOrCreateDevKeyRing(undefined, dataDir, 'DURAPAY_FIELD_KEYS', (w) => warnings.push(w));
    expect(second.keys.get(second.activeKeyId)).toEqual(first.keys.get(first.activeKeyId));
    expect(warnings[0]).toMatch(/generated a development key/);
    const file = fs.readdirSync(dataDir).map((name) => path.join(dataDir, name))[0]!;
    expect(fs.statSync(file).mode & 0o077).toBe(0);
  });

  it("gives each installation's development key its own id, so another installation's value reads as an unknown key", () => {
    const ringIn = () =>
      loadOrCreateDevKeyRing(
        undefined,
        fs.mkdtempSync(path.join(os.tmpdir(), 'durapay-keys-')),
        'DURAPAY_FIELD_KEYS',
        () => {},
      );
    const here = ringIn();
    const elsewhere = ringIn();
    expect(here.activeKeyId).toMatch(/^dev-[0-9a-f]{8}$/);
    expect(elsewhere.activeKeyId).not.toBe(here.activeKeyId);
    const sealedElsewhere = new FieldCipher(elsewhere).encrypt('ada@example.com', cell);
    expect(() => new FieldCipher(here).decrypt(sealedElsewhere, cell)).toThrow(
      `no key "${elsewhere.activeKeyId}" in the key ring`,
    );
  });
});
