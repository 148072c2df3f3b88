import { DomainError } from '../../src/domain/errors';
import {
  emptyFields,
  IMPORT_COLUMNS,
  type RawFields,
  type RawRow,
  redactCardNumbers,
  type RowError,
} from '../../src/domain/uploads/rows';
import { checkRow, validateOrderRows } from '../../src/domain/uploads/import-rows';
import { orderRow, paymentRow } from './helpers';

function errorsOf(rows: RawRow[]): RowError[] {
  const result = validateOrderRows(rows);
  if ('order' in result) throw new Error(`expected errors, got order ${JSON.stringify(result.order)}`);
  return result.errors;
}

function orderOf(rows: RawRow[]) {
  const result = validateOrderRows(rows);
  if ('errors' in result) throw new Error(`expected an order, got ${JSON.stringify(result.errors)}`);
  return result.order;
}

/** A PENDING order row without payment, so only the overridden order column can be wrong. */
const pendingOrder = (fields: Partial<RawFields>) => orderRow(2, { order_status: 'PENDING', ...fields });

describe('validateOrderRows: a valid order', () => {
  it('converts amounts to minor units, the date to UTC and keeps payments in line order', () => {
    const rows = [
      paymentRow(9, {
        payment_id: 'PAY-2',
        payment_amount: '40.00',
        payment_method: 'BANK_TRANSFER',
        card_number: '',
      }),
      paymentRow(4, {
        payment_id: 'PAY-1',
        payment_amount: '60',
        card_number: '4242 4242-4242 4242',
      }),
      paymentRow(6, { payment_id: 'PAY-F', payment_amount: '100.00', payment_status: 'FAILED' }),
    ].map((row) => ({
      ...row,
      fields: { ...row.fields, created_at: '2026-03-01T10:15:00.123456+01:00' },
    }));
    expect(orderOf(rows)).toEqual({
      orderId: 'ORD-1',
      amount: 10000,
      currency: 'USD',
      status: 'COMPLETED',
      createdAt: '2026-03-01T09:15:00.123Z',
      customerEmail: 'ana@example.com',
      payments: [
        {
          paymentId: 'PAY-1',
          amount: 6000,
          status: 'COMPLETED',
          method: 'CARD',
          cardNumber: '4242424242424242',
        },
        {
          paymentId: 'PAY-F',
          amount: 10000,
          status: 'FAILED',
          method: 'CARD',
          cardNumber: '4242424242424242',
        },
        { paymentId: 'PAY-2', amount: 4000, status: 'COMPLETED', method: 'BANK_TRANSFER' },
      ],
    });
  });

  it('accepts an order without payments, a card payment without card number, and other precisions', () => {
    expect(
      orderOf([orderRow(2, { order_status: 'PENDING', currency: 'JPY', order_amount: '1000' })]),
    ).toEqual({
      orderId: 'ORD-1',
      amount: 1000,
      currency: 'JPY',
      status: 'PENDING',
      createdAt: '2026-03-01T09:15:00.000Z',
      customerEmail: 'ana@example.com',
      payments: [],
    });
    const kwd = orderOf([
      paymentRow(2, { currency: 'KWD', order_amount: '1.5', payment_amount: '1.500', card_number: '' }),
    ]);
    expect(kwd.amount).toBe(1500);
    expect(kwd.payments).toEqual([{ paymentId: 'PAY-1', amount: 1500, status: 'COMPLETED', method: 'CARD' }]);
  });

  it.each(['eve, jr@example.com', 'zoë@exämple.com', 'a+b@example.co.uk'])(
    'accepts the email %j',
    (email) => {
      expect(orderOf([paymentRow(2, { customer_email: email })]).customerEmail).toBe(email);
    },
  );

  it.each([
    ['2026-03-01T09:15:00Z', '2026-03-01T09:15:00.000Z'],
    ['2026-03-01T09:15:00.5Z', '2026-03-01T09:15:00.500Z'],
    ['2026-03-01T09:15:00.999999999Z', '2026-03-01T09:15:00.999Z'],
    ['2026-03-01T00:30:00+02:00', '2026-02-28T22:30:00.000Z'],
    ['2026-03-01T23:30:00-05:30', '2026-03-02T05:00:00.000Z'],
    ['2024-02-29T12:00:00Z', '2024-02-29T12:00:00.000Z'],
    ['1000-01-01T00:00:00Z', '1000-01-01T00:00:00.000Z'],
    ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
  ])('reads created_at %s as %s', (text, iso) => {
    expect(orderOf([paymentRow(2, { created_at: text })]).createdAt).toBe(iso);
  });
});

