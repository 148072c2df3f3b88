/**
 * The orders export reads: orders matching a filter with their payments, in keyset-paged batches of whole
 * orders. Deliberately never reads `card_number_enc`: what is never read cannot leak.
 */
import type { Db } from './knex';
import { ORDERS, PAYMENTS, paymentsOldestFirst, type OrderRow, type PaymentRow } from './orders';
import type { OrderStatus } from '../domain/orders/order-state';

export interface ExportFilter {
  status?: OrderStatus;
  /** Inclusive, on created_at. */
  from?: Date;
  /** Exclusive, on created_at. */
  to?: Date;
}

const ORDER_COLUMNS = [
  'order_id',
  'order_amount',
  'currency',
  'order_status',
  'customer_email_enc',
  'created_at',
] as const satisfies readonly (keyof OrderRow)[];

export type ExportOrderRow = Pick<OrderRow, (typeof ORDER_COLUMNS)[number]>;
export type ExportPaymentRow = Pick<
  PaymentRow,
  | 'payment_id'
  | 'order_id'
  | 'payment_amount'
  | 'payment_status'
  | 'payment_method'
  | 'card_brand'
  | 'card_last4'
>;

export interface ExportBatch {
  orders: ExportOrderRow[];
  /** By order_id, each list oldest first. */
  payments: Map<string, ExportPaymentRow[]>;
}

/** A row of exportRowsQuery: an order, with one of its payments or with nulls when it has none. */
export interface JoinedRow extends ExportOrderRow {
  payment_id: string | null;
  payment_amount: string | null;
  payment_status: PaymentRow['payment_status'] | null;
  payment_method: string | null;
  payment_card_brand: string | null;
  payment_card_last4: string | null;
  payment_created_at: Date | null;
}

/** The payment's side of a JoinedRow. Deliberately without `card_number_enc`: what is never read cannot leak. */
const JOINED_PAYMENT_COLUMNS = [
  'p.payment_id',
  'p.payment_amount',
  'p.payment_status',
  'p.payment_method',
  'p.card_brand as payment_card_brand',
  'p.card_last4 as payment_card_last4',
  'p.created_at as payment_created_at',
];

/**
 * Every row (order with payment) matching the filter, in order_id order: the one statement the export pages
 * through with a limit and a lower bound.
 */
export function exportRowsQuery(db: Db, filter: ExportFilter) {
  // Walk the primary key even with a status filter: through the status index, every batch would re-read
  // and sort all the remaining orders in that status, quadratic over a large export. Ordered by order
  // only (payments are sorted here), MariaDB neither sorts nor builds a temporary table.
  const query = db
    .select(...ORDER_COLUMNS.map((column) => `o.${column}`), ...JOINED_PAYMENT_COLUMNS)
    .from(db.raw('?? AS o FORCE INDEX (PRIMARY)', [ORDERS]))
    .leftJoin({ p: PAYMENTS }, 'p.order_id', 'o.order_id')
    .orderBy('o.order_id');
  if (filter.status) void query.where('o.order_status', filter.status);
  if (filter.from) void query.where('o.created_at', '>=', filter.from);
  if (filter.to) void query.where('o.created_at', '<', filter.to);
  return query;
}

/**
 * Orders matching the filter in order_id order, whole orders of at most `batchRows` rows (order with payment)
 * per batch. Each batch is one statement (orders joined with their payments), so it is consistent (no
 * payment settled after its order was read) without a transaction.
 */
export async function* orderBatches(
  db: Db,
  filter: ExportFilter,
  batchRows: number,
): AsyncGenerator<ExportBatch> {
  const rowsOfOrders = (after: string | undefined) => {
    const query = exportRowsQuery(db, filter);
    if (after !== undefined) void query.where('o.order_id', '>', after);
    return query;
  };
  let after: string | undefined;
  for (;;) {
    const rows = (await rowsOfOrders(after).limit(batchRows)) as JoinedRow[];
    const more = rows.length === batchRows;
    let complete = rows;
    if (more) {
      // The limit may have cut the last order's payments short: it starts the next batch instead. An order
      // with more payments than a batch holds is read alone, whole.
      const last = rows[rows.length - 1]!.order_id;
      const cut = rows.findIndex((row) => row.order_id === last);
      complete =
        cut > 0 ? rows.slice(0, cut) : ((await rowsOfOrders(after).where('o.order_id', last)) as JoinedRow[]);
    }
    const batch = groupJoinedRows(complete);
    if (batch.orders.length > 0) yield batch;
    if (!more) return;
    after = batch.orders[batch.orders.length - 1]!.order_id;
  }
}

/** Rows in order_id order back into orders and their payments, each order's oldest first (ties by id). */
export function groupJoinedRows(rows: readonly JoinedRow[]): ExportBatch {
  const orders: ExportOrderRow[] = [];
  const payments = new Map<string, ExportPaymentRow[]>();
  let list: (ExportPaymentRow & { created_at: Date })[] = [];
  for (const row of rows) {
    if (orders[orders.length - 1]?.order_id !== row.order_id) {
      if (list.length > 1) list.sort(paymentsOldestFirst);
      const { order_id, order_amount, currency, order_status, customer_email_enc, created_at } = row;
      orders.push({ order_id, order_amount, currency, order_status, customer_email_enc, created_at });
      list = [];
      payments.set(order_id, list);
    }
    if (row.payment_id === null) continue;
    list.push({
      payment_id: row.payment_id,
      order_id: row.order_id,
      payment_amount: row.payment_amount!,
      payment_status: row.payment_status!,
      payment_method: row.payment_method!,
      card_brand: row.payment_card_brand,
      card_last4: row.payment_card_last4,
      created_at: row.payment_created_at!,
    });
  }
  if (list.length > 1) list.sort(paymentsOldestFirst);
  return { orders, payments };
}
