/**
 * The bulk-upload row model: the columns of the CSV and XML formats, a row as a reader hands it over, the
 * errors reported on rows, and the orders that valid rows become. Pure and workflow-safe.
 *
 * Reasons are shown to operators: they never contain a card number (at most its last 4 digits) nor a
 * customer email, which the database stores encrypted.
 */
import type { CardBrand } from '../cards';
import { isValidId } from '../ids';
import type { OrderStatus, PaymentStatus } from '../orders/order-state';

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
 * The export CSV header (see src/domain/exports/order-formats.ts), also accepted for upload: an export
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

/** 12+ digits, optionally grouped: anything that could be a card number. */
const CARD_LIKE = /\d(?:[ -]?\d){11,}/g;
const MAX_ECHO = 40;

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
export function hasPaymentValue(fields: RawFields): boolean {
  return (
    PAYMENT_COLUMNS.some((column) => fields[column] !== '') ||
    MASKED_CARD_COLUMNS.some((column) => (fields[column] ?? '') !== '')
  );
}

/** Reasons are redacted here, once, so no error can carry a card number. */
export function rowError(line: number, orderId: string | undefined, field: string, reason: string): RowError {
  return { line, ...(orderId === undefined ? {} : { orderId }), field, reason: redactCardNumbers(reason) };
}

/** A value quoted for a reason, cut short so one bad cell cannot bloat a report. */
export function quote(value: string): string {
  return JSON.stringify(value.length > MAX_ECHO ? `${value.slice(0, MAX_ECHO)}…` : value);
}
