/**
 * Bulk uploads in MySQL: the upload's status and counts, its staged rows, its committed chunks and its
 * rejected rows, and the orders and payments a chunk imports.
 * Staged rows are deflated and sealed with the FieldCipher in blocks (they hold card numbers and emails).
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Knex } from 'knex';
import { escape, format, raw } from 'mysql2';
import type { CardFingerprinter } from '../crypto/card-fingerprint';
import type { FieldCipher, FieldLocation } from '../crypto/field-cipher';
import { parseDbDecimal, toDbDecimal } from '../domain/money';
import type { ImportOrder, ImportPayment, RawRow, RowError, RowProblem } from '../domain/uploads/rows';
import type { ChunkCounts, UploadStatus } from '../workflows/uploads/messages';
import { CONNECTION_SETTINGS, isDuplicateKey, runStatement, type Db } from './knex';
import { ORDERS, PAYMENTS, newCardPaymentRow, newOrderRow, type OrderRow, type PaymentRow } from './orders';

export type UploadFormat = 'csv' | 'xml';

/**
 * How an upload's rows are split into chunks. FILE_ORDER: each staged block belongs to one chunk, whose number
 * is the block's `slot` (ChunkAssigner). SLOT_RANGES: uploads staged by earlier releases, whose rows are filed
 * by their order id's hash into SLOTS slots, chunk n of N taking a range of them; it can go once no such upload
 * is RUNNING.
 */
export type ChunkLayout = 'FILE_ORDER' | 'SLOT_RANGES';

export interface UploadRow {
  upload_id: string;
  format: UploadFormat;
  chunk_layout: ChunkLayout;
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

/** A record of UPLOAD_ROWS: a block; order_line, is_payment and problems only in older one-row records. */
interface StagedRecord {
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

/** SLOT_RANGES: rows are hashed by order id into this many slots; chunk n of N takes slots [n·S/N, (n+1)·S/N). */
export const SLOTS = 1 << 20;

/** SLOT_RANGES: a block held the rows of one bin, SLOTS_PER_BIN consecutive slots. */
export const SLOTS_PER_BIN = SLOTS / 1024;

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
    chunk_layout: 'FILE_ORDER',
    upload_status: 'RECEIVING',
    started_at: now,
  });
}

/** A row as the API stages it: its place in the file and its chunk. */
export interface StagedRow {
  row: RawRow;
  rowNo: number;
  chunk: number;
}

/**
 * Rows are staged in blocks, not one by one: rows of one chunk from one stretch of the file, sealed together as
 * one value, so a chunk reads its own blocks. One seal and one record per block instead of per row. A block is
 * closed at about this many characters of JSON (a longer row stands alone), so a key-rotation batch of blocks
 * stays a few tens of megabytes.
 */
const BLOCK_CHARS = 64 * 1024;
/** Blocks per INSERT: a few megabytes, below MariaDB's packet limit. */
const BLOCKS_PER_INSERT = 32;

const STAGED_COLUMNS = ['upload_id', 'row_no', 'line', 'slot', 'fields_enc'] as const;

/** What a block seals: its rows as `[rowNo, chunk, row]` (SLOT_RANGES: slot for chunk), in file order, deflated. */
export function blockPlaintext(rows: readonly StagedRow[]): string {
  return blockText(rows.map(stagedRowJson));
}

/** One staged row as its block holds it. */
export const stagedRowJson = ({ rowNo, chunk, row }: StagedRow) => JSON.stringify([rowNo, chunk, row]);

/**
 * A block's JSON is deflated before it is sealed: its rows repeat the same keys and shapes, so MariaDB writes,
 * logs, reads back and deletes a fraction of the bytes. Blocks staged before carry plain JSON (no prefix).
 */
const DEFLATED = 'z:';
const blockText = (rowsJson: readonly string[]) =>
  DEFLATED + deflateRawSync(`[${rowsJson.join(',')}]`, { level: 1 }).toString('base64');
const blockJson = (plaintext: string) =>
  plaintext.startsWith(DEFLATED)
    ? inflateRawSync(Buffer.from(plaintext.slice(DEFLATED.length), 'base64')).toString('utf8')
    : plaintext;

