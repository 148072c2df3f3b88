/** The few calls of the orders API the bench makes outside autocannon, with fetch and bounded concurrency. */
import { authHeader } from './auth';

/** A card the simulated gateway always accepts, valid for two more years. */
export function benchCard(now = new Date()) {
  return {
    type: 'card',
    number: '4242424242424242',
    expMonth: 12,
    expYear: now.getUTCFullYear() + 2,
    cvc: '123',
  };
}

export const ORDER_AMOUNT = '125.50';
export const ORDER_CURRENCY = 'USD';
/** Bench orders that never get paid expire on their own instead of keeping a workflow open for days. */
export const ORDER_DEADLINE = 'PT1H';

export function createOrderBody(orderId: string) {
  return { orderId, amount: ORDER_AMOUNT, currency: ORDER_CURRENCY, paymentDeadline: ORDER_DEADLINE };
}

export function payInFullBody() {
  return { amount: ORDER_AMOUNT, method: benchCard() };
}

export interface ApiResponse {
  status: number;
  body: any;
}

export async function call(
  base: URL,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  timeoutMs = 30_000,
): Promise<ApiResponse> {
  const response = await fetch(new URL(path, base), {
    method,
    headers: {
      ...authHeader('client'),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: parsed };
}

/** Runs `task` for 0..count-1 with at most `concurrency` at once; results in index order. */
export async function inPool<T>(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** Creates the orders the read load picks from; refuses to go on if any of them fails. */
export async function seedOrders(base: URL, ids: string[], concurrency: number): Promise<void> {
  const failures: string[] = [];
  await inPool(ids.length, concurrency, async (index) => {
    const orderId = ids[index]!;
    try {
      const { status, body } = await call(base, 'POST', '/orders', createOrderBody(orderId));
      if (status !== 201 && status !== 200) failures.push(`${orderId}: ${status} ${JSON.stringify(body)}`);
    } catch (error) {
      failures.push(`${orderId}: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
  if (failures.length > 0) {
    throw new Error(
      `${failures.length} of ${ids.length} seed orders failed, e.g.\n  ${failures.slice(0, 3).join('\n  ')}`,
    );
  }
}

/**
 * Waits until every listed order reads COMPLETED (or the time is up) and says how many did: the mixed load
 * leaves payments queued in Temporal, and the next phase should not measure that backlog.
 */
export async function waitUntilCompleted(
  base: URL,
  orderIds: string[],
  timeoutMs: number,
  concurrency = 20,
): Promise<{ completed: number; total: number; waitedMs: number; sampleOfPending: Map<string, number> }> {
  const started = performance.now();
  let pending = orderIds;
  const statuses = new Map<string, number>();
  while (pending.length > 0 && performance.now() - started < timeoutMs) {
    const stillPending: string[] = [];
    await inPool(pending.length, concurrency, async (index) => {
      const orderId = pending[index]!;
      try {
        const { status, body } = await call(base, 'GET', `/orders/${orderId}`, undefined, 10_000);
        if (status !== 200 || body?.status !== 'COMPLETED') stillPending.push(orderId);
      } catch {
        stillPending.push(orderId);
      }
    });
    pending = stillPending;
    if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  // What the stragglers are (a sample: there may be thousands).
  for (const orderId of pending.slice(0, 50)) {
    let label = 'unreadable';
    try {
      const { status, body } = await call(base, 'GET', `/orders/${orderId}`, undefined, 10_000);
      label = status === 200 ? String(body?.status) : `HTTP ${status}`;
    } catch {
      // keep "unreadable"
    }
    statuses.set(label, (statuses.get(label) ?? 0) + 1);
  }
  return {
    completed: orderIds.length - pending.length,
    total: orderIds.length,
    waitedMs: performance.now() - started,
    sampleOfPending: statuses,
  };
}
