import { ORDER_STATUSES } from '../domain/orders/order-state';
import { randomUUID } from 'node:crypto';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { ApiClient } from './client';
import { pollUntil, withContext } from './context';

export interface PaymentView {
  paymentId: string;
  orderId: string;
  amount: string;
  currency: string;
  status: 'PENDING' | 'COMPLETED' | 'FAILED';
  failureReason?: string;
  method: { type: string; brand?: string; last4?: string };
  order?: { status: string; amountPaid: string };
}

export interface OrderView {
  orderId: string;
  status: string;
  amount: string;
  currency: string;
  amountPaid: string;
  amountDue: string;
  customer?: { id: string };
  paymentDeadline: string | null;
  createdAt: string;
  payments?: PaymentView[];
}

export interface CardInput {
  number: string;
  expMonth: number;
  expYear: number;
  cvc: string;
  holder?: string;
}

const POLL_MS = 250;
/** The workflow takes a cancel in well under a second; past this the CLI reports the order as still cancelling. */
const CANCEL_WAIT_MS = 60_000;

export function ordersCommand(): Command {
  const orders = new Command('orders').description('create, read, pay and cancel orders');

  orders
    .command('create')
    .description(
      'create an order (uses the client key: only clients create orders, and own what they create)',
    )
    .option('--id <orderId>', 'the order ID (default: a new ORD-… ID); the same ID and body again is a no-op')
    .requiredOption(
      '--amount <amount>',
      'decimal string in the major unit, exactly as the API takes it: 125.50',
    )
    .requiredOption('--currency <code>', 'ISO 4217 code, such as USD')
    .option('--customer <id>', 'customer ID')
    .option('--email <email>', 'customer email (stored encrypted)')
    .option('--name <name>', 'customer name (stored encrypted)')
    .option('--deadline <duration>', 'payment deadline as an ISO 8601 duration, such as P7D')
    .action(async (options: CreateOptions, command: Command) =>
      withContext(command, async ({ api, out }) => {
        const customer = {
          ...(options.customer ? { id: options.customer } : {}),
          ...(options.email ? { email: options.email } : {}),
          ...(options.name ? { name: options.name } : {}),
        };
        const { status, body } = await api.json<OrderView>('POST', '/orders', {
          role: 'client',
          json: {
            orderId: options.id ?? `ORD-${Date.now()}-${randomUUID().slice(0, 8)}`,
            amount: options.amount,
            currency: options.currency,
            ...(Object.keys(customer).length > 0 ? { customer } : {}),
            ...(options.deadline ? { paymentDeadline: options.deadline } : {}),
          },
        });
        out.result(body, () => [
          `${status === 201 ? 'created' : 'already exists'}: order ${body.orderId}`,
          ...orderLines(body),
        ]);
      }),
    );

  orders
    .command('get')
    .description('show an order and its payments')
    .argument('<orderId>')
    .action(async (orderId: string, _options: unknown, command: Command) =>
      withContext(command, async ({ api, out }) => {
        const { body } = await api.json<OrderView>('GET', `/orders/${encodeURIComponent(orderId)}`, {
          role: 'operator',
        });
        out.result(body, () => orderLines(body));
      }),
    );

  orders
    .command('list')
    .description('list orders, newest first')
    .addOption(new Option('--status <status>', 'only orders in this status').choices(ORDER_STATUSES))
    .option('--limit <n>', 'orders per page, 1 to 100', '20')
    .option('--cursor <cursor>', 'the next page: the cursor a previous page printed')
    .action(async (options: { status?: string; limit: string; cursor?: string }, command: Command) =>
      withContext(command, async ({ api, out }) => {
        const { body } = await api.json<{ items: OrderView[]; nextCursor: string | null }>('GET', '/orders', {
          role: 'operator',
          query: { status: options.status, limit: options.limit, cursor: options.cursor },
        });
        out.result(body, () => [
          ...body.items.map(
            (order) =>
              `${order.orderId}  ${order.status}  ${order.amount} ${order.currency}  paid ${order.amountPaid}  ${order.createdAt}`,
          ),
          ...(body.items.length === 0 ? ['no orders'] : []),
          ...(body.nextCursor ? [`more: --cursor ${body.nextCursor}`] : []),
        ]);
      }),
    );

  orders
    .command('pay')
    .description('send a payment attempt by card; exits 2 when the payment FAILED (declined)')
    .argument('<orderId>')
    .requiredOption('--amount <amount>', 'decimal string in the major unit, at most what is due: 25.50')
    .requiredOption('--card <number>', 'card number (test cards: see the README)')
    .requiredOption('--exp <MM/YYYY>', 'card expiry, such as 12/2030', parseExpiry)
    .requiredOption('--cvc <cvc>', 'card verification code')
    .option('--holder <name>', 'card holder')
    .option('--payment-id <id>', 'the payment ID (default: the API chooses)')
    .option(
      '--idempotency-key <key>',
      'retry safely: the same key and body again answers the same payment (default: new)',
    )
    .option('--wait', 'wait for the final result (COMPLETED or FAILED) instead of answering while PENDING')
    .action(async (orderId: string, options: PayOptions, command: Command) =>
      withContext(command, async ({ api, out }) => {
        const payment = await pay(api, 'operator', orderId, {
          amount: options.amount,
          card: {
            number: options.card,
            ...options.exp,
            cvc: options.cvc,
            ...(options.holder ? { holder: options.holder } : {}),
          },
          ...(options.paymentId ? { paymentId: options.paymentId } : {}),
          idempotencyKey: options.idempotencyKey ?? randomUUID(),
          wait: options.wait === true,
        });
        out.result(payment, () => paymentLines(payment));
        return payment.status === 'FAILED' ? 2 : 0;
      }),
    );

  orders
    .command('cancel')
    .description('cancel a PENDING order (an operator may cancel any order)')
    .argument('<orderId>')
    .option('--wait', 'wait until the order is CANCELLED')
    .action(async (orderId: string, options: { wait?: boolean }, command: Command) =>
      withContext(command, async ({ api, out }) => {
        const result = await cancel(api, 'operator', orderId, options.wait === true);
        out.result(result, () => [`order ${result.orderId}: ${result.status}`]);
      }),
    );

  return orders;
}