/**
 * Stages an upload's rows as blocks. `add` files each row under its chunk as it arrives; `flush` deflates, seals
 * and writes the blocks held so far, numbering them on from the last flush. A block record's `row_no` is its
 * block number, `slot` its chunk, `line` its first row's line.
 */
export class BlockStager {
  private chunks = new Map<number, { json: string[]; chars: number; line: number }[]>();
  private nextBlock = 0;
  /** Rows held since the last flush. */
  held = 0;

  constructor(
    private readonly db: Db,
    private readonly cipher: FieldCipher,
    private readonly uploadId: string,
  ) {}

  /** Files a row under its chunk, with its line in the file and its `stagedRowJson`. */
  add(chunk: number, line: number, json: string): void {
    let blocks = this.chunks.get(chunk);
    if (!blocks) {
      blocks = [];
      this.chunks.set(chunk, blocks);
    }
    let block = blocks[blocks.length - 1];
    if (!block || block.chars + json.length > BLOCK_CHARS) {
      block = { json: [], chars: 0, line };
      blocks.push(block);
    }
    block.json.push(json);
    block.chars += json.length + 1;
    this.held += 1;
  }

  async flush(): Promise<void> {
    const records: unknown[][] = [];
    for (const [chunk, blocks] of this.chunks) {
      for (const block of blocks) {
        const blockNo = this.nextBlock++;
        const sealed = this.cipher.encrypt(blockText(block.json), stagedLocation(this.uploadId, blockNo));
        records.push([this.uploadId, blockNo, block.line, chunk, sealed]);
      }
    }
    this.chunks = new Map();
    this.held = 0;
    for (const batch of chunked(records, BLOCKS_PER_INSERT)) {
      await insertValues(this.db, UPLOAD_ROWS, STAGED_COLUMNS, batch);
    }
  }
}

/** The staged rows of one chunk of an upload, in file order, unsealed. */
export async function stagedRowsOfChunk(
  db: Db,
  cipher: FieldCipher,
  upload: Pick<UploadRow, 'upload_id' | 'chunk_layout' | 'chunks_total'>,
  chunk: number,
): Promise<RawRow[]> {
  if (upload.chunk_layout === 'SLOT_RANGES') {
    return stagedRowsInSlots(db, cipher, upload.upload_id, slotRange(chunk, upload.chunks_total));
  }
  const [records] = (await db.raw(
    'SELECT row_no, fields_enc FROM ?? FORCE INDEX (??) WHERE upload_id = ? AND slot = ?',
    [UPLOAD_ROWS, UPLOAD_ROWS_SLOT_INDEX, upload.upload_id, chunk],
  )) as [Pick<StagedRecord, 'row_no' | 'fields_enc'>[]];
  const rows: [number, RawRow][] = [];
  for (const record of records) {
    for (const [rowNo, , row] of unsealBlock(cipher, upload.upload_id, record) as [
      number,
      number,
      RawRow,
    ][]) {
      rows.push([rowNo, row]);
    }
  }
  return inFileOrder(rows);
}

const unsealBlock = (
  cipher: FieldCipher,
  uploadId: string,
  record: Pick<StagedRecord, 'row_no' | 'fields_enc'>,
) =>
  JSON.parse(
    blockJson(cipher.decrypt(record.fields_enc, stagedLocation(uploadId, record.row_no))),
  ) as unknown;

const inFileOrder = (rows: [number, RawRow][]) => rows.sort((a, b) => a[0] - b[0]).map(([, row]) => row);

/**
 * SLOT_RANGES: the staged rows of a slot range, in file order, unsealed: the blocks of the bins the range
 * touches, through the slot index (forced: MariaDB would rather scan the primary key, every block of the
 * upload). A record staged one row per record by an earlier version (a JSON object of fields) is one row.
 */
