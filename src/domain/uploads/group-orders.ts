/**
 * Grouping rows into orders. An order's CSV rows may be anywhere in the file, so a chunk of work must
 * hold every row of each of its orders (ChunkAssigner, chunks.ts); `validateRows` then validates one chunk's
 * rows at a time. Pure and workflow-safe.
 */
import { DomainError } from '../errors';
import { compareRowErrors, quote, rowError, type ImportOrder, type RawRow, type RowError } from './rows';
import { validateOrderRows } from './import-rows';

export interface ValidatedRows {
  /** In order of each order's first line. */
  orders: ImportOrder[];
  /** Sorted by line; an order with any error is not in `orders`. */
  errors: RowError[];
}

/**
 * Rows of each order together, in order of first appearance. Rows without an order_id cannot belong
 * to an order: each stands alone.
 */
export function groupRows(rows: Iterable<RawRow>): RawRow[][] {
  const groups = new Map<string, RawRow[]>();
  for (const row of rows) {
    // Prefixed so that no order_id value can collide with a line key.
    const key = row.fields.order_id === '' ? `line:${row.line}` : `id:${row.fields.order_id}`;
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  return [...groups.values()];
}

/**
 * Groups the rows by order and validates each order; `rows` must hold all rows of its orders. A payment ID
 * belongs to one order: of valid orders that use the same one, the first by line keeps it and the others are
 * rejected, as an order of another chunk using it would be by the database.
 */
export function validateRows(rows: Iterable<RawRow>): ValidatedRows {
  const valid: Array<{ line: number; order: ImportOrder; rows: RawRow[] }> = [];
  const errors: RowError[] = [];
  for (const group of groupRows(rows)) {
    const result = validateOrderRows(group);
    if ('order' in result) {
      const line = group.reduce((first, row) => Math.min(first, row.line), Number.POSITIVE_INFINITY);
      valid.push({ line, order: result.order, rows: group });
    } else {
      errors.push(...result.errors);
    }
  }
  const paymentOwners = new Map<string, { line: number; orderId: string }>();
  const orders: ImportOrder[] = [];
  for (const { order, rows: orderRows } of valid.sort((a, b) => a.line - b.line)) {
    const payments = orderRows.filter((row) => row.fields.payment_id !== '');
    const taken = payments.filter((row) => paymentOwners.has(row.fields.payment_id));
    if (taken.length > 0) {
      for (const row of taken) {
        const owner = paymentOwners.get(row.fields.payment_id)!;
        errors.push(
          rowError(
            row.line,
            order.orderId,
            'payment_id',
            `payment_id ${quote(row.fields.payment_id)} is already used on line ${owner.line} (order ${quote(owner.orderId)})`,
          ),
        );
      }
      continue;
    }
    for (const row of payments)
      paymentOwners.set(row.fields.payment_id, { line: row.line, orderId: order.orderId });
    orders.push(order);
  }
  errors.sort(compareRowErrors);
  return { orders, errors };
}

/**
 * Which of `bucketCount` buckets an order_id falls in: the same on every run and runtime (FNV-1a over
 * UTF-16 code units), so rows can be bucketed as they stream in and each bucket validated on its own.
 */
export function orderBucket(orderId: string, bucketCount: number): number {
  if (!Number.isInteger(bucketCount) || bucketCount < 1 || bucketCount > 2 ** 31) {
    throw new DomainError('UPLOAD_BUCKETS_INVALID', 'bucketCount must be a whole number from 1 to 2^31');
  }
  let hash = 0x811c9dc5;
  for (let i = 0; i < orderId.length; i++) {
    hash = Math.imul(hash ^ orderId.charCodeAt(i), 0x01000193);
  }
  return (hash >>> 0) % bucketCount;
}
