/**
 * Request bodies and parameters of the orders API, parsed into typed commands. Pure functions: every
 * refusal is a Problem with a message a client can act on, and nothing here touches the database.
 */
import { createHash } from 'node:crypto';
import { validateCard, type ValidatedCard } from '../../domain/cards';
import { isCurrency } from '../../domain/currencies';
import { parseIsoDuration } from '../../domain/durations';
import { ID_PATTERN } from '../../domain/ids';
import { parseAmount } from '../../domain/money';
import { ORDER_STATUSES, type OrderStatus } from '../../domain/orders/order-state';
import { Problem } from '../http/problem';
import { allowQueryParameters } from '../http/query';

const MAX_DEADLINE_MS = 366 * 24 * 60 * 60 * 1000;

export interface CreateOrderCommand {
  orderId: string | undefined;
  amount: number;
  currency: string;
  customer: { id?: string; email?: string; name?: string };
  paymentDeadlineMs: number;
  /** Identifies the request's meaning, so a retry is recognised and a different body under the same ID is not. */
  requestHash: string;
}

export interface PaymentCommandDraft {
  paymentId: string | undefined;
  /** Validated once the order's currency is known. */
  amountText: string;
  card: { number: string; expMonth: unknown; expYear: unknown; cvc: string; holder?: string };
}

export interface PaymentCommand {
  paymentId: string | undefined;
  amount: number;
  card: ValidatedCard;
  requestHash: string;
}

export function invalid(detail: string, extensions: Record<string, unknown> = {}): Problem {
  return new Problem(422, 'Unprocessable Content', detail, extensions);
}

/** An ID in a path: malformed is a 400 whatever exists, so the answer says nothing about other callers' data. */
export function parseId(value: string, what: string): string {
  if (!ID_PATTERN.test(value)) {
    throw new Problem(
      400,
      'Bad Request',
      `${what} ID must be 1 to 64 characters of letters, digits, '.', '_', ':' or '-', starting with a letter or digit`,
    );
  }
  return value;
}

export function parseCreateOrder(body: unknown, defaultDeadlineMs: number): CreateOrderCommand {
  const input = objectBody(body, 'order');
  rejectUnknownFields(input, ['orderId', 'amount', 'currency', 'customer', 'paymentDeadline'], 'order');
  const orderId = optionalId(input.orderId, 'orderId');
  const currency = requiredString(input.currency, 'currency');
  if (!isCurrency(currency)) throw invalid(`currency "${currency}" is not a supported ISO 4217 code`);
  const amount = parseAmount(requiredString(input.amount, 'amount'), currency);
  const customer = parseCustomer(input.customer);
  const paymentDeadlineMs =
    input.paymentDeadline === undefined
      ? defaultDeadlineMs
      : parseIsoDuration(requiredString(input.paymentDeadline, 'paymentDeadline'));
  if (paymentDeadlineMs <= 0 || paymentDeadlineMs > MAX_DEADLINE_MS) {
    throw invalid('paymentDeadline must be longer than zero and at most 366 days');
  }
  return {
    orderId,
    amount,
    currency,
    customer,
    paymentDeadlineMs,
    requestHash: hashOf({ orderId, amount, currency, customer, paymentDeadlineMs }),
  };
}

export function parsePaymentDraft(body: unknown): PaymentCommandDraft {
  const input = objectBody(body, 'payment');
  rejectUnknownFields(input, ['paymentId', 'amount', 'method'], 'payment');
  const method = objectBody(input.method, 'method');
  if (method.type !== 'card') {
    throw invalid(
      `method.type must be "card"${typeof method.type === 'string' ? `, not "${method.type}"` : ''}`,
    );
  }
  rejectUnknownFields(method, ['type', 'number', 'expMonth', 'expYear', 'cvc', 'holder'], 'method');
  return {
    paymentId: optionalId(input.paymentId, 'paymentId'),
    amountText: requiredString(input.amount, 'amount'),
    card: {
      number: requiredString(method.number, 'method.number'),
      expMonth: method.expMonth,
      expYear: method.expYear,
      cvc: requiredString(method.cvc, 'method.cvc'),
      ...(method.holder === undefined ? {} : { holder: boundedString(method.holder, 'method.holder', 128) }),
    },
  };
}

