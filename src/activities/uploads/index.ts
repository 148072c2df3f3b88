import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import type { Knex } from 'knex';
import type { CardFingerprinter } from '../../crypto/card-fingerprint';
import type { FieldCipher } from '../../crypto/field-cipher';
import type { Db } from '../../db/knex';
import {
  ORDERS,
  PAYMENTS,
  newCardPaymentRow,
  newOrderRow,
  type OrderRow,
  type PaymentRow,
} from '../../db/orders';
import {
  findChunk,
  findUpload,
  finishUploadRow,
  recordChunk,
  recordRowErrors,
  removeStagedRows,
  slotRange,
  stagedRowsInSlots,
} from '../../db/uploads';
import { parseDbDecimal, toDbDecimal } from '../../domain/money';
import type { ImportOrder, ImportPayment, RawRow, RowError } from '../../domain/uploads/import-rows';
import { validateRows } from '../../uploads/group-orders';
import type { UploadActivities, UploadStatus } from '../../workflows/uploads/messages';

export interface UploadActivityDeps {
  db: Db;
  cipher: FieldCipher;
  fingerprinter: CardFingerprinter;
  now?: () => Date;
}

export function createUploadActivities({
  db,
  cipher,
  fingerprinter,
  now = () => new Date(),
}: UploadActivityDeps): UploadActivities {
  async function requireUpload(uploadId: string) {
    const upload = await findUpload(db, uploadId);
    if (!upload) throw ApplicationFailure.nonRetryable(`no upload ${uploadId}`, 'UploadNotFound');
    return upload;
  }

  return {
    async planUpload({ uploadId }) {
      return { chunksTotal: (await requireUpload(uploadId)).chunks_total };
    },

    /**
     * One chunk in one transaction: all rows of its orders (a slot range), validated together, then written
     * with the errors and the chunk's counts. Running it again answers the recorded counts and does nothing.
     * Of two attempts at once (after a heartbeat timeout) the later fails on a duplicate key, rolls back, and
     * its retry finds the record.
     */
    async importChunk({ uploadId, chunk }) {
      const committed = await findChunk(db, uploadId, chunk);
      if (committed) return committed;
      const upload = await requireUpload(uploadId);
      const rows = await stagedRowsInSlots(db, cipher, uploadId, slotRange(chunk, upload.chunks_total));
      heartbeat();
      const validated = validateRows(rows);
      heartbeat();
      const written = now();
      return db.transaction(async (trx) => {
        const { fresh, same, clashes } = await sortAgainstExisting(trx, validated.orders);
        await insertOrders(trx, fresh, { cipher, fingerprinter }, written);
        await recordRowErrors(trx, uploadId, [...validated.errors, ...clashErrors(clashes, rows)]);
        const rowsImported = [...fresh, ...same].reduce((sum, order) => sum + rowsOf(order), 0);
        const counts = { rowsImported, rowsRejected: rows.length - rowsImported };
        await recordChunk(trx, uploadId, chunk, counts, written);
        return counts;
      });
    },

    async finishUpload({ uploadId, progress }) {
      const status: UploadStatus =
        progress.chunksCompleted === 0 && progress.chunksTotal > 0
          ? 'FAILED'
          : progress.chunksFailed > 0 || progress.rowsRejected > 0
            ? 'COMPLETED_WITH_ERRORS'
            : 'COMPLETED';
      await finishUploadRow(
        db,
        uploadId,
        {
          upload_status: status,
          rows_imported: progress.rowsImported,
          rows_rejected: progress.rowsRejected,
          chunks_completed: progress.chunksCompleted,
          chunks_failed: progress.chunksFailed,
        },
        now(),
      );
      // After the outcome is recorded, so a status request sees it at once; a retry finishes the removal.
      await removeStagedRows(db, uploadId, heartbeat);
    },
  };
}

/** An order is one row in the file, or one row per payment. */
const rowsOf = (order: ImportOrder): number => Math.max(1, order.payments.length);

/**
 * Orders already in the database are either this same import seen again (identical: nothing to write) or
 * someone else's data under the same id, which an upload must never overwrite.
 */