describe('validateOrderRows: field rules', () => {
  const ORDER_ID_RULE =
    "must be 1 to 64 characters of letters, digits, '.', '_', ':' or '-', starting with a letter or digit";

  it.each<[string, Partial<RawFields>, string, string]>([
    ['malformed order_id', { order_id: 'ORD 1' }, 'order_id', `order_id "ORD 1" ${ORDER_ID_RULE}`],
    [
      'order_id too long',
      { order_id: 'O'.repeat(65) },
      'order_id',
      `order_id "${'O'.repeat(40)}…" ${ORDER_ID_RULE}`,
    ],
    ['order_id starting with a dash', { order_id: '-1' }, 'order_id', `order_id "-1" ${ORDER_ID_RULE}`],
  ])('%s', (_name, fields, field, reason) => {
    expect(errorsOf([pendingOrder(fields)])).toEqual([{ line: 2, field, reason }]);
  });

  it('requires order_id, and reports its rows without one', () => {
    expect(errorsOf([pendingOrder({ order_id: '' })])).toEqual([
      { line: 2, field: 'order_id', reason: 'order_id is required' },
    ]);
  });

  it.each<[string, Partial<RawFields>, string, string]>([
    ['order_amount missing', { order_amount: '' }, 'order_amount', 'order_amount is required'],
    [
      'order_amount too precise',
      { order_amount: '12.345' },
      'order_amount',
      'order_amount "12.345" has 3 decimal places; USD allows at most 2',
    ],
    [
      'order_amount with decimals in a zero-decimal currency',
      { currency: 'JPY', order_amount: '100.00' },
      'order_amount',
      'order_amount "100.00" has 2 decimal places; JPY allows none',
    ],
    [
      'order_amount zero',
      { order_amount: '0.00' },
      'order_amount',
      'order_amount "0.00" must be greater than zero',
    ],
    [
      'order_amount negative',
      { order_amount: '-5.00' },
      'order_amount',
      'order_amount "-5.00" is not a plain decimal number such as "125.50"',
    ],
    [
      'order_amount with a thousands separator',
      { order_amount: '1,000.00' },
      'order_amount',
      'order_amount "1,000.00" is not a plain decimal number such as "125.50"',
    ],
    [
      'order_amount with an exponent',
      { order_amount: '1e3' },
      'order_amount',
      'order_amount "1e3" is not a plain decimal number such as "125.50"',
    ],
    [
      'order_amount beyond the safe integer range',
      { order_amount: '99999999999999999' },
      'order_amount',
      'order_amount "****9999" is too large',
    ],
    [
      'order_amount beyond DECIMAL(19,4)',
      { currency: 'JPY', order_amount: '1000000000000000' },
      'order_amount',
      'order_amount "****0000" is too large',
    ],
    ['currency missing', { currency: '' }, 'currency', 'currency is required'],
    [
      'currency in lower case',
      { currency: 'usd' },
      'currency',
      'currency "usd" is not a supported ISO 4217 code',
    ],
    [
      'currency not ISO 4217',
      { currency: 'XYZ' },
      'currency',
      'currency "XYZ" is not a supported ISO 4217 code',
    ],
    ['a precious metal', { currency: 'XAU' }, 'currency', 'currency "XAU" is not a supported ISO 4217 code'],
    ['order_status missing', { order_status: '' }, 'order_status', 'order_status is required'],
    [
      'order_status in lower case',
      { order_status: 'pending' },
      'order_status',
      'order_status "pending" must be PENDING, COMPLETED, CANCELLED or EXPIRED',
    ],
    [
      'order_status unknown',
      { order_status: 'REFUNDED' },
      'order_status',
      'order_status "REFUNDED" must be PENDING, COMPLETED, CANCELLED or EXPIRED',
    ],
    ['created_at missing', { created_at: '' }, 'created_at', 'created_at is required'],
    [
      'customer_email without @',
      { customer_email: 'ana.example.com' },
      'customer_email',
      'customer_email is not an email address',
    ],
    [
      'customer_email with a space in the domain',
      { customer_email: 'ana@exa mple.com' },
      'customer_email',
      'customer_email is not an email address',
    ],
    [
      'customer_email with a leading space',
      { customer_email: ' ana@example.com' },
      'customer_email',
      'customer_email is not an email address',
    ],
    [
      'customer_email too long',
      { customer_email: `${'a'.repeat(245)}@example.com` },
      'customer_email',
      'customer_email must be at most 254 characters',
    ],
  ])('%s', (_name, fields, field, reason) => {
    expect(errorsOf([pendingOrder(fields)])).toEqual([{ line: 2, orderId: 'ORD-1', field, reason }]);
  });

  it('does not judge amounts in an unknown currency, and reports the currency after the amount', () => {
    expect(
      errorsOf([pendingOrder({ currency: 'usd', order_amount: '12.345', created_at: 'yesterday' })]),
    ).toEqual([
      {
        line: 2,
        orderId: 'ORD-1',
        field: 'currency',
        reason: 'currency "usd" is not a supported ISO 4217 code',
      },
      {
        line: 2,
        orderId: 'ORD-1',
        field: 'created_at',
        reason:
          'created_at "yesterday" is not an ISO 8601 date-time with seconds and a time zone, such as "2026-03-01T09:15:00Z"',
      },
    ]);
    expect(errorsOf([pendingOrder({ currency: 'XYZ', order_amount: '' })]).map((e) => e.reason)).toEqual([
      'order_amount is required',
      'currency "XYZ" is not a supported ISO 4217 code',
    ]);
  });

  it.each([
    '2026-03-01T09:15:00',
    '2026-03-01 09:15:00Z',
    '2026-03-01',
    '2026-03-01T09:15Z',
    '2026-3-1T09:15:00Z',
    '2026-03-01T09:15:00+0100',
    '2026-03-01T09:15:00.Z',
    '2026-03-01t09:15:00z',
    ' 2026-03-01T09:15:00Z',
    '1772356500',
  ])('refuses created_at %j as not ISO 8601 with a time zone', (text) => {
    expect(errorsOf([pendingOrder({ created_at: text })])).toEqual([
      {
        line: 2,
        orderId: 'ORD-1',
        field: 'created_at',
        reason: `created_at ${JSON.stringify(text)} is not an ISO 8601 date-time with seconds and a time zone, such as "2026-03-01T09:15:00Z"`,
      },
    ]);
  });

  it.each([
    '2026-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-00-10T00:00:00Z',
    '2026-03-00T00:00:00Z',
    '2026-03-01T24:00:00Z',
    '2026-03-01T09:60:00Z',
    '2026-03-01T09:15:60Z',
    '2026-03-01T09:15:00+24:00',
    '2026-03-01T09:15:00+01:60',
  ])('refuses created_at %s as not a valid date and time', (text) => {
    expect(errorsOf([pendingOrder({ created_at: text })])).toEqual([
      {
        line: 2,
        orderId: 'ORD-1',
        field: 'created_at',
        reason: `created_at "${text}" is not a valid date and time`,
      },
    ]);
  });

  it.each(['0999-12-31T23:59:59Z', '1000-01-01T00:30:00+01:00', '9999-12-31T23:59:59-00:01'])(
    'refuses created_at %s as outside the years 1000 to 9999',
    (text) => {
      expect(errorsOf([pendingOrder({ created_at: text })])).toEqual([
        {
          line: 2,
          orderId: 'ORD-1',
          field: 'created_at',
          reason: `created_at "${text}" is outside the years 1000 to 9999`,
        },
      ]);
    },
  );

  it.each<[string, Partial<RawFields>, string, string]>([
    ['payment_id missing', { payment_id: '' }, 'payment_id', 'payment_id is required'],
    ['malformed payment_id', { payment_id: 'PAY/1' }, 'payment_id', `payment_id "PAY/1" ${ORDER_ID_RULE}`],
    ['payment_amount missing', { payment_amount: '' }, 'payment_amount', 'payment_amount is required'],
    [
      'payment_amount more precise than the order currency',
      { payment_amount: '100.001' },
      'payment_amount',
      'payment_amount "100.001" has 3 decimal places; USD allows at most 2',
    ],
    [
      'payment_amount zero',
      { payment_amount: '0' },
      'payment_amount',
      'payment_amount "0" must be greater than zero',
    ],
    [
      'a card number in the payment_amount column',
      { payment_amount: '4242424242424242' },
      'payment_amount',
      'payment_amount "****4242" is too large',
    ],
    ['payment_status missing', { payment_status: '' }, 'payment_status', 'payment_status is required'],
    [
      'unknown payment_status',
      { payment_status: 'DONE' },
      'payment_status',
      'payment_status "DONE" must be PENDING, COMPLETED or FAILED',
    ],
    ['payment_method missing', { payment_method: '' }, 'payment_method', 'payment_method is required'],
    [
      'unknown payment_method',
      { payment_method: 'PAYPAL' },
      'payment_method',
      'payment_method "PAYPAL" must be CARD or BANK_TRANSFER',
    ],
    [
      'card number too short',
      { card_number: '4242 4242 42' },
      'card_number',
      'card_number must be 12 to 19 digits, optionally grouped with spaces or dashes',
    ],
    [
      'card number too long',
      { card_number: '42424242424242424242' },
      'card_number',
      'card_number must be 12 to 19 digits, optionally grouped with spaces or dashes',
    ],
    [
      'card number with letters',
      { card_number: '4242424242424242x' },
      'card_number',
      'card_number must be 12 to 19 digits, optionally grouped with spaces or dashes',
    ],
    [
      'card number failing Luhn',
      { card_number: '4242424242424241' },
      'card_number',
      'card_number ending 4241 fails the Luhn check; check it for typos',
    ],
    [
      'card number on a bank transfer',
      { payment_method: 'BANK_TRANSFER' },
      'card_number',
      'card_number must be empty for a BANK_TRANSFER payment',
    ],
  ])('%s', (_name, fields, field, reason) => {
    expect(errorsOf([paymentRow(2, fields)])).toEqual([{ line: 2, orderId: 'ORD-1', field, reason }]);
  });

  it('requires every payment column but the card number once any payment column is set', () => {
    const row = paymentRow(7, { payment_id: '', payment_status: '', payment_method: '', card_number: '' });
    expect(errorsOf([row])).toEqual([
      { line: 7, orderId: 'ORD-1', field: 'payment_id', reason: 'payment_id is required' },
      { line: 7, orderId: 'ORD-1', field: 'payment_status', reason: 'payment_status is required' },
      { line: 7, orderId: 'ORD-1', field: 'payment_method', reason: 'payment_method is required' },
    ]);
  });

  it('treats a row the reader marks as a payment as one even when all its payment values are empty', () => {
    const row: RawRow = { ...orderRow(3, { order_status: 'PENDING' }), isPayment: true };
    expect(errorsOf([row]).map((error) => error.reason)).toEqual([
      'payment_id is required',
      'payment_amount is required',
      'payment_status is required',
      'payment_method is required',
    ]);
  });

  it('never puts a card number in a reason, whatever column it lands in', () => {
    const card = '4111111111111111';
    const errors = errorsOf([
      {
        line: 2,
        fields: {
          ...emptyFields(),
          order_id: 'ORD-1',
          order_amount: card,
          currency: 'USD',
          order_status: card,
          created_at: card,
          customer_email: card,
          payment_id: card,
          payment_amount: card,
          payment_status: card,
          payment_method: card,
          card_number: '4111 1111 1111 1112',
        },
      },
    ]);
    expect(errors.map((error) => error.field)).toEqual([
      'order_amount',
      'order_status',
      'created_at',
      'customer_email',
      'payment_amount',
      'payment_status',
      'payment_method',
      'card_number',
    ]);
    for (const error of errors) {
      expect(error.reason).not.toMatch(/\d{5}/);
    }
  });

  it('reports every problem of a row, in column order', () => {
    const row = paymentRow(5, {
      order_amount: '1.001',
      order_status: 'DONE',
      payment_amount: 'ten',
      card_number: '4242424242424241',
    });
    expect(errorsOf([row]).map((error) => error.field)).toEqual([
      'order_amount',
      'order_status',
      'payment_amount',
      'card_number',
    ]);
  });

  it('reports the problems a reader found instead of checking the unreliable values', () => {
    const row: RawRow = {
      line: 4,
      fields: { ...emptyFields(), order_id: 'ORD-1', payment_amount: 'junk' },
      problems: [{ field: 'row', reason: 'the row has 12 columns; the header has 11' }],
    };
    expect(errorsOf([paymentRow(2), row])).toEqual([
      { line: 4, orderId: 'ORD-1', field: 'row', reason: 'the row has 12 columns; the header has 11' },
    ]);
  });

  it('checkRow applies the field rules to one row on its own', () => {
    expect(checkRow(paymentRow(3))).toEqual([]);
    expect(checkRow(paymentRow(3, { payment_amount: '150.00', currency: 'EUR' }))).toEqual([]);
    expect(checkRow(paymentRow(3, { currency: 'eur' }))).toEqual([
      {
        line: 3,
        orderId: 'ORD-1',
        field: 'currency',
        reason: 'currency "eur" is not a supported ISO 4217 code',
      },
    ]);
  });

  it('refuses an empty set of rows as a programming error', () => {
    expect(() => validateOrderRows([])).toThrow(DomainError);
  });
});