/** Completes a draft once the order's currency is known; the CVC is checked here and then dropped. */
export function completePayment(draft: PaymentCommandDraft, currency: string, now: Date): PaymentCommand {
  const amount = parseAmount(draft.amountText, currency);
  const card = validateCard(
    {
      number: draft.card.number,
      expMonth: cardNumberField(draft.card.expMonth, 'method.expMonth'),
      expYear: cardNumberField(draft.card.expYear, 'method.expYear'),
      cvc: draft.card.cvc,
    },
    now,
  );
  // The full card number stays out of the hash: a hash of a card number can be reversed by brute force.
  const requestHash = hashOf({
    paymentId: draft.paymentId,
    amount,
    card: {
      brand: card.masked.brand,
      last4: card.masked.last4,
      expMonth: card.expMonth,
      expYear: card.expYear,
    },
  });
  return { paymentId: draft.paymentId, amount, card, requestHash };
}

export function parseIdempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,255}$/.test(header)) {
    throw new Problem(400, 'Bad Request', 'Idempotency-Key must be 1 to 255 visible ASCII characters');
  }
  return header;
}

export function parseWait(value: unknown): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new Problem(400, 'Bad Request', 'wait must be "true" or "false"');
}

export interface ListOrdersQuery {
  status?: OrderStatus;
  limit: number;
  after?: { createdAt: Date; orderId: string };
}

export function parseListOrders(query: Record<string, unknown>): ListOrdersQuery {
  allowQueryParameters(query, ['status', 'limit', 'cursor']);
  const { status, limit, cursor } = query;
  if (status !== undefined && !ORDER_STATUSES.includes(status as OrderStatus)) {
    throw new Problem(400, 'Bad Request', `status must be one of ${ORDER_STATUSES.join(', ')}`);
  }
  if (
    limit !== undefined &&
    (typeof limit !== 'string' || !/^\d{1,3}$/.test(limit) || +limit < 1 || +limit > 100)
  ) {
    throw new Problem(400, 'Bad Request', 'limit must be a whole number from 1 to 100');
  }
  return {
    ...(status === undefined ? {} : { status: status as OrderStatus }),
    limit: limit === undefined ? 20 : Number(limit),
    ...(cursor === undefined ? {} : { after: decodeCursor(cursor) }),
  };
}

export function encodeCursor(createdAt: Date, orderId: string): string {
  return Buffer.from(JSON.stringify([createdAt.toISOString(), orderId])).toString('base64url');
}

function decodeCursor(cursor: unknown): { createdAt: Date; orderId: string } {
  try {
    const [createdAt, orderId] = JSON.parse(
      Buffer.from(String(cursor), 'base64url').toString('utf8'),
    ) as unknown[];
    const date = new Date(String(createdAt));
    if (typeof orderId === 'string' && ID_PATTERN.test(orderId) && !Number.isNaN(date.getTime())) {
      return { createdAt: date, orderId };
    }
  } catch {
    // fall through to the refusal below
  }
  throw new Problem(400, 'Bad Request', 'cursor is not one this API returned');
}

function objectBody(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid(`${what} must be a JSON object`);
  }
  return body as Record<string, unknown>;
}

function rejectUnknownFields(input: Record<string, unknown>, known: string[], what: string): void {
  const unknown = Object.keys(input).filter((key) => !known.includes(key));
  if (unknown.length > 0) throw invalid(`${what} has unknown field ${unknown.join(', ')}`);
}

function requiredString(value: unknown, field: string): string {
  if (typeof value !== 'string') {
    throw invalid(
      `${field} is required and must be a string${field.endsWith('amount') ? ' such as "125.50"' : ''}`,
    );
  }
  return value;
}

function boundedString(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw invalid(`${field} must be a string of 1 to ${max} characters`);
  }
  return value;
}

function optionalId(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
    throw invalid(`${field} must be 1 to 64 characters of letters, digits, '.', '_', ':' or '-'`);
  }
  return value;
}

function parseCustomer(value: unknown): CreateOrderCommand['customer'] {
  if (value === undefined) return {};
  const customer = objectBody(value, 'customer');
  rejectUnknownFields(customer, ['id', 'email', 'name'], 'customer');
  const email =
    customer.email === undefined ? undefined : boundedString(customer.email, 'customer.email', 254);
  if (email !== undefined && !/^[^\s@]+@[^\s@]+$/.test(email))
    throw invalid('customer.email is not an email address');
  return {
    ...(customer.id === undefined ? {} : { id: optionalId(customer.id, 'customer.id') }),
    ...(email === undefined ? {} : { email }),
    ...(customer.name === undefined ? {} : { name: boundedString(customer.name, 'customer.name', 200) }),
  };
}

/** Card months and years may arrive as numbers or digit strings; anything else is malformed card data. */
function cardNumberField(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^\d{1,4}$/.test(value)) return Number(value);
  throw invalid(`${field} must be a whole number`);
}

function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}
