import { CardFingerprinter } from '../../src/crypto/card-fingerprint';
import { FieldCipher } from '../../src/crypto/field-cipher';
import { generateKeySpec, parseKeyRing } from '../../src/crypto/key-ring';
import type { Db } from '../../src/db/knex';
import { insertOrder, insertPayment, newCardPaymentRow, newOrderRow } from '../../src/db/orders';

export const testCipher = (): FieldCipher => new FieldCipher(parseKeyRing(generateKeySpec('test1'), 'test'));
export const testFingerprinter = (): CardFingerprinter =>
  new CardFingerprinter(parseKeyRing(generateKeySpec('fp1'), 'test'));

/** Writes the rows the API writes before it talks to the workflow, for tests that drive the workflow directly. */
export async function seedOrder(db: Db, cipher: FieldCipher, order: { orderId: string; amount: number }) {
  await insertOrder(db, newOrderRow({ ...order, currency: 'USD' }, cipher, new Date()));
}

export async function seedPayment(
  db: Db,
  cipher: FieldCipher,
  payment: { paymentId: string; orderId: string; amount: number; cardNumber: string },
  fingerprinter = testFingerprinter(),
) {
  await insertPayment(
    db,
    newCardPaymentRow({ ...payment, currency: 'USD' }, cipher, fingerprinter, new Date()),
  );
}
