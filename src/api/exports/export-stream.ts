/**
 * Bulk export of orders and their payments as CSV or XML, in the bulk-upload formats (card numbers
 * aside: an export carries brand and last 4 only, and never reads `card_number_enc`).
 *
 * Constant memory whatever the size: orders are read in keyset-paged batches, as a pipeline. While one batch
 * is formatted, the next has its emails decrypted on a FieldCipherThread and the one after is read, so the
 * database, the decryption and the formatting overlap on two cores, and no further: a slow client holds at
 * most three batches besides the stream's buffer (Readable.from over async generators pulls only as the
 * response drains).
 *
 * Failures: anything that fails before the first chunk (the first query, a bad first row) is thrown to
 * the caller, which answers with problem details. Once bytes are out the status cannot change, so a
 * failure destroys the stream with the error: the response is cut off without its terminating chunk and
 * the client sees a broken transfer, never a short file that looks complete. The failure is logged here.
 */
import { EXPORT_COLUMNS } from '../../domain/uploads/import-rows';
import { Readable } from 'node:stream';
import type { DecryptedCell, FieldCipherThread } from '../../crypto/field-cipher-thread';
import type { Db } from '../../db/knex';
import { ORDERS, PAYMENTS, type OrderRow, type PaymentRow } from '../../db/orders';
import { csvNumberCell, csvRecord, csvTextCell } from '../../domain/exports/csv-cells';
import { formatDbDecimal } from '../../domain/money';
import type { OrderStatus } from '../../domain/orders/order-state';
import type { Logger } from '../../logging/logger';

/**
 * Rows (an order with one of its payments, or alone) per query, whole orders only: the most held in memory
 * per batch, and an order with more payments is read alone.
 */
export const EXPORT_BATCH_ROWS = 1000;
/** Text is handed to the stream in pieces of about this many characters, not row by row. */
const CHUNK_CHARS = 64 * 1024;

export type ExportFormat = 'csv' | 'xml';

export interface ExportFilter {
  status?: OrderStatus;
  /** Inclusive, on created_at. */
  from?: Date;
  /** Exclusive, on created_at. */
  to?: Date;
}

/** The export header: the upload one with brand and last 4 in place of the card number. */
export const CSV_HEADER = EXPORT_COLUMNS;

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

/**
 * A batch ready to write: each order's email in clear, null, or the error of one that does not decrypt
 * (thrown when its order is written, so the orders before it still go out); index-aligned with `orders`.
 */
export interface ClearBatch extends ExportBatch {
  emails: (DecryptedCell | null)[];
}

/**
 * DB payment methods in the upload vocabulary. Spelled the same today; this is where a divergence goes.
 * An unknown method passes through unchanged, for the upload to refuse, rather than being guessed.
 */
const UPLOAD_METHODS: ReadonlyMap<string, string> = new Map([
  ['CARD', 'CARD'],
  ['BANK_TRANSFER', 'BANK_TRANSFER'],
]);

/**
 * Orders matching the filter in order_id order, whole orders of at most `batchRows` rows (order with payment)
 * at a time, one batch read ahead. Each batch is one statement (orders joined with their payments), so it is
 * consistent (no payment settled after its order was read) without a transaction; the export as a whole is
 * not a snapshot, which would pin a connection for as long as the slowest client takes.
 */
export function readOrderBatches(
  db: Db,
  filter: ExportFilter,
  cipherThread: FieldCipherThread,
  batchRows: number = EXPORT_BATCH_ROWS,
): AsyncGenerator<ClearBatch> {
  return readingOneAhead(withClearEmails(readingOneAhead(orderBatches(db, filter, batchRows)), cipherThread));
}

/** Each batch with its emails decrypted on the thread, one message for the whole batch. */
async function* withClearEmails(
  batches: AsyncIterable<ExportBatch>,
  cipherThread: FieldCipherThread,
): AsyncGenerator<ClearBatch> {
  for await (const batch of batches) {
    const sealed = batch.orders.filter((order) => order.customer_email_enc !== null);
    const clear = await cipherThread.decryptColumn(
      ORDERS,
      'customer_email_enc',
      sealed.map((order) => order.customer_email_enc!),
      sealed.map((order) => order.order_id),
    );
    let next = 0;
    const emails = batch.orders.map((order) => (order.customer_email_enc === null ? null : clear[next++]!));
    yield { ...batch, emails };
  }
}

/**
 * What `source` yields, with the next item already requested while the caller works on this one. Stopping
 * early waits for that request, then closes the source.
 */
export async function* readingOneAhead<T>(source: AsyncIterator<T>): AsyncGenerator<T> {
  const ahead = () => {
    const next = source.next();
    // Awaited on the next turn; until then a failure must not count as unhandled.
    next.catch(() => undefined);
    return next;
  };
  let next = ahead();
  let finished = false;
  try {
    for (;;) {
      const current = await next;
      if (current.done) {
        finished = true;
        return;
      }
      next = ahead();
      // knex sends a query only on a later turn of the event loop. Without this turn the caller's work,
      // synchronous, would hold the next read back, and reading would alternate with it instead of overlapping.
      await new Promise((resolve) => setImmediate(resolve));
      yield current.value;
    }
  } finally {
    if (!finished) {
      const pending = await next.catch(() => ({ done: true }) as const);
      if (!pending.done) await source.return?.();
    }
  }
}

