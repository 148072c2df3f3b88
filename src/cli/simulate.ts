import { randomUUID } from 'node:crypto';
import { Command, InvalidArgumentError } from 'commander';
import { ApiError, apiErrorOf, type ApiClient, type JsonResponse, type RequestOptions } from './client';
import { withContext } from './context';
import { cancel, pay, type CardInput, type OrderView, type PaymentView } from './orders';
import { seconds } from './output';

/** The gateway simulator's test cards (see the README). */
const CARDS = {
  ok: '4242424242424242',
  ok2: '5555555555554444',
  declined: '4000000000000002',
  insufficientFunds: '4000000000009995',
  flaky: '4000000000000119',
} as const;

type Share = 'all' | 'half' | 'rest';

interface Step {
  card: keyof typeof CARDS;
  share: Share;
  /** What the API must answer: the payment's final status, or a refusal with nothing recorded. */
  expect: { status: 'COMPLETED' } | { status: 'FAILED'; reason: string } | { refused: number };
}

interface Scenario {
  name: string;
  steps: Step[];
  cancel?: boolean;
  final: 'COMPLETED' | 'CANCELLED';
  /** Share of the total paid at the end. */
  paid: 'all' | 'half';
}

/** A customer mix: good, declined and flaky cards, partial payments, retries after a decline. */
const SCENARIOS: Scenario[] = [
  {
    name: 'paid at once',
    steps: [{ card: 'ok', share: 'all', expect: { status: 'COMPLETED' } }],
    final: 'COMPLETED',
    paid: 'all',
  },
  {
    name: 'declined, then retried with another card',
    steps: [
      { card: 'declined', share: 'all', expect: { status: 'FAILED', reason: 'card_declined' } },
      { card: 'ok2', share: 'all', expect: { status: 'COMPLETED' } },
    ],
    final: 'COMPLETED',
    paid: 'all',
  },
  {
    name: 'paid in two parts',
    steps: [
      { card: 'ok', share: 'half', expect: { status: 'COMPLETED' } },
      { card: 'ok2', share: 'rest', expect: { status: 'COMPLETED' } },
    ],
    final: 'COMPLETED',
    paid: 'all',
  },
  {
    name: 'flaky gateway, retried by the workflow',
    steps: [{ card: 'flaky', share: 'all', expect: { status: 'COMPLETED' } }],
    final: 'COMPLETED',
    paid: 'all',
  },
  {
    name: 'part paid, overpayment refused, rest paid',
    steps: [
      { card: 'ok', share: 'half', expect: { status: 'COMPLETED' } },
      { card: 'ok', share: 'all', expect: { refused: 422 } },
      { card: 'ok', share: 'rest', expect: { status: 'COMPLETED' } },
    ],
    final: 'COMPLETED',
    paid: 'all',
  },
  {
    name: 'insufficient funds, part paid, then cancelled',
    steps: [
      {
        card: 'insufficientFunds',
        share: 'half',
        expect: { status: 'FAILED', reason: 'insufficient_funds' },
      },
      { card: 'ok2', share: 'half', expect: { status: 'COMPLETED' } },
    ],
    cancel: true,
    final: 'CANCELLED',
    paid: 'half',
  },
];

const CURRENCY = 'USD';
const CARD_EXPIRY = { expMonth: 12, expYear: new Date().getUTCFullYear() + 3 };
/** 429 and 503 answers are retried (the same Idempotency-Key makes it safe), this often at most. */
const MAX_RETRIES = 20;

interface Stats {
  latencies: Map<string, number[]>;
  httpStatuses: Map<number, number>;
  unexpected: string[];
}

export function simulateCommand(): Command {
  return new Command('simulate')
    .description(
      'simulate customers: create orders and pay them with good, declined and flaky cards, some in parts, ' +
        'some retried after a decline; then check every order and print what happened (client key)',
    )
    .option('--orders <n>', 'orders to create', positiveInteger, 20)
    .option('--concurrency <n>', 'customers at once', positiveInteger, 4)
    .option(
      '--stuck-after <seconds>',
      'a payment still PENDING this long after it was sent is reported',
      positiveInteger,
      60,
    )
    .addHelpText(
      'after',
      '\nExit status: 0 when everything went as the API promises, 1 when anything was unexpected: a wrong final ' +
        'status, an order paid over its total, a payment stuck PENDING, any 5xx, any other error.',
    )
    .action(async (options: { orders: number; concurrency: number; stuckAfter: number }, command: Command) =>
      withContext(
        command,
        async ({ api, out }) => {
          const stats: Stats = { latencies: new Map(), httpStatuses: new Map(), unexpected: [] };
          const client = measured(api, stats);
          const run = `SIM-${Date.now().toString(36)}-${randomUUID().slice(0, 4)}`;
          const started = Date.now();
          const progress = out.progress({ label: 'simulating', total: options.orders });
          const finals: OrderView[] = [];
          const payments: PaymentView[] = [];
          let next = 0;
          let done = 0;
          const customer = async () => {
            while (next < options.orders) {
              const index = next++;
              const scenario = SCENARIOS[index % SCENARIOS.length]!;
              const orderId = `${run}-${index + 1}`;
              try {
                const result = await simulateOrder(
                  client,
                  orderId,
                  scenario,
                  options.stuckAfter * 1000,
                  stats,
                );
                finals.push(result.order);
                payments.push(...result.payments);
              } catch (error) {
                if (!(error instanceof ApiError)) throw error;
                stats.unexpected.push(`${orderId} (${scenario.name}): ${error.message}`);
              }
              done++;
              progress.update(done, `${done}/${options.orders} orders`);
            }
          };
          try {
            await Promise.all(
              Array.from({ length: Math.min(options.concurrency, options.orders) }, customer),
            );
          } finally {
            progress.stop();
          }
          const summary = summarize(options, run, Date.now() - started, finals, payments, stats);
          out.result(summary, () => summaryLines(summary));
          return summary.unexpected.length > 0 ? 1 : 0;
        },
        { maxSockets: options.concurrency },
      ),
    );
}