export async function stagedRowsInSlots(
  db: Db,
  cipher: FieldCipher,
  uploadId: string,
  [fromSlot, toSlot]: [number, number],
): Promise<RawRow[]> {
  const [records] = (await db.raw(
    'SELECT row_no, line, order_line, slot, is_payment, fields_enc, problems FROM ?? FORCE INDEX (??) ' +
      'WHERE upload_id = ? AND slot >= ? AND slot < ?',
    [
      UPLOAD_ROWS,
      UPLOAD_ROWS_SLOT_INDEX,
      uploadId,
      Math.floor(fromSlot / SLOTS_PER_BIN) * SLOTS_PER_BIN,
      toSlot,
    ],
  )) as [Omit<StagedRecord, 'upload_id'>[]];
  const rows: [number, RawRow][] = [];
  for (const record of records) {
    const value = unsealBlock(cipher, uploadId, record) as [number, number, RawRow][] | RawRow['fields'];
    if (!Array.isArray(value)) {
      if (record.slot >= fromSlot) rows.push([record.row_no, legacyRow(record, value)]);
      continue;
    }
    for (const [rowNo, slot, row] of value) {
      if (slot >= fromSlot && slot < toSlot) rows.push([rowNo, row]);
    }
  }
  return inFileOrder(rows);
}