/**
 * A payment attempt. With `wait`, the API answers the final result or, past its own wait, 202 while still
 * PENDING; then the payment is polled until it is final.
 */
export async function pay(
  api: ApiClient,
  role: 'client' | 'operator',
  orderId: string,
  payment: {
    amount: string;
    card: CardInput;
    paymentId?: string;
    idempotencyKey: string;
    wait: boolean;
  },
  deadline = Infinity,
): Promise<PaymentView> {
  const { body } = await api.json<PaymentView>('POST', `/orders/${encodeURIComponent(orderId)}/payments`, {
    role,
    query: payment.wait ? { wait: 'true' } : {},
    headers: { 'idempotency-key': payment.idempotencyKey },
    json: {
      ...(payment.paymentId ? { paymentId: payment.paymentId } : {}),
      amount: payment.amount,
      method: { type: 'card', ...payment.card },
    },
  });
  if (!payment.wait || body.status !== 'PENDING') return body;
  const final = await pollUntil(
    async () => (await api.json<PaymentView>('GET', `/payments/${body.paymentId}`, { role })).body,
    (view) => view.status !== 'PENDING',
    POLL_MS,
    deadline,
  );
  return final ?? { ...body, status: 'PENDING' };
}

/** Asks to cancel; with `wait`, polls the order until it is no longer PENDING and answers its status. */
export async function cancel(
  api: ApiClient,
  role: 'client' | 'operator',
  orderId: string,
  wait: boolean,
): Promise<{ orderId: string; status: string }> {
  const path = `/orders/${encodeURIComponent(orderId)}`;
  const { body } = await api.json<{ orderId: string; status: string }>('POST', `${path}/cancel`, { role });
  if (!wait) return body;
  const order = await pollUntil(
    async () => (await api.json<OrderView>('GET', path, { role })).body,
    (view) => view.status !== 'PENDING',
    POLL_MS,
    Date.now() + CANCEL_WAIT_MS,
  );
  return { orderId, status: order?.status ?? body.status };
}

function orderLines(order: OrderView): string[] {
  return [
    `order ${order.orderId}: ${order.status}`,
    `  amount ${order.amount} ${order.currency}, paid ${order.amountPaid}, due ${order.amountDue}`,
    ...(order.customer ? [`  customer ${order.customer.id}`] : []),
    `  created ${order.createdAt}${order.paymentDeadline ? `, payment deadline ${order.paymentDeadline}` : ''}`,
    ...(order.payments ?? []).map(
      (payment) =>
        `  payment ${payment.paymentId}: ${payment.status} ${payment.amount}` +
        `${cardOf(payment)}${payment.failureReason ? ` (${payment.failureReason})` : ''}`,
    ),
  ];
}

function paymentLines(payment: PaymentView): string[] {
  return [
    `payment ${payment.paymentId}: ${payment.status}${payment.failureReason ? ` (${payment.failureReason})` : ''}`,
    `  ${payment.amount} ${payment.currency}${cardOf(payment)} on order ${payment.orderId}`,
    ...(payment.order ? [`  order ${payment.order.status}, paid ${payment.order.amountPaid}`] : []),
    ...(payment.status === 'PENDING' ? [`  follow it: durapay orders get ${payment.orderId}`] : []),
  ];
}

const cardOf = (payment: PaymentView) =>
  payment.method.brand ? ` by ${payment.method.brand} …${payment.method.last4}` : '';

function parseExpiry(text: string): { expMonth: number; expYear: number } {
  const match = /^(\d{1,2})\/(\d{2}|\d{4})$/.exec(text);
  if (!match) throw new InvalidArgumentError('expected MM/YYYY, such as 12/2030');
  const year = Number(match[2]);
  return { expMonth: Number(match[1]), expYear: year < 100 ? 2000 + year : year };
}

interface CreateOptions {
  id?: string;
  amount: string;
  currency: string;
  customer?: string;
  email?: string;
  name?: string;
  deadline?: string;
}

interface PayOptions {
  amount: string;
  card: string;
  exp: { expMonth: number; expYear: number };
  cvc: string;
  holder?: string;
  paymentId?: string;
  idempotencyKey?: string;
  wait?: boolean;
}
