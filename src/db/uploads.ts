/**
 * Bulk uploads in MySQL: the upload's status and counts, its staged rows, its committed chunks and its
 * rejected rows, and the orders and payments a chunk imports.
 * Staged row values are sealed with the FieldCipher (they hold card numbers and emails).
 */
import type { Knex } from 'knex';
import type { CardFingerprinter } from '../crypto/card-fingerprint';
import type { FieldCipher, FieldLocation } from '../crypto/field-cipher';
import { parseDbDecimal, toDbDecimal } from '../domain/money';
import type { ImportOrder, ImportPayment, RawRow, RowError, RowProblem } from '../domain/uploads/rows';
import type { ChunkCounts, UploadStatus } from '../workflows/uploads/messages';
import type { Db } from './knex';
import { ORDERS, PAYMENTS, newCardPaymentRow, newOrderRow, type OrderRow, type PaymentRow } from './orders';

export type UploadFormat = 'csv' | 'xml';

export interface UploadRow {
  upload_id: string;
  format: UploadFormat;
  upload_status: UploadStatus | 'RECEIVING';
  file_sha256: string | null;
  bytes: number;
  rows_total: number;
  rows_imported: number;
  rows_rejected: number;
  chunks_total: number;
  chunks_completed: number;
  chunks_failed: number;
  failure_reason: string | null;
  started_at: Date;
  finished_at: Date | null;
}

interface StagedRow {
  upload_id: string;
  row_no: number;
  line: number;
  order_line: number | null;
  slot: number;
  is_payment: boolean | null;
  fields_enc: string;
  problems: string | null;
}

export const UPLOADS = 'uploads';
export const UPLOAD_ROWS = 'upload_rows';
const UPLOAD_ROWS_SLOT_INDEX = 'upload_rows_slot_idx';
const UPLOAD_CHUNKS = 'upload_chunks';
const UPLOAD_ERRORS = 'upload_errors';

/** Rows are hashed by order id into this many slots; chunk n of N takes slots [n·S/N, (n+1)·S/N). */
export const SLOTS = 1 << 20;

export const slotRange = (chunk: number, chunksTotal: number): [number, number] => [
  Math.floor((chunk * SLOTS) / chunksTotal),
  Math.floor(((chunk + 1) * SLOTS) / chunksTotal),
];

export async function findUpload(db: Db, uploadId: string): Promise<UploadRow | undefined> {
  return db<UploadRow>(UPLOADS).where({ upload_id: uploadId }).first();
}

export async function findUploadByDigest(db: Db, sha256: string): Promise<UploadRow | undefined> {
  return db<UploadRow>(UPLOADS).where({ file_sha256: sha256 }).first();
}

export async function createUpload(db: Db, uploadId: string, format: UploadFormat, now: Date): Promise<void> {
  await db<UploadRow>(UPLOADS).insert({
    upload_id: uploadId,
    format,
    upload_status: 'RECEIVING',
    started_at: now,
  });
}

export async function stageRows(
  db: Db,
  cipher: FieldCipher,
  uploadId: string,
  rows: { row: RawRow; rowNo: number; slot: number }[],
): Promise<void> {
  if (rows.length === 0) return;
  await db<StagedRow>(UPLOAD_ROWS).insert(
    rows.map(({ row, rowNo, slot }) => ({
      upload_id: uploadId,
      row_no: rowNo,
      line: row.line,
      order_line: row.orderLine ?? null,
      slot,
      is_payment: row.isPayment ?? null,
      fields_enc: cipher.encrypt(JSON.stringify(row.fields), stagedLocation(uploadId, rowNo)),
      problems: row.problems?.length ? JSON.stringify(row.problems) : null,
    })),
  );
}

/**
 * The staged rows of one chunk, in file order, unsealed. Through the slot index, forced: to skip sorting by
 * `row_no`, MariaDB would rather scan the primary key, which reads every staged row of the upload for every
 * chunk (43k pages, 3 s per chunk of a 1M-row upload, against a few hundred pages and 0.1 s this way).
 */
