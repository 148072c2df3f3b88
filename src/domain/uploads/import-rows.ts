/**
 * Bulk-upload rows validated into orders. A row is one CSV line, or one XML <payment> (or payment-less
 * <order>); an order is valid only if all its rows are. Pure and workflow-safe, so a workflow may
 * validate a chunk itself.
 *
 * The row model is in rows.ts, one row's fields are parsed in parse-row.ts, and the rules across an
 * order's rows are in order-rules.ts.
 */
import { DomainError } from '../errors';
import { crossRowErrors, statusConsistencyError } from './order-rules';
import { parseRow, type ParsedRow } from './parse-row';
import { compareRowErrors, type OrderValidation, type RawRow, type RowError } from './rows';

/** Checks one row on its own (no cross-row rules): usable while streaming, before an order is complete. */
export function checkRow(row: RawRow): RowError[] {
  return parseRow(row).errors;
}

/**
 * Validates all rows of one order together: each row's fields, agreement of the order columns across
 * rows, unique payment ids, and that the order status matches its payments.
 */
export function validateOrderRows(rows: readonly RawRow[]): OrderValidation {
  if (rows.length === 0) throw new DomainError('UPLOAD_NO_ROWS', 'an order needs at least one row');
  const sorted = [...rows].sort((a, b) => a.line - b.line);
  const errors: RowError[] = [];
  const parsed: ParsedRow[] = [];
  const usable: Array<{ row: RawRow; rowErrors: readonly RowError[] }> = [];
  for (const row of sorted) {
    const result = parseRow(row);
    errors.push(...result.errors);
    if (result.parsed) parsed.push(result.parsed);
    if (!row.problems?.length) usable.push({ row, rowErrors: result.errors });
  }
  errors.push(...crossRowErrors(usable));
  if (errors.length > 0) return { errors: errors.sort(compareRowErrors) };

  const [first] = parsed;
  if (!first) throw new Error('unreachable: rows without errors are parsed');
  const statusError = statusConsistencyError(first, parsed);
  if (statusError) return { errors: [statusError] };
  return {
    order: {
      orderId: first.orderId,
      amount: first.amount,
      currency: first.currency,
      status: first.status,
      createdAt: first.createdAt,
      ...(first.customerEmail === '' ? {} : { customerEmail: first.customerEmail }),
      payments: parsed.flatMap((row) => (row.payment ? [row.payment] : [])),
    },
  };
}
