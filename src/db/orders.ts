/**
 * The orders read model in MySQL: what GET endpoints and exports read, and what the order workflow's
 * activities write. Every write is safe to repeat, because activities run at least once.
 */
import type { Knex } from 'knex';
import type { RowDataPacket } from 'mysql2';
import { isDuplicateKey, statementPool, type Db } from './knex';
import type { CardFingerprinter } from '../crypto/card-fingerprint';
import type { FieldCipher } from '../crypto/field-cipher';
import { maskedCard } from '../domain/cards';
import { toDbDecimal } from '../domain/money';
import type { OrderStatus, PaymentStatus } from '../domain/orders/order-state';

export interface OrderRow {
  order_id: string;
  order_amount: string;
  amount_paid: string;
  currency: string;
  order_status: OrderStatus;
  customer_id: string | null;
  customer_email_enc: string | null;
  customer_name_enc: string | null;
  payment_deadline: Date | null;
  request_hash: string | null;
  /** The API client that created the order; null for an imported order. */
  owner_principal: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface PaymentRow {
  payment_id: string;
  order_id: string;
  payment_amount: string;
  payment_status: PaymentStatus;
  payment_method: string;
  card_brand: string | null;
  card_last4: string | null;
  card_number_enc: string | null;
  card_fingerprint: string | null;
  card_exp_month: number | null;
  /** Four digits. */
  card_exp_year: number | null;
  /** The CVC, sealed to its cell, only while the payment is PENDING (PCI DSS 3.3.2); null for imports. */
  card_cvc_enc: string | null;
  failure_reason: string | null;
  idempotency_key: string | null;
  request_hash: string | null;
  created_at: Date;
  updated_at: Date;
}

export const ORDERS = 'orders';
export const PAYMENTS = 'payments';

export interface NewOrder {
  orderId: string;
  amount: number;
  currency: string;
  customer?: { id?: string; email?: string; name?: string };
  paymentDeadline?: Date;
  requestHash?: string;
  ownerPrincipal?: string;
}

/** A PENDING order row; customer contact details are sealed to their cell. */
export function newOrderRow(order: NewOrder, cipher: FieldCipher, now: Date): Omit<OrderRow, 'amount_paid'> {
  const seal = (column: string, value: string | undefined) =>
    value === undefined ? null : cipher.encrypt(value, { table: ORDERS, column, rowId: order.orderId });
  return {
    order_id: order.orderId,
    order_amount: toDbDecimal(order.amount, order.currency),
    currency: order.currency,
    order_status: 'PENDING',
    customer_id: order.customer?.id ?? null,
    customer_email_enc: seal('customer_email_enc', order.customer?.email),
    customer_name_enc: seal('customer_name_enc', order.customer?.name),
    payment_deadline: order.paymentDeadline ?? null,
    request_hash: order.requestHash ?? null,
    owner_principal: order.ownerPrincipal ?? null,
    created_at: now,
    updated_at: now,
  };
}

export interface NewCardPayment {
  paymentId: string;
  orderId: string;
  amount: number;
  currency: string;
  cardNumber: string;
  /** An imported payment carries neither expiry nor CVC. */
  expMonth?: number;
  expYear?: number;
  cvc?: string;
  idempotencyKey?: string;
  requestHash?: string;
}

/**
 * A PENDING card payment row: the number sealed to its cell and fingerprinted (to find the same card without
 * decrypting), only brand and last 4 in clear.
 */
export function newCardPaymentRow(
  payment: NewCardPayment,
  cipher: FieldCipher,
  fingerprinter: CardFingerprinter,
  now: Date,
): PaymentRow {
  const { brand, last4 } = maskedCard(payment.cardNumber);
  return {
    payment_id: payment.paymentId,
    order_id: payment.orderId,
    payment_amount: toDbDecimal(payment.amount, payment.currency),
    payment_status: 'PENDING',
    payment_method: 'CARD',
    card_brand: brand,
    card_last4: last4,
    card_number_enc: cipher.encrypt(payment.cardNumber, {
      table: PAYMENTS,
      column: CARD_NUMBER_COLUMN,
      rowId: payment.paymentId,
    }),
    card_fingerprint: fingerprinter.fingerprint(payment.cardNumber),
    card_exp_month: payment.expMonth ?? null,
    card_exp_year: payment.expYear ?? null,
    card_cvc_enc:
      payment.cvc === undefined
        ? null
        : cipher.encrypt(payment.cvc, { table: PAYMENTS, column: CARD_CVC_COLUMN, rowId: payment.paymentId }),
    failure_reason: null,
    idempotency_key: payment.idempotencyKey ?? null,
    request_hash: payment.requestHash ?? null,
    created_at: now,
    updated_at: now,
  };
}

export const CARD_NUMBER_COLUMN = 'card_number_enc';
export const CARD_CVC_COLUMN = 'card_cvc_enc';

/**
 * Whose orders a read may see: `ownerPrincipal` limits it to that client's orders; without it (operators,
 * activities) every order is visible.
 */
export interface OrderScope {
  ownerPrincipal?: string;
}

export async function findOrder(
  db: Db | Knex.Transaction,
  orderId: string,
  scope: OrderScope = {},
): Promise<OrderRow | undefined> {
  const query = db<OrderRow>(ORDERS).where({ order_id: orderId });
  if (scope.ownerPrincipal !== undefined) void query.where('owner_principal', scope.ownerPrincipal);
  return query.first();
}

export async function findPayment(db: Db, paymentId: string): Promise<PaymentRow | undefined> {
  return db<PaymentRow>(PAYMENTS).where({ payment_id: paymentId }).first();
}

export async function findPaymentByIdempotencyKey(
  db: Db,
  orderId: string,
  idempotencyKey: string,
): Promise<PaymentRow | undefined> {
  return db<PaymentRow>(PAYMENTS).where({ order_id: orderId, idempotency_key: idempotencyKey }).first();
}

/**
 * Every read of an order's payments lists them oldest first, ties by ID in code-unit order. The order is
 * set here, not by SQL, so that the view does not depend on the columns' collation.
 */
export const paymentsOldestFirst = (
  a: { created_at: Date; payment_id: string },
  b: { created_at: Date; payment_id: string },
) =>
  a.created_at.getTime() - b.created_at.getTime() ||
  (a.payment_id < b.payment_id ? -1 : a.payment_id > b.payment_id ? 1 : 0);

export async function listPayments(db: Db, orderId: string): Promise<PaymentRow[]> {
  const payments = await db<PaymentRow>(PAYMENTS).where({ order_id: orderId });
  return payments.sort(paymentsOldestFirst);
}

/** What an order's view shows (src/api/orders/views.ts): a read takes no ciphertext, fingerprint or hash. */
const ORDER_VIEW_COLUMNS = [
  'order_id',
  'order_status',
  'order_amount',
  'amount_paid',
  'currency',
  'customer_id',
  'payment_deadline',
  'created_at',
  'updated_at',
] as const satisfies readonly (keyof OrderRow)[];
/** A payment's order_id is its order's, so it is not selected again. */
const PAYMENT_VIEW_COLUMNS = [
  'payment_id',
  'payment_amount',
  'payment_status',
  'payment_method',
  'card_brand',
  'card_last4',
  'failure_reason',
  'created_at',
  'updated_at',
] as const satisfies readonly (keyof PaymentRow)[];

export type OrderViewRow = Pick<OrderRow, (typeof ORDER_VIEW_COLUMNS)[number]>;
export type PaymentViewRow = Pick<PaymentRow, (typeof PAYMENT_VIEW_COLUMNS)[number] | 'order_id'>;

/**
 * An order and its payments (oldest first, as listPayments) in one round trip: a LEFT JOIN, payment columns
 * prefixed `p_` so they cannot collide with the order's. GET /orders/:id is the hottest read, so its SQL goes
 * straight to mysql2's own pool (statementPool): knex's query runner cost more CPU per request than the query did.
 * The payments are sorted here: an ORDER BY on the joined table makes MariaDB build a temporary table and
 * sort it, which cost it about a quarter more CPU per read (BENCHMARKS.md, "Read path").
 */
const ORDER_WITH_PAYMENTS_SQL = `SELECT ${ORDER_VIEW_COLUMNS.map((column) => `o.${column}`).join(', ')}, ${PAYMENT_VIEW_COLUMNS.map((column) => `p.${column} AS p_${column}`).join(', ')}
   FROM orders o LEFT JOIN payments p ON p.order_id = o.order_id
  WHERE o.order_id = ?`;
const OWNED_ORDER_WITH_PAYMENTS_SQL = `${ORDER_WITH_PAYMENTS_SQL} AND o.owner_principal = ?`;

export async function findOrderWithPayments(
  db: Db,
  orderId: string,
  scope: OrderScope = {},
): Promise<{ order: OrderViewRow; payments: PaymentViewRow[] } | undefined> {
  const rows =
    scope.ownerPrincipal === undefined
      ? await executeStatement(db, ORDER_WITH_PAYMENTS_SQL, [orderId])
      : await executeStatement(db, OWNED_ORDER_WITH_PAYMENTS_SQL, [orderId, scope.ownerPrincipal]);
  const first = rows[0];
  if (!first) return undefined;
  const order = {} as Record<string, unknown>;
  for (const column of ORDER_VIEW_COLUMNS) order[column] = first[column];
  const payments =
    first.p_payment_id === null ? [] : rows.map((row) => paymentOf(row, orderId)).sort(paymentsOldestFirst);
  return { order: order as unknown as OrderViewRow, payments };
}

function paymentOf(row: Record<string, unknown>, orderId: string): PaymentViewRow {
  const payment = { order_id: orderId } as Record<string, unknown>;
  for (const column of PAYMENT_VIEW_COLUMNS) payment[column] = row[`p_${column}`];
  return payment as unknown as PaymentViewRow;
}

/**
 * Runs a prepared statement, which the connection keeps for the next call: MariaDB then neither parses the
 * SQL nor sends text rows, a quarter less CPU on both sides for the order read (BENCHMARKS.md, "Read path").
 */
function executeStatement(db: Db, sql: string, values: string[]): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) =>
    statementPool(db).execute<RowDataPacket[]>(sql, values, (error, rows) =>
      error ? reject(error) : resolve(rows),
    ),
  );
}

