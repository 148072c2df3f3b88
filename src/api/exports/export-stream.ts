/**
 * Bulk export of orders and their payments as CSV or XML, in the bulk-upload formats (card numbers
 * aside: an export carries brand and last 4 only, and never reads `card_number_enc`).
 *
 * Constant memory whatever the size: orders are read in keyset-paged batches. The next batch is read while
 * the current one is formatted, so the database and the formatting overlap, and no further: a slow client
 * holds at most two batches (Readable.from over async generators pulls only as the response drains).
 * Each email is decrypted as its row is written.
 *
 * Failures: anything that fails before the first chunk (the first query, a bad first row) is thrown to
 * the caller, which answers with problem details. Once bytes are out the status cannot change, so a
 * failure destroys the stream with the error: the response is cut off without its terminating chunk and
 * the client sees a broken transfer, never a short file that looks complete. The failure is logged here.
 */
import { EXPORT_COLUMNS } from '../../domain/uploads/import-rows';
import { Readable } from 'node:stream';
import type { FieldCipher } from '../../crypto/field-cipher';
import type { Db } from '../../db/knex';
import { ORDERS, PAYMENTS, type OrderRow, type PaymentRow } from '../../db/orders';
import { csvNumberCell, csvRecord, csvTextCell } from '../../domain/exports/csv-cells';
import { formatAmount, parseDbDecimal } from '../../domain/money';
import type { OrderStatus } from '../../domain/orders/order-state';
import type { Logger } from '../../logging/logger';

/** Orders per query; their payments come in one more query. Also the most orders held in memory at once. */
export const EXPORT_BATCH_SIZE = 1000;
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

/** Deliberately without `card_number_enc`: what is never read cannot leak. */
const PAYMENT_COLUMNS = [
  'payment_id',
  'order_id',
  'payment_amount',
  'payment_status',
  'payment_method',
  'card_brand',
  'card_last4',
] as const satisfies readonly (keyof PaymentRow)[];

export type ExportOrderRow = Pick<OrderRow, (typeof ORDER_COLUMNS)[number]>;
export type ExportPaymentRow = Pick<PaymentRow, (typeof PAYMENT_COLUMNS)[number]>;

export interface ExportBatch {
  orders: ExportOrderRow[];
  /** By order_id, each list oldest first. */
  payments: Map<string, ExportPaymentRow[]>;
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
 * Orders matching the filter in order_id order, `batchSize` at a time, one batch read ahead. Each batch reads
 * its orders and their payments in one short REPEATABLE READ transaction, so a batch is consistent (no
 * payment settled after its order was read); the export as a whole is not a snapshot, which would pin a
 * connection for as long as the slowest client takes.
 */
export function readOrderBatches(
  db: Db,
  filter: ExportFilter,
  batchSize: number = EXPORT_BATCH_SIZE,
): AsyncGenerator<ExportBatch> {
  return readingOneAhead(orderBatches(db, filter, batchSize));
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
      yield current.value;
    }
  } finally {
    if (!finished) {
      const pending = await next.catch(() => ({ done: true }) as const);
      if (!pending.done) await source.return?.();
    }
  }
}

