/**
 * The export file formats, CSV and XML, in the bulk-upload formats so an export uploads again (card
 * numbers aside: an export carries brand and last 4 only). One order at a time, as text. Pure and free
 * of Node built-ins.
 */
import { EXPORT_COLUMNS } from '../uploads/rows';
import { csvNumberCell, csvRecord, csvTextCell } from './csv-cells';

export type ExportFormat = 'csv' | 'xml';

/** The export header: the upload one with brand and last 4 in place of the card number. */
export const CSV_HEADER = EXPORT_COLUMNS;

/**
 * DB payment methods in the upload vocabulary. Spelled the same today; this is where a divergence goes.
 * An unknown method passes through unchanged, for the upload to refuse, rather than being guessed.
 */
export const UPLOAD_METHODS: ReadonlyMap<string, string> = new Map([
  ['CARD', 'CARD'],
  ['BANK_TRANSFER', 'BANK_TRANSFER'],
]);

/** One order as exported: clear email, amounts in the currency's major unit. */
export interface ExportOrder {
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

/** Each format's document: its head, one order's text, and its tail. */
export const ORDER_FORMATS: Record<
  ExportFormat,
  { head: string; order: (order: ExportOrder) => string; tail: string }
> = {
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
