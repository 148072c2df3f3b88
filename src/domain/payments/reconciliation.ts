/** How a provider's charge and durapay's payment record disagree, if they do. Amounts in minor units. */
export type Disagreement =
  'CHARGE_WITHOUT_PAYMENT' | 'DUPLICATE_CHARGE' | 'AMOUNT_MISMATCH' | 'CURRENCY_MISMATCH';

export interface ChargedAmount {
  amount: number;
  currency: string;
}

export interface ExaminedCharge extends ChargedAmount {
  id: string;
}

export interface RecordedPayment extends ChargedAmount {
  status: string;
  /**
   * The charge the provider took under the payment's idempotency key; null when it has none there (so any
   * charge naming the payment was taken some other way); undefined when it was not asked.
   */
  chargeId?: string | null;
}

/**
 * A charge needs a COMPLETED payment of the same currency and amount, and must be the charge taken under that
 * payment's idempotency key: another charge naming the same payment is a second charge for it. A currency
 * mismatch is reported as such: amounts in two currencies cannot be compared.
 */
export function chargeDisagreement(
  charge: ExaminedCharge,
  payment: RecordedPayment | undefined,
): Disagreement | undefined {
  if (!payment || payment.status !== 'COMPLETED') return 'CHARGE_WITHOUT_PAYMENT';
  if (payment.chargeId !== undefined && payment.chargeId !== charge.id) return 'DUPLICATE_CHARGE';
  if (payment.currency !== charge.currency) return 'CURRENCY_MISMATCH';
  if (payment.amount !== charge.amount) return 'AMOUNT_MISMATCH';
  return undefined;
}
