/**
 * Exact money. An amount is an integer count of the currency's minor units (cents for USD, yen for JPY)
 * in a `number` that must be a safe integer: Temporal payloads are JSON, which has no bigint.
 * Decimal text is converted with string arithmetic only, never through floating point.
 */
import { type CurrencyErrorCode, minorUnitExponent } from './currencies';
import { DomainError } from './errors';

export type MoneyErrorCode =
  | CurrencyErrorCode
  | 'AMOUNT_MALFORMED'
  | 'AMOUNT_TOO_PRECISE'
  | 'AMOUNT_TOO_LARGE'
  | 'AMOUNT_NOT_POSITIVE'
  | 'AMOUNT_NOT_INTEGER';

export interface ParseAmountOptions {
  /** Accept "0" / "0.00" where zero is a meaningful amount, e.g. the amount paid so far. */
  allowZero?: boolean;
}

/** Amounts are stored as DECIMAL(19,4): 4 fraction digits, at most 15 integer digits. */
const DB_SCALE = 4;
const DB_MAX_INTEGER_DIGITS = 19 - DB_SCALE;

const PLAIN_DECIMAL = /^(\d+)(?:\.(\d+))?$/;
const DB_DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;
const MAX_SAFE_DIGITS = String(Number.MAX_SAFE_INTEGER);

/**
 * Parses user input such as "125.50", "0.5" or "1000" into minor units. Rejects signs, exponents,
 * separators, spaces, a leading or trailing dot, more decimals than the currency has (even zeros:
 * "100.00" JPY suggests the client has the wrong currency), amounts beyond the safe integer range,
 * and zero unless `allowZero` is set.
 */
export function parseAmount(decimal: string, currency: string, options: ParseAmountOptions = {}): number {
  const exponent = minorUnitExponent(currency);
  const match = PLAIN_DECIMAL.exec(decimal);
  if (!match) {
    throw moneyError(
      'AMOUNT_MALFORMED',
      `amount ${JSON.stringify(decimal)} is not a plain decimal number such as "125.50"`,
    );
  }
  const [, whole = '', fraction = ''] = match;
  if (fraction.length > exponent) {
    const allowed = exponent === 0 ? 'none' : `at most ${exponent}`;
    throw moneyError(
      'AMOUNT_TOO_PRECISE',
      `amount ${JSON.stringify(decimal)} has ${decimalPlaces(fraction.length)}; ${currency} allows ${allowed}`,
    );
  }
  const minor = digitsToMinor(whole + fraction.padEnd(exponent, '0'));
  if (minor === undefined) {
    throw moneyError(
      'AMOUNT_TOO_LARGE',
      `amount ${JSON.stringify(decimal)} is too large; ${currency} allows at most ${formatMinor(Number.MAX_SAFE_INTEGER, exponent, exponent)}`,
    );
  }
  if (minor === 0 && !options.allowZero) {
    throw moneyError('AMOUNT_NOT_POSITIVE', `amount ${JSON.stringify(decimal)} must be greater than zero`);
  }
  return minor;
}

/** Minor units as a decimal string with exactly the currency's decimals: "125.50", "1000" (JPY), "1.500" (KWD). */
export function formatAmount(minor: number, currency: string): string {
  const exponent = minorUnitExponent(currency);
  assertMinorUnits(minor);
  return formatMinor(minor, exponent, exponent);
}

/**
 * Converts a DECIMAL column value as the MySQL driver returns it (e.g. "120.0000", "-3.5000") to minor
 * units. Zeros beyond the currency's decimals are padding; a nonzero digit there means the row holds
 * an amount the currency cannot express.
 */
export function parseDbDecimal(value: string, currency: string): number {
  const { negative, digits } = dbDecimalDigits(value, currency);
  const minor = digitsToMinor(digits);
  if (minor === undefined) throw tooLargeInDb(value);
  // Avoid -0: it survives arithmetic and prints as "0" but is not Object.is-equal to 0.
  return negative && minor !== 0 ? -minor : minor;
}

/**
 * A DECIMAL column value with exactly the currency's decimals ("120.5000" USD → "120.50"): the same text and
 * the same errors as formatAmount(parseDbDecimal(value, currency), currency), with no number in between,
 * for exports that format millions of amounts.
 */
