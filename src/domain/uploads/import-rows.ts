/**
 * Bulk-upload rows validated into orders. A row is one CSV line, or one XML <payment> (or payment-less
 * <order>); an order is valid only if all its rows are. Pure and workflow-safe, so a workflow may
 * validate a chunk itself.
 *
 * Reasons are shown to operators: they never contain a card number (at most its last 4 digits) nor a
 * customer email, which the database stores encrypted.
 */
import {
  CARD_BRANDS,
  CARD_NUMBER_PATTERN,
  CARD_NUMBER_RULE,
  isCardBrand,
  luhnValid,
  stripSeparators,
  type CardBrand,
} from '../cards';
import { isCurrency } from '../currencies';
import { DomainError } from '../errors';
import { ID_RULE, isValidId } from '../ids';
import { formatAmount, parseAmount, toDbDecimal } from '../money';
import { parseTimestamp } from '../timestamps';
import {
  ORDER_STATUSES,
  PAYMENT_STATUSES,
  isOrderStatus,
  isPaymentStatus,
  type OrderStatus,
  type PaymentStatus,
} from '../orders/order-state';

/** The columns every file has, in order; XML attributes are mapped onto the same names. */
const COMMON_COLUMNS = [
  'order_id',
  'order_amount',
  'currency',
  'order_status',
  'created_at',
  'customer_email',
  'payment_id',
  'payment_amount',
  'payment_status',
  'payment_method',
] as const;

/** The upload CSV header. */
export const IMPORT_COLUMNS = [...COMMON_COLUMNS, 'card_number'] as const;

/**
 * The export CSV header (see src/api/exports/export-stream.ts), also accepted for upload: an export
 * carries the card's brand and last 4 digits instead of its number.
 */
export const EXPORT_COLUMNS = [...COMMON_COLUMNS, 'card_brand', 'card_last4'] as const;

export type ImportColumn = (typeof IMPORT_COLUMNS)[number];
/** Columns only an exported file has. */
export type MaskedCardColumn = 'card_brand' | 'card_last4';
export type RawColumn = ImportColumn | MaskedCardColumn;
/**
 * A row's values by column name. card_brand and card_last4 are present only when the file has them
 * (export header, XML cardBrand/cardLast4), so rows of the upload format look as they always did.
 */
export type RawFields = Record<ImportColumn, string> & Partial<Record<MaskedCardColumn, string>>;

export const MASKED_CARD_COLUMNS = [
  'card_brand',
  'card_last4',
] as const satisfies readonly MaskedCardColumn[];

/** Every column in report order: the upload header, then the export-only ones. */
const ALL_COLUMNS: readonly RawColumn[] = [...IMPORT_COLUMNS, ...MASKED_CARD_COLUMNS];

/** Repeated on every row of an order, and must agree across them. */
export const ORDER_COLUMNS = [
  'order_id',
  'order_amount',
  'currency',
  'order_status',
  'created_at',
  'customer_email',
] as const satisfies readonly ImportColumn[];

export const PAYMENT_COLUMNS = [
  'payment_id',
  'payment_amount',
  'payment_status',
  'payment_method',
  'card_number',
] as const satisfies readonly ImportColumn[];

/** A problem a reader found in the row's structure; `field` is a column name or "row". */
export interface RowProblem {
  field: string;
  reason: string;
}

export interface RawRow {
  /** 1-based line of the file where the row (CSV record, XML element) starts. */
  line: number;
  /** Absent values are empty strings. */
  fields: RawFields;
  /** XML only: line of the enclosing <order>, so two <order> elements with one id are told apart. */
  orderLine?: number;
  /** Set where the syntax itself marks a payment (XML <payment>); otherwise any payment value does. */
  isPayment?: boolean;
  /** Structural problems (e.g. wrong column count): the row's values are unreliable and its order is rejected. */
  problems?: RowProblem[];
}

export interface RowError {
  line: number;
  /** The row's order_id when it is a well-formed id. */
  orderId?: string;
  /** A column name, or "row" for the row as a whole. */
  field: string;
  reason: string;
}

/** Every status an export can hold; see statusConsistencyError for what each says about payments. */
export type ImportOrderStatus = OrderStatus;
export type PaymentMethod = 'CARD' | 'BANK_TRANSFER';

