import { errorOf } from '../support/domain-errors';
import {
  addMinor,
  formatAmount,
  parseAmount,
  formatDbDecimal,
  parseDbDecimal,
  subtractMinor,
  toDbDecimal,
} from '../../src/domain/money';

const MAX = Number.MAX_SAFE_INTEGER;

describe('parseAmount', () => {
  it.each([
    ['125.50', 'USD', 12550],
    ['0.5', 'USD', 50],
    ['0.01', 'USD', 1],
    ['1000', 'USD', 100000],
    ['1000', 'JPY', 1000],
    ['1.500', 'KWD', 1500],
    ['1.5', 'KWD', 1500],
    ['0.001', 'KWD', 1],
    ['007.50', 'USD', 750],
  ])('parses %j %s as %d minor units', (decimal, currency, minor) => {
    expect(parseAmount(decimal, currency)).toBe(minor);
  });

  it.each([
    '',
    ' 1',
    '1 ',
    '1 000',
    '-1',
    '+1',
    '1e3',
    '1E3',
    '.5',
    '5.',
    '1,000',
    '1,50',
    '1_000',
    '1.2.3',
    '0x10',
    'Infinity',
    'NaN',
    '１２',
    '١٢',
  ])('rejects %j as malformed', (decimal) => {
    expect(errorOf(() => parseAmount(decimal, 'USD'))).toEqual({
      code: 'AMOUNT_MALFORMED',
      message: `amount ${JSON.stringify(decimal)} is not a plain decimal number such as "125.50"`,
    });
  });

  it('rejects more decimals than the currency allows', () => {
    expect(errorOf(() => parseAmount('12.345', 'USD'))).toEqual({
      code: 'AMOUNT_TOO_PRECISE',
      message: 'amount "12.345" has 3 decimal places; USD allows at most 2',
    });
    expect(errorOf(() => parseAmount('100.5', 'JPY'))).toEqual({
      code: 'AMOUNT_TOO_PRECISE',
      message: 'amount "100.5" has 1 decimal place; JPY allows none',
    });
    expect(errorOf(() => parseAmount('1.2345', 'KWD'))).toEqual({
      code: 'AMOUNT_TOO_PRECISE',
      message: 'amount "1.2345" has 4 decimal places; KWD allows at most 3',
    });
  });

  it('rejects surplus decimals even when they are zeros', () => {
    expect(errorOf(() => parseAmount('100.00', 'JPY')).code).toBe('AMOUNT_TOO_PRECISE');
    expect(errorOf(() => parseAmount('1.500', 'USD')).code).toBe('AMOUNT_TOO_PRECISE');
  });

  it.each([
    ['0', 'USD'],
    ['0.00', 'USD'],
    ['000.0', 'USD'],
    ['0', 'JPY'],
    ['0.000', 'KWD'],
  ])('rejects zero %j %s with its own code', (decimal, currency) => {
    expect(errorOf(() => parseAmount(decimal, currency))).toEqual({
      code: 'AMOUNT_NOT_POSITIVE',
      message: `amount ${JSON.stringify(decimal)} must be greater than zero`,
    });
  });

  it('accepts zero when the caller allows it', () => {
    expect(parseAmount('0.00', 'USD', { allowZero: true })).toBe(0);
    expect(parseAmount('0', 'JPY', { allowZero: true })).toBe(0);
    expect(parseAmount('1.25', 'USD', { allowZero: true })).toBe(125);
  });

  it('still rejects malformed input when zero is allowed', () => {
    expect(errorOf(() => parseAmount('-0', 'USD', { allowZero: true })).code).toBe('AMOUNT_MALFORMED');
  });

  it('accepts the largest exact amount and rejects one minor unit more', () => {
    expect(parseAmount('90071992547409.91', 'USD')).toBe(MAX);
    expect(parseAmount('9007199254740991', 'JPY')).toBe(MAX);
    expect(parseAmount('9007199254740.991', 'KWD')).toBe(MAX);
    expect(errorOf(() => parseAmount('90071992547409.92', 'USD'))).toEqual({
      code: 'AMOUNT_TOO_LARGE',
      message: 'amount "90071992547409.92" is too large; USD allows at most 90071992547409.91',
    });
    expect(errorOf(() => parseAmount('9007199254740992', 'JPY'))).toEqual({
      code: 'AMOUNT_TOO_LARGE',
      message: 'amount "9007199254740992" is too large; JPY allows at most 9007199254740991',
    });
  });

  it('rejects huge amounts without losing them to floating point', () => {
    expect(errorOf(() => parseAmount('1' + '0'.repeat(30), 'USD')).code).toBe('AMOUNT_TOO_LARGE');
    expect(errorOf(() => parseAmount('99999999999999999', 'JPY')).code).toBe('AMOUNT_TOO_LARGE');
  });

  it('ignores leading zeros when checking the range', () => {
    expect(parseAmount('0'.repeat(40) + '1.00', 'USD')).toBe(100);
  });

  it('rejects unknown currencies before looking at the amount', () => {
    expect(errorOf(() => parseAmount('abc', 'usd'))).toEqual({
      code: 'CURRENCY_UNKNOWN',
      message: 'currency "usd" is not a supported ISO 4217 code',
    });
  });
});

