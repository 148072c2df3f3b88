import { errorOf } from '../support/domain-errors';
import {
  type CardInput,
  cardBrand,
  last4,
  luhnValid,
  maskedCard,
  validateCard,
} from '../../src/domain/cards';

const NOW = new Date('2026-11-22T02:00:00Z');
const VISA: CardInput = { number: '4242424242424242', expMonth: 12, expYear: 2030, cvc: '123' };

describe('luhnValid', () => {
  it.each([
    '4242424242424242',
    '5555555555554444',
    '378282246310005',
    '4000000000000002',
    '6011111111111117',
    '400000000002',
    '4242424242424242428',
  ])('accepts %s', (digits) => {
    expect(luhnValid(digits)).toBe(true);
  });

  it.each(['4242424242424241', '5555555555554445', '378282246310006', '4242424242424224'])(
    'rejects %s',
    (digits) => {
      expect(luhnValid(digits)).toBe(false);
    },
  );

  it.each(['', '4242 4242 4242 4242', '4242-4242-4242-4242', '42424242424242a2', '４２'])(
    'rejects %j, which is not only digits',
    (digits) => {
      expect(luhnValid(digits)).toBe(false);
    },
  );
});

describe('cardBrand', () => {
  it.each([
    ['4242424242424242', 'visa'],
    ['4000000000000002', 'visa'],
    ['5555555555554444', 'mastercard'],
    ['5105105105105100', 'mastercard'],
    ['2221000000000009', 'mastercard'],
    ['2720990000000007', 'mastercard'],
    ['378282246310005', 'amex'],
    ['341111111111111', 'amex'],
    ['6011111111111117', 'discover'],
    ['6445000000000000', 'discover'],
    ['6495000000000000', 'discover'],
    ['6500000000000002', 'discover'],
    ['30569309025904', 'diners'],
    ['30500000000000', 'diners'],
    ['30950000000000', 'diners'],
    ['36227206271667', 'diners'],
    ['38520000023237', 'diners'],
    ['3566002020360505', 'jcb'],
    ['3528000000000000', 'jcb'],
    ['3589000000000000', 'jcb'],
    ['6200000000000005', 'unionpay'],
    ['6221260000000000', 'unionpay'],
    ['8100000000000000', 'unionpay'],
  ])('%s is %s', (number, brand) => {
    expect(cardBrand(number)).toBe(brand);
  });

  it.each([
    ['2220990000000000', 'just below the Mastercard 2-series'],
    ['2721000000000000', 'just above the Mastercard 2-series'],
    ['5000000000000000', 'below Mastercard 51'],
    ['5600000000000000', 'above Mastercard 55'],
    ['3060000000000000', 'between Diners 305 and 3095'],
    ['3527000000000000', 'just below JCB'],
    ['3590000000000000', 'just above JCB'],
    ['6010000000000000', 'next to Discover 6011'],
    ['6430000000000000', 'just below Discover 644'],
    ['1234567890123456', 'an unassigned prefix'],
    ['', 'empty'],
    ['2', 'too short to tell'],
  ])('%j is unknown (%s)', (number) => {
    expect(cardBrand(number)).toBe('unknown');
  });

  it('ignores spaces and dashes', () => {
    expect(cardBrand('3782 822463 10005')).toBe('amex');
    expect(cardBrand('2221-0000-0000-0009')).toBe('mastercard');
  });
});

describe('last4 and maskedCard', () => {
  it('show only the brand and the last four digits', () => {
    expect(last4('4242 4242 4242 1881')).toBe('1881');
    expect(maskedCard('3782-822463-10005')).toEqual({ brand: 'amex', last4: '0005' });
  });
});

