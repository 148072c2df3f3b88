import { FieldCipher, FieldDecryptionError } from '../../src/crypto/field-cipher';
import { FieldCipherThread } from '../../src/crypto/field-cipher-thread';
import { generateKeySpec, parseKeyRing } from '../../src/crypto/key-ring';

describe('FieldCipherThread', () => {
  const k1 = generateKeySpec('k1');
  const cipher = new FieldCipher(parseKeyRing(`${generateKeySpec('k2')},${k1}`, 'test'));
  const rowIds = Array.from({ length: 500 }, (_, i) => `ORD-${i}`);
  const emails = rowIds.map((id) => `${id.toLowerCase()}@example.com`);
  const sealed = emails.map((email, i) =>
    cipher.encrypt(email, { table: 'orders', column: 'customer_email_enc', rowId: rowIds[i]! }),
  );
  let thread: FieldCipherThread;

  beforeEach(() => {
    thread = new FieldCipherThread(cipher);
  });

  afterEach(async () => {
    await thread.close();
  });

  it('decrypts a column in order, as the cipher does, with every key of the ring', async () => {
    await expect(thread.decryptColumn('orders', 'customer_email_enc', sealed, rowIds)).resolves.toEqual(
      emails,
    );
    // Sealed before a rotation, under the key that is now the older one.
    const beforeRotation = new FieldCipher(parseKeyRing(k1, 'test'));
    const old = beforeRotation.encrypt('old@example.com', {
      table: 'orders',
      column: 'customer_email_enc',
      rowId: 'ORD-0',
    });
    await expect(thread.decryptColumn('orders', 'customer_email_enc', [old], ['ORD-0'])).resolves.toEqual([
      'old@example.com',
    ]);
  });

  it('answers requests in flight together, each with its own values', async () => {
    const [first, second, empty] = await Promise.all([
      thread.decryptColumn('orders', 'customer_email_enc', sealed.slice(0, 250), rowIds.slice(0, 250)),
      thread.decryptColumn('orders', 'customer_email_enc', sealed.slice(250), rowIds.slice(250)),
      thread.decryptColumn('orders', 'customer_email_enc', [], []),
    ]);
    expect(first).toEqual(emails.slice(0, 250));
    expect(second).toEqual(emails.slice(250));
    expect(empty).toEqual([]);
  });

  it('gives a value that does not decrypt as its error, in its place, and the others in clear', async () => {
    const copied = [sealed[0]!, sealed[0]!, 'not sealed', sealed[3]!];
    const cells = await thread.decryptColumn('orders', 'customer_email_enc', copied, rowIds.slice(0, 4));
    expect(cells[0]).toBe(emails[0]);
    expect(cells[1]).toEqual(
      new FieldDecryptionError('ciphertext does not authenticate for orders.customer_email_enc of row ORD-1'),
    );
    expect(cells[2]).toEqual(new FieldDecryptionError('value is not a v1 field ciphertext'));
    expect(cells[3]).toBe(emails[3]);
  });

  it('refuses work once closed', async () => {
    await thread.close();
    await expect(thread.decryptColumn('orders', 'customer_email_enc', sealed, rowIds)).rejects.toThrow(
      'the cipher thread is closed',
    );
  });
});