describe('validateOrderRows: rows of one order together', () => {
  const first = () => paymentRow(2, { payment_id: 'PAY-1', payment_amount: '60.00' });
  const second = (fields: Partial<RawFields> = {}) =>
    paymentRow(3, { payment_id: 'PAY-2', payment_amount: '40.00', ...fields });

  it('accepts rows that repeat the order columns exactly', () => {
    expect(orderOf([first(), second()]).payments.map((payment) => payment.paymentId)).toEqual([
      'PAY-1',
      'PAY-2',
    ]);
  });

  it.each<[Partial<RawFields>, string, string]>([
    [{ order_amount: '100.0' }, 'order_amount', 'order_amount "100.0" differs from "100.00" on line 2'],
    [{ currency: 'EUR' }, 'currency', 'currency "EUR" differs from "USD" on line 2'],
    [
      { order_status: 'PENDING' },
      'order_status',
      'order_status "PENDING" differs from "COMPLETED" on line 2',
    ],
    [
      { created_at: '2026-03-01T10:15:00+01:00' },
      'created_at',
      'created_at "2026-03-01T10:15:00+01:00" differs from "2026-03-01T09:15:00Z" on line 2',
    ],
    [{ customer_email: 'bo@example.com' }, 'customer_email', 'customer_email differs from line 2'],
  ])('refuses a row whose %j differs from the first', (fields, field, reason) => {
    expect(errorsOf([first(), second(fields)])).toEqual([{ line: 3, orderId: 'ORD-1', field, reason }]);
  });

  it('refuses rows of different orders passed together', () => {
    expect(errorsOf([first(), second({ order_id: 'ORD-2' })])).toEqual([
      {
        line: 3,
        orderId: 'ORD-2',
        field: 'order_id',
        reason: 'order_id "ORD-2" differs from "ORD-1" on line 2',
      },
    ]);
  });

  it('reports an invalid value once, not also as a disagreement', () => {
    expect(errorsOf([first(), second({ currency: 'usd' })])).toEqual([
      {
        line: 3,
        orderId: 'ORD-1',
        field: 'currency',
        reason: 'currency "usd" is not a supported ISO 4217 code',
      },
    ]);
  });

  it('refuses a repeated payment_id', () => {
    expect(errorsOf([first(), second({ payment_id: 'PAY-1' })])).toEqual([
      {
        line: 3,
        orderId: 'ORD-1',
        field: 'payment_id',
        reason: 'payment_id "PAY-1" is already used on line 2',
      },
    ]);
  });

  it('refuses a row without payment in an order with payments', () => {
    const rows = [orderRow(2), paymentRow(3, { payment_amount: '100.00' })];
    expect(errorsOf(rows)).toEqual([
      {
        line: 2,
        orderId: 'ORD-1',
        field: 'row',
        reason: 'the row has no payment, but the order has payments (line 3)',
      },
    ]);
  });

  it('refuses a second row without payment', () => {
    const rows = [orderRow(2, { order_status: 'PENDING' }), orderRow(5, { order_status: 'PENDING' })];
    expect(errorsOf(rows)).toEqual([
      {
        line: 5,
        orderId: 'ORD-1',
        field: 'row',
        reason: 'the order already has a row without payment on line 2',
      },
    ]);
  });

  it('refuses two XML <order> elements with the same id, once per element', () => {
    const rows: RawRow[] = [
      { ...first(), orderLine: 1 },
      { ...second(), orderLine: 1 },
      { ...paymentRow(11, { payment_id: 'PAY-3', payment_amount: '1.00' }), orderLine: 10 },
      { ...paymentRow(12, { payment_id: 'PAY-4', payment_amount: '1.00' }), orderLine: 10 },
    ];
    expect(errorsOf(rows)).toEqual([
      {
        line: 10,
        orderId: 'ORD-1',
        field: 'order_id',
        reason: 'order_id "ORD-1" is already used by the order on line 1',
      },
    ]);
  });

  it('rejects the whole order for one bad row, reporting only that row', () => {
    expect(validateOrderRows([first(), second({ card_number: '4242424242424241' })])).toEqual({
      errors: [
        {
          line: 3,
          orderId: 'ORD-1',
          field: 'card_number',
          reason: 'card_number ending 4241 fails the Luhn check; check it for typos',
        },
      ],
    });
  });
});

