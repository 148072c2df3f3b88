/** How a provider's charge and durapay's payment record disagree, if they do. Amounts in minor units. */
export type Disagreement = 'CHARGE_WITHOUT_PAYMENT' | 'AMOUNT_MISMATCH' | 'CURRENCY_MISMATCH';

export interface ChargedAmount {
  amount: number;
  currency: string;
}

export interface RecordedPayment extends ChargedAmount {
  status: string;
}

/**
 * A charge needs a COMPLETED payment of the same currency and amount. A currency mismatch is reported as
 * such: amounts in two currencies cannot be compared.
 */
export function chargeDisagreement(
  charge: ChargedAmount,
  payment: RecordedPayment | undefined,
): Disagreement | undefined {
  if (!payment || payment.status !== 'COMPLETED') return 'CHARGE_WITHOUT_PAYMENT';
  if (payment.currency !== charge.currency) return 'CURRENCY_MISMATCH';
  if (payment.amount !== charge.amount) return 'AMOUNT_MISMATCH';
  return undefined;
}
