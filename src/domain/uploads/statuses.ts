/** An upload's statuses: RUNNING while its chunks import, then one of the final ones. */
export const UPLOAD_STATUSES = [
  'RUNNING',
  'COMPLETED',
  'COMPLETED_WITH_ERRORS',
  'FAILED',
  'CANCELLED',
] as const;
export type UploadStatus = (typeof UPLOAD_STATUSES)[number];

/** An upload in a final status is over: it cannot be cancelled. */
export const isFinalUploadStatus = (status: UploadStatus): boolean => status !== 'RUNNING';
