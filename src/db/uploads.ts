/**
 * Bulk uploads in MySQL: the upload's status and counts, its staged rows, its committed chunks and its
 * rejected rows.
 * Staged row values are sealed with the FieldCipher (they hold card numbers and emails).
 */
import type { FieldCipher, FieldLocation } from '../crypto/field-cipher';
import type { RawRow, RowError, RowProblem } from '../domain/uploads/import-rows';
import type { ChunkCounts, UploadStatus } from '../workflows/uploads/messages';
import type { Db } from './knex';

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