describe('validateOrderRows: status consistency', () => {
  const pay = (line: number, amount: string, status: string, fields: Partial<RawFields> = {}) =>
    paymentRow(line, {
      payment_id: `PAY-${line}`,
      payment_amount: amount,
      payment_status: status,
      ...fields,
    });
  const pending = { order_status: 'PENDING' };

  it('accepts COMPLETED payments summing to the order amount, FAILED ones aside', () => {
    expect(
      orderOf([pay(2, '60.00', 'COMPLETED'), pay(3, '99.00', 'FAILED'), pay(4, '40.00', 'COMPLETED')]).status,
    ).toBe('COMPLETED');
  });

  it('accepts PENDING with COMPLETED and PENDING payments up to the amount, and FAILED ones of any size', () => {
    const rows = [pay(2, '60.00', 'COMPLETED', pending), pay(3, '40.00', 'PENDING', pending)];
    expect(orderOf(rows).status).toBe('PENDING');
    expect(orderOf([pay(2, '500.00', 'FAILED', pending)]).status).toBe('PENDING');
  });

  it('refuses COMPLETED when COMPLETED payments fall short', () => {
    expect(errorsOf([pay(2, '60.00', 'COMPLETED'), pay(3, '40.00', 'FAILED')])).toEqual([
      {
        line: 2,
        orderId: 'ORD-1',
        field: 'order_status',
        reason: 'order_status is COMPLETED, but its COMPLETED payments total 60.00 USD of 100.00 USD',
      },
    ]);
  });

  it('refuses COMPLETED without payments', () => {
    expect(errorsOf([orderRow(2, { currency: 'JPY', order_amount: '500' })])).toEqual([
      {
        line: 2,
        orderId: 'ORD-1',
        field: 'order_status',
        reason: 'order_status is COMPLETED, but its COMPLETED payments total 0 JPY of 500 JPY',
      },
    ]);
  });

  it('refuses PENDING when COMPLETED payments already pay the order', () => {
    expect(errorsOf([pay(2, '60.00', 'COMPLETED', pending), pay(3, '40.00', 'COMPLETED', pending)])).toEqual([
      {
        line: 2,
        orderId: 'ORD-1',
        field: 'order_status',
        reason:
          'order_status is PENDING, but its COMPLETED payments already total the order amount 100.00 USD',
      },
    ]);
  });

  it('refuses a payment over the order amount', () => {
    expect(errorsOf([pay(2, '100.01', 'COMPLETED')])).toEqual([
      {
        line: 2,
        orderId: 'ORD-1',
        field: 'payment_amount',
        reason: 'payment_amount 100.01 is more than the order amount 100.00 USD',
      },
    ]);
  });

  it('refuses payments that together, counting PENDING ones, exceed the order amount', () => {
    const rows = [pay(2, '60.00', 'COMPLETED', pending), pay(3, '50.00', 'PENDING', pending)];
    expect(errorsOf(rows)).toEqual([
      {
        line: 3,
        orderId: 'ORD-1',
        field: 'payment_amount',
        reason:
          'payment_amount 50.00 is more than the 40.00 USD left of the order amount 100.00 USD after earlier COMPLETED and PENDING payments',
      },
    ]);
  });

  it('checks the status only when every row is valid', () => {
    const rows = [pay(2, '60.00', 'COMPLETED'), pay(3, '40.00', 'COMPLETED', { payment_method: 'CHEQUE' })];
    expect(errorsOf(rows).map((error) => error.field)).toEqual(['payment_method']);
  });
});