describe('formatAmount', () => {
  it.each([
    [12550, 'USD', '125.50'],
    [5, 'USD', '0.05'],
    [0, 'USD', '0.00'],
    [-5, 'USD', '-0.05'],
    [100000, 'USD', '1000.00'],
    [1000, 'JPY', '1000'],
    [0, 'JPY', '0'],
    [1500, 'KWD', '1.500'],
    [1, 'KWD', '0.001'],
    [MAX, 'USD', '90071992547409.91'],
    [-MAX, 'USD', '-90071992547409.91'],
  ])('formats %d %s as %j', (minor, currency, decimal) => {
    expect(formatAmount(minor, currency)).toBe(decimal);
  });

  it.each([1.5, Number.NaN, Number.POSITIVE_INFINITY, MAX + 1])('rejects %d minor units', (minor) => {
    expect(errorOf(() => formatAmount(minor, 'USD'))).toEqual({
      code: 'AMOUNT_NOT_INTEGER',
      message: `${minor} is not a safe integer amount of minor units`,
    });
  });

  it('formats -0 as zero', () => {
    expect(formatAmount(-0, 'USD')).toBe('0.00');
  });

  it.each([
    ['125.50', 'USD'],
    ['0.01', 'USD'],
    ['90071992547409.91', 'USD'],
    ['1000', 'JPY'],
    ['1.500', 'KWD'],
    ['0.001', 'BHD'],
  ])('round-trips %j %s exactly through parseAmount', (decimal, currency) => {
    expect(formatAmount(parseAmount(decimal, currency), currency)).toBe(decimal);
  });
});

describe('parseDbDecimal', () => {
  it.each([
    ['120.0000', 'USD', 12000],
    ['120.5000', 'USD', 12050],
    ['0.0100', 'USD', 1],
    ['-3.5000', 'USD', -350],
    ['12', 'USD', 1200],
    ['120.0000', 'JPY', 120],
    ['1.5000', 'KWD', 1500],
    ['0.0010', 'KWD', 1],
  ])('reads %j %s as %d minor units', (value, currency, minor) => {
    expect(parseDbDecimal(value, currency)).toBe(minor);
  });

  it('reads negative zero as plain zero', () => {
    expect(Object.is(parseDbDecimal('-0.0000', 'USD'), 0)).toBe(true);
  });

  it('rejects nonzero digits beyond the currency exponent', () => {
    expect(errorOf(() => parseDbDecimal('120.5050', 'USD'))).toEqual({
      code: 'AMOUNT_TOO_PRECISE',
      message: 'database amount "120.5050" is more precise than USD allows (2 decimal places)',
    });
    expect(errorOf(() => parseDbDecimal('120.5000', 'JPY'))).toEqual({
      code: 'AMOUNT_TOO_PRECISE',
      message: 'database amount "120.5000" is more precise than JPY allows (no decimal places)',
    });
    expect(errorOf(() => parseDbDecimal('1.5005', 'KWD')).code).toBe('AMOUNT_TOO_PRECISE');
  });

  it.each(['', 'abc', '1e3', ' 1.0000', '1.', '.5', '+1.0000', '--1'])('rejects %j as malformed', (value) => {
    expect(errorOf(() => parseDbDecimal(value, 'USD'))).toEqual({
      code: 'AMOUNT_MALFORMED',
      message: `database amount ${JSON.stringify(value)} is not a decimal number`,
    });
  });

  it('rejects values beyond the exact range', () => {
    expect(errorOf(() => parseDbDecimal('99999999999999999.0000', 'USD'))).toEqual({
      code: 'AMOUNT_TOO_LARGE',
      message: 'database amount "99999999999999999.0000" is too large to handle exactly',
    });
  });
});