/** Keyset pagination on (created_at, order_id): stable under concurrent inserts, no OFFSET scans. */
export async function listOrders(
  db: Db,
  query: {
    status?: OrderStatus;
    customerId?: string;
    limit: number;
    after?: { createdAt: Date; orderId: string };
  } & OrderScope,
): Promise<OrderRow[]> {
  const rows = db<OrderRow>(ORDERS)
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'order_id', order: 'desc' },
    ])
    .limit(query.limit);
  if (query.status) void rows.where('order_status', query.status);
  if (query.customerId) void rows.where('customer_id', query.customerId);
  if (query.ownerPrincipal !== undefined) void rows.where('owner_principal', query.ownerPrincipal);
  if (query.after)
    void rows.whereRaw('(created_at, order_id) < (?, ?)', [query.after.createdAt, query.after.orderId]);
  return await rows;
}

/** Inserts a new order; false when the ID exists already (the caller decides whether that is a retry). */
export async function insertOrder(db: Db, row: Omit<OrderRow, 'amount_paid'>): Promise<boolean> {
  return insertUnlessDuplicate(db(ORDERS).insert({ ...row, amount_paid: '0' }));
}

/** Inserts a payment; false when its ID, or its Idempotency-Key on that order, exists already. */
export async function insertPayment(db: Db, row: PaymentRow): Promise<boolean> {
  return insertUnlessDuplicate(db(PAYMENTS).insert(row));
}