/** A batch's row: an order, with one of its payments or with nulls when it has none. */
interface JoinedRow extends ExportOrderRow {
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

async function* orderBatches(db: Db, filter: ExportFilter, batchRows: number): AsyncGenerator<ExportBatch> {
  // Walk the primary key even with a status filter: through the status index, every batch would re-read
  // and sort all the remaining orders in that status, quadratic over a large export. Ordered by order
  // only (payments are sorted here), MariaDB neither sorts nor builds a temporary table.
  const rowsOfOrders = (after: string | undefined) => {
    const query = db
      .select(...ORDER_COLUMNS.map((column) => `o.${column}`), ...JOINED_PAYMENT_COLUMNS)
      .from(db.raw('?? AS o FORCE INDEX (PRIMARY)', [ORDERS]))
      .leftJoin({ p: PAYMENTS }, 'p.order_id', 'o.order_id')
      .orderBy('o.order_id');
    if (after !== undefined) void query.where('o.order_id', '>', after);
    if (filter.status) void query.where('o.order_status', filter.status);
    if (filter.from) void query.where('o.created_at', '>=', filter.from);
    if (filter.to) void query.where('o.created_at', '<', filter.to);
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
function groupJoinedRows(rows: readonly JoinedRow[]): ExportBatch {
  const orders: ExportOrderRow[] = [];
  const payments = new Map<string, ExportPaymentRow[]>();
  let list: (ExportPaymentRow & { created_at: Date })[] = [];
  for (const row of rows) {
    if (orders[orders.length - 1]?.order_id !== row.order_id) {
      if (list.length > 1) list.sort(oldestFirst);
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
  if (list.length > 1) list.sort(oldestFirst);
  return { orders, payments };
}

const oldestFirst = (
  a: { created_at: Date; payment_id: string },
  b: { created_at: Date; payment_id: string },
) =>
  a.created_at.getTime() - b.created_at.getTime() ||
  (a.payment_id < b.payment_id ? -1 : a.payment_id > b.payment_id ? 1 : 0);

/** One order as exported: clear email, amounts in the currency's major unit. */
interface ExportOrder {
  orderId: string;
  amount: string;
  currency: string;
  status: string;
  createdAt: string;
  email: string | null;
  payments: Array<{
    paymentId: string;
    amount: string;
    status: string;
    method: string;
    cardBrand: string | null;
    cardLast4: string | null;
  }>;
}

function toExportOrder(
  row: ExportOrderRow,
  email: DecryptedCell | null,
  payments: readonly ExportPaymentRow[],
): ExportOrder {
  if (email instanceof Error) throw email;
  return {
    orderId: row.order_id,
    amount: formatDbDecimal(row.order_amount, row.currency),
    currency: row.currency,
    status: row.order_status,
    createdAt: row.created_at.toISOString(),
    email,
    payments: payments.map((payment) => ({
      paymentId: payment.payment_id,
      amount: formatDbDecimal(payment.payment_amount, row.currency),
      status: payment.payment_status,
      method: UPLOAD_METHODS.get(payment.payment_method) ?? payment.payment_method,
      cardBrand: payment.card_brand,
      cardLast4: payment.card_last4,
    })),
  };
}

/** One record per payment, or one with empty payment cells; cells joined by hand, as this runs per row. */
function csvLines(order: ExportOrder): string {
  const orderCells =
    `${csvTextCell(order.orderId)},${csvNumberCell(order.amount)},${csvTextCell(order.currency)},` +
    `${csvTextCell(order.status)},${csvTextCell(order.createdAt)},${csvTextCell(order.email)}`;
  if (order.payments.length === 0) return `${orderCells},,,,,,\n`;
  let lines = '';
  for (const payment of order.payments) {
    lines +=
      `${orderCells},${csvTextCell(payment.paymentId)},${csvNumberCell(payment.amount)},` +
      `${csvTextCell(payment.status)},${csvTextCell(payment.method)},${csvTextCell(payment.cardBrand)},` +
      `${csvTextCell(payment.cardLast4)}\n`;
  }
  return lines;
}

/** Characters XML 1.0 can carry at all, even as character references. */
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const XML_ATTRIBUTE_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  // As references, or attribute-value normalisation would turn them into spaces.
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

/**
 * A double-quoted attribute. No formula neutralisation in XML: spreadsheets import it as typed data, not
 * as cells to evaluate, and a leading `'` would corrupt the value on upload.
 */
function xmlAttribute(name: string, value: string, orderId: string): string {
  if (NOT_XML_CHAR.test(value)) {
    // Refused rather than altered: the file must re-upload as it is. The value itself is not logged.
    throw new ExportDataError(`order ${orderId}: ${name} holds a character XML 1.0 cannot represent`);
  }
  return ` ${name}="${value.replace(/[&<>"\t\n\r]/g, (c) => XML_ATTRIBUTE_ESCAPES[c]!)}"`;
}

function xmlElement(order: ExportOrder): string {
  const attributes = (pairs: ReadonlyArray<readonly [string, string | null]>) =>
    pairs.map(([name, value]) => (value === null ? '' : xmlAttribute(name, value, order.orderId))).join('');
  const payments = order.payments.map((payment) => {
    const attrs = attributes([
      ['id', payment.paymentId],
      ['amount', payment.amount],
      ['status', payment.status],
      ['method', payment.method],
      ['cardBrand', payment.cardBrand],
      ['cardLast4', payment.cardLast4],
    ]);
    return `    <payment${attrs}/>\n`;
  });
  const attrs = attributes([
    ['id', order.orderId],
    ['amount', order.amount],
    ['currency', order.currency],
    ['status', order.status],
    ['createdAt', order.createdAt],
  ]);
  const customer = attributes([['email', order.email]]);
  return `  <order${attrs}>\n    <customer${customer}/>\n${payments.join('')}  </order>\n`;
}

const FORMATS: Record<ExportFormat, { head: string; order: (order: ExportOrder) => string; tail: string }> = {
  csv: { head: csvRecord(CSV_HEADER), order: csvLines, tail: '' },
  xml: {
    head: '<?xml version="1.0" encoding="UTF-8"?>\n<orders>\n',
    order: xmlElement,
    tail: '</orders>\n',
  },
};

/** Data the format cannot carry. */
export class ExportDataError extends Error {
  override name = 'ExportDataError';
}

export interface ExportProgress {
  orders: number;
  /** CSV records after the header; for XML, payments plus orders without one (the same count). */
  rows: number;
}

/** The whole document as chunks of about CHUNK_CHARS characters. */
export async function* formatOrders(
  batches: AsyncIterable<ClearBatch>,
  format: ExportFormat,
  progress: ExportProgress = { orders: 0, rows: 0 },
): AsyncGenerator<string> {
  const { head, order: formatOrder, tail } = FORMATS[format];
  let chunk = head;
  for await (const batch of batches) {
    for (const [index, row] of batch.orders.entries()) {
      const payments = batch.payments.get(row.order_id) ?? [];
      chunk += formatOrder(toExportOrder(row, batch.emails[index] ?? null, payments));
      progress.orders += 1;
      progress.rows += Math.max(payments.length, 1);
      if (chunk.length >= CHUNK_CHARS) {
        yield chunk;
        chunk = '';
      }
    }
  }
  yield chunk + tail;
}

/**
 * Starts an export and resolves once its first chunk is ready, so an early failure still becomes a
 * proper error response; later failures destroy the returned stream (see the top of this file).
 */
export async function openOrderExport(options: {
  batches: AsyncIterable<ClearBatch>;
  format: ExportFormat;
  logger: Logger;
}): Promise<Readable> {
  const { logger, format } = options;
  const progress: ExportProgress = { orders: 0, rows: 0 };
  const started = performance.now();
  const chunks = formatOrders(options.batches, format, progress);
  let first: IteratorResult<string>;
  try {
    first = await chunks.next();
  } catch (error) {
    // Wrapped so bad stored data (a DomainError) is a 500, not a 422; an outage as cause is still a 503.
    throw new ExportFailedError(error);
  }

  // Errors from making chunks are failures; an error thrown in at a `yield` is the response going away.
  async function* rest(): AsyncGenerator<string> {
    let state: 'streaming' | 'finished' | 'failed' = 'streaming';
    try {
      if (!first.done) yield first.value;
      for (;;) {
        let next: IteratorResult<string>;
        try {
          next = await chunks.next();
        } catch (error) {
          state = 'failed';
          logger.error('export failed mid-stream; the response was cut off', { format, ...progress, error });
          throw new ExportFailedError(error);
        }
        if (next.done) break;
        yield next.value;
      }
      state = 'finished';
      logger.info('export finished', { format, ...progress, ms: Math.round(performance.now() - started) });
    } finally {
      if (state === 'streaming') {
        // Stop reading the database for a client that is gone.
        await chunks.return(undefined);
        logger.warn('export abandoned by the client', { format, ...progress });
      }
    }
  }
  return Readable.from(rest(), { objectMode: false });
}

/**
 * An export that failed: before streaming, the route answers it with problem details; mid-stream, the
 * stream is destroyed with it. The message carries the cause's, for the log.
 */
export class ExportFailedError extends Error {
  override name = 'ExportFailedError';
  /** Keeps Koa's default handler from printing it to stderr: it is logged already, and never sent. */
  readonly expose = true;

  constructor(cause: unknown) {
    super(`export failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
