/**
 * Card number checks done before anything is sent to a processor. Error messages never contain the
 * card number or CVC, so they are safe to log and to return to the client.
 */
import { DomainError } from './errors';

/** Every brand a card can be reported as; "unknown" for numbers outside the known issuer ranges. */
export const CARD_BRANDS = [
  'visa',
  'mastercard',
  'amex',
  'discover',
  'diners',
  'jcb',
  'unionpay',
  'unknown',
] as const;
export type CardBrand = (typeof CARD_BRANDS)[number];

export const isCardBrand = (text: string): text is CardBrand =>
  (CARD_BRANDS as readonly string[]).includes(text);

/** A card number once spaces and dashes are removed. */
export const CARD_NUMBER_PATTERN = /^\d{12,19}$/;
export const CARD_NUMBER_RULE = 'must be 12 to 19 digits, optionally grouped with spaces or dashes';

export interface MaskedCard {
  brand: CardBrand;
  last4: string;
}

export interface CardInput {
  /** Digits, optionally grouped with spaces or dashes. */
  number: string;
  expMonth: number;
  /** Four digits, or two digits meaning 20YY. */
  expYear: number;
  cvc: string;
}

export interface ValidatedCard {
  /** Digits only. */
  number: string;
  masked: MaskedCard;
  expMonth: number;
  /** Always four digits. */
  expYear: number;
}

export type CardErrorCode =
  | 'CARD_NUMBER_MALFORMED'
  | 'CARD_NUMBER_INVALID'
  | 'CARD_EXP_MONTH_INVALID'
  | 'CARD_EXP_YEAR_INVALID'
  | 'CARD_EXPIRED'
  | 'CARD_CVC_INVALID';

/**
 * Issuer identification number ranges as [brand, first, last], where first and last are prefixes of
 * equal length, so comparing them as strings compares them as numbers. The Discover co-brand range
 * 622126–622925 is reported as UnionPay, the issuing network.
 */
const IIN_RANGES: ReadonlyArray<readonly [CardBrand, string, string]> = [
  ['visa', '4', '4'],
  ['mastercard', '51', '55'],
  ['mastercard', '2221', '2720'],
  ['amex', '34', '34'],
  ['amex', '37', '37'],
  ['discover', '6011', '6011'],
  ['discover', '644', '649'],
  ['discover', '65', '65'],
  ['diners', '300', '305'],
  ['diners', '3095', '3095'],
  ['diners', '36', '36'],
  ['diners', '38', '39'],
  ['jcb', '3528', '3589'],
  ['unionpay', '62', '62'],
  ['unionpay', '81', '81'],
];

/** Luhn (mod 10) check over a string of digits; false for anything else. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    const digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      sum += digit;
    } else {
      // Every second digit from the right is doubled; a two-digit result counts as the sum of its digits.
      const doubled = digit * 2;
      sum += doubled > 9 ? doubled - 9 : doubled;
    }
  }
  return sum % 10 === 0;
}

export function cardBrand(number: string): CardBrand {
  const digits = stripSeparators(number);
  for (const [brand, first, last] of IIN_RANGES) {
    const prefix = digits.slice(0, first.length);
    if (prefix.length === first.length && prefix >= first && prefix <= last) return brand;
  }
  return 'unknown';
}

export function last4(number: string): string {
  return stripSeparators(number).slice(-4);
}

export function maskedCard(number: string): MaskedCard {
  return { brand: cardBrand(number), last4: last4(number) };
}

/**
 * Validates card details as entered. The card is usable through the last day of its expiry month,
 * in UTC. A two-digit expiry year YY means 20YY (right until 2100; cards expire within ~10 years).
 */
export function validateCard(card: CardInput, now: Date): ValidatedCard {
  const number = stripSeparators(card.number);
  if (!CARD_NUMBER_PATTERN.test(number)) {
    throw cardError('CARD_NUMBER_MALFORMED', `card number ${CARD_NUMBER_RULE}`);
  }
  if (!luhnValid(number)) {
    throw cardError('CARD_NUMBER_INVALID', 'card number is not valid; please check it for typos');
  }

  const { expMonth } = card;
  if (!Number.isInteger(expMonth) || expMonth < 1 || expMonth > 12) {
    throw cardError('CARD_EXP_MONTH_INVALID', `expiry month ${expMonth} must be from 1 to 12`);
  }
  const expYear = fullExpiryYear(card.expYear);
  if (cardExpired(expMonth, expYear, now)) {
    throw cardError(
      'CARD_EXPIRED',
      `card expired at the end of ${String(expMonth).padStart(2, '0')}/${expYear}`,
    );
  }

  const masked = maskedCard(number);
  const cvcDigits = masked.brand === 'amex' ? 4 : 3;
  if (!new RegExp(`^\\d{${cvcDigits}}$`).test(card.cvc)) {
    const forBrand = masked.brand === 'amex' ? ' for American Express cards' : '';
    throw cardError('CARD_CVC_INVALID', `security code must be ${cvcDigits} digits${forBrand}`);
  }
  return { number, masked, expMonth, expYear };
}

/** A card is usable through the last day of its expiry month, in UTC; `expYear` has four digits. */
export function cardExpired(expMonth: number, expYear: number, now: Date): boolean {
  // Date.UTC takes a zero-based month, so passing the one-based expMonth gives the start of the next month.
  return now.getTime() >= Date.UTC(expYear, expMonth, 1);
}

function fullExpiryYear(expYear: number): number {
  if (Number.isInteger(expYear) && expYear >= 0 && expYear <= 99) return 2000 + expYear;
  if (Number.isInteger(expYear) && expYear >= 1000 && expYear <= 9999) return expYear;
  throw cardError('CARD_EXP_YEAR_INVALID', `expiry year ${expYear} must have 2 or 4 digits`);
}

/** Digits only: a card number as entered may be grouped with spaces or dashes. */
export function stripSeparators(number: string): string {
  return number.replace(/[ -]/g, '');
}

function cardError(code: CardErrorCode, message: string): DomainError {
  return new DomainError(code, message);
}