function legacyRow(record: Omit<StagedRecord, 'upload_id'>, fields: RawRow['fields']): RawRow {
  const row: RawRow = { line: record.line, fields };
  if (record.order_line !== null) row.orderLine = record.order_line;
  if (record.is_payment !== null) row.isPayment = Boolean(record.is_payment);
  if (record.problems !== null) row.problems = JSON.parse(record.problems) as RowProblem[];
  return row;
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

/**
 * Removes an upload that never became one (refused, or the same file as an earlier upload): its staged rows
 * in bounded statements first, so the last DELETE, which cascades, has nothing big left to lock.
 */
export async function deleteUpload(db: Db, uploadId: string): Promise<void> {
  await removeStagedRows(db, uploadId);
  await db<UploadRow>(UPLOADS).where({ upload_id: uploadId }).delete();
}

/** Keyset pagination on (started_at, upload_id), newest first; an upload still receiving its file is not listed. */
export async function listUploads(
  db: Db,
  query: { status?: UploadStatus; limit: number; after?: { startedAt: Date; uploadId: string } },
): Promise<UploadRow[]> {
  const rows = db<UploadRow>(UPLOADS)
    .whereNot('upload_status', 'RECEIVING')
    .orderBy([
      { column: 'started_at', order: 'desc' },
      { column: 'upload_id', order: 'desc' },
    ])
    .limit(query.limit);
  if (query.status) void rows.where('upload_status', query.status);
  if (query.after)
    void rows.whereRaw('(started_at, upload_id) < (?, ?)', [query.after.startedAt, query.after.uploadId]);
  return await rows;
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
 * Records the upload's outcome. Its staged blocks go afterwards (removeStagedRows), so the status
 * never waits for their removal.
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

/** Staged blocks removed per statement: each DELETE a short transaction of a few megabytes. */
const STAGED_ROWS_PER_DELETE = 200;

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
 * Writes a chunk's valid orders. First all of them, under a savepoint: an import of new orders, the common case,
 * needs no lookup. A duplicate key undoes that attempt, and the orders are then sorted against what exists
 * (sortAgainstExisting) and only the fresh ones written.
 */
export async function importOrders(
  trx: Knex.Transaction,
  orders: ImportOrder[],
  protection: Protection,
  now: Date,
): Promise<{ fresh: ImportOrder[]; same: ImportOrder[]; clashes: ImportClash[] }> {
  try {
    await trx.transaction((savepoint) => insertOrders(savepoint, orders, protection, now));
    return { fresh: orders, same: [], clashes: [] };
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
  }
  const sorted = await sortAgainstExisting(trx, orders);
  await insertOrders(trx, sorted.fresh, protection, now);
  return sorted;
}

/**
 * Orders already in the database are either this same import seen again (identical: nothing to write) or
 * someone else's data under the same id, which an upload must never overwrite.
 */
async function sortAgainstExisting(trx: Knex.Transaction, orders: ImportOrder[]) {
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

/**
 * Writes the orders ROWS_PER_INSERT at a time, each slice's order rows then their payments: the sealed rows of one
 * slice are built, written and dropped before the next, so a chunk holds its staged rows and one slice's rows at
 * most, not every row twice over.
 */
async function insertOrders(trx: Knex.Transaction, orders: ImportOrder[], protection: Protection, now: Date) {
  for (const slice of chunked(orders, ROWS_PER_INSERT)) {
    // One for the order and its payments' statements: they share the order's `created_at` and `now`.
    const sqlValue = sqlValues();
    await insertObjects(
      trx,
      ORDERS,
      slice.map((order) => importedOrderRow(order, protection.cipher, now)),
      sqlValue,
    );
    const paymentRows = slice.flatMap((order) =>
      order.payments.map((payment) =>
        importedPaymentRow(order, payment, protection, new Date(order.createdAt), now),
      ),
    );
    for (const batch of chunked(paymentRows, ROWS_PER_INSERT)) {
      await insertObjects(trx, PAYMENTS, batch, sqlValue);
    }
  }
}

function importedOrderRow(order: ImportOrder, cipher: FieldCipher, now: Date): OrderRow {
  const paid = order.payments
    .filter((payment) => payment.status === 'COMPLETED')
    .reduce((sum, payment) => sum + payment.amount, 0);
  const row = newOrderRow(
    {
      orderId: order.orderId,
      amount: order.amount,
      currency: order.currency,
      ...(order.customerEmail ? { customer: { email: order.customerEmail } } : {}),
    },
    cipher,
    new Date(order.createdAt),
  );
  return Object.assign(row, {
    order_status: order.status,
    amount_paid: toDbDecimal(paid, order.currency),
    updated_at: now,
  });
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
    return Object.assign(row, base);
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

/**
 * Rows per INSERT statement, a few hundred kilobytes. A slice's rows and statement stay alive while MariaDB runs
 * it, and the thread's other chunk allocates meanwhile, so the young-generation GC copies them: with 500 instead of
 * 1000, importing 100,000 rows two chunks at a time took about 7 % less CPU (three runs each, BENCHMARKS.md).
 */
const ROWS_PER_INSERT = 500;

/**
 * One multi-row INSERT, its values escaped by mysql2's `format` (the escaping the driver itself applies) and the
 * statement run whole (`runStatement`). Given the rows as bindings, knex walks every value looking for
 * `undefined`, about 6 % of a chunk import's allocations in a sampling heap profile; our rows name every column.
 */
async function insertValues(
  db: Db,
  table: string,
  columns: readonly string[],
  rows: unknown[][],
): Promise<void> {
  if (rows.length === 0) return;
  await runStatement(
    db,
    format(
      'INSERT INTO ?? (??) VALUES ?',
      [table, [...columns], rows] as FormatValues,
      false,
      CONNECTION_SETTINGS.timezone,
    ),
  );
}

type FormatValues = Parameters<typeof format>[1];

/**
 * Values as `insertValues` sends them: each distinct date formatted once, as mysql2 would format it, then reused,
 * since the rows written together share `updated_at` and an order's payments its `created_at`. mysql2's Date
 * formatting was the costliest part of escaping an imported row.
 */
function sqlValues(): (value: unknown) => unknown {
  const dates = new Map<number, unknown>();
  return (value) => {
    if (!(value instanceof Date)) return value;
    let text = dates.get(value.getTime());
    if (text === undefined) {
      text = raw(escape(value, false, CONNECTION_SETTINGS.timezone));
      dates.set(value.getTime(), text);
    }
    return text;
  };
}

/** Rows of one shape (the same keys in the same order) inserted with `insertValues`. */
async function insertObjects<T extends object>(
  db: Db,
  table: string,
  rows: T[],
  sqlValue: (value: unknown) => unknown,
): Promise<void> {
  const [first] = rows;
  if (!first) return;
  const columns = Object.keys(first) as (keyof T & string)[];
  await insertValues(
    db,
    table,
    columns,
    rows.map((row) => columns.map((column) => sqlValue(row[column]))),
  );
}

function chunked<T>(items: T[], size: number): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  return batches;
}
