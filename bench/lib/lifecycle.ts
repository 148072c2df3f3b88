/**
 * Lifecycle throughput: orders taken from creation to COMPLETED, each with one payment, as a client sees it:
 * create (201), pay in full (202), then poll GET /orders/:id until it reads COMPLETED. A fixed number of
 * orders, at most `concurrency` in progress at once, and no order started after the phase's time limit.
 */
import { call, createOrderBody, inPool, payInFullBody } from './api';
import { bump, LatencyRecorder } from './stats';

export interface LifecycleOptions {
  base: URL;
  orderIds: string[];
  concurrency: number;
  pollMs: number;
  /** Per order, from create to COMPLETED; past it the order counts as failed. */
  orderTimeoutMs: number;
  /** For the whole phase: no order is started after it (those count as not started). */
  phaseTimeoutMs: number;
}

export interface LifecycleResult {
  orders: number;
  completed: number;
  /** Orders never started because the phase ran out of time. */
  notStarted: number;
  elapsedS: number;
  createToCompleted: LatencyRecorder;
  create: LatencyRecorder;
  payAccept: LatencyRecorder;
  /** From the 202 of the payment to the first poll that reads COMPLETED. */
  acceptToCompleted: LatencyRecorder;
  polls: number;
  failures: Map<string, number>;
}

export async function runLifecycle(options: LifecycleOptions): Promise<LifecycleResult> {
  const result: LifecycleResult = {
    orders: options.orderIds.length,
    completed: 0,
    notStarted: 0,
    elapsedS: 0,
    createToCompleted: new LatencyRecorder(),
    create: new LatencyRecorder(),
    payAccept: new LatencyRecorder(),
    acceptToCompleted: new LatencyRecorder(),
    polls: 0,
    failures: new Map(),
  };
  const started = performance.now();
  await inPool(options.orderIds.length, options.concurrency, async (index) => {
    const orderId = options.orderIds[index]!;
    if (performance.now() - started > options.phaseTimeoutMs) {
      result.notStarted += 1;
      return;
    }
    try {
      const failure = await oneOrder(orderId, options, result);
      if (failure) bump(result.failures, failure);
      else result.completed += 1;
    } catch (error) {
      bump(result.failures, error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    }
  });
  result.elapsedS = (performance.now() - started) / 1000;
  return result;
}

/** Takes one order through its life; answers a failure label, or undefined when it completed. */
async function oneOrder(
  orderId: string,
  { base, pollMs, orderTimeoutMs }: LifecycleOptions,
  result: LifecycleResult,
): Promise<string | undefined> {
  const t0 = performance.now();
  const created = await call(base, 'POST', '/orders', createOrderBody(orderId));
  const t1 = performance.now();
  if (created.status !== 201) return `create answered ${created.status}`;
  result.create.record(t1 - t0);

  const paid = await call(base, 'POST', `/orders/${orderId}/payments`, payInFullBody());
  const t2 = performance.now();
  if (paid.status !== 202) return `payment answered ${paid.status}`;
  result.payAccept.record(t2 - t1);

  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    const read = await call(base, 'GET', `/orders/${orderId}`);
    result.polls += 1;
    const now = performance.now();
    if (read.status === 200 && read.body?.status === 'COMPLETED') {
      result.createToCompleted.record(now - t0);
      result.acceptToCompleted.record(now - t2);
      return undefined;
    }
    if (read.status !== 200) return `poll answered ${read.status}`;
    if (read.body?.status !== 'PENDING') return `order became ${String(read.body?.status)}`;
    if (now - t0 > orderTimeoutMs) return `not COMPLETED within ${orderTimeoutMs / 1000} s`;
  }
}