describe('validateOrderRows: card brand and last 4 instead of the number (an export)', () => {
  /** A CARD payment as an export writes it: no number, brand and last 4. */
  const masked = (fields: Partial<RawFields> = {}) =>
    paymentRow(2, { card_number: '', card_brand: 'visa', card_last4: '4242', ...fields });
  const errorOf = (fields: Partial<RawFields>) => errorsOf([masked(fields)]);

  it('carries them on the payment, without a card number', () => {
    expect(orderOf([masked()]).payments).toEqual([
      {
        paymentId: 'PAY-1',
        amount: 10000,
        status: 'COMPLETED',
        method: 'CARD',
        cardBrand: 'visa',
        cardLast4: '4242',
      },
    ]);
  });

  it.each(['visa', 'mastercard', 'amex', 'discover', 'diners', 'jcb', 'unionpay', 'unknown'])(
    'accepts the brand %s, as src/domain/cards.ts names it',
    (brand) => {
      expect(orderOf([masked({ card_brand: brand, card_last4: '0000' })]).payments[0]).toMatchObject({
        cardBrand: brand,
        cardLast4: '0000',
      });
    },
  );

  it('treats empty brand and last 4 as absent, like a file without those columns', () => {
    expect(orderOf([masked({ card_brand: '', card_last4: '' })]).payments).toEqual([
      { paymentId: 'PAY-1', amount: 10000, status: 'COMPLETED', method: 'CARD' },
    ]);
    expect(orderOf([paymentRow(2, { card_brand: '', card_last4: '' })]).payments[0]).toEqual({
      paymentId: 'PAY-1',
      amount: 10000,
      status: 'COMPLETED',
      method: 'CARD',
      cardNumber: '4242424242424242',
    });
  });

  it('derives nothing itself from a card number: brand and last 4 come only from the file', () => {
    expect(orderOf([paymentRow(2)]).payments[0]).not.toHaveProperty('cardBrand');
  });

  it.each<[string, Partial<RawFields>, string, string]>([
    ['last 4 too short', { card_last4: '424' }, 'card_last4', 'card_last4 must be exactly 4 digits'],
    ['last 4 too long', { card_last4: '42424' }, 'card_last4', 'card_last4 must be exactly 4 digits'],
    ['last 4 with a letter', { card_last4: '42a2' }, 'card_last4', 'card_last4 must be exactly 4 digits'],
    ['last 4 with a space', { card_last4: ' 4242' }, 'card_last4', 'card_last4 must be exactly 4 digits'],
    [
      'last 4 in full-width digits',
      { card_last4: '４２４２' },
      'card_last4',
      'card_last4 must be exactly 4 digits',
    ],
    [
      'a whole card number as last 4',
      { card_last4: '4242424242424242' },
      'card_last4',
      'card_last4 must be exactly 4 digits',
    ],
    [
      'a brand in upper case',
      { card_brand: 'VISA' },
      'card_brand',
      'card_brand "VISA" must be one of visa, mastercard, amex, discover, diners, jcb, unionpay, unknown',
    ],
    [
      'an unknown brand name',
      { card_brand: 'maestro' },
      'card_brand',
      'card_brand "maestro" must be one of visa, mastercard, amex, discover, diners, jcb, unionpay, unknown',
    ],
    [
      'a card number as brand',
      { card_brand: '4242424242424242' },
      'card_brand',
      'card_brand "****4242" must be one of visa, mastercard, amex, discover, diners, jcb, unionpay, unknown',
    ],
    [
      'a brand without last 4',
      { card_last4: '' },
      'card_last4',
      'card_last4 is required when card_brand is given',
    ],
    [
      'last 4 without a brand',
      { card_brand: '' },
      'card_brand',
      'card_brand is required when card_last4 is given',
    ],
    [
      'last 4 with a card number',
      { card_number: '4242424242424242' },
      'card_last4',
      'give either card_number or card_brand and card_last4, not both',
    ],
    [
      'a brand alone with a card number',
      { card_number: '4242424242424242', card_last4: '' },
      'card_brand',
      'give either card_number or card_brand and card_last4, not both',
    ],
  ])('refuses %s', (_name, fields, field, reason) => {
    expect(errorOf(fields)).toEqual([{ line: 2, orderId: 'ORD-1', field, reason }]);
  });

  it('refuses a brand or last 4 on a bank transfer', () => {
    expect(errorOf({ payment_method: 'BANK_TRANSFER' })).toEqual([
      {
        line: 2,
        orderId: 'ORD-1',
        field: 'card_brand',
        reason: 'card_brand must be empty for a BANK_TRANSFER payment',
      },
      {
        line: 2,
        orderId: 'ORD-1',
        field: 'card_last4',
        reason: 'card_last4 must be empty for a BANK_TRANSFER payment',
      },
    ]);
    expect(errorOf({ payment_method: 'BANK_TRANSFER', card_brand: '' }).map((e) => e.field)).toEqual([
      'card_last4',
    ]);
  });

  it('reports brand and last 4 after the other columns, and each of them', () => {
    expect(
      errorOf({ payment_amount: 'ten', card_brand: 'VISA', card_last4: '1' }).map((e) => e.field),
    ).toEqual(['payment_amount', 'card_brand', 'card_last4']);
  });

  it('never echoes what is in card_last4', () => {
    const [error] = errorOf({ card_last4: '378282246310005' });
    expect(error?.reason).not.toMatch(/0005|3782/);
  });

  it('makes a row a payment by its brand or last 4 alone', () => {
    const row = orderRow(3, { order_status: 'PENDING', card_last4: '4242' });
    expect(errorsOf([row]).map((error) => error.reason)).toEqual([
      'payment_id is required',
      'payment_amount is required',
      'payment_status is required',
      'payment_method is required',
      'card_brand is required when card_last4 is given',
    ]);
  });
});