export async function stagedRowsInSlots(
  db: Db,
  cipher: FieldCipher,
  uploadId: string,
  [fromSlot, toSlot]: [number, number],
): Promise<RawRow[]> {
  const rows: StagedRow[] = await db
    .from(db.raw('?? FORCE INDEX (??)', [UPLOAD_ROWS, UPLOAD_ROWS_SLOT_INDEX]))
    .where({ upload_id: uploadId })
    .andWhere('slot', '>=', fromSlot)
    .andWhere('slot', '<', toSlot)
    .orderBy('row_no');
  return rows.map((row) => ({
    line: row.line,
    fields: JSON.parse(
      cipher.decrypt(row.fields_enc, stagedLocation(uploadId, row.row_no)),
    ) as RawRow['fields'],
    ...(row.order_line === null ? {} : { orderLine: row.order_line }),
    ...(row.is_payment === null ? {} : { isPayment: Boolean(row.is_payment) }),
    ...(row.problems === null ? {} : { problems: JSON.parse(row.problems) as RowProblem[] }),
  }));
}

export function stagedLocation(uploadId: string, rowNo: number): FieldLocation {
  return { table: UPLOAD_ROWS, column: 'fields_enc', rowId: `${uploadId}/${rowNo}` };
}

/** The file is staged: record its size, digest and chunk count, and hand it to the workflow. */
export async function markStaged(
  db: Db,
  uploadId: string,
  staged: { bytes: number; sha256: string; rowsTotal: number; chunksTotal: number },
): Promise<void> {
  await db<UploadRow>(UPLOADS).where({ upload_id: uploadId }).update({
    upload_status: 'RUNNING',
    bytes: staged.bytes,
    file_sha256: staged.sha256,
    rows_total: staged.rowsTotal,
    chunks_total: staged.chunksTotal,
  });
}

export async function deleteUpload(db: Db, uploadId: string): Promise<void> {
  await db<UploadRow>(UPLOADS).where({ upload_id: uploadId }).delete();
}

/** The counts of a chunk that has committed, or undefined if it has not. */
export async function findChunk(db: Db, uploadId: string, chunk: number): Promise<ChunkCounts | undefined> {
  const row = (await db(UPLOAD_CHUNKS).where({ upload_id: uploadId, chunk_no: chunk }).first()) as
    { rows_imported: number; rows_rejected: number } | undefined;
  return row && { rowsImported: row.rows_imported, rowsRejected: row.rows_rejected };
}

/** Call in the chunk's transaction: the record then exists exactly when the chunk's rows do. */
export async function recordChunk(
  trx: Db,
  uploadId: string,
  chunk: number,
  counts: ChunkCounts,
  now: Date,
): Promise<void> {
  await trx(UPLOAD_CHUNKS).insert({
    upload_id: uploadId,
    chunk_no: chunk,
    rows_imported: counts.rowsImported,
    rows_rejected: counts.rowsRejected,
    finished_at: now,
  });
}

/** The progress of a running upload as far as MySQL knows it: the sum of its committed chunks. */
export async function committedProgress(
  db: Db,
  uploadId: string,
): Promise<ChunkCounts & { chunksCompleted: number }> {
  const totals = (await db(UPLOAD_CHUNKS)
    .where({ upload_id: uploadId })
    .count({ chunks: '*' })
    .sum({ imported: 'rows_imported', rejected: 'rows_rejected' })
    .first()) as { chunks: number | string; imported: string | null; rejected: string | null };
  return {
    chunksCompleted: Number(totals.chunks),
    rowsImported: Number(totals.imported ?? 0),
    rowsRejected: Number(totals.rejected ?? 0),
  };
}