export interface ImportPayment {
  paymentId: string;
  /** Minor units of the order's currency. */
  amount: number;
  status: PaymentStatus;
  method: PaymentMethod;
  /** Digits only, in clear: encrypt before storing, and keep it out of logs and workflow history. */
  cardNumber?: string;
  /**
   * Given, with cardLast4, by a file that carries them instead of the number (an export), never together
   * with cardNumber. With a cardNumber the importer derives both from it.
   */
  cardBrand?: CardBrand;
  /** Four digits. */
  cardLast4?: string;
}

export interface ImportOrder {
  orderId: string;
  /** Minor units of `currency`. */
  amount: number;
  currency: string;
  status: ImportOrderStatus;
  /** UTC with milliseconds, e.g. "2026-03-01T09:15:00.000Z". */
  createdAt: string;
  /** Absent when the file gives none (orders created by the API need no email). */
  customerEmail?: string;
  /** In file order. */
  payments: ImportPayment[];
}

export type OrderValidation = { order: ImportOrder } | { errors: RowError[] };

/** Lenient on purpose: exports often carry display forms such as "eve, jr@example.com". */
const EMAIL_PATTERN = /^[^\s@\p{Cc}](?:[^\p{Cc}]*[^\s\p{Cc}])?@[^\s@\p{Cc}]+$/u;
const MAX_EMAIL_LENGTH = 254;
/** 12+ digits, optionally grouped: anything that could be a card number. */
const CARD_LIKE = /\d(?:[ -]?\d){11,}/g;
const MAX_ECHO = 40;
const LAST4 = /^\d{4}$/;
const CARD_BRAND_LIST = CARD_BRANDS.join(', ');