describe('validateOrderRows: CANCELLED and EXPIRED orders', () => {
  const pay = (line: number, amount: string, status: string, orderStatus: string) =>
    paymentRow(line, {
      order_status: orderStatus,
      payment_id: `PAY-${line}`,
      payment_amount: amount,
      payment_status: status,
    });

  it.each(['CANCELLED', 'EXPIRED'])('accepts %s without payments', (status) => {
    expect(orderOf([orderRow(2, { order_status: status })]).status).toBe(status);
  });

  it.each(['CANCELLED', 'EXPIRED'])(
    'accepts %s with COMPLETED payments short of the amount, and PENDING and FAILED ones',
    (status) => {
      const rows = [
        pay(2, '60.00', 'COMPLETED', status),
        pay(3, '30.00', 'PENDING', status),
        pay(4, '100.00', 'FAILED', status),
      ];
      expect(orderOf(rows)).toMatchObject({
        status,
        payments: [{ amount: 6000 }, { amount: 3000 }, { amount: 10000 }],
      });
    },
  );

  it.each(['CANCELLED', 'EXPIRED'])('refuses %s when COMPLETED payments pay the whole amount', (status) => {
    expect(errorsOf([pay(2, '60.00', 'COMPLETED', status), pay(3, '40.00', 'COMPLETED', status)])).toEqual([
      {
        line: 2,
        orderId: 'ORD-1',
        field: 'order_status',
        reason: `order_status is ${status}, but its COMPLETED payments already total the order amount 100.00 USD`,
      },
    ]);
  });

  it.each(['CANCELLED', 'EXPIRED'])('refuses %s with payments over the amount', (status) => {
    expect(errorsOf([pay(2, '60.00', 'COMPLETED', status), pay(3, '50.00', 'PENDING', status)])).toEqual([
      {
        line: 3,
        orderId: 'ORD-1',
        field: 'payment_amount',
        reason:
          'payment_amount 50.00 is more than the 40.00 USD left of the order amount 100.00 USD after earlier COMPLETED and PENDING payments',
      },
    ]);
  });
});

