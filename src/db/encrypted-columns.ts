/**
 * Every column holding FieldCipher ciphertexts, for the key rotation: how to walk it by primary key, which
 * cell location each value is sealed to, and compare-and-set rewrites. Plus the rotation's batch records.
 */
import type { Knex } from 'knex';
import type { FieldLocation } from '../crypto/field-cipher';
import type { ColumnCounts, EncryptedColumn, RowCursor } from '../workflows/keys/messages';
import type { Db } from './knex';
import { CARD_CVC_COLUMN, CARD_NUMBER_COLUMN, ORDERS, PAYMENTS } from './orders';
import { UPLOAD_ROWS, stagedLocation } from './uploads';

interface ColumnSpec {
  table: string;
  column: string;
  /** The primary key's columns, in index order: batches walk it. */
  primaryKey: string[];
  location(key: RowCursor): FieldLocation;
}

const singleKeyColumn = (table: string, column: string, primaryKey: string): ColumnSpec => ({
  table,
  column,
  primaryKey: [primaryKey],
  location: ([rowId]) => ({ table, column, rowId: String(rowId) }),
});

const COLUMNS: Record<EncryptedColumn, ColumnSpec> = {
  'orders.customer_email_enc': singleKeyColumn(ORDERS, 'customer_email_enc', 'order_id'),
  'orders.customer_name_enc': singleKeyColumn(ORDERS, 'customer_name_enc', 'order_id'),
  'payments.card_number_enc': singleKeyColumn(PAYMENTS, CARD_NUMBER_COLUMN, 'payment_id'),
  // Present only while a payment is pending; a rotation must still reach it, or a retired key strands it.
  'payments.card_cvc_enc': singleKeyColumn(PAYMENTS, CARD_CVC_COLUMN, 'payment_id'),
  'upload_rows.fields_enc': {
    table: UPLOAD_ROWS,
    column: 'fields_enc',
    primaryKey: ['upload_id', 'row_no'],
    location: ([uploadId, rowNo]) => stagedLocation(String(uploadId), Number(rowNo)),
  },
};

export const sealedLocation = (column: EncryptedColumn, key: RowCursor): FieldLocation =>
  COLUMNS[column].location(key);

export interface SealedValue {
  key: RowCursor;
  sealed: string;
}

/** The next `limit` non-null values after `after`, in primary-key order. */
export async function readSealedBatch(
  db: Db | Knex.Transaction,
  column: EncryptedColumn,
  after: RowCursor | null,
  limit: number,
): Promise<SealedValue[]> {
  const spec = COLUMNS[column];
  const query = db(spec.table)
    .select([...spec.primaryKey, spec.column])
    .whereNotNull(spec.column)
    .orderBy(spec.primaryKey)
    .limit(limit);
  if (after) void query.where((where) => afterKey(where, spec.primaryKey, after));
  const rows = (await query) as Record<string, string | number>[];
  return rows.map((row) => ({
    key: spec.primaryKey.map((name) => row[name]!),
    sealed: String(row[spec.column]),
  }));
}

/**
 * `(k1, k2) > (v1, v2)` spelled out as `k1 > v1 OR (k1 = v1 AND k2 > v2)`: a form MariaDB's range optimiser
 * turns into an index range, unlike the row comparison.
 */
function afterKey(where: Knex.QueryBuilder, primaryKey: string[], after: RowCursor): void {
  primaryKey.forEach((_, position) => {
    void where.orWhere((range) => {
      for (let i = 0; i < position; i++) void range.where(primaryKey[i]!, after[i]!);
      void range.where(primaryKey[position]!, '>', after[position]!);
    });
  });
}

/** Replaces a value only if it is still `expected`: a concurrent writer's value wins. True if replaced. */
export async function replaceSealed(
  db: Db | Knex.Transaction,
  column: EncryptedColumn,
  { key, sealed: expected }: SealedValue,
  replacement: string,
): Promise<boolean> {
  const spec = COLUMNS[column];
  const changed = await db(spec.table)
    .where(Object.fromEntries(spec.primaryKey.map((name, i) => [name, key[i]!])))
    .andWhere(spec.column, expected)
    .update({ [spec.column]: replacement });
  return changed === 1;
}

const ROTATION_BATCHES = 'key_rotation_batches';

export type RotationBatch = ColumnCounts & { cursor: RowCursor | null };

export async function findRotationBatch(
  db: Db | Knex.Transaction,
  batchId: string,
): Promise<RotationBatch | undefined> {
  const row = (await db(ROTATION_BATCHES).where({ batch_id: batchId }).first()) as
    { scanned: number; rewritten: number; cursor: string | null } | undefined;
  return (
    row && {
      scanned: row.scanned,
      rewritten: row.rewritten,
      cursor: row.cursor === null ? null : (JSON.parse(row.cursor) as RowCursor),
    }
  );
}

export async function recordRotationBatch(
  db: Db | Knex.Transaction,
  record: RotationBatch & { batchId: string; keyId: string },
  now: Date,
): Promise<void> {
  await db(ROTATION_BATCHES).insert({
    batch_id: record.batchId,
    key_id: record.keyId,
    scanned: record.scanned,
    rewritten: record.rewritten,
    cursor: record.cursor === null ? null : JSON.stringify(record.cursor),
    created_at: now,
  });
}

export async function deleteRotationBatches(db: Db, keyId: string): Promise<void> {
  await db(ROTATION_BATCHES).where({ key_id: keyId }).delete();
}
