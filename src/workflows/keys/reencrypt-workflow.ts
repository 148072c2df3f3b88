/**
 * keyRotationWorkflow — one per target key, ID `key-rotation:<keyId>`: rewrites every encrypted column value
 * to the active key of DURAPAY_FIELD_KEYS, so retired keys can leave the ring.
 *
 * Input: the target key id, rows per batch and batches per run. Query: keyRotationProgressQuery (per column:
 * scanned, rewritten, done). States: RUNNING, then COMPLETED; the result is the final progress.
 * Guarantees: each column is walked by primary key, the columns side by side, one batch in flight per
 * column. A batch rewrites only values under another key, each with a compare-and-set, and records its counts
 * in the same transaction, so a retried batch (a crashed worker) counts once. A run continues as new after
 * `batchesPerRun` batches, carrying cursors and counts. Running it again rewrites nothing.
 */
import { continueAsNew, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { createKeyActivities } from '../../activities/keys';
import {
  ENCRYPTED_COLUMNS,
  VALUE_UNREADABLE,
  keyRotationProgressQuery,
  type ColumnState,
  type EncryptedColumn,
  type KeyRotationInput,
  type KeyRotationProgress,
  type KeyRotationStatus,
} from './messages';

type KeyActivities = ReturnType<typeof createKeyActivities>;

/**
 * A batch is one short transaction; the heartbeat timeout notices a crashed worker in seconds. A key mismatch
 * (a worker still on the old DURAPAY_FIELD_KEYS) is retried for a few minutes, as a rolling deploy settles.
 */
const { reencryptBatch, finishRotation } = proxyActivities<KeyActivities>({
  startToCloseTimeout: '2m',
  heartbeatTimeout: '15s',
  retry: {
    initialInterval: '1s',
    maximumInterval: '30s',
    maximumAttempts: 10,
    nonRetryableErrorTypes: [VALUE_UNREADABLE],
  },
});

/**
 * Gates walking `payments.card_cvc_enc`: a first run recorded before it walked the other four columns only.
 * A continued run walks the columns it carries, whichever code started the rotation.
 */
const CARD_CVC_PATCH = 'key-rotation-covers-card-cvc';
const CVC_COLUMN: EncryptedColumn = 'payments.card_cvc_enc';
const firstRunColumns = (): readonly EncryptedColumn[] =>
  patched(CARD_CVC_PATCH) ? ENCRYPTED_COLUMNS : ENCRYPTED_COLUMNS.filter((column) => column !== CVC_COLUMN);

export async function keyRotationWorkflow(input: KeyRotationInput): Promise<KeyRotationProgress> {
  const columns: ColumnState[] =
    input.carried?.columns ??
    firstRunColumns().map((column) => ({ column, scanned: 0, rewritten: 0, done: false, cursor: null }));
  let status: KeyRotationStatus = 'RUNNING';
  const progress = (): KeyRotationProgress => ({
    keyId: input.keyId,
    status,
    columns: columns.map(({ column, scanned, rewritten, done }) => ({ column, scanned, rewritten, done })),
  });
  setHandler(keyRotationProgressQuery, progress);

  const { runId } = workflowInfo();
  let batchesLeft = input.batchesPerRun;
  let batchNo = 0;
  await Promise.all(
    columns.map(async (column) => {
      while (!column.done && batchesLeft > 0) {
        batchesLeft -= 1;
        const batch = await reencryptBatch({
          batchId: `${runId}/${batchNo++}`,
          keyId: input.keyId,
          column: column.column,
          after: column.cursor,
          limit: input.batchRows,
        });
        column.scanned += batch.scanned;
        column.rewritten += batch.rewritten;
        column.cursor = batch.cursor ?? column.cursor;
        column.done = batch.scanned < input.batchRows;
      }
    }),
  );

  if (columns.some((column) => !column.done)) {
    await continueAsNew<typeof keyRotationWorkflow>({ ...input, carried: { columns } });
  }
  await finishRotation({ keyId: input.keyId });
  status = 'COMPLETED';
  return progress();
}