async function* orderBatches(db: Db, filter: ExportFilter, batchSize: number): AsyncGenerator<ExportBatch> {
  let after: string | undefined;
  for (;;) {
    const batch = await db.transaction(
      async (trx) => {
        // Walk the primary key even with a status filter: through the status index, every batch would
        // re-read and sort all the remaining orders in that status, quadratic over a large export.
        const query = trx
          .select(...ORDER_COLUMNS)
          .from(trx.raw('?? FORCE INDEX (PRIMARY)', [ORDERS]))
          .orderBy('order_id')
          .limit(batchSize);
        if (after !== undefined) void query.where('order_id', '>', after);
        if (filter.status) void query.where('order_status', filter.status);
        if (filter.from) void query.where('created_at', '>=', filter.from);
        if (filter.to) void query.where('created_at', '<', filter.to);
        const orders = (await query) as ExportOrderRow[];
        const payments = new Map<string, ExportPaymentRow[]>();
        if (orders.length === 0) return { orders, payments };
        const rows: ExportPaymentRow[] = await trx<PaymentRow>(PAYMENTS)
          .select(...PAYMENT_COLUMNS)
          .whereIn(
            'order_id',
            orders.map((order) => order.order_id),
          )
          .orderBy(['order_id', 'created_at', 'payment_id']);
        for (const row of rows) {
          const list = payments.get(row.order_id);
          if (list) list.push(row);
          else payments.set(row.order_id, [row]);
        }
        return { orders, payments };
      },
      // Not also `readOnly`: knex would send "SET TRANSACTION ISOLATION LEVEL repeatable read READ ONLY",
      // which MariaDB refuses (it wants a comma between the two).
      { isolationLevel: 'repeatable read' },
    );
    if (batch.orders.length === 0) return;
    yield batch;
    if (batch.orders.length < batchSize) return;
    after = batch.orders[batch.orders.length - 1]!.order_id;
  }
}

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

/** Decrypts one order's email only when that order is about to be written. */
function toExportOrder(
  row: ExportOrderRow,
  payments: readonly ExportPaymentRow[],
  cipher: FieldCipher,
): ExportOrder {
  const amount = (value: string) => formatAmount(parseDbDecimal(value, row.currency), row.currency);
  return {
    orderId: row.order_id,
    amount: amount(row.order_amount),
    currency: row.currency,
    status: row.order_status,
    createdAt: row.created_at.toISOString(),
    email:
      row.customer_email_enc === null
        ? null
        : cipher.decrypt(row.customer_email_enc, {
            table: ORDERS,
            column: 'customer_email_enc',
            rowId: row.order_id,
          }),
    payments: payments.map((payment) => ({
      paymentId: payment.payment_id,
      amount: amount(payment.payment_amount),
      status: payment.payment_status,
      method: UPLOAD_METHODS.get(payment.payment_method) ?? payment.payment_method,
      cardBrand: payment.card_brand,
      cardLast4: payment.card_last4,
    })),
  };
}

function csvLines(order: ExportOrder): string {
  const orderCells = [
    csvTextCell(order.orderId),
    csvNumberCell(order.amount),
    csvTextCell(order.currency),
    csvTextCell(order.status),
    csvTextCell(order.createdAt),
    csvTextCell(order.email),
  ];
  if (order.payments.length === 0) return csvRecord([...orderCells, '', '', '', '', '', '']);
  return order.payments
    .map((payment) =>
      csvRecord([
        ...orderCells,
        csvTextCell(payment.paymentId),
        csvNumberCell(payment.amount),
        csvTextCell(payment.status),
        csvTextCell(payment.method),
        csvTextCell(payment.cardBrand),
        csvTextCell(payment.cardLast4),
      ]),
    )
    .join('');
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
  batches: AsyncIterable<ExportBatch>,
  cipher: FieldCipher,
  format: ExportFormat,
  progress: ExportProgress = { orders: 0, rows: 0 },
): AsyncGenerator<string> {
  const { head, order: formatOrder, tail } = FORMATS[format];
  let chunk = head;
  for await (const batch of batches) {
    for (const row of batch.orders) {
      const payments = batch.payments.get(row.order_id) ?? [];
      chunk += formatOrder(toExportOrder(row, payments, cipher));
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
  batches: AsyncIterable<ExportBatch>;
  cipher: FieldCipher;
  format: ExportFormat;
  logger: Logger;
}): Promise<Readable> {
  const { logger, format } = options;
  const progress: ExportProgress = { orders: 0, rows: 0 };
  const started = performance.now();
  const chunks = formatOrders(options.batches, options.cipher, format, progress);
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
