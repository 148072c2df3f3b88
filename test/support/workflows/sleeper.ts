import { sleep } from '@temporalio/workflow';

/** Sleeps on a durable timer and reports how much workflow time passed. */
export async function sleeper(days: number): Promise<number> {
  const started = Date.now();
  await sleep(`${days} days`);
  return Date.now() - started;
}
