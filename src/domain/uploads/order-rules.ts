/**
 * The rules that span the rows of one order: they agree on the order, their payment ids are unique, and
 * the order's status matches its payments.
 */
import { formatAmount } from '../money';
import type { ParsedRow } from './parse-row';
import {
  hasPaymentValue,
  ORDER_COLUMNS,
  quote,
  readableOrderId,
  rowError,
  type RawRow,
  type RowError,
} from './rows';

/**
 * Order columns agree across rows, payment ids are unique, and payments and "no payment" rows do not mix. A row's
 * own errors (`rowErrors`) name the columns not compared again.
 */
export function crossRowErrors(
  usable: ReadonlyArray<{ row: RawRow; rowErrors: readonly RowError[] }>,
): RowError[] {
  const [reference] = usable;
  // A single row has nothing to agree with: most orders, so they skip the bookkeeping below.
  if (!reference || usable.length === 1) return [];
  const errors: RowError[] = [];
  const ref = reference.row;
  const reportedOrderLines = new Set<number>();
  const paymentLines = new Map<string, number>();
  let firstPaymentLine: number | undefined;
  let firstEmptyLine: number | undefined;

  for (const { row, rowErrors } of usable) {
    const orderId = readableOrderId(row.fields.order_id);
    const fail = (field: string, reason: string): void => {
      errors.push(rowError(row.line, orderId, field, reason));
    };
    if (row !== ref) {
      if (row.orderLine !== undefined && ref.orderLine !== undefined && row.orderLine !== ref.orderLine) {
        if (!reportedOrderLines.has(row.orderLine)) {
          reportedOrderLines.add(row.orderLine);
          errors.push(
            rowError(
              row.orderLine,
              orderId,
              'order_id',
              `order_id ${quote(row.fields.order_id)} is already used by the order on line ${ref.orderLine}`,
            ),
          );
        }
        // Another element's rows: comparing them with this one's would only add noise.
        continue;
      }
      for (const column of ORDER_COLUMNS) {
        const value = row.fields[column];
        const expected = ref.fields[column];
        if (value === expected || rowErrors.some((error) => error.field === column)) continue;
        // Emails are personal data: say where they differ, not what they are.
        fail(
          column,
          column === 'customer_email'
            ? `customer_email differs from line ${ref.line}`
            : `${column} ${quote(value)} differs from ${quote(expected)} on line ${ref.line}`,
        );
      }
    }

    const isPayment = row.isPayment ?? hasPaymentValue(row.fields);
    if (isPayment) {
      firstPaymentLine ??= row.line;
      const paymentId = row.fields.payment_id;
      const earlier = paymentLines.get(paymentId);
      if (paymentId !== '' && earlier !== undefined) {
        fail('payment_id', `payment_id ${quote(paymentId)} is already used on line ${earlier}`);
      } else if (paymentId !== '') {
        paymentLines.set(paymentId, row.line);
      }
    } else if (firstEmptyLine === undefined) {
      firstEmptyLine = row.line;
    } else {
      fail('row', `the order already has a row without payment on line ${firstEmptyLine}`);
    }
  }
  if (firstEmptyLine !== undefined && firstPaymentLine !== undefined) {
    errors.push(
      rowError(
        firstEmptyLine,
        readableOrderId(ref.fields.order_id),
        'row',
        `the row has no payment, but the order has payments (line ${firstPaymentLine})`,
      ),
    );
  }
  return errors;
}

/**
 * COMPLETED means the COMPLETED payments sum to the order amount; PENDING, CANCELLED and EXPIRED mean they
 * sum to less; and COMPLETED plus PENDING payments never exceed it (a pending one may still complete).
 * FAILED ones do not count. CANCELLED and EXPIRED follow PENDING because only a PENDING order is closed,
 * and the order completes the moment its payments reach the amount (order-state.ts applyPaymentResult,
 * db/orders.ts settlePayment); attempts that arrive after closing fail. So an exported CANCELLED or
 * EXPIRED order was always paid less than its amount, a stricter rule than the database CHECK
 * (amount_paid <= order_amount).
 */
export function statusConsistencyError(order: ParsedRow, rows: readonly ParsedRow[]): RowError | undefined {
  const money = (minor: number): string => `${formatAmount(minor, order.currency)} ${order.currency}`;
  let committed = 0;
  let completed = 0;
  for (const row of rows) {
    const payment = row.payment;
    if (!payment || payment.status === 'FAILED') continue;
    // Compared with what is left, so the running total never leaves the safe integer range.
    const left = order.amount - committed;
    if (payment.amount > left) {
      const reason =
        committed === 0
          ? `payment_amount ${formatAmount(payment.amount, order.currency)} is more than the order amount ${money(order.amount)}`
          : `payment_amount ${formatAmount(payment.amount, order.currency)} is more than the ${money(left)} left of the order amount ${money(order.amount)} after earlier COMPLETED and PENDING payments`;
      return rowError(row.line, order.orderId, 'payment_amount', reason);
    }
    committed += payment.amount;
    if (payment.status === 'COMPLETED') completed += payment.amount;
  }
  if (order.status === 'COMPLETED' && completed !== order.amount) {
    return rowError(
      order.line,
      order.orderId,
      'order_status',
      `order_status is COMPLETED, but its COMPLETED payments total ${money(completed)} of ${money(order.amount)}`,
    );
  }
  if (order.status !== 'COMPLETED' && completed === order.amount) {
    return rowError(
      order.line,
      order.orderId,
      'order_status',
      `order_status is ${order.status}, but its COMPLETED payments already total the order amount ${money(order.amount)}`,
    );
  }
  return undefined;
}
