/**
 * One upload row on its own: each field parsed and checked, with a reason for every value refused. The
 * rules that span the rows of an order are in order-rules.ts.
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
import { parseAmount, toDbDecimal } from '../money';
import { parseTimestamp } from '../timestamps';
import {
  ORDER_STATUSES,
  PAYMENT_STATUSES,
  isOrderStatus,
  isPaymentStatus,
  type PaymentStatus,
} from '../orders/order-state';
import {
  hasPaymentValue,
  MASKED_CARD_COLUMNS,
  quote,
  readableOrderId,
  rowError,
  type ImportColumn,
  type ImportOrderStatus,
  type ImportPayment,
  type PaymentMethod,
  type RawFields,
  type RawRow,
  type RowError,
} from './rows';

/** Lenient on purpose: exports often carry display forms such as "eve, jr@example.com". */
const EMAIL_PATTERN = /^[^\s@\p{Cc}](?:[^\p{Cc}]*[^\s\p{Cc}])?@[^\s@\p{Cc}]+$/u;
const MAX_EMAIL_LENGTH = 254;
const LAST4 = /^\d{4}$/;
const CARD_BRAND_LIST = CARD_BRANDS.join(', ');

/** "A, B or C", as the row errors name the allowed values. */
function listOf(values: readonly string[]): string {
  return `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}

/** A row whose every value is valid, parsed. */
export interface ParsedRow {
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

/** The row's values parsed, or every reason it is refused; structural problems stand for the row. */
export function parseRow(row: RawRow): { parsed?: ParsedRow; errors: RowError[] } {
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
