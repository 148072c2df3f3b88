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
 * The query is in src/db/exports.ts and the formats in src/domain/exports/order-formats.ts; this module is
 * the pipeline between them and the response.
 *
 * Failures: anything that fails before the first chunk (the first query, a bad first row) is thrown to
 * the caller, which answers with problem details. Once bytes are out the status cannot change, so a
 * failure destroys the stream with the error: the response is cut off without its terminating chunk and
 * the client sees a broken transfer, never a short file that looks complete. The failure is logged here.
 */
import { Readable } from 'node:stream';
import type { DecryptedCell, FieldCipherThread } from '../../crypto/field-cipher-thread';
import {
  orderBatches,
  type ExportBatch,
  type ExportFilter,
  type ExportOrderRow,
  type ExportPaymentRow,
} from '../../db/exports';
import type { Db } from '../../db/knex';
import { ORDERS } from '../../db/orders';
import {
  ORDER_FORMATS,
  UPLOAD_METHODS,
  type ExportFormat,
  type ExportOrder,
} from '../../domain/exports/order-formats';
import { formatDbDecimal } from '../../domain/money';
import type { Logger } from '../../logging/logger';

/** The types of this module's API, defined with the query and the formats. */
export type { ExportFilter, ExportFormat };

/**
 * Rows (an order with one of its payments, or alone) per query, whole orders only: the most held in memory
 * per batch, and an order with more payments is read alone.
 */
export const EXPORT_BATCH_ROWS = 1000;
/** Text is handed to the stream in pieces of about this many characters, not row by row. */
const CHUNK_CHARS = 64 * 1024;

/**
 * A batch ready to write: each order's email in clear, null, or the error of one that does not decrypt
 * (thrown when its order is written, so the orders before it still go out); index-aligned with `orders`.
 */
export interface ClearBatch extends ExportBatch {
  emails: (DecryptedCell | null)[];
}

/**
 * The batches of orderBatches with their emails in clear, one batch read ahead and one decrypted ahead. The
 * export as a whole is not a snapshot, which would pin a connection for as long as the slowest client takes.
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

/** A stored order as the formats write it; an email that did not decrypt fails the export here. */
export function toExportOrder(
  row: ExportOrderRow,
  email: DecryptedCell | null,
  payments: readonly ExportPaymentRow[],
): ExportOrder {
  if (email instanceof Error) {
    throw new UnreadableOrderError(row.order_id, `its customer email does not decrypt: ${email.message}`);
  }
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
  const { head, order: formatOrder, tail } = ORDER_FORMATS[format];
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

/** A stored order the export cannot read (a value sealed under an unknown key, or tampered with). */
export class UnreadableOrderError extends Error {
  override name = 'UnreadableOrderError';

  constructor(
    readonly orderId: string,
    readonly reason: string,
  ) {
    super(`order ${orderId}: ${reason}`);
  }
}