async function simulateOrder(
  api: ApiClient,
  orderId: string,
  scenario: Scenario,
  stuckAfterMs: number,
  stats: Stats,
): Promise<{ order: OrderView; payments: PaymentView[] }> {
  const cents = 1000 + Math.floor(Math.random() * 99_000);
  const half = Math.floor(cents / 2);
  const shares: Record<Share, number> = { all: cents, half, rest: cents - half };
  const where = `${orderId} (${scenario.name})`;
  await api.json('POST', '/orders', {
    role: 'client',
    json: { orderId, amount: decimal(cents), currency: CURRENCY, customer: { id: `sim-${orderId}` } },
  });
  const payments: PaymentView[] = [];
  for (const [index, step] of scenario.steps.entries()) {
    const card: CardInput = { number: CARDS[step.card], ...CARD_EXPIRY, cvc: '123' };
    const amount = decimal(shares[step.share]);
    const attempt = { amount, card, idempotencyKey: `${orderId}-${index}`, wait: true };
    let payment: PaymentView;
    try {
      payment = await pay(api, 'client', orderId, attempt, Date.now() + stuckAfterMs);
    } catch (error) {
      if (error instanceof ApiError && 'refused' in step.expect && error.status === step.expect.refused)
        continue;
      throw error;
    }
    payments.push(payment);
    const expected = step.expect;
    if ('refused' in expected) {
      stats.unexpected.push(
        `${where}: a payment of ${amount} was accepted (${payment.status}); expected a ${expected.refused}`,
      );
    } else if (payment.status === 'PENDING') {
      stats.unexpected.push(
        `${where}: payment ${payment.paymentId} still PENDING after ${seconds(stuckAfterMs)}`,
      );
    } else if (
      payment.status !== expected.status ||
      (expected.status === 'FAILED' && payment.failureReason !== expected.reason)
    ) {
      const wanted = expected.status === 'FAILED' ? `FAILED (${expected.reason})` : expected.status;
      const got = `${payment.status}${payment.failureReason ? ` (${payment.failureReason})` : ''}`;
      stats.unexpected.push(`${where}: payment ${payment.paymentId} is ${got}; expected ${wanted}`);
    }
  }
  if (scenario.cancel) await cancel(api, 'client', orderId, true);
  const { body: order } = await api.json<OrderView>('GET', `/orders/${orderId}`, { role: 'client' });
  checkOrder(order, scenario, shares[scenario.paid], where, stats);
  return { order, payments };
}

/** What the API promises about an order at the end: its status, what was paid, never more than the total. */
function checkOrder(
  order: OrderView,
  scenario: Scenario,
  paidCents: number,
  where: string,
  stats: Stats,
): void {
  const total = minorUnits(order.amount);
  const paid = minorUnits(order.amountPaid);
  const settled = (order.payments ?? [])
    .filter((payment) => payment.status === 'COMPLETED')
    .reduce((sum, payment) => sum + minorUnits(payment.amount), 0n);
  if (order.status !== scenario.final)
    stats.unexpected.push(`${where}: order is ${order.status}; expected ${scenario.final}`);
  if (paid > total)
    stats.unexpected.push(`${where}: paid ${order.amountPaid}, over its total ${order.amount}`);
  if (paid !== BigInt(paidCents))
    stats.unexpected.push(`${where}: paid ${order.amountPaid}; expected ${decimal(paidCents)}`);
  if (settled !== paid) {
    stats.unexpected.push(
      `${where}: completed payments add up to ${decimal(Number(settled))}, but amountPaid is ${order.amountPaid}`,
    );
  }
  for (const payment of order.payments ?? []) {
    if (payment.status === 'PENDING')
      stats.unexpected.push(`${where}: payment ${payment.paymentId} is still PENDING`);
  }
}

