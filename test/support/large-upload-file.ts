import type { RowError } from '../../src/domain/uploads/rows';
import { CSV_HEADER } from '../../src/api/uploads/csv-rows';

export const LARGE_UPLOAD_ORDERS = 20_000;
const CARDS = ['4242424242424242', '5555555555554444', '378282246310005', '6011111111111117'];
/** Each defect breaks exactly one row of an order of a given shape. */
const DEFECTS = [
  { kind: 'currency', shape: 'unpaid' },
  { kind: 'luhn', shape: 'paid' },
  { kind: 'date', shape: 'paid' },
  { kind: 'overpay', shape: 'paid' },
  { kind: 'columns', shape: 'split' },
  { kind: 'mismatch', shape: 'split' },
  { kind: 'email', shape: 'unpaid' },
] as const;
const SHAPES = ['paid', 'split', 'unpaid'] as const;

const cents = (minor: number) => `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;
const pad = (n: number) => String(n).padStart(2, '0');
const cell = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

/**
 * A BOM'd CRLF file of ORDERS orders: "paid" ones have one full COMPLETED payment, "split" ones a partial
 * COMPLETED payment with a FAILED one appended at the end of the file (so their rows are far apart),
 * "unpaid" ones no payment. Every 613th order, from the 7th, has one defect; the errors it must cause
 * are worked out here, with their lines.
 */
export function generateLargeUpload(): {
  text: string;
  rows: number;
  expectedErrors: RowError[];
  defective: number;
  rejectedRows: number;
} {
  const main: Array<{ cells: string[]; error?: (line: number) => RowError; order: number }> = [];
  const tail: Array<{
    cells: string[];
    error?: (line: number, firstLine: number) => RowError;
    order: number;
  }> = [];
  let defective = 0;
  let rejectedRows = 0;
  for (let i = 0; i < LARGE_UPLOAD_ORDERS; i++) {
    const orderId = `ORD-${i}`;
    const defect = i % 613 === 7 ? DEFECTS[Math.floor(i / 613) % DEFECTS.length] : undefined;
    if (defect) defective++;
    const shape = defect?.shape ?? SHAPES[i % 3];
    if (defect) rejectedRows += shape === 'split' ? 2 : 1;
    const amount = 1000 + i;
    const order = [
      orderId,
      cents(amount),
      defect?.kind === 'currency' ? 'US$' : 'USD',
      shape === 'paid' ? 'COMPLETED' : 'PENDING',
      defect?.kind === 'date'
        ? '2026-02-30T10:00:00Z'
        : `2026-03-${pad(1 + (i % 28))}T${pad(i % 24)}:${pad(i % 60)}:00Z`,
      defect?.kind === 'email'
        ? `c${i}\n@example.com`
        : i % 100 === 0
          ? `c${i}, jr@example.com`
          : `c${i}@example.com`,
    ];
    const card = CARDS[i % CARDS.length] ?? '';
    const fail = (field: string, reason: string) => (line: number) => ({ line, orderId, field, reason });
    if (shape === 'paid') {
      const paid = defect?.kind === 'overpay' ? amount + 1 : amount;
      main.push({
        order: i,
        cells: [
          ...order,
          `PAY-${i}-1`,
          cents(paid),
          'COMPLETED',
          'CARD',
          defect?.kind === 'luhn' ? '4242424242424241' : card,
        ],
        ...(defect?.kind === 'luhn'
          ? { error: fail('card_number', 'card_number ending 4241 fails the Luhn check; check it for typos') }
          : defect?.kind === 'date'
            ? { error: fail('created_at', 'created_at "2026-02-30T10:00:00Z" is not a valid date and time') }
            : defect?.kind === 'overpay'
              ? {
                  error: fail(
                    'payment_amount',
                    `payment_amount ${cents(paid)} is more than the order amount ${cents(amount)} USD`,
                  ),
                }
              : {}),
      });
    } else if (shape === 'split') {
      main.push({ order: i, cells: [...order, `PAY-${i}-1`, '5.00', 'COMPLETED', 'CARD', card] });
      const tailOrder =
        defect?.kind === 'mismatch' ? [orderId, cents(amount + 100), ...order.slice(2)] : order;
      const cells = [...tailOrder, `PAY-${i}-2`, cents(amount), 'FAILED', 'BANK_TRANSFER', ''];
      tail.push({
        order: i,
        cells: defect?.kind === 'columns' ? [...cells, 'extra'] : cells,
        ...(defect?.kind === 'columns'
          ? { error: (line: number) => fail('row', 'the row has 12 columns; the header has 11')(line) }
          : defect?.kind === 'mismatch'
            ? {
                error: (line: number, firstLine: number) =>
                  fail(
                    'order_amount',
                    `order_amount "${cents(amount + 100)}" differs from "${cents(amount)}" on line ${firstLine}`,
                  )(line),
              }
            : {}),
      });
    } else {
      main.push({
        order: i,
        cells: [...order, '', '', '', '', ''],
        ...(defect?.kind === 'currency'
          ? { error: fail('currency', 'currency "US$" is not a supported ISO 4217 code') }
          : defect?.kind === 'email'
            ? { error: fail('customer_email', 'customer_email is not an email address') }
            : {}),
      });
    }
  }

  const lines = [CSV_HEADER];
  const expectedErrors: RowError[] = [];
  const firstLineOf = new Map<number, number>();
  let line = 2;
  for (const row of main) {
    firstLineOf.set(row.order, line);
    if (row.error) expectedErrors.push(row.error(line));
    const text = row.cells.map(cell).join(',');
    lines.push(text);
    line += 1 + (text.match(/\n/g)?.length ?? 0);
  }
  for (const row of tail) {
    if (row.error) expectedErrors.push(row.error(line, firstLineOf.get(row.order) ?? 0));
    lines.push(row.cells.map(cell).join(','));
    line += 1;
  }
  return {
    text: `\uFEFF${lines.join('\r\n')}\r\n`,
    rows: main.length + tail.length,
    expectedErrors,
    defective,
    rejectedRows,
  };
}