/** "A, B or C", as the row errors name the allowed values. */
function listOf(values: readonly string[]): string {
  return `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}

const EMPTY_FIELDS = Object.freeze(
  Object.fromEntries(IMPORT_COLUMNS.map((column) => [column, ''])) as RawFields,
);

/** Fields of a row with every value empty, copied from one template: this runs once per row of a file. */
export function emptyFields(): RawFields {
  return { ...EMPTY_FIELDS };
}

/** Replaces every run of 12 or more digits (spaces and dashes allowed between) by its last 4. */
export function redactCardNumbers(text: string): string {
  return text.replace(CARD_LIKE, (digits) => `****${digits.replace(/[ -]/g, '').slice(-4)}`);
}

/** The order_id if it is well-formed, as error reports name it. */
export function readableOrderId(value: string): string | undefined {
  return isValidId(value) ? value : undefined;
}

/** Report order: by line, then "row" before the columns in header order; stable otherwise. */
export function compareRowErrors(a: RowError, b: RowError): number {
  return a.line - b.line || fieldRank(a.field) - fieldRank(b.field);
}

function fieldRank(field: string): number {
  return ALL_COLUMNS.indexOf(field as RawColumn);
}

/** Whether any payment value is set; the masked card columns may be absent. */
function hasPaymentValue(fields: RawFields): boolean {
  return (
    PAYMENT_COLUMNS.some((column) => fields[column] !== '') ||
    MASKED_CARD_COLUMNS.some((column) => (fields[column] ?? '') !== '')
  );
}

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
  const usable: Array<{ row: RawRow; badFields: Set<string> }> = [];
  for (const row of sorted) {
    const result = parseRow(row);
    errors.push(...result.errors);
    if (result.parsed) parsed.push(result.parsed);
    if (!row.problems?.length) usable.push({ row, badFields: new Set(result.errors.map((e) => e.field)) });
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

interface ParsedRow {
  line: number;
  orderId: string;
  amount: number;
  currency: string;
  status: ImportOrderStatus;
  createdAt: string;
  /** Empty when none. */
  customerEmail: string;
  payment?: ImportPayment;
}

function rowError(line: number, orderId: string | undefined, field: string, reason: string): RowError {
  return { line, ...(orderId === undefined ? {} : { orderId }), field, reason: redactCardNumbers(reason) };
}

/** A value quoted for a reason, cut short so one bad cell cannot bloat a report. */
function quote(value: string): string {
  return JSON.stringify(value.length > MAX_ECHO ? `${value.slice(0, MAX_ECHO)}…` : value);
}

function parseRow(row: RawRow): { parsed?: ParsedRow; errors: RowError[] } {
  const fields = row.fields;
  const orderId = readableOrderId(fields.order_id);
  const errors: RowError[] = [];
  const fail = (field: string, reason: string): undefined => {
    errors.push(rowError(row.line, orderId, field, reason));
    return undefined;
  };
  if (row.problems?.length) {
    for (const problem of row.problems) fail(problem.field, problem.reason);
    return { errors };
  }
  const present = (field: ImportColumn): string | undefined =>
    fields[field] === '' ? fail(field, `${field} is required`) : fields[field];

  const id = present('order_id');
  if (id !== undefined && orderId === undefined) fail('order_id', `order_id ${quote(id)} ${ID_RULE}`);

  // The currency decides the amounts' precision, but is reported after them, in column order.
  const currency = isCurrency(fields.currency) ? fields.currency : undefined;
  const amount = parseAmountField('order_amount', present('order_amount'), currency, fail);
  const currencyText = present('currency');
  if (currencyText !== undefined && currency === undefined) {
    fail('currency', `currency ${quote(currencyText)} is not a supported ISO 4217 code`);
  }

  const statusText = present('order_status');
  let status: ImportOrderStatus | undefined;
  if (statusText !== undefined && isOrderStatus(statusText)) {
    status = statusText;
  } else if (statusText !== undefined) {
    fail('order_status', `order_status ${quote(statusText)} must be ${listOf(ORDER_STATUSES)}`);
  }

  const createdText = present('created_at');
  const createdAt = createdText === undefined ? undefined : parseCreatedAt(createdText, fail);

  // Optional, as in the orders API: an empty cell is an order without email.
  const email = fields.customer_email;
  if (email !== '') {
    if (email.length > MAX_EMAIL_LENGTH) {
      fail('customer_email', `customer_email must be at most ${MAX_EMAIL_LENGTH} characters`);
    } else if (!EMAIL_PATTERN.test(email)) {
      fail('customer_email', 'customer_email is not an email address');
    }
  }

  const isPayment = row.isPayment ?? hasPaymentValue(fields);
  const payment = isPayment ? parsePayment(fields, present, currency, fail) : undefined;

  if (errors.length > 0) return { errors };
  // Every field was checked above; a missing value here would have been reported.
  if (
    orderId === undefined ||
    currency === undefined ||
    amount === undefined ||
    status === undefined ||
    createdAt === undefined ||
    (isPayment && payment === undefined)
  ) {
    throw new Error('unreachable: a row without errors has all its values');
  }
  return {
    parsed: {
      line: row.line,
      orderId,
      amount,
      currency,
      status,
      createdAt,
      customerEmail: email,
      ...(payment === undefined ? {} : { payment }),
    },
    errors,
  };
}

type Fail = (field: string, reason: string) => undefined;

function parsePayment(
  fields: RawFields,
  present: (field: ImportColumn) => string | undefined,
  currency: string | undefined,
  fail: Fail,
): ImportPayment | undefined {
  const paymentId = present('payment_id');
  const idValid = paymentId !== undefined && isValidId(paymentId);
  if (paymentId !== undefined && !idValid) fail('payment_id', `payment_id ${quote(paymentId)} ${ID_RULE}`);
  const amount = parseAmountField('payment_amount', present('payment_amount'), currency, fail);

  const statusText = present('payment_status');
  let status: PaymentStatus | undefined;
  if (statusText !== undefined && isPaymentStatus(statusText)) status = statusText;
  else if (statusText !== undefined) {
    fail('payment_status', `payment_status ${quote(statusText)} must be ${listOf(PAYMENT_STATUSES)}`);
  }

  const methodText = present('payment_method');
  let method: PaymentMethod | undefined;
  if (methodText === 'CARD' || methodText === 'BANK_TRANSFER') method = methodText;
  else if (methodText !== undefined) {
    fail('payment_method', `payment_method ${quote(methodText)} must be CARD or BANK_TRANSFER`);
  }

  const card = parseCard(fields, methodText, fail);
  if (!idValid || amount === undefined || status === undefined || method === undefined || !card.valid) {
    return undefined;
  }
  return {
    paymentId,
    amount,
    status,
    method,
    ...(card.digits === undefined ? {} : { cardNumber: card.digits }),
    ...(card.masked === undefined ? {} : { cardBrand: card.masked.brand, cardLast4: card.masked.last4 }),
  };
}

interface ParsedCard {
  valid: boolean;
  digits?: string;
  masked?: { brand: CardBrand; last4: string };
}

/** Either a card number, or (from an export) a brand and last 4 digits together; both optional. */
function parseCard(fields: RawFields, method: string | undefined, fail: Fail): ParsedCard {
  const brand = fields.card_brand ?? '';
  const last4 = fields.card_last4 ?? '';
  if (brand === '' && last4 === '') return parseCardNumber(fields.card_number, method, fail);
  if (fields.card_number !== '') {
    // Which of the two is right cannot be told; the number is not judged, nor echoed.
    fail(
      last4 === '' ? 'card_brand' : 'card_last4',
      'give either card_number or card_brand and card_last4, not both',
    );
    return { valid: false };
  }
  if (method === 'BANK_TRANSFER') {
    for (const column of MASKED_CARD_COLUMNS) {
      if ((fields[column] ?? '') !== '') fail(column, `${column} must be empty for a BANK_TRANSFER payment`);
    }
    return { valid: false };
  }
  const brandValid = isCardBrand(brand);
  if (brand === '') fail('card_brand', 'card_brand is required when card_last4 is given');
  else if (!brandValid) fail('card_brand', `card_brand ${quote(brand)} must be one of ${CARD_BRAND_LIST}`);
  const last4Valid = LAST4.test(last4);
  if (last4 === '') fail('card_last4', 'card_last4 is required when card_brand is given');
  // Not echoed: a mistyped column could hold more of the number.
  else if (!last4Valid) fail('card_last4', 'card_last4 must be exactly 4 digits');
  return brandValid && last4Valid ? { valid: true, masked: { brand, last4 } } : { valid: false };
}

/** Optional; never echoed, at most its last 4 digits. */
function parseCardNumber(text: string, method: string | undefined, fail: Fail): ParsedCard {
  if (text === '') return { valid: true };
  if (method === 'BANK_TRANSFER') {
    fail('card_number', 'card_number must be empty for a BANK_TRANSFER payment');
    return { valid: false };
  }
  const digits = stripSeparators(text);
  if (!CARD_NUMBER_PATTERN.test(digits)) {
    fail('card_number', `card_number ${CARD_NUMBER_RULE}`);
    return { valid: false };
  }
  if (!luhnValid(digits)) {
    fail('card_number', `card_number ending ${digits.slice(-4)} fails the Luhn check; check it for typos`);
    return { valid: false };
  }
  return { valid: true, digits };
}

/** Minor units, checked against the currency's precision and the database's DECIMAL(19,4). */
function parseAmountField(
  field: ImportColumn,
  text: string | undefined,
  currency: string | undefined,
  fail: Fail,
): number | undefined {
  // Precision depends on the currency: an unknown currency is reported on its own.
  if (text === undefined || currency === undefined) return undefined;
  try {
    const minor = parseAmount(text, currency);
    toDbDecimal(minor, currency);
    return minor;
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    // Money's own message names the maximum, which reads like a card number to the redaction.
    if (error.code === 'AMOUNT_TOO_LARGE') return fail(field, `${field} ${quote(text)} is too large`);
    // The other money messages start with "amount"; name the column instead.
    return fail(field, error.message.replace(/^amount /, `${field} `));
  }
}

/** RFC 3339 date-time (the common ISO 8601 profile) to UTC with milliseconds, as the database keeps it. */
function parseCreatedAt(text: string, fail: Fail): string | undefined {
  const parsed = parseTimestamp(text, { subMillisecond: 'drop' });
  if (typeof parsed === 'number') return new Date(parsed).toISOString();
  return fail(
    'created_at',
    parsed === 'malformed'
      ? `created_at ${quote(text)} is not an ISO 8601 date-time with seconds and a time zone, such as "2026-03-01T09:15:00Z"`
      : parsed === 'invalid'
        ? `created_at ${quote(text)} is not a valid date and time`
        : `created_at ${quote(text)} is outside the years 1000 to 9999`,
  );
}

/** Order columns agree across rows, payment ids are unique, and payments and "no payment" rows do not mix. */
function crossRowErrors(usable: ReadonlyArray<{ row: RawRow; badFields: Set<string> }>): RowError[] {
  const [reference] = usable;
  if (!reference) return [];
  const errors: RowError[] = [];
  const ref = reference.row;
  const reportedOrderLines = new Set<number>();
  const paymentLines = new Map<string, number>();
  let firstPaymentLine: number | undefined;
  let firstEmptyLine: number | undefined;

  for (const { row, badFields } of usable) {
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
        if (value === expected || badFields.has(column)) continue;
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
function statusConsistencyError(order: ParsedRow, rows: readonly ParsedRow[]): RowError | undefined {
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