/**
 * The client with every call timed by route, every status counted, and 429 and 503 retried after their
 * Retry-After. Any 5xx is unexpected.
 */
function measured(api: ApiClient, stats: Stats): ApiClient {
  async function call<T>(method: string, path: string, options: RequestOptions): Promise<JsonResponse<T>> {
    const route = `${method} ${routeOf(path)}${options.query?.wait ? '?wait=true' : ''}`;
    for (let attempt = 0; ; attempt++) {
      const started = performance.now();
      const response = await api.call<T>(method, path, options);
      const latencies = stats.latencies.get(route) ?? [];
      latencies.push(performance.now() - started);
      stats.latencies.set(route, latencies);
      stats.httpStatuses.set(response.status, (stats.httpStatuses.get(response.status) ?? 0) + 1);
      if (response.status >= 500) stats.unexpected.push(`${route} answered ${apiErrorOf(response).message}`);
      if ((response.status !== 429 && response.status !== 503) || attempt === MAX_RETRIES) return response;
      const retryAfter = Number(response.headers['retry-after'] ?? 1);
      await new Promise((resolve) => setTimeout(resolve, Math.min(Math.max(retryAfter, 0.1), 30) * 1000));
    }
  }
  return {
    ...api,
    call,
    async json<T>(method: string, path: string, options: RequestOptions) {
      const response = await call<T>(method, path, options);
      if (response.status >= 400) throw apiErrorOf(response);
      return response;
    },
  };
}

const routeOf = (path: string) =>
  path.replace(/^\/orders\/[^/]+/, '/orders/:orderId').replace(/^\/payments\/[^/]+/, '/payments/:paymentId');

interface Summary {
  run: string;
  orders: number;
  concurrency: number;
  durationMs: number;
  orderStatuses: Record<string, number>;
  paymentStatuses: Record<string, number>;
  failureReasons: Record<string, number>;
  httpStatuses: Record<string, number>;
  latencyMs: Record<string, { count: number; p50: number; p90: number; p99: number; max: number }>;
  unexpected: string[];
}

function summarize(
  options: { orders: number; concurrency: number },
  run: string,
  durationMs: number,
  orders: OrderView[],
  payments: PaymentView[],
  stats: Stats,
): Summary {
  const latencyMs: Summary['latencyMs'] = {};
  for (const [route, values] of [...stats.latencies].sort(([a], [b]) => a.localeCompare(b))) {
    const sorted = [...values].sort((a, b) => a - b);
    latencyMs[route] = {
      count: sorted.length,
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: Math.round(sorted.at(-1)!),
    };
  }
  return {
    run,
    orders: options.orders,
    concurrency: options.concurrency,
    durationMs,
    orderStatuses: countBy(orders.map((order) => order.status)),
    paymentStatuses: countBy(payments.map((payment) => payment.status)),
    failureReasons: countBy(
      payments.flatMap((payment) => (payment.failureReason ? [payment.failureReason] : [])),
    ),
    httpStatuses: Object.fromEntries([...stats.httpStatuses].sort(([a], [b]) => a - b)),
    latencyMs,
    unexpected: stats.unexpected,
  };
}

function summaryLines(summary: Summary): string[] {
  const counts = (record: Record<string, number>) =>
    Object.entries(record)
      .map(([key, count]) => `${key} ${count}`)
      .join(', ') || 'none';
  const routes = Object.entries(summary.latencyMs);
  const width = Math.max(...routes.map(([route]) => route.length), 5);
  const cell = (value: string | number) => String(value).padStart(7);
  return [
    `simulated ${summary.orders} orders, ${summary.concurrency} at once, in ${seconds(summary.durationMs)} (order IDs ${summary.run}-…)`,
    `orders:   ${counts(summary.orderStatuses)}`,
    `payments: ${counts(summary.paymentStatuses)}; declines: ${counts(summary.failureReasons)}`,
    `HTTP:     ${counts(summary.httpStatuses)}`,
    `latency (ms)`.padEnd(width) + ['n', 'p50', 'p90', 'p99', 'max'].map(cell).join(''),
    ...routes.map(
      ([route, l]) => route.padEnd(width) + [l.count, l.p50, l.p90, l.p99, l.max].map(cell).join(''),
    ),
    summary.unexpected.length === 0 ? 'unexpected: nothing' : `unexpected (${summary.unexpected.length}):`,
    ...summary.unexpected.map((line) => `  ${line}`),
  ];
}

/** Nearest-rank percentile of sorted values, in whole milliseconds. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values.sort()) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/** Cents as the API's decimal string. */
function decimal(cents: number): string {
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

/** A USD decimal string in cents, exactly. */
function minorUnits(amount: string): bigint {
  const [whole, fraction = ''] = amount.split('.');
  return BigInt(whole!) * 100n + BigInt(fraction.padEnd(2, '0').slice(0, 2));
}

function positiveInteger(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new InvalidArgumentError('expected a whole number of 1 or more');
  return value;
}
