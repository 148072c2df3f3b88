import { DomainError } from './errors';

/**
 * ISO 4217 currencies a payment can be made in (List One as of amendment 180, effective 2026-01-01),
 * grouped by minor-unit exponent. Left out on purpose: fund codes (BOV, CHE, CHW, CLF, COU, MXV, USN,
 * UYI, UYW, XAD), precious metals (XAG, XAU, XPD, XPT), bond-market and accounting units (XBA–XBD,
 * XDR, XSU, XUA), and XTS/XXX. Withdrawn codes (ANG, BGN, CUC, HRK, SLL, ZWL) are not current.
 */
// prettier-ignore
const ZERO_DECIMAL_CODES = [
  'BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG', 'RWF', 'UGX', 'VND', 'VUV', 'XAF', 'XOF',
  'XPF',
] as const;

const THREE_DECIMAL_CODES = ['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND'] as const;

// prettier-ignore
const TWO_DECIMAL_CODES = [
  'AED', 'AFN', 'ALL', 'AMD', 'AOA', 'ARS', 'AUD', 'AWG', 'AZN', 'BAM', 'BBD', 'BDT', 'BMD', 'BND', 'BOB',
  'BRL', 'BSD', 'BTN', 'BWP', 'BYN', 'BZD', 'CAD', 'CDF', 'CHF', 'CNY', 'COP', 'CRC', 'CUP', 'CVE', 'CZK',
  'DKK', 'DOP', 'DZD', 'EGP', 'ERN', 'ETB', 'EUR', 'FJD', 'FKP', 'GBP', 'GEL', 'GHS', 'GIP', 'GMD', 'GTQ',
  'GYD', 'HKD', 'HNL', 'HTG', 'HUF', 'IDR', 'ILS', 'INR', 'IRR', 'JMD', 'KES', 'KGS', 'KHR', 'KPW', 'KYD',
  'KZT', 'LAK', 'LBP', 'LKR', 'LRD', 'LSL', 'MAD', 'MDL', 'MGA', 'MKD', 'MMK', 'MNT', 'MOP', 'MRU', 'MUR',
  'MVR', 'MWK', 'MXN', 'MYR', 'MZN', 'NAD', 'NGN', 'NIO', 'NOK', 'NPR', 'NZD', 'PAB', 'PEN', 'PGK', 'PHP',
  'PKR', 'PLN', 'QAR', 'RON', 'RSD', 'RUB', 'SAR', 'SBD', 'SCR', 'SDG', 'SEK', 'SGD', 'SHP', 'SLE', 'SOS',
  'SRD', 'SSP', 'STN', 'SVC', 'SYP', 'SZL', 'THB', 'TJS', 'TMT', 'TOP', 'TRY', 'TTD', 'TWD', 'TZS', 'UAH',
  'USD', 'UYU', 'UZS', 'VED', 'VES', 'WST', 'XCD', 'XCG', 'YER', 'ZAR', 'ZMW', 'ZWG',
] as const;

export type CurrencyCode =
  | (typeof ZERO_DECIMAL_CODES)[number]
  | (typeof TWO_DECIMAL_CODES)[number]
  | (typeof THREE_DECIMAL_CODES)[number];

/** Every supported code, sorted: for schemas and documentation. */
export const CURRENCY_CODES: readonly CurrencyCode[] = [
  ...ZERO_DECIMAL_CODES,
  ...TWO_DECIMAL_CODES,
  ...THREE_DECIMAL_CODES,
].sort();

export type MinorUnitExponent = 0 | 2 | 3;

const EXPONENT_BY_CODE: ReadonlyMap<string, MinorUnitExponent> = new Map([
  ...ZERO_DECIMAL_CODES.map((code) => [code, 0] as const),
  ...TWO_DECIMAL_CODES.map((code) => [code, 2] as const),
  ...THREE_DECIMAL_CODES.map((code) => [code, 3] as const),
]);

export type CurrencyErrorCode = 'CURRENCY_UNKNOWN';

/** Case-sensitive: ISO 4217 codes are upper case, and "usd" in a request is a client bug worth surfacing. */
export function isCurrency(code: string): code is CurrencyCode {
  return EXPONENT_BY_CODE.has(code);
}

/** Digits after the decimal point in the currency's minor unit: 2 for USD (cents), 0 for JPY, 3 for KWD. */
export function minorUnitExponent(code: string): MinorUnitExponent {
  const exponent = EXPONENT_BY_CODE.get(code);
  if (exponent === undefined) {
    throw new DomainError(
      'CURRENCY_UNKNOWN',
      `currency ${JSON.stringify(code)} is not a supported ISO 4217 code`,
    );
  }
  return exponent;
}
