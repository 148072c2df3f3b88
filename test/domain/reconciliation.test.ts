import { chargeDisagreement } from '../../src/domain/payments/reconciliation';

describe('chargeDisagreement', () => {
  const charged = { amount: 12_50, currency: 'USD' };
  const charge = { id: 'ch_1', ...charged };

  it('accepts a charge of a completed payment of the same amount and currency', () => {
    expect(chargeDisagreement(charge, { ...charged, status: 'COMPLETED' })).toBeUndefined();
  });

  it('reports a charge whose payment is missing, pending or failed', () => {
    expect(chargeDisagreement(charge, undefined)).toBe('CHARGE_WITHOUT_PAYMENT');
    expect(chargeDisagreement(charge, { ...charged, status: 'PENDING' })).toBe('CHARGE_WITHOUT_PAYMENT');
    expect(chargeDisagreement(charge, { ...charged, status: 'FAILED' })).toBe('CHARGE_WITHOUT_PAYMENT');
  });

  it('reports another amount, and another currency before any amount', () => {
    expect(chargeDisagreement(charge, { amount: 12_51, currency: 'USD', status: 'COMPLETED' })).toBe(
      'AMOUNT_MISMATCH',
    );
    expect(chargeDisagreement(charge, { amount: 12_50, currency: 'EUR', status: 'COMPLETED' })).toBe(
      'CURRENCY_MISMATCH',
    );
    expect(chargeDisagreement(charge, { amount: 99_00, currency: 'EUR', status: 'COMPLETED' })).toBe(
      'CURRENCY_MISMATCH',
    );
  });

  it("reports a charge that is not the one under its completed payment's key as a second charge", () => {
    const payment = { ...charged, status: 'COMPLETED' };
    expect(chargeDisagreement(charge, { ...payment, chargeId: 'ch_1' })).toBeUndefined();
    expect(chargeDisagreement(charge, { ...payment, chargeId: 'ch_0' })).toBe('DUPLICATE_CHARGE');
    // No charge under the payment's key at all: one naming it was not taken by durapay's request.
    expect(chargeDisagreement(charge, { ...payment, chargeId: null })).toBe('DUPLICATE_CHARGE');
    // Before an amount or currency mismatch: the payment's own charge is the one to compare amounts with.
    expect(chargeDisagreement({ ...charge, amount: 99_00 }, { ...payment, chargeId: 'ch_0' })).toBe(
      'DUPLICATE_CHARGE',
    );
  });
});
