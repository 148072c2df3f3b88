/**
 * Rows in every encrypted column, for the key-rotation tests: orders (email, sometimes a name), card payments
 * (every other one still pending with its CVC) and staged upload rows. Returns what each value must decrypt to.
 */
import { CardFingerprinter } from '../../src/crypto/card-fingerprint';
import { FieldCipher } from '../../src/crypto/field-cipher';
import { parseKeyRing } from '../../src/crypto/key-ring';
import { readSealedBatch, sealedLocation } from '../../src/db/encrypted-columns';
import type { Db } from '../../src/db/knex';
import { ORDERS, PAYMENTS, newCardPaymentRow, newOrderRow } from '../../src/db/orders';
import { BlockStager, blockPlaintext, createUpload, stagedRowJson } from '../../src/db/uploads';
import { emptyFields } from '../../src/domain/uploads/rows';
import { ENCRYPTED_COLUMNS, type EncryptedColumn } from '../../src/workflows/keys/messages';

export type Plaintexts = Record<EncryptedColumn, Map<string, string>>;

export const cipherOf = (...keySpecs: string[]): FieldCipher =>
  new FieldCipher(parseKeyRing(keySpecs.join(','), 'test'));

export function emptyPlaintexts(): Plaintexts {
  return Object.fromEntries(ENCRYPTED_COLUMNS.map((column) => [column, new Map()])) as Plaintexts;
}

/** Writes `orders` orders (each with a card payment, every third also named) and `staged` staged rows. */
export async function seedEncryptedRows(
  db: Db,
  cipher: FieldCipher,
  fingerprinter: CardFingerprinter,
  options: { prefix: string; orders: number; staged: number },
  expected: Plaintexts = emptyPlaintexts(),
): Promise<Plaintexts> {
  const now = new Date();
  const orders = [];
  const payments = [];
  for (let i = 0; i < options.orders; i++) {
    const orderId = `${options.prefix}-${String(i).padStart(6, '0')}`;
    const email = `c${i}@example.com`;
    const name = i % 3 === 0 ? `Customer ${i}` : undefined;
    orders.push({
      ...newOrderRow(
        { orderId, amount: 1000, currency: 'USD', customer: { email, ...(name ? { name } : {}) } },
        cipher,
        now,
      ),
      amount_paid: '0',
    });
    expected['orders.customer_email_enc'].set(orderId, email);
    if (name) expected['orders.customer_name_enc'].set(orderId, name);
    const cardNumber = i % 2 === 0 ? '4242424242424242' : '5555555555554444';
    const paymentId = `${orderId}-p`;
    const cvc = i % 2 === 1 ? String(100 + (i % 900)) : undefined;
    payments.push(
      newCardPaymentRow(
        { paymentId, orderId, amount: 1000, currency: 'USD', cardNumber, ...(cvc ? { cvc } : {}) },
        cipher,
        fingerprinter,
        now,
      ),
    );
    expected['payments.card_number_enc'].set(paymentId, cardNumber);
    if (cvc) expected['payments.card_cvc_enc'].set(paymentId, cvc);
  }
  for (let start = 0; start < orders.length; start += 1000) {
    await db(ORDERS).insert(orders.slice(start, start + 1000));
    await db(PAYMENTS).insert(payments.slice(start, start + 1000));
  }

  const uploadId = `${options.prefix}-upload`;
  await createUpload(db, uploadId, 'csv', now);
  // One row per chunk, so each staged row is a block of its own.
  const rows = Array.from({ length: options.staged }, (_, rowNo) => ({
    row: {
      line: rowNo + 2,
      fields: { ...emptyFields(), order_id: `U-${rowNo}`, card_number: '4242424242424242' },
    },
    rowNo,
    chunk: rowNo,
  }));
  const stager = new BlockStager(db, cipher, uploadId);
  for (const row of rows) stager.add(row.chunk, row.row.line, stagedRowJson(row));
  await stager.flush();
  for (const row of rows) {
    expected['upload_rows.fields_enc'].set(`${uploadId}/${row.rowNo}`, blockPlaintext([row]));
  }
  return expected;
}

/** Every value of every encrypted column: its key id, and its plaintext under `cipher`, by row. */
export async function readEncryptedRows(
  db: Db,
  cipher: FieldCipher,
): Promise<Record<EncryptedColumn, Map<string, { keyId: string; plaintext: string }>>> {
  const all = {} as Record<EncryptedColumn, Map<string, { keyId: string; plaintext: string }>>;
  for (const column of ENCRYPTED_COLUMNS) {
    const values = await readSealedBatch(db, column, null, 1_000_000);
    all[column] = new Map(
      values.map((value) => [
        value.key.join('/'),
        {
          keyId: value.sealed.split(':')[1]!,
          plaintext: cipher.decrypt(value.sealed, sealedLocation(column, value.key)),
        },
      ]),
    );
  }
  return all;
}
