import { ApplicationFailure } from '@temporalio/activity';
import type { CardFingerprinter } from '../../crypto/card-fingerprint';
import type { FieldCipher } from '../../crypto/field-cipher';
import { retryOnDeadlock, type Db } from '../../db/knex';
import {
  findChunk,
  findUpload,
  type ImportClash,
  importOrders,
  recordChunk,
  recordRowErrors,
  stagedRowsOfChunk,
} from '../../db/uploads';
import { validateRows } from '../../domain/uploads/group-orders';
import type { ImportOrder, RawRow, RowError } from '../../domain/uploads/rows';
import type { ChunkCounts, ChunkWorkflowInput } from '../../workflows/uploads/messages';

export interface ChunkImportDeps {
  db: Db;
  cipher: FieldCipher;
  fingerprinter: CardFingerprinter;
  now: () => Date;
}

/** Imports one chunk of a staged upload, on whichever thread runs it (chunk-threads.ts). */
export type ChunkImporter = (input: ChunkWorkflowInput) => Promise<ChunkCounts>;

/**
 * READ COMMITTED: a payment's foreign-key check then takes no gap lock on `orders`, where another chunk inserts its
 * orders; under REPEATABLE READ two chunks whose order ids interleave waited on and deadlocked each other. The
 * chunk reads nothing it relies on staying unchanged: the keys decide, as under any level.
 */
const CHUNK_TRANSACTION = { isolationLevel: 'read committed' } as const;

/** The upload's type of failure when it does not exist: retrying cannot help. */
export const UPLOAD_NOT_FOUND = 'UploadNotFound';

/**
 * One chunk in one transaction: all rows of its orders, validated together, then written with the errors and
 * the chunk's counts. Running it again answers the recorded counts and does nothing. Of two attempts at once
 * (after a heartbeat timeout) the later fails on a duplicate key, rolls back, and its retry finds the record.
 */
export async function importStagedChunk(
  { db, cipher, fingerprinter, now }: ChunkImportDeps,
  { uploadId, chunk }: ChunkWorkflowInput,
): Promise<ChunkCounts> {
  const committed = await findChunk(db, uploadId, chunk);
  if (committed) return committed;
  const upload = await findUpload(db, uploadId);
  if (!upload) throw ApplicationFailure.nonRetryable(`no upload ${uploadId}`, UPLOAD_NOT_FOUND);
  const rows = await stagedRowsOfChunk(db, cipher, upload, chunk);
  const validated = validateRows(rows);
  const written = now();
  // InnoDB may roll the transaction back to end a deadlock with another chunk's; it then runs again.
  return retryOnDeadlock(() =>
    db.transaction(async (trx) => {
      const { fresh, same, clashes } = await importOrders(
        trx,
        validated.orders,
        { cipher, fingerprinter },
        written,
      );
      await recordRowErrors(trx, uploadId, [...validated.errors, ...clashErrors(clashes, rows)]);
      const rowsImported = [...fresh, ...same].reduce((sum, order) => sum + rowsOf(order), 0);
      const counts = { rowsImported, rowsRejected: rows.length - rowsImported };
      await recordChunk(trx, uploadId, chunk, counts, written);
      return counts;
    }, CHUNK_TRANSACTION),
  );
}

/** An order is one row in the file, or one row per payment. */
const rowsOf = (order: ImportOrder): number => Math.max(1, order.payments.length);

function clashErrors(clashes: ImportClash[], rows: RawRow[]): RowError[] {
  return clashes.map(({ order, reason }) => ({
    line: rows.find((row) => row.fields.order_id === order.orderId)?.line ?? 0,
    orderId: order.orderId,
    field: 'order_id',
    reason,
  }));
}
