import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { generateKeySpec, parseKeyRing } from '../../src/crypto/key-ring';
import {
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  KEY_ID_METADATA,
  PayloadDecryptionError,
} from '../../src/temporal/payload-codec';

const oldKey = generateKeySpec('k1');
const newKey = generateKeySpec('k2');
const secret = { card: '4242424242424242', email: 'zoe@example.com', amount: '123.45' };

const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const plain = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);

async function encodeOne(codec: EncryptionCodec, payload: Payload): Promise<Payload> {
  const [encoded] = await codec.encode([payload]);
  return encoded!;
}

describe('EncryptionCodec', () => {
  const codec = new EncryptionCodec(parseKeyRing(oldKey, 'test'));

  it('round-trips payloads, metadata included', async () => {
    const payloads = [plain(secret), plain(undefined), plain(new Uint8Array([0, 1, 255]))];
    const decoded = await codec.decode(await codec.encode(payloads));
    expect(decoded.map((payload) => defaultPayloadConverter.fromPayload(payload))).toEqual([
      secret,
      undefined,
      new Uint8Array([0, 1, 255]),
    ]);
    expect(text(decoded[0]!.metadata!.encoding)).toBe('json/plain');
  });

  it('marks each payload encrypted with the id of the key that encrypted it', async () => {
    const encoded = await encodeOne(codec, plain(secret));
    expect(Object.keys(encoded.metadata!).sort()).toEqual(['encoding', KEY_ID_METADATA].sort());
    expect(text(encoded.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(encoded.metadata![KEY_ID_METADATA])).toBe('k1');
  });

  it('shows nothing of the plaintext, not even its encoding, and uses a fresh IV each time', async () => {
    const [a, b] = await codec.encode([plain(secret), plain(secret)]);
    const bytes = Buffer.concat([a!.data!, b!.data!]).toString('latin1');
    for (const clear of [...Object.values(secret), 'json/plain', '12345']) expect(bytes).not.toContain(clear);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('encrypts with the first key and still decrypts what a retired key encrypted', async () => {
    const before = await encodeOne(codec, plain(secret));
    const rotated = new EncryptionCodec(parseKeyRing(`${newKey},${oldKey}`, 'test'));
    const after = await encodeOne(rotated, plain(secret));
    expect(text(after.metadata![KEY_ID_METADATA])).toBe('k2');
    const decoded = await rotated.decode([before, after]);
    expect(decoded.map((payload) => defaultPayloadConverter.fromPayload(payload))).toEqual([secret, secret]);
  });

  it('refuses a payload whose key is not in the ring', async () => {
    const encoded = await encodeOne(new EncryptionCodec(parseKeyRing(newKey, 'test')), plain(secret));
    await expect(codec.decode([encoded])).rejects.toThrow(PayloadDecryptionError);
  });

  it.each([
    ['a flipped ciphertext bit', (payload: Payload) => flipByte(payload, 20)],
    ['a flipped tag bit', (payload: Payload) => flipByte(payload, payload.data!.length - 1)],
    ['a truncated payload', (payload: Payload) => ({ ...payload, data: payload.data!.subarray(0, 20) })],
    [
      'a relabelled key id',
      (payload: Payload) => ({
        ...payload,
        metadata: { ...payload.metadata, [KEY_ID_METADATA]: Buffer.from('k2') },
      }),
    ],
  ])('refuses %s', async (_name, tamper) => {
    const ring = new EncryptionCodec(parseKeyRing(`${oldKey},${newKey}`, 'test'));
    const encoded = await encodeOne(ring, plain(secret));
    await expect(ring.decode([tamper(encoded)])).rejects.toThrow(PayloadDecryptionError);
  });

  it('passes unencrypted payloads through, so histories from before encryption still read', async () => {
    const payloads = [plain(secret), plain(null), { metadata: {}, data: new Uint8Array() }];
    expect(await codec.decode(payloads)).toEqual(payloads);
  });
});

function flipByte(payload: Payload, index: number): Payload {
  const data = Buffer.from(payload.data!);
  data[index] = data[index]! ^ 0x01;
  return { ...payload, data };
}