describe('formatDbDecimal', () => {
  const values = [
    '120.0000',
    '120.5000',
    '0.0100',
    '0.0000',
    '-0.0000',
    '-3.5000',
    '12',
    '007.5000',
    '0.0010',
    '1.5000',
    '123456789012345.0000',
    '90071992547409.9100',
    '90071992547409.9200',
    '9007199254740.9910',
    '9007199254740.9920',
    '120.5050',
    '1.5005',
    '',
    'abc',
    '1e3',
    '1.',
    '.5',
    '+1.0000',
  ];

  it.each(['USD', 'JPY', 'KWD'])(
    'gives the text and errors of formatAmount(parseDbDecimal(…)) in %s',
    (currency) => {
      for (const value of values) {
        const outcome = (run: () => string) => {
          try {
            return { text: run() };
          } catch (error) {
            return errorOf(() => {
              throw error;
            });
          }
        };
        expect([value, outcome(() => formatDbDecimal(value, currency))]).toEqual([
          value,
          outcome(() => formatAmount(parseDbDecimal(value, currency), currency)),
        ]);
      }
    },
  );

  it.each([
    ['120.5000', 'USD', '120.50'],
    ['1000.0000', 'JPY', '1000'],
    ['1.5000', 'KWD', '1.500'],
    ['-0.0000', 'USD', '0.00'],
  ])('formats %j %s as %j', (value, currency, text) => {
    expect(formatDbDecimal(value, currency)).toBe(text);
  });
});

describe('toDbDecimal', () => {
  it.each([
    [12050, 'USD', '120.5000'],
    [0, 'USD', '0.0000'],
    [-350, 'USD', '-3.5000'],
    [MAX, 'USD', '90071992547409.9100'],
    [120, 'JPY', '120.0000'],
    [1500, 'KWD', '1.5000'],
    [999999999999999, 'JPY', '999999999999999.0000'],
  ])('writes %d %s as %j', (minor, currency, decimal) => {
    expect(toDbDecimal(minor, currency)).toBe(decimal);
  });

  it('rejects amounts that do not fit DECIMAL(19,4)', () => {
    expect(errorOf(() => toDbDecimal(1000000000000000, 'JPY'))).toEqual({
      code: 'AMOUNT_TOO_LARGE',
      message: 'amount 1000000000000000 JPY is too large to store',
    });
  });

  it('rejects non-integer minor units', () => {
    expect(errorOf(() => toDbDecimal(0.5, 'USD')).code).toBe('AMOUNT_NOT_INTEGER');
  });

  it.each([
    [12050, 'USD'],
    [-1, 'USD'],
    [MAX, 'USD'],
    [123456, 'JPY'],
    [1, 'KWD'],
  ])('round-trips %d %s exactly through parseDbDecimal', (minor, currency) => {
    expect(parseDbDecimal(toDbDecimal(minor, currency), currency)).toBe(minor);
  });
});

describe('addMinor and subtractMinor', () => {
  it('add and subtract exactly', () => {
    expect(addMinor(10, 20)).toBe(30);
    expect(addMinor(MAX - 1, 1)).toBe(MAX);
    expect(subtractMinor(5, 7)).toBe(-2);
    expect(subtractMinor(-MAX + 1, 1)).toBe(-MAX);
  });

  it('throw instead of losing precision', () => {
    expect(errorOf(() => addMinor(MAX, 1))).toEqual({
      code: 'AMOUNT_TOO_LARGE',
      message: `sum of ${MAX} and 1 minor units is too large in magnitude to represent exactly`,
    });
    expect(errorOf(() => addMinor(-MAX, -1)).code).toBe('AMOUNT_TOO_LARGE');
    expect(errorOf(() => subtractMinor(-MAX, 1))).toEqual({
      code: 'AMOUNT_TOO_LARGE',
      message: `difference of ${-MAX} and 1 minor units is too large in magnitude to represent exactly`,
    });
    expect(errorOf(() => subtractMinor(MAX, -1)).code).toBe('AMOUNT_TOO_LARGE');
  });

  it.each([
    [1.5, 1],
    [1, Number.NaN],
    [MAX + 1, 0],
  ])('reject operands %d and %d that are not safe integers', (a, b) => {
    expect(errorOf(() => addMinor(a, b)).code).toBe('AMOUNT_NOT_INTEGER');
    expect(errorOf(() => subtractMinor(a, b)).code).toBe('AMOUNT_NOT_INTEGER');
  });
});
