/**
 * uploadWorkflow — one per bulk upload, ID `upload:<uploadId>`; chunkWorkflow — one per chunk, ID
 * `upload:<uploadId>:chunk:<n>`.
 *
 * Input: the upload's id (its rows are already staged in MySQL), the window of children in flight, and how
 * many chunks one run may start. Query: uploadProgressQuery. Memo `progress` mirrors it for the Web UI.
 * States: RUNNING, then COMPLETED, COMPLETED_WITH_ERRORS (rows or chunks rejected) or FAILED.
 * Guarantees: at most `window` children run at once; progress is counted as children finish; a run drains
 * its children and continues as new after `chunksPerRun` chunks, carrying only counters; a chunk commits
 * atomically and idempotently, so a retried or re-run chunk changes nothing the second time.
 */
import {
  ParentClosePolicy,
  condition,
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
 */
const { importChunk } = proxyActivities<UploadActivities>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: '15s',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10 },
});

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
        })
      ).result();
      progress.rowsImported += counts.rowsImported;
      progress.rowsRejected += counts.rowsRejected;
      progress.chunksCompleted += 1;
    } catch {
      // The chunk's own retries are exhausted; its rows stay unimported and the upload reports it.
      progress.chunksFailed += 1;
    } finally {
      inFlight -= 1;
      upsertMemo({ progress: { ...progress } });
    }
  };

  const startedThisRun: Promise<void>[] = [];
  while (nextChunk < progress.chunksTotal && startedThisRun.length < input.chunksPerRun) {
    await condition(() => inFlight < input.window);
    startedThisRun.push(runChunk(nextChunk));
    nextChunk += 1;
  }
  await Promise.all(startedThisRun);

  if (nextChunk < progress.chunksTotal) {
    await continueAsNew<typeof uploadWorkflow>({ ...input, carried: { nextChunk, progress } });
  }
  await finishUpload({ uploadId, progress });
  return progress;
}

export async function chunkWorkflow({ uploadId, chunk }: ChunkWorkflowInput): Promise<ChunkCounts> {
  return importChunk({ uploadId, chunk });
}
