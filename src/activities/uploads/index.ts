import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import type { CardFingerprinter } from '../../crypto/card-fingerprint';
import type { FieldCipher } from '../../crypto/field-cipher';
import type { Db } from '../../db/knex';
import {
  committedProgress,
  findChunk,
  findUpload,
  type ImportClash,
  finishUploadRow,
  insertOrders,
  recordChunk,
  recordRowErrors,
  removeStagedRows,
  sortAgainstExisting,
  stagedRowsOfChunk,
} from '../../db/uploads';
import type { ImportOrder, RawRow, RowError } from '../../domain/uploads/rows';
import { validateRows } from '../../domain/uploads/group-orders';
import type {
  ChunkCounts,
  ChunkWorkflowInput,
  UploadProgress,
  UploadStatus,
} from '../../workflows/uploads/messages';

export interface UploadActivityDeps {
  db: Db;
  cipher: FieldCipher;
  fingerprinter: CardFingerprinter;
  now?: () => Date;
}

export function createUploadActivities({
  db,
  cipher,
  fingerprinter,
  now = () => new Date(),
}: UploadActivityDeps) {
  async function requireUpload(uploadId: string) {
    const upload = await findUpload(db, uploadId);
    if (!upload) throw ApplicationFailure.nonRetryable(`no upload ${uploadId}`, 'UploadNotFound');
    return upload;
  }

  return {
    /** Counts the staged upload's chunks. */
    async planUpload({ uploadId }: { uploadId: string }): Promise<{ chunksTotal: number }> {
      return { chunksTotal: (await requireUpload(uploadId)).chunks_total };
    },

    /**
     * One chunk in one transaction: all rows of its orders, validated together, then written
     * with the errors and the chunk's counts. Running it again answers the recorded counts and does nothing.
     * Of two attempts at once (after a heartbeat timeout) the later fails on a duplicate key, rolls back, and
     * its retry finds the record.
     */
    async importChunk({ uploadId, chunk }: ChunkWorkflowInput): Promise<ChunkCounts> {
      const committed = await findChunk(db, uploadId, chunk);
      if (committed) return committed;
      const upload = await requireUpload(uploadId);
      const rows = await stagedRowsOfChunk(db, cipher, upload, chunk);
      heartbeat();
      const validated = validateRows(rows);
      heartbeat();
      const written = now();
      return db.transaction(async (trx) => {
        const { fresh, same, clashes } = await sortAgainstExisting(trx, validated.orders);
        await insertOrders(trx, fresh, { cipher, fingerprinter }, written);
        await recordRowErrors(trx, uploadId, [...validated.errors, ...clashErrors(clashes, rows)]);
        const rowsImported = [...fresh, ...same].reduce((sum, order) => sum + rowsOf(order), 0);
        const counts = { rowsImported, rowsRejected: rows.length - rowsImported };
        await recordChunk(trx, uploadId, chunk, counts, written);
        return counts;
      });
    },

    /**
     * Records the upload's final status and counts, then removes its staged rows. A cancelled upload counts
     * what its committed chunks hold, from MySQL: a chunk may have committed as its child was cancelled.
     */
    async finishUpload({
      uploadId,
      progress: counted,
      cancelled = false,
    }: {
      uploadId: string;
      progress: UploadProgress;
      cancelled?: boolean;
    }): Promise<void> {
      const progress = cancelled ? { ...counted, ...(await committedProgress(db, uploadId)) } : counted;
      const status: UploadStatus = cancelled
        ? 'CANCELLED'
        : progress.chunksCompleted === 0 && progress.chunksTotal > 0
          ? 'FAILED'
          : progress.chunksFailed > 0 || progress.rowsRejected > 0
            ? 'COMPLETED_WITH_ERRORS'
            : 'COMPLETED';
      await finishUploadRow(
        db,
        uploadId,
        {
          upload_status: status,
          rows_imported: progress.rowsImported,
          rows_rejected: progress.rowsRejected,
          chunks_completed: progress.chunksCompleted,
          chunks_failed: progress.chunksFailed,
        },
        now(),
      );
      // After the outcome is recorded, so a status request sees it at once; a retry finishes the removal.
      await removeStagedRows(db, uploadId, heartbeat);
    },
  };
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
