/**
 * Test cards, like a provider's: what the built-in simulator and the sandbox provider answer to a charge.
 * One table, so a payment behaves the same whichever of the two charges it.
 */
import { cardExpired } from '../cards';

/** Why a provider declines a card; a decline is final, retrying it changes nothing. */
export const DECLINE_CODES = [
  'card_declined',
  'insufficient_funds',
  'expired_card',
  'incorrect_cvc',
] as const;
export type DeclineCode = (typeof DECLINE_CODES)[number];

export const TEST_CARDS = {
  declined: '4000000000000002',
  insufficientFunds: '4000000000009995',
  /** Fails transiently FLAKY_CARD_FAILURES times under one idempotency key, then succeeds. */
  flaky: '4000000000000119',
} as const;

export const FLAKY_CARD_FAILURES = 2;

/** Any card charged with this security code is declined as `incorrect_cvc`. */
export const INCORRECT_CVC = '000';

const DECLINED_CARDS: Readonly<Record<string, DeclineCode>> = {
  [TEST_CARDS.declined]: 'card_declined',
  [TEST_CARDS.insufficientFunds]: 'insufficient_funds',
};

export interface TestCharge {
  /** Digits only. */
  number: string;
  /** Expiry and CVC are checked when given: a gateway that is not sent them does not check them. */
  expMonth?: number;
  /** Four digits. */
  expYear?: number;
  cvc?: string;
}

/** Transient failures a charge with this card gives under one idempotency key before its real answer. */
export function transientFailuresBeforeAnswer(cardNumber: string): number {
  return cardNumber === TEST_CARDS.flaky ? FLAKY_CARD_FAILURES : 0;
}

/** The answer once the transient failures are spent: a decline code, or undefined when the charge succeeds. */
export function testCardDecline(charge: TestCharge, now: Date): DeclineCode | undefined {
  if (charge.expMonth !== undefined && charge.expYear !== undefined) {
    if (cardExpired(charge.expMonth, charge.expYear, now)) return 'expired_card';
  }
  if (charge.cvc === INCORRECT_CVC) return 'incorrect_cvc';
  return DECLINED_CARDS[charge.number];
}
