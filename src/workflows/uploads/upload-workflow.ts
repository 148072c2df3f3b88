/**
 * uploadWorkflow — one per bulk upload, ID `upload:<uploadId>`; chunkWorkflow — one per chunk, ID
 * `upload:<uploadId>:chunk:<n>`.
 *
 * Input: the upload's id (its rows are already staged in MySQL), the window of children in flight, and how
 * many chunks one run may start. Query: uploadProgressQuery. Memo `progress` mirrors it for the Web UI.
 * States: RUNNING, then COMPLETED, COMPLETED_WITH_ERRORS (rows or chunks rejected) or FAILED; CANCELLED
 * when the workflow is cancelled (POST /uploads/:uploadId/cancel).
 * Guarantees: at most `window` children run at once; progress is counted as children finish; a run drains
 * its children and continues as new after `chunksPerRun` chunks, carrying only counters; a chunk commits
 * atomically and idempotently, so a retried or re-run chunk changes nothing the second time. On cancel no
 * chunk starts, a chunk in flight commits whole or not at all, and CANCELLED is recorded with the rows of
 * the committed chunks. Children carry the UploadId search attribute, as the parent does.
 */
import {
  ActivityCancellationType,
  CancellationScope,
  ParentClosePolicy,
  condition,
  isCancellation,
  patched,
  continueAsNew,
  proxyActivities,
  startChild,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { createUploadActivities } from '../../activities/uploads';
import { UPLOAD_ID } from '../search-attributes';
import {
  chunkWorkflowId,
  uploadProgressQuery,
  type ChunkCounts,
  type ChunkWorkflowInput,
  type UploadProgress,
  type UploadWorkflowInput,
} from './messages';

type UploadActivities = ReturnType<typeof createUploadActivities>;

const { planUpload, finishUpload } = proxyActivities<UploadActivities>({
  startToCloseTimeout: '5m',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

/**
 * A chunk is one transaction of a few thousand rows; it may retry, and committing twice changes nothing.
 * The heartbeat timeout notices a crashed worker in seconds rather than at the end of the 5 minutes.
 * A cancelled chunk waits for its attempt to end, so once the child has closed its rows are either all
 * committed or not at all, and the count recorded on cancel is final.
 */
const { importChunk } = proxyActivities<UploadActivities>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: '15s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10 },
});

/** Patches: children carry the UploadId search attribute; a cancelled upload records CANCELLED. */
export const CHILD_SEARCH_ATTRIBUTE_PATCH = 'upload-child-search-attribute';
export const CANCEL_PATCH = 'upload-records-cancel';

export async function uploadWorkflow(input: UploadWorkflowInput): Promise<UploadProgress> {
  const { uploadId } = input;
  const progress: UploadProgress = input.carried?.progress ?? {
    chunksTotal: (await planUpload({ uploadId })).chunksTotal,
    chunksCompleted: 0,
    chunksFailed: 0,
    rowsImported: 0,
    rowsRejected: 0,
  };
  let nextChunk = input.carried?.nextChunk ?? 0;
  let inFlight = 0;
  setHandler(uploadProgressQuery, () => ({ ...progress, status: 'RUNNING' }));
  if (!input.carried) upsertSearchAttributes([{ key: UPLOAD_ID, value: uploadId }]);

  const runChunk = async (chunk: number) => {
    inFlight += 1;
    try {
      const counts = await (
        await startChild(chunkWorkflow, {
          workflowId: chunkWorkflowId(uploadId, chunk),
          args: [{ uploadId, chunk }],
          // Children end with the parent: an abandoned chunk would keep writing after a cancel.
          parentClosePolicy: ParentClosePolicy.TERMINATE,
          ...(patched(CHILD_SEARCH_ATTRIBUTE_PATCH)
            ? { typedSearchAttributes: [{ key: UPLOAD_ID, value: uploadId }] }
            : {}),
        })
      ).result();
      progress.rowsImported += counts.rowsImported;
      progress.rowsRejected += counts.rowsRejected;
      progress.chunksCompleted += 1;
    } catch (error) {
      if (isCancellation(error) && patched(CANCEL_PATCH)) throw error;
      // The chunk's own retries are exhausted; its rows stay unimported and the upload reports it.
      progress.chunksFailed += 1;
    } finally {
      inFlight -= 1;
      upsertMemo({ progress: { ...progress } });
    }
  };

  const startedThisRun: Promise<void>[] = [];
  try {
    while (nextChunk < progress.chunksTotal && startedThisRun.length < input.chunksPerRun) {
      await condition(() => inFlight < input.window);
      const running = runChunk(nextChunk);
      // Awaited below; until then a chunk cancelled on its own must not count as an unhandled rejection.
      running.catch(() => undefined);
      startedThisRun.push(running);
      nextChunk += 1;
    }
    await Promise.all(startedThisRun);

    // A cancel that arrives as the run's last chunks commit must not be lost to the next run: the run goes
    // on to finishUpload, which a cancelled workflow cannot schedule, and so to the catch below.
    const cancelled = CancellationScope.current().consideredCancelled && patched(CANCEL_PATCH);
    if (nextChunk < progress.chunksTotal && !cancelled) {
      await continueAsNew<typeof uploadWorkflow>({ ...input, carried: { nextChunk, progress } });
    }
    await finishUpload({ uploadId, progress });
    return progress;
  } catch (error) {
    if (!isCancellation(error) || !patched(CANCEL_PATCH)) throw error;
    await CancellationScope.nonCancellable(async () => {
      // Each child closes once its chunk's attempt has ended: after this no row of the upload is written.
      await Promise.allSettled(startedThisRun);
      await finishUpload({ uploadId, progress, cancelled: true });
    });
    throw error;
  }
}

export async function chunkWorkflow({ uploadId, chunk }: ChunkWorkflowInput): Promise<ChunkCounts> {
  return importChunk({ uploadId, chunk });
}
