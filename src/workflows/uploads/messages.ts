/**
 * The bulk-upload workflows' contract, shared by the workflows, their activities and the API.
 * Payloads carry references (upload id, chunk number), never rows: the rows stay staged in MySQL.
 */
import { defineQuery } from '@temporalio/workflow';
import type { UploadStatus } from '../../domain/uploads/statuses';

export type { UploadStatus };

export const uploadWorkflowId = (uploadId: string): string => `upload:${uploadId}`;
export const chunkWorkflowId = (uploadId: string, chunk: number): string =>
  `upload:${uploadId}:chunk:${chunk}`;

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

export const uploadProgressQuery = defineQuery<UploadProgress & { status: UploadStatus }>('uploadProgress');