describe('validateCard', () => {
  it('returns the normalised number, masked view and four-digit expiry', () => {
    expect(validateCard({ ...VISA, number: '4242 4242-4242 4242', expYear: 30 }, NOW)).toEqual({
      number: '4242424242424242',
      masked: { brand: 'visa', last4: '4242' },
      expMonth: 12,
      expYear: 2030,
    });
  });

  it('accepts 12 and 19 digit numbers', () => {
    expect(validateCard({ ...VISA, number: '400000000002' }, NOW).number).toBe('400000000002');
    expect(validateCard({ ...VISA, number: '4242424242424242428' }, NOW).number).toBe('4242424242424242428');
  });

  it.each([
    '42424242424',
    '42424242424242424242',
    '4242.4242.4242.4242',
    '4242_4242_4242_4242',
    '4242\t4242',
    '',
  ])('rejects %j as malformed', (number) => {
    expect(errorOf(() => validateCard({ ...VISA, number }, NOW))).toEqual({
      code: 'CARD_NUMBER_MALFORMED',
      message: 'card number must be 12 to 19 digits, optionally grouped with spaces or dashes',
    });
  });

  it('rejects a number that fails the Luhn check', () => {
    expect(errorOf(() => validateCard({ ...VISA, number: '4242424242424241' }, NOW))).toEqual({
      code: 'CARD_NUMBER_INVALID',
      message: 'card number is not valid; please check it for typos',
    });
  });

  describe('expiry', () => {
    it('accepts a card expiring this month', () => {
      expect(validateCard({ ...VISA, expMonth: 11, expYear: 2026 }, NOW).expYear).toBe(2026);
    });

    it('rejects a card that expired last month', () => {
      expect(errorOf(() => validateCard({ ...VISA, expMonth: 10, expYear: 2026 }, NOW))).toEqual({
        code: 'CARD_EXPIRED',
        message: 'card expired at the end of 10/2026',
      });
    });

    it('keeps the card valid through the last millisecond of its month, in UTC', () => {
      const card = { ...VISA, expMonth: 11, expYear: 2026 };
      expect(validateCard(card, new Date('2026-11-30T23:59:59.999Z')).expMonth).toBe(11);
      expect(errorOf(() => validateCard(card, new Date('2026-12-01T00:00:00.000Z'))).code).toBe(
        'CARD_EXPIRED',
      );
    });

    it('rolls a December expiry over into the next year', () => {
      const card = { ...VISA, expMonth: 12, expYear: 2026 };
      expect(validateCard(card, new Date('2026-12-31T23:59:59.999Z')).expYear).toBe(2026);
      expect(errorOf(() => validateCard(card, new Date('2027-01-01T00:00:00.000Z'))).code).toBe(
        'CARD_EXPIRED',
      );
    });

    it('reads a two-digit year as 20YY', () => {
      expect(validateCard({ ...VISA, expMonth: 11, expYear: 26 }, NOW).expYear).toBe(2026);
      expect(validateCard({ ...VISA, expYear: 99 }, NOW).expYear).toBe(2099);
      expect(errorOf(() => validateCard({ ...VISA, expMonth: 10, expYear: 26 }, NOW))).toEqual({
        code: 'CARD_EXPIRED',
        message: 'card expired at the end of 10/2026',
      });
      expect(errorOf(() => validateCard({ ...VISA, expMonth: 1, expYear: 0 }, NOW)).code).toBe(
        'CARD_EXPIRED',
      );
    });

    it.each([0, 13, -1, 1.5, Number.NaN])('rejects expiry month %d', (expMonth) => {
      expect(errorOf(() => validateCard({ ...VISA, expMonth }, NOW))).toEqual({
        code: 'CARD_EXP_MONTH_INVALID',
        message: `expiry month ${expMonth} must be from 1 to 12`,
      });
    });

    it.each([100, 999, 10000, -1, 2030.5])('rejects expiry year %d', (expYear) => {
      expect(errorOf(() => validateCard({ ...VISA, expYear }, NOW))).toEqual({
        code: 'CARD_EXP_YEAR_INVALID',
        message: `expiry year ${expYear} must have 2 or 4 digits`,
      });
    });
  });

  describe('security code', () => {
    it('accepts 3 digits, or 4 for American Express', () => {
      expect(validateCard({ ...VISA, cvc: '012' }, NOW).masked.brand).toBe('visa');
      expect(validateCard({ ...VISA, number: '378282246310005', cvc: '0123' }, NOW).masked.brand).toBe(
        'amex',
      );
    });

    it.each(['12', '1234', '12a', ' 123', ''])('rejects %j for a Visa card', (cvc) => {
      expect(errorOf(() => validateCard({ ...VISA, cvc }, NOW))).toEqual({
        code: 'CARD_CVC_INVALID',
        message: 'security code must be 3 digits',
      });
    });

    it.each(['123', '12345'])('rejects %j for an American Express card', (cvc) => {
      expect(errorOf(() => validateCard({ ...VISA, number: '378282246310005', cvc }, NOW))).toEqual({
        code: 'CARD_CVC_INVALID',
        message: 'security code must be 4 digits for American Express cards',
      });
    });
  });

  it.each<[string, CardInput]>([
    ['a malformed number', { ...VISA, number: '4242424242424242 4242' }],
    ['a Luhn failure', { ...VISA, number: '4242 4242 4242 4241' }],
    ['a bad month', { ...VISA, expMonth: 13 }],
    ['a bad year', { ...VISA, expYear: 345 }],
    ['an expired card', { ...VISA, expMonth: 1, expYear: 2020 }],
    ['a bad security code', { ...VISA, cvc: '98765' }],
  ])('never puts the card number or security code in the message for %s', (_case, card) => {
    const { message } = errorOf(() => validateCard(card, NOW));
    const digits = card.number.replace(/[ -]/g, '');
    expect(message).not.toContain(digits);
    expect(message).not.toContain(digits.slice(0, 6));
    expect(message).not.toContain(card.cvc);
  });
});
