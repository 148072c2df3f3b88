import path from 'node:path';
import { Readable } from 'node:stream';
import { CSV_HEADER } from '../../src/api/uploads/csv-rows';
import { stageUpload, type StagedUpload } from '../../src/api/uploads/staging';
import type { FieldCipher } from '../../src/crypto/field-cipher';
import type { Db } from '../../src/db/knex';
import { DomainError } from '../../src/domain/errors';
import { emptyFields, type RawFields, type RawRow } from '../../src/domain/uploads/rows';

export const FIXTURES = path.join(__dirname, '..', 'fixtures', 'uploads');

/** A valid order's columns and a valid COMPLETED card payment of its full amount. */
export const ORDER_FIELDS = {
  order_id: 'ORD-1',
  order_amount: '100.00',
  currency: 'USD',
  order_status: 'COMPLETED',
  created_at: '2026-03-01T09:15:00Z',
  customer_email: 'ana@example.com',
} as const;

export const PAYMENT_FIELDS = {
  payment_id: 'PAY-1',
  payment_amount: '100.00',
  payment_status: 'COMPLETED',
  payment_method: 'CARD',
  card_number: '4242424242424242',
} as const;

/** A payment row of the valid order, with `fields` overriding. */
export function paymentRow(line: number, fields: Partial<RawFields> = {}): RawRow {
  return { line, fields: { ...emptyFields(), ...ORDER_FIELDS, ...PAYMENT_FIELDS, ...fields } };
}

/** A row of the valid order without payment, with `fields` overriding. */
export function orderRow(line: number, fields: Partial<RawFields> = {}): RawRow {
  return { line, fields: { ...emptyFields(), ...ORDER_FIELDS, ...fields } };
}

export function chunks(bytes: Uint8Array, size: number): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return parts;
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** The code and message of the DomainError that `promise` rejects with. */
export async function rejectionOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a DomainError');
}

/** Stages a CSV of `lines` under the upload header, as the API does, in chunks of `chunkRows`. */
export function stageCsvLines(
  db: Db,
  cipher: FieldCipher,
  lines: string[],
  chunkRows: number,
): Promise<StagedUpload> {
  return stageUpload(
    { db, cipher, now: () => new Date() },
    {
      format: 'csv',
      body: Readable.from([Buffer.from([CSV_HEADER, ...lines].join('\n'))]),
      maxBytes: 1 << 20,
      chunkRows,
    },
  );
}