/** Unlike INSERT IGNORE, only a duplicate key is tolerated: CHECK and foreign-key violations still throw. */
async function insertUnlessDuplicate(insert: Knex.QueryBuilder): Promise<boolean> {
  try {
    await insert;
    return true;
  } catch (error) {
    if (isDuplicateKey(error)) return false;
    throw error;
  }
}

/**
 * Settles a PENDING payment, erasing its CVC (an outcome ends what PCI DSS 3.3.2 lets us keep it for), and
 * recomputes what the order has been paid from its completed payments.
 * Recomputing (rather than adding) makes a repeated or reordered call harmless; the CHECK constraint on
 * orders refuses any total above the order amount.
 */
export async function settlePayment(
  db: Db,
  settlement: { orderId: string; paymentId: string; status: 'COMPLETED' | 'FAILED'; failureReason?: string },
  now: Date,
): Promise<void> {
  await db.transaction(async (trx) => {
    await trx<PaymentRow>(PAYMENTS)
      .where({ payment_id: settlement.paymentId, order_id: settlement.orderId, payment_status: 'PENDING' })
      .update({
        payment_status: settlement.status,
        failure_reason: settlement.failureReason ?? null,
        card_cvc_enc: null,
        updated_at: now,
      });
    await trx.raw(
      `UPDATE orders o
          SET o.amount_paid = (SELECT COALESCE(SUM(p.payment_amount), 0) FROM payments p
                                WHERE p.order_id = o.order_id AND p.payment_status = 'COMPLETED'),
              o.updated_at = ?
        WHERE o.order_id = ?`,
      [now, settlement.orderId],
    );
    await trx<OrderRow>(ORDERS)
      .where({ order_id: settlement.orderId, order_status: 'PENDING' })
      .whereRaw('amount_paid = order_amount')
      .update({ order_status: 'COMPLETED', updated_at: now });
  });
}

/** Moves a PENDING order to a final status; a final order keeps the status it has. */
export async function closeOrderRow(db: Db, orderId: string, status: OrderStatus, now: Date): Promise<void> {
  await db<OrderRow>(ORDERS)
    .where({ order_id: orderId, order_status: 'PENDING' })
    .update({ order_status: status, updated_at: now });
}