export function formatDbDecimal(value: string, currency: string): string {
  const { negative, digits, exponent } = dbDecimalDigits(value, currency);
  // Up to 15 digits are always below 2^53; longer ones take the exact check.
  if (digits.length > 15 && digitsToMinor(digits) === undefined) throw tooLargeInDb(value);
  let whole = digits.slice(0, digits.length - exponent);
  if (whole.length > 1 && whole.charCodeAt(0) === 48) whole = whole.replace(/^0+(?=\d)/, '');
  const fraction = digits.slice(digits.length - exponent);
  const sign = negative && /[1-9]/.test(digits) ? '-' : '';
  return `${sign}${whole || '0'}${fraction === '' ? '' : `.${fraction}`}`;
}

/** The value's digits down to the currency's minor unit ("120.5000" USD → "12050"), and its sign. */
function dbDecimalDigits(
  value: string,
  currency: string,
): { negative: boolean; digits: string; exponent: number } {
  const exponent = minorUnitExponent(currency);
  const match = DB_DECIMAL.exec(value);
  if (!match) {
    throw moneyError('AMOUNT_MALFORMED', `database amount ${JSON.stringify(value)} is not a decimal number`);
  }
  const [, sign = '', whole = '', fraction = ''] = match;
  if (/[1-9]/.test(fraction.slice(exponent))) {
    throw moneyError(
      'AMOUNT_TOO_PRECISE',
      `database amount ${JSON.stringify(value)} is more precise than ${currency} allows (${decimalPlaces(exponent)})`,
    );
  }
  return {
    negative: sign === '-',
    digits: whole + fraction.slice(0, exponent).padEnd(exponent, '0'),
    exponent,
  };
}

function tooLargeInDb(value: string): DomainError {
  return moneyError(
    'AMOUNT_TOO_LARGE',
    `database amount ${JSON.stringify(value)} is too large to handle exactly`,
  );
}

/** Minor units as a DECIMAL(19,4) literal, e.g. 12050 USD → "120.5000". */
export function toDbDecimal(minor: number, currency: string): string {
  const exponent = minorUnitExponent(currency);
  assertMinorUnits(minor);
  const decimal = formatMinor(minor, exponent, DB_SCALE);
  const integerDigits = decimal.replace(/^-/, '').indexOf('.');
  if (integerDigits > DB_MAX_INTEGER_DIGITS) {
    throw moneyError(
      'AMOUNT_TOO_LARGE',
      `amount ${formatMinor(minor, exponent, exponent)} ${currency} is too large to store`,
    );
  }
  return decimal;
}

/** `a + b`, throwing instead of silently losing precision beyond the safe integer range. */
export function addMinor(a: number, b: number): number {
  assertMinorUnits(a);
  assertMinorUnits(b);
  return assertExactResult(a + b, `sum of ${a} and ${b} minor units`);
}

/** `a - b`, throwing instead of silently losing precision beyond the safe integer range. */
export function subtractMinor(a: number, b: number): number {
  assertMinorUnits(a);
  assertMinorUnits(b);
  return assertExactResult(a - b, `difference of ${a} and ${b} minor units`);
}

function assertMinorUnits(minor: number): void {
  if (!Number.isSafeInteger(minor)) {
    throw moneyError('AMOUNT_NOT_INTEGER', `${minor} is not a safe integer amount of minor units`);
  }
}

function assertExactResult(result: number, description: string): number {
  // Both operands are safe integers, so any true result outside the safe range rounds to one outside it too.
  if (!Number.isSafeInteger(result)) {
    throw moneyError('AMOUNT_TOO_LARGE', `${description} is too large in magnitude to represent exactly`);
  }
  return result;
}

/** Unsigned decimal digits to a number, or undefined if beyond Number.MAX_SAFE_INTEGER. */
function digitsToMinor(digits: string): number | undefined {
  const significant = digits.replace(/^0+/, '');
  const tooLarge =
    significant.length > MAX_SAFE_DIGITS.length ||
    (significant.length === MAX_SAFE_DIGITS.length && significant > MAX_SAFE_DIGITS);
  return tooLarge ? undefined : Number(significant || '0');
}

/** `minor` shifted `exponent` places right, with the fraction padded to `scale` digits (scale >= exponent). */
function formatMinor(minor: number, exponent: number, scale: number): string {
  const digits = String(Math.abs(minor)).padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = digits.slice(digits.length - exponent).padEnd(scale, '0');
  return `${minor < 0 ? '-' : ''}${whole}${fraction === '' ? '' : `.${fraction}`}`;
}

function decimalPlaces(count: number): string {
  if (count === 0) return 'no decimal places';
  return count === 1 ? '1 decimal place' : `${count} decimal places`;
}

function moneyError(code: MoneyErrorCode, message: string): DomainError {
  return new DomainError(code, message);
}