async function sortAgainstExisting(trx: Knex.Transaction, orders: ImportOrder[]) {
  const ids = orders.map((order) => order.orderId);
  const paymentIds = orders.flatMap((order) => order.payments.map((payment) => payment.paymentId));
  const orderRows: OrderRow[] = await trx<OrderRow>(ORDERS).whereIn('order_id', ids);
  const paymentRows: PaymentRow[] = await trx<PaymentRow>(PAYMENTS).whereIn('payment_id', paymentIds);
  const existingOrders = new Map(orderRows.map((row) => [row.order_id, row]));
  const existingPayments = new Map(paymentRows.map((row) => [row.payment_id, row]));
  const fresh: ImportOrder[] = [];
  const same: ImportOrder[] = [];
  const clashes: { order: ImportOrder; reason: string }[] = [];
  for (const order of orders) {
    const existing = existingOrders.get(order.orderId);
    const takenPayment = order.payments.find((payment) => {
      const row = existingPayments.get(payment.paymentId);
      return row && (row.order_id !== order.orderId || !samePayment(row, payment, order.currency));
    });
    if (takenPayment) {
      clashes.push({ order, reason: `payment_id ${takenPayment.paymentId} already exists with other data` });
    } else if (!existing) {
      fresh.push(order);
    } else if (sameOrder(existing, order) && order.payments.every((p) => existingPayments.has(p.paymentId))) {
      same.push(order);
    } else {
      clashes.push({ order, reason: `order_id ${order.orderId} already exists with other data` });
    }
  }
  return { fresh, same, clashes };
}

function sameOrder(row: OrderRow, order: ImportOrder): boolean {
  return (
    row.currency === order.currency &&
    parseDbDecimal(row.order_amount, row.currency) === order.amount &&
    row.order_status === order.status &&
    row.created_at.getTime() === Date.parse(order.createdAt)
  );
}

function samePayment(row: PaymentRow, payment: ImportPayment, currency: string): boolean {
  return (
    parseDbDecimal(row.payment_amount, currency) === payment.amount &&
    row.payment_status === payment.status &&
    row.payment_method === payment.method
  );
}

function clashErrors(clashes: { order: ImportOrder; reason: string }[], rows: RawRow[]): RowError[] {
  return clashes.map(({ order, reason }) => ({
    line: rows.find((row) => row.fields.order_id === order.orderId)?.line ?? 0,
    orderId: order.orderId,
    field: 'order_id',
    reason,
  }));
}

/** How imported values are protected: sealed by the cipher, card numbers also fingerprinted. */
interface Protection {
  cipher: FieldCipher;
  fingerprinter: CardFingerprinter;
}

async function insertOrders(
  trx: Knex.Transaction,
  orders: ImportOrder[],
  { cipher, fingerprinter }: Protection,
  now: Date,
) {
  if (orders.length === 0) return;
  const orderRows = orders.map((order) => {
    const createdAt = new Date(order.createdAt);
    const paid = order.payments
      .filter((payment) => payment.status === 'COMPLETED')
      .reduce((sum, payment) => sum + payment.amount, 0);
    return {
      ...newOrderRow(
        {
          orderId: order.orderId,
          amount: order.amount,
          currency: order.currency,
          ...(order.customerEmail ? { customer: { email: order.customerEmail } } : {}),
        },
        cipher,
        createdAt,
      ),
      order_status: order.status,
      amount_paid: toDbDecimal(paid, order.currency),
      updated_at: now,
    };
  });
  const paymentRows = orders.flatMap((order) =>
    order.payments.map((payment) =>
      importedPaymentRow(order, payment, { cipher, fingerprinter }, new Date(order.createdAt), now),
    ),
  );
  for (const batch of chunked(orderRows, 500)) await trx(ORDERS).insert(batch);
  for (const batch of chunked(paymentRows, 500)) await trx(PAYMENTS).insert(batch);
}

function importedPaymentRow(
  order: ImportOrder,
  payment: ImportPayment,
  { cipher, fingerprinter }: Protection,
  createdAt: Date,
  now: Date,
): PaymentRow {
  const base = { payment_status: payment.status, failure_reason: null, updated_at: now };
  if (payment.cardNumber) {
    const row = newCardPaymentRow(
      {
        paymentId: payment.paymentId,
        orderId: order.orderId,
        amount: payment.amount,
        currency: order.currency,
        cardNumber: payment.cardNumber,
      },
      cipher,
      fingerprinter,
      createdAt,
    );
    return { ...row, ...base };
  }
  return {
    payment_id: payment.paymentId,
    order_id: order.orderId,
    payment_amount: toDbDecimal(payment.amount, order.currency),
    payment_method: payment.method,
    // An exported file carries brand and last 4 only: the full number was never exported.
    card_brand: payment.cardBrand ?? null,
    card_last4: payment.cardLast4 ?? null,
    card_number_enc: null,
    card_fingerprint: null,
    idempotency_key: null,
    request_hash: null,
    created_at: createdAt,
    ...base,
  };
}

function chunked<T>(items: T[], size: number): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  return batches;
}
