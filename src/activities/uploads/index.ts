import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import type { CardFingerprinter } from '../../crypto/card-fingerprint';
import type { FieldCipher } from '../../crypto/field-cipher';
import type { Db } from '../../db/knex';
import { committedProgress, findUpload, finishUploadRow, removeStagedRows } from '../../db/uploads';
import { importStagedChunk, UPLOAD_NOT_FOUND, type ChunkImporter } from './chunk-import';
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
  /** Where chunks are imported; by default on the calling thread, with the deps above. */
  chunkImporter?: ChunkImporter;
}

export function createUploadActivities({
  db,
  cipher,
  fingerprinter,
  now = () => new Date(),
  chunkImporter = (input) => importStagedChunk({ db, cipher, fingerprinter, now }, input),
}: UploadActivityDeps) {
  async function requireUpload(uploadId: string) {
    const upload = await findUpload(db, uploadId);
    if (!upload) throw ApplicationFailure.nonRetryable(`no upload ${uploadId}`, UPLOAD_NOT_FOUND);
    return upload;
  }

  return {
    /** Counts the staged upload's chunks. */
    async planUpload({ uploadId }: { uploadId: string }): Promise<{ chunksTotal: number }> {
      return { chunksTotal: (await requireUpload(uploadId)).chunks_total };
    },

    /**
     * One chunk, by the chunk importer (on a chunk thread in the worker). The heartbeat says this worker is
     * alive while it waits, so a crashed worker's chunk is retried elsewhere within seconds.
     */
    async importChunk(input: ChunkWorkflowInput): Promise<ChunkCounts> {
      const beat = setInterval(() => heartbeat(), CHUNK_HEARTBEAT_MS);
      try {
        return await chunkImporter(input);
      } finally {
        clearInterval(beat);
      }
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

/** Well inside the chunk activity's 15 s heartbeat timeout (upload-workflow.ts). */
const CHUNK_HEARTBEAT_MS = 3000;
