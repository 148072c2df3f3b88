/**
 * A module that runs itself on a worker thread: the thread loads the same file, whose last lines start the
 * thread's side when `moduleThreadData(role)` finds the role it was started with. Source runs as TypeScript
 * in development and tests, so a `.ts` thread loads tsx's require hook; a build runs its `.js` file as it is.
 */
import path from 'node:path';
import { Worker, isMainThread, workerData, type ResourceLimits } from 'node:worker_threads';

/** Starts `filename` (the caller's `__filename`) on a thread, with `data` and the role as its workerData. */
export function startModuleThread(
  filename: string,
  role: string,
  data: object = {},
  resourceLimits?: ResourceLimits,
): Worker {
  const typescript = path.extname(filename) === '.ts';
  return new Worker(filename, {
    workerData: { ...data, role },
    execArgv: typescript ? ['--require', require.resolve('tsx/cjs')] : [],
    ...(resourceLimits ? { resourceLimits } : {}),
  });
}

/** The data this thread was started with, if it was started for `role`; undefined on any other thread. */
export function moduleThreadData<T extends object>(role: string): (T & { role: string }) | undefined {
  if (isMainThread) return undefined;
  const data = workerData as { role?: unknown } | undefined;
  return data?.role === role ? (data as T & { role: string }) : undefined;
}
