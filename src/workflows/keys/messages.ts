/**
 * The key-rotation workflow's contract, shared by the workflow, its activities, the API and
 * scripts/rotate-keys.ts. Payloads carry column names, primary-key cursors and counts, never values.
 */
import { defineQuery } from '@temporalio/workflow';

/** A rotation is named by the key it rewrites everything to: one rotation per target key at a time. */
export const keyRotationWorkflowId = (keyId: string): string => `key-rotation:${keyId}`;

/** Every column holding FieldCipher ciphertexts, as `table.column`; src/db/encrypted-columns.ts maps them. */
export const ENCRYPTED_COLUMNS = [
  'orders.customer_email_enc',
  'orders.customer_name_enc',
  'payments.card_number_enc',
  'payments.card_cvc_enc',
  'upload_rows.fields_enc',
] as const;
export type EncryptedColumn = (typeof ENCRYPTED_COLUMNS)[number];

/** The primary key of the last row read (one value per key column): the next batch reads after it. */
export type RowCursor = (string | number)[];

export interface ColumnCounts {
  /** Values read. */
  scanned: number;
  /** Values that were under another key and are now under the target key. */
  rewritten: number;
}

export interface ColumnProgress extends ColumnCounts {
  column: EncryptedColumn;
  done: boolean;
}

/** A column's progress and where it got to, carried across continue-as-new. */
export interface ColumnState extends ColumnProgress {
  cursor: RowCursor | null;
}

export type KeyRotationStatus = 'RUNNING' | 'COMPLETED';

export interface KeyRotationProgress {
  /** The key every value ends up under: the active key of DURAPAY_FIELD_KEYS. It also names the rotation. */
  keyId: string;
  status: KeyRotationStatus;
  columns: ColumnProgress[];
}

export interface KeyRotationInput {
  keyId: string;
  /** Rows per batch (one activity, one transaction). */
  batchRows: number;
  /** Batches per run before continuing as new, so history stays small for any table size. */
  batchesPerRun: number;
  /** Carried across continue-as-new: each column's counts and where it got to. */
  carried?: { columns: ColumnState[] };
}

export interface ReencryptBatchInput {
  /** Unique per batch of a run, the same on every retry: makes a batch's counts exactly-once. */
  batchId: string;
  keyId: string;
  column: EncryptedColumn;
  after: RowCursor | null;
  limit: number;
}

export const keyRotationProgressQuery = defineQuery<KeyRotationProgress>('keyRotationProgress');

/** The activity refuses to rotate while its worker encrypts under another key than the rotation's target. */
export const KEY_MISMATCH = 'KeyMismatch';
/** A value cannot be decrypted (its key is gone from the ring, or it is corrupt): retrying cannot help. */
export const VALUE_UNREADABLE = 'ValueUnreadable';
