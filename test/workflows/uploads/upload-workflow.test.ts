import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { createUploadActivities } from '../../../src/activities/uploads';
import {
  uploadWorkflowId,
  type ChunkWorkflowInput,
  type UploadProgress,
} from '../../../src/workflows/uploads/messages';
import { uploadWorkflow } from '../../../src/workflows/uploads/upload-workflow';
import { bundleWorkflows } from '../../../src/workers/workflow-bundle';
import { eventually } from '../../support/stack';
import { createTimeSkippingEnv, testDataConverter } from '../../support/temporal';

type UploadActivities = ReturnType<typeof createUploadActivities>;

/**
 * The parent/child orchestration with scripted activities: what matters here is fan-out, windows,
 * continue-as-new, retries and counting. The real chunk import is tested against MariaDB elsewhere.
 */
describe('uploadWorkflow (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;

  beforeAll(async () => {
    [env, bundle] = await Promise.all([
      createTimeSkippingEnv(),
      bundleWorkflows(require.resolve('../../../src/workflows/uploads/upload-workflow')),
    ]);
  });

  afterAll(async () => {
    await env?.teardown();
  });

  /**
   * Scripted activities: each chunk imports 99 rows and rejects one. With `fillWindow`, each chunk waits
   * until that many run at once (or no chunk is left to start), so a test sees the workflow's real
   * concurrency rather than whatever the race between activities allows.
   */
  function scripted(
    chunksTotal: number,
    behaviour: (input: ChunkWorkflowInput, attempt: number) => void = () => undefined,
    options: { fillWindow?: number } = {},
  ) {
    let running = 0;
    const record = {
      maxConcurrent: 0,
      attempts: new Map<number, number>(),
      finished: undefined as UploadProgress | undefined,
      cancelled: false,
    };
    const activities: UploadActivities = {
      planUpload: () => Promise.resolve({ chunksTotal }),
      async importChunk(input) {
        const attempt = (record.attempts.get(input.chunk) ?? 0) + 1;
        record.attempts.set(input.chunk, attempt);
        running += 1;
        record.maxConcurrent = Math.max(record.maxConcurrent, running);
        try {
          const { fillWindow } = options;
          if (fillWindow !== undefined) {
            await eventually(
              () => Promise.resolve(running),
              (inFlight) => inFlight >= fillWindow || record.attempts.size === chunksTotal,
            );
          }
          behaviour(input, attempt);
          return { rowsImported: 99, rowsRejected: 1 };
        } finally {
          running -= 1;
        }
      },
      finishUpload: ({ progress, cancelled }) => {
        record.finished = progress;
        record.cancelled = cancelled ?? false;
        return Promise.resolve();
      },
    };
    return { activities, record };
  }

  async function runUpload(
    activities: UploadActivities,
    options: { window: number; chunksPerRun: number },
  ): Promise<{ result: UploadProgress; workflowId: string; firstRunId: string }> {
    const taskQueue = `uploads-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      dataConverter: testDataConverter,
      activities,
      maxConcurrentActivityTaskExecutions: 50,
    });
    const uploadId = randomUUID();
    return worker.runUntil(async () => {
      const handle = await env.client.workflow.start(uploadWorkflow, {
        workflowId: uploadWorkflowId(uploadId),
        taskQueue,
        args: [{ uploadId, ...options }],
      });
      return {
        result: await handle.result(),
        workflowId: handle.workflowId,
        firstRunId: handle.firstExecutionRunId,
      };
    });
  }

  it('fans out one child per chunk, never more than the window at once, and counts every row', async () => {
    const { activities, record } = scripted(12, undefined, { fillWindow: 3 });
    const { result } = await runUpload(activities, { window: 3, chunksPerRun: 100 });

    expect(result).toEqual({
      chunksTotal: 12,
      chunksCompleted: 12,
      chunksFailed: 0,
      rowsImported: 12 * 99,
      rowsRejected: 12,
    });
    expect(record.finished).toEqual(result);
    expect([...record.attempts.keys()].sort((a, b) => a - b)).toEqual([...Array(12).keys()]);
    expect(record.maxConcurrent).toBe(3);
  });

  it('continues as new after each batch of chunks, carrying only its counters', async () => {
    const { activities } = scripted(10);
    const { result, workflowId, firstRunId } = await runUpload(activities, { window: 2, chunksPerRun: 3 });

    expect(result).toMatchObject({
      chunksTotal: 10,
      chunksCompleted: 10,
      rowsImported: 990,
      rowsRejected: 10,
    });
    const firstRun = await env.client.workflow.getHandle(workflowId, firstRunId).fetchHistory();
    const last = firstRun.events!.at(-1)!;
    expect(last.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
    const children = firstRun.events!.filter(
      (event) => event.startChildWorkflowExecutionInitiatedEventAttributes,
    );
    expect(
      children.map((event) => event.startChildWorkflowExecutionInitiatedEventAttributes!.workflowId),
    ).toEqual([0, 1, 2].map((chunk) => `${workflowId}:chunk:${chunk}`));
  });

  it('retries a failing chunk until it imports, counting it once', async () => {
    const { activities, record } = scripted(4, ({ chunk }, attempt) => {
      if (chunk === 2 && attempt < 3) throw new Error('deadlock found when trying to get lock');
    });
    const { result } = await runUpload(activities, { window: 2, chunksPerRun: 10 });

    expect(record.attempts.get(2)).toBe(3);
    expect(result).toMatchObject({
      chunksCompleted: 4,
      chunksFailed: 0,
      rowsImported: 4 * 99,
      rowsRejected: 4,
    });
  });

  it('reports a chunk that cannot be imported and still finishes the others', async () => {
    const { activities } = scripted(5, ({ chunk }) => {
      if (chunk === 1) throw ApplicationFailure.nonRetryable('staged rows are missing', 'ChunkUnreadable');
    });
    const { result } = await runUpload(activities, { window: 5, chunksPerRun: 10 });

    expect(result).toMatchObject({
      chunksTotal: 5,
      chunksCompleted: 4,
      chunksFailed: 1,
      rowsImported: 4 * 99,
    });
  });

  /**
   * The workflow's outcome (its failure, if it failed). A run that has not closed after a minute fails the test
   * with the last events of its history, so a stuck run says where it stopped.
   */
  async function resultOrHistory(handle: WorkflowHandle): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        void handle.fetchHistory().then(
          (history) => {
            const types = (history.events ?? [])
              .slice(-12)
              .map((event) => temporal.api.enums.v1.EventType[event.eventType ?? 0]);
            reject(new Error(`the workflow did not close within 60 s; its last events: ${types.join(', ')}`));
          },
          (error: unknown) => reject(error instanceof Error ? error : new Error(String(error))),
        );
      }, 60_000);
    });
    try {
      return await Promise.race([handle.result().catch((error: unknown) => error), stuck]);
    } finally {
      clearTimeout(timer);
    }
  }

  it('on cancel starts no further chunk, lets the chunks in flight end, and records CANCELLED', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const { activities, record } = scripted(20);
    const importChunk = activities.importChunk.bind(activities);
    const reached = new Set<number>();
    activities.importChunk = async (input) => {
      // The first two chunks import; the next two wait, in flight, until the test has cancelled.
      reached.add(input.chunk);
      if (input.chunk >= 2) await released;
      return importChunk(input);
    };
    const taskQueue = `uploads-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      dataConverter: testDataConverter,
      activities,
    });
    const uploadId = randomUUID();
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(uploadWorkflow, {
        workflowId: uploadWorkflowId(uploadId),
        taskQueue,
        args: [{ uploadId, window: 2, chunksPerRun: 100 }],
      });
      await eventually(
        () => Promise.resolve(reached.size),
        (started) => started === 4,
      );
      await handle.cancel();
      release();
      const outcome = await resultOrHistory(handle);
      expect(outcome).toBeInstanceOf(WorkflowFailedError);
      expect((outcome as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    });
    expect(record.cancelled).toBe(true);
    expect([...reached].sort((a, b) => a - b)).toEqual([0, 1, 2, 3]);
    // Both chunks in flight ended their attempt before the outcome was recorded.
    expect([...record.attempts.keys()].sort((a, b) => a - b)).toEqual([0, 1, 2, 3]);
  });
});