describe('validateOrderRows: customer email', () => {
  it('accepts an order without email, leaving customerEmail out', () => {
    const order = orderOf([paymentRow(2, { customer_email: '' })]);
    expect(order).not.toHaveProperty('customerEmail');
    expect(order.orderId).toBe('ORD-1');
  });

  it.each([' ', '\t', 'ana'])('still checks an email that is given: %j', (email) => {
    expect(errorsOf([pendingOrder({ customer_email: email })])).toEqual([
      {
        line: 2,
        orderId: 'ORD-1',
        field: 'customer_email',
        reason: 'customer_email is not an email address',
      },
    ]);
  });

  it('refuses rows of one order that disagree on having an email', () => {
    const rows = [
      paymentRow(2, { payment_id: 'PAY-1', payment_amount: '60.00' }),
      paymentRow(3, { payment_id: 'PAY-2', payment_amount: '40.00', customer_email: '' }),
    ];
    expect(errorsOf(rows)).toEqual([
      { line: 3, orderId: 'ORD-1', field: 'customer_email', reason: 'customer_email differs from line 2' },
    ]);
  });
});

describe('redactCardNumbers', () => {
  it.each([
    ['card 4242424242424242 here', 'card ****4242 here'],
    ['4242 4242 4242 4242', '****4242'],
    ['4242-4242-4242-4242 and 378282246310005', '****4242 and ****0005'],
    ['123456789012', '****9012'],
    ['line 12, offset 12345678901', 'line 12, offset 12345678901'],
    ['2026-03-01T09:15:00Z', '2026-03-01T09:15:00Z'],
  ])('%j → %j', (text, redacted) => {
    expect(redactCardNumbers(text)).toBe(redacted);
  });
});

it('IMPORT_COLUMNS is the CSV header of the issue', () => {
  expect(IMPORT_COLUMNS.join(',')).toBe(
    'order_id,order_amount,currency,order_status,created_at,customer_email,payment_id,payment_amount,payment_status,payment_method,card_number',
  );
});
