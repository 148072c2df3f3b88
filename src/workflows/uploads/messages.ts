/**
 * The bulk-upload workflows' contract, shared by the workflows, their activities and the API.
 * Payloads carry references (upload id, chunk number), never rows: the rows stay staged in MySQL.
 */
import { defineQuery } from '@temporalio/workflow';

export const uploadWorkflowId = (uploadId: string): string => `upload:${uploadId}`;
export const chunkWorkflowId = (uploadId: string, chunk: number): string =>
  `upload:${uploadId}:chunk:${chunk}`;

export type UploadStatus = 'RUNNING' | 'COMPLETED' | 'COMPLETED_WITH_ERRORS' | 'FAILED';

export interface ChunkCounts {
  rowsImported: number;
  rowsRejected: number;
}

export interface UploadProgress extends ChunkCounts {
  chunksTotal: number;
  chunksCompleted: number;
  chunksFailed: number;
}

export interface UploadWorkflowInput {
  uploadId: string;
  /** Children in flight at once: well under Temporal's limit of pending children. */
  window: number;
  /** Chunks started per run before continuing as new, so history stays small for any file size. */
  chunksPerRun: number;
  /** Carried across continue-as-new. */
  carried?: { nextChunk: number; progress: UploadProgress };
}

export interface ChunkWorkflowInput {
  uploadId: string;
  chunk: number;
}

/** What the upload workflows need done outside the sandbox; implemented by src/activities/uploads. */
export interface UploadActivities {
  /** Counts the staged upload's chunks (fixing their boundaries if not yet done). */
  planUpload(input: { uploadId: string }): Promise<{ chunksTotal: number }>;
  /** Validates and imports one chunk in one transaction; safe to run again. */
  importChunk(input: ChunkWorkflowInput): Promise<ChunkCounts>;
  /** Records the upload's final status and counts. */
  finishUpload(input: { uploadId: string; progress: UploadProgress }): Promise<void>;
}

export const uploadProgressQuery = defineQuery<UploadProgress & { status: UploadStatus }>('uploadProgress');