export async function recordRowErrors(db: Db, uploadId: string, errors: RowError[]): Promise<void> {
  if (errors.length === 0) return;
  await db(UPLOAD_ERRORS)
    .insert(
      errors.map((error) => ({
        upload_id: uploadId,
        line: error.line,
        field: error.field.slice(0, 64),
        order_id: error.orderId ?? null,
        reason: error.reason.slice(0, 512),
      })),
    )
    .onConflict(['upload_id', 'line', 'field'])
    .ignore();
}

/** Rejected rows by line, a page at a time: `after` is the last (line, field) of the previous page. */
export async function listRowErrors(
  db: Db,
  uploadId: string,
  page: { after?: { line: number; field: string }; limit: number },
): Promise<RowError[]> {
  const query = db(UPLOAD_ERRORS)
    .where({ upload_id: uploadId })
    .orderBy([{ column: 'line' }, { column: 'field' }])
    .limit(page.limit);
  if (page.after) void query.whereRaw('(line, field) > (?, ?)', [page.after.line, page.after.field]);
  const rows = (await query) as { line: number; field: string; order_id: string | null; reason: string }[];
  return rows.map((row) => ({
    line: row.line,
    field: row.field,
    reason: row.reason,
    ...(row.order_id === null ? {} : { orderId: row.order_id }),
  }));
}

/**
 * Records the upload's outcome. Its staged rows go afterwards (removeStagedRows): deleting a million of them
 * takes seconds, and the status must not wait for it.
 */
export async function finishUploadRow(
  db: Db,
  uploadId: string,
  result: Pick<
    UploadRow,
    'upload_status' | 'rows_imported' | 'rows_rejected' | 'chunks_completed' | 'chunks_failed'
  >,
  now: Date,
): Promise<void> {
  await db<UploadRow>(UPLOADS)
    .where({ upload_id: uploadId })
    .update({ ...result, finished_at: now });
}

/** Staged rows removed per statement: each DELETE a short transaction, not one holding a million row locks. */
const STAGED_ROWS_PER_DELETE = 10_000;

/**
 * Deletes a finished upload's staged rows, which only its chunks needed (the errors table keeps what operators
 * need), a bounded statement at a time; `progress` is called after each. Safe to run again.
 */
export async function removeStagedRows(
  db: Db,
  uploadId: string,
  progress: () => void = () => {},
  rowsPerDelete: number = STAGED_ROWS_PER_DELETE,
): Promise<number> {
  let removed = 0;
  for (;;) {
    // Raw: knex drops the LIMIT of a DELETE.
    const [{ affectedRows: deleted }] = (await db.raw('DELETE FROM ?? WHERE upload_id = ? LIMIT ?', [
      UPLOAD_ROWS,
      uploadId,
      rowsPerDelete,
    ])) as [{ affectedRows: number }];
    removed += deleted;
    progress();
    if (deleted < rowsPerDelete) return removed;
  }
}

/** An order an upload may not write: its id, or one of its payments' ids, holds other data. */
export interface ImportClash {
  order: ImportOrder;
  reason: string;
}

/**
 * Orders already in the database are either this same import seen again (identical: nothing to write) or
 * someone else's data under the same id, which an upload must never overwrite.
 */
export async function sortAgainstExisting(trx: Knex.Transaction, orders: ImportOrder[]) {
  const ids = orders.map((order) => order.orderId);
  const paymentIds = orders.flatMap((order) => order.payments.map((payment) => payment.paymentId));
  const orderRows: OrderRow[] = await trx<OrderRow>(ORDERS).whereIn('order_id', ids);
  const paymentRows: PaymentRow[] = await trx<PaymentRow>(PAYMENTS).whereIn('payment_id', paymentIds);
  const existingOrders = new Map(orderRows.map((row) => [row.order_id, row]));
  const existingPayments = new Map(paymentRows.map((row) => [row.payment_id, row]));
  const fresh: ImportOrder[] = [];
  const same: ImportOrder[] = [];
  const clashes: ImportClash[] = [];
  for (const order of orders) {
    const existing = existingOrders.get(order.orderId);
    const takenPayment = order.payments.find((payment) => {
      const row = existingPayments.get(payment.paymentId);
      return row && (row.order_id !== order.orderId || !samePayment(row, payment, order.currency));
    });
    if (takenPayment) {
      clashes.push({ order, reason: `payment_id ${takenPayment.paymentId} already exists with other data` });
    } else if (!existing) {
      fresh.push(order);
    } else if (sameOrder(existing, order) && order.payments.every((p) => existingPayments.has(p.paymentId))) {
      same.push(order);
    } else {
      clashes.push({ order, reason: `order_id ${order.orderId} already exists with other data` });
    }
  }
  return { fresh, same, clashes };
}

