/**
 * Lifecycle throughput and latency: orders taken from creation to paid as a client sees it: create (201), then
 * pay in full with `?wait=true`, which answers once the workflow has the charge's outcome (200, the order
 * COMPLETED). Should the API's wait run out first (202), the order is polled with GET until it reads COMPLETED.
 *
 * Two ways to offer the orders:
 * - closed loop: `clients` clients, each starting its next order when its last one is paid, so the stack's
 *   speed sets the rate: this measures saturation;
 * - open loop: a new order every 1/`ratePerS` seconds whatever the stack does, each timed from when it was
 *   due, so a slow stack cannot lower the load it is measured at: this measures latency at a given rate.
 */
import { call, createOrderBody, inPool, payInFullBody } from './api';
import { bump, LatencyRecorder } from './stats';

export type LifecycleLoad = { kind: 'closed'; clients: number } | { kind: 'open'; ratePerS: number };

export interface LifecycleOptions {
  base: URL;
  orderIds: string[];
  load: LifecycleLoad;
  /** Interval of the GETs after a payment answered 202. */
  pollMs: number;
  /** Per order, from create to paid; past it the order counts as failed. */
  orderTimeoutMs: number;
  /** For the whole phase: no order is started after it (those count as not started). */
  phaseTimeoutMs: number;
}

export interface LifecycleResult {
  load: LifecycleLoad;
  orders: number;
  /** IDs of the orders that read COMPLETED, in the order they were created. */
  paid: string[];
  /** Orders never started because the phase ran out of time. */
  notStarted: number;
  /** From the first order's start to the last order's end. */
  elapsedS: number;
  /** Create → paid: from sending the create (open loop: from when the order was due) to reading COMPLETED. */
  createToPaid: LatencyRecorder;
  create: LatencyRecorder;
  /** `POST /orders/:id/payments?wait=true`, whatever it answered. */
  pay: LatencyRecorder;
  /** Payments whose wait ran out (202), so that the order was polled. */
  answered202: number;
  polls: number;
  /** Most orders in progress at once. */
  maxInFlight: number;
  failures: Map<string, number>;
}

export async function runLifecycle(options: LifecycleOptions): Promise<LifecycleResult> {
  const result: LifecycleResult = {
    load: options.load,
    orders: options.orderIds.length,
    paid: [],
    notStarted: 0,
    elapsedS: 0,
    createToPaid: new LatencyRecorder(),
    create: new LatencyRecorder(),
    pay: new LatencyRecorder(),
    answered202: 0,
    polls: 0,
    maxInFlight: 0,
    failures: new Map(),
  };
  const started = performance.now();
  const paidAt = new Map<string, number>();
  let inFlight = 0;
  const runOne = async (index: number, dueAt: number) => {
    const orderId = options.orderIds[index]!;
    if (dueAt - started > options.phaseTimeoutMs) {
      result.notStarted += 1;
      return;
    }
    inFlight += 1;
    result.maxInFlight = Math.max(result.maxInFlight, inFlight);
    try {
      const failure = await oneOrder(orderId, dueAt, options, result);
      if (failure) bump(result.failures, failure);
      else paidAt.set(orderId, performance.now());
    } catch (error) {
      bump(result.failures, error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    } finally {
      inFlight -= 1;
    }
  };

  if (options.load.kind === 'closed') {
    await inPool(options.orderIds.length, options.load.clients, (index) => runOne(index, performance.now()));
  } else {
    const intervalMs = 1000 / options.load.ratePerS;
    const running: Promise<void>[] = [];
    for (let index = 0; index < options.orderIds.length; index++) {
      const dueAt = started + index * intervalMs;
      if (dueAt - started > options.phaseTimeoutMs) {
        result.notStarted += options.orderIds.length - index;
        break;
      }
      const wait = dueAt - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      running.push(runOne(index, dueAt));
    }
    await Promise.all(running);
  }
  result.elapsedS = (performance.now() - started) / 1000;
  result.paid = options.orderIds.filter((orderId) => paidAt.has(orderId));
  return result;
}

/** Takes one order through its life; answers a failure label, or undefined when it was paid. */
async function oneOrder(
  orderId: string,
  dueAt: number,
  { base, pollMs, orderTimeoutMs }: LifecycleOptions,
  result: LifecycleResult,
): Promise<string | undefined> {
  const t0 = performance.now();
  const created = await call(base, 'POST', '/orders', createOrderBody(orderId));
  const t1 = performance.now();
  if (created.status !== 201) return `create answered ${created.status}`;
  result.create.record(t1 - t0);

  const paid = await call(base, 'POST', `/orders/${orderId}/payments?wait=true`, payInFullBody());
  const t2 = performance.now();
  result.pay.record(t2 - t1);
  if (paid.status === 200) {
    if (paid.body?.order?.status !== 'COMPLETED') {
      return `payment ${String(paid.body?.status)}, order ${String(paid.body?.order?.status)}`;
    }
    result.createToPaid.record(t2 - dueAt);
    return undefined;
  }
  if (paid.status !== 202) return `payment answered ${paid.status}`;

  result.answered202 += 1;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    const read = await call(base, 'GET', `/orders/${orderId}`);
    result.polls += 1;
    const now = performance.now();
    if (read.status === 200 && read.body?.status === 'COMPLETED') {
      result.createToPaid.record(now - dueAt);
      return undefined;
    }
    if (read.status !== 200) return `poll answered ${read.status}`;
    if (read.body?.status !== 'PENDING') return `order became ${String(read.body?.status)}`;
    if (now - t0 > orderTimeoutMs) return `not COMPLETED within ${orderTimeoutMs / 1000} s`;
  }
}
