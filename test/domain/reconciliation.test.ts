import { chargeDisagreement } from '../../src/domain/payments/reconciliation';

describe('chargeDisagreement', () => {
  const charge = { amount: 12_50, currency: 'USD' };

  it('accepts a charge of a completed payment of the same amount and currency', () => {
    expect(chargeDisagreement(charge, { ...charge, status: 'COMPLETED' })).toBeUndefined();
  });

  it('reports a charge whose payment is missing, pending or failed', () => {
    expect(chargeDisagreement(charge, undefined)).toBe('CHARGE_WITHOUT_PAYMENT');
    expect(chargeDisagreement(charge, { ...charge, status: 'PENDING' })).toBe('CHARGE_WITHOUT_PAYMENT');
    expect(chargeDisagreement(charge, { ...charge, status: 'FAILED' })).toBe('CHARGE_WITHOUT_PAYMENT');
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
});
