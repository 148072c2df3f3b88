/**
 * NODE_OPTIONS of the worker process, wherever it is started (`npm start`, docker-compose, the tests).
 *
 * A bounded heap: V8 sizes its old generation from the machine's memory (about 4 GiB here) and collects late,
 * so an upload's short-lived rows piled up to a 530 MiB process. The live set is small and bounded by design
 * (the chunks in flight: window × chunk rows), so with this cap the same import peaks near 330 MiB at the same
 * speed. The SDK derives its default workflow-cache size from the heap limit, so the cache shrinks with it.
 * Chunks are imported on threads with heaps of their own, bounded in src/activities/uploads/chunk-threads.ts.
 */
export const WORKER_NODE_OPTIONS = '--max-old-space-size=256';

/** The worker's NODE_OPTIONS on top of the caller's: a limit the caller sets itself comes later and wins. */
export function workerNodeOptions(callerOptions: string | undefined): string {
  return [WORKER_NODE_OPTIONS, callerOptions?.trim()].filter(Boolean).join(' ');
}

/**
 * V8 flags of the worker process, given on its command line (NODE_OPTIONS refuses them). The worker's JavaScript
 * threads (the SDK's and the upload chunk threads) already keep the cores busy during an import, so V8's
 * background collector threads only added synchronisation: with them off, the worker's CPU per imported row fell
 * from 57.3 to 50.8 µs at 1M rows (BENCHMARKS.md, bulk analysis).
 */
export const WORKER_V8_FLAGS = ['--single-threaded-gc'] as const;