function sameOrder(row: OrderRow, order: ImportOrder): boolean {
  return (
    row.currency === order.currency &&
    parseDbDecimal(row.order_amount, row.currency) === order.amount &&
    row.order_status === order.status &&
    row.created_at.getTime() === Date.parse(order.createdAt)
  );
}

function samePayment(row: PaymentRow, payment: ImportPayment, currency: string): boolean {
  return (
    parseDbDecimal(row.payment_amount, currency) === payment.amount &&
    row.payment_status === payment.status &&
    row.payment_method === payment.method
  );
}

/** How imported values are protected: sealed by the cipher, card numbers also fingerprinted. */
interface Protection {
  cipher: FieldCipher;
  fingerprinter: CardFingerprinter;
}

export async function insertOrders(
  trx: Knex.Transaction,
  orders: ImportOrder[],
  { cipher, fingerprinter }: Protection,
  now: Date,
) {
  if (orders.length === 0) return;
  const orderRows = orders.map((order) => {
    const createdAt = new Date(order.createdAt);
    const paid = order.payments
      .filter((payment) => payment.status === 'COMPLETED')
      .reduce((sum, payment) => sum + payment.amount, 0);
    return {
      ...newOrderRow(
        {
          orderId: order.orderId,
          amount: order.amount,
          currency: order.currency,
          ...(order.customerEmail ? { customer: { email: order.customerEmail } } : {}),
        },
        cipher,
        createdAt,
      ),
      order_status: order.status,
      amount_paid: toDbDecimal(paid, order.currency),
      updated_at: now,
    };
  });
  const paymentRows = orders.flatMap((order) =>
    order.payments.map((payment) =>
      importedPaymentRow(order, payment, { cipher, fingerprinter }, new Date(order.createdAt), now),
    ),
  );
  for (const batch of chunked(orderRows, 500)) await trx(ORDERS).insert(batch);
  for (const batch of chunked(paymentRows, 500)) await trx(PAYMENTS).insert(batch);
}

function importedPaymentRow(
  order: ImportOrder,
  payment: ImportPayment,
  { cipher, fingerprinter }: Protection,
  createdAt: Date,
  now: Date,
): PaymentRow {
  const base = { payment_status: payment.status, failure_reason: null, updated_at: now };
  if (payment.cardNumber) {
    const row = newCardPaymentRow(
      {
        paymentId: payment.paymentId,
        orderId: order.orderId,
        amount: payment.amount,
        currency: order.currency,
        cardNumber: payment.cardNumber,
      },
      cipher,
      fingerprinter,
      createdAt,
    );
    return { ...row, ...base };
  }
  return {
    payment_id: payment.paymentId,
    order_id: order.orderId,
    payment_amount: toDbDecimal(payment.amount, order.currency),
    payment_method: payment.method,
    // An exported file carries brand and last 4 only: the full number was never exported.
    card_brand: payment.cardBrand ?? null,
    card_last4: payment.cardLast4 ?? null,
    card_number_enc: null,
    card_fingerprint: null,
    card_exp_month: null,
    card_exp_year: null,
    card_cvc_enc: null,
    idempotency_key: null,
    request_hash: null,
    created_at: createdAt,
    ...base,
  };
}

function chunked<T>(items: T[], size: number): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  return batches;
}
