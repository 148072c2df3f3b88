import { isCurrency, minorUnitExponent } from '../../src/domain/currencies';
import { DomainError } from '../../src/domain/errors';

describe('isCurrency', () => {
  it.each(['USD', 'EUR', 'GBP', 'JPY', 'KWD', 'CHF', 'XAF', 'XCD', 'XCG', 'ZWG', 'SLE', 'VED', 'VES'])(
    'accepts the current currency %s',
    (code) => {
      expect(isCurrency(code)).toBe(true);
    },
  );

  it.each([
    'XAU',
    'XAG',
    'XPD',
    'XPT',
    'XTS',
    'XXX',
    'XDR',
    'XSU',
    'XUA',
    'XBA',
    'BOV',
    'CLF',
    'USN',
    'UYW',
    'XAD',
  ])('rejects the fund, metal, accounting or testing code %s', (code) => {
    expect(isCurrency(code)).toBe(false);
  });

  it.each(['BGN', 'ANG', 'HRK', 'CUC', 'SLL', 'ZWL', 'VEF', 'MRO', 'STD', 'LTL'])(
    'rejects the withdrawn code %s',
    (code) => {
      expect(isCurrency(code)).toBe(false);
    },
  );

  it.each(['usd', 'Usd', ' USD', 'USD ', 'US', 'USDT', '', 'toString', 'constructor'])(
    'rejects %j',
    (code) => {
      expect(isCurrency(code)).toBe(false);
    },
  );
});

describe('minorUnitExponent', () => {
  it.each([
    'BIF',
    'CLP',
    'DJF',
    'GNF',
    'ISK',
    'JPY',
    'KMF',
    'KRW',
    'PYG',
    'RWF',
    'UGX',
    'VND',
    'VUV',
    'XAF',
    'XOF',
    'XPF',
  ])('%s has no minor unit', (code) => {
    expect(minorUnitExponent(code)).toBe(0);
  });

  it.each(['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND'])('%s has 3 decimal places', (code) => {
    expect(minorUnitExponent(code)).toBe(3);
  });

  it.each(['USD', 'EUR', 'GBP', 'CHF', 'CNY', 'INR', 'HUF', 'IDR', 'COP', 'MGA', 'MRU'])(
    '%s has 2 decimal places, as ISO 4217 lists it',
    (code) => {
      expect(minorUnitExponent(code)).toBe(2);
    },
  );

  it('throws a coded, readable error for an unknown code', () => {
    let thrown: unknown;
    try {
      minorUnitExponent('usd');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DomainError);
    expect(thrown).toMatchObject({
      name: 'DomainError',
      code: 'CURRENCY_UNKNOWN',
      message: 'currency "usd" is not a supported ISO 4217 code',
    });
  });
});
