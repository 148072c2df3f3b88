import { DomainError } from '../../src/domain/errors';
import { emptyFields, type RawRow } from '../../src/domain/uploads/rows';
import { groupRows, orderBucket, validateRows } from '../../src/domain/uploads/group-orders';
import { orderRow, paymentRow } from './helpers';

describe('groupRows', () => {
  it('gathers each order’s rows wherever they are, in order of first appearance', () => {
    const rows = [
      paymentRow(2, { order_id: 'B' }),
      paymentRow(3, { order_id: 'A' }),
      paymentRow(4, { order_id: 'B', payment_id: 'PAY-2' }),
      paymentRow(9, { order_id: 'A', payment_id: 'PAY-2' }),
    ];
    expect(groupRows(rows).map((group) => group.map((row) => row.line))).toEqual([
      [2, 4],
      [3, 9],
    ]);
  });

  it('keeps rows without order_id apart, whatever the other ids are', () => {
    const noId = (line: number): RawRow => ({ line, fields: emptyFields() });
    const rows = [
      noId(2),
      paymentRow(3, { order_id: 'line:2' }),
      noId(4),
      paymentRow(5, { order_id: 'id:' }),
    ];
    expect(groupRows(rows).map((group) => group.map((row) => row.line))).toEqual([[2], [3], [4], [5]]);
  });
});

describe('validateRows', () => {
  it('gives a payment ID to the first order that uses it, and rejects a later order using it, naming the line', () => {
    const rows = [
      paymentRow(2, { order_id: 'A', payment_id: 'PAY-7' }),
      paymentRow(3, { order_id: 'B', payment_id: 'PAY-8' }),
      paymentRow(4, { order_id: 'C', payment_id: 'PAY-9', payment_amount: '50.00' }),
      paymentRow(5, { order_id: 'C', payment_id: 'PAY-7', payment_amount: '50.00' }),
    ].reverse();
    const result = validateRows(rows);
    expect(result.orders.map((order) => order.orderId)).toEqual(['A', 'B']);
    expect(result.errors).toEqual([
      {
        line: 5,
        orderId: 'C',
        field: 'payment_id',
        reason: 'payment_id "PAY-7" is already used on line 2 (order "A")',
      },
    ]);
  });

  it('returns valid orders by first line and every error by line', () => {
    const rows = [
      paymentRow(6, {
        order_id: 'C',
        payment_amount: '50.00',
        payment_status: 'PENDING',
        order_status: 'PENDING',
      }),
      orderRow(2, { order_id: 'A', order_status: 'PENDING' }),
      paymentRow(5, { order_id: 'B', card_number: '4242424242424241' }),
      paymentRow(3, { order_id: 'B', currency: 'EUR', payment_id: 'PAY-2' }),
      paymentRow(4, {
        order_id: 'C',
        payment_id: 'PAY-2',
        payment_amount: '10.00',
        payment_status: 'COMPLETED',
        order_status: 'PENDING',
      }),
    ];
    const result = validateRows(rows);
    expect(
      result.orders.map((order) => [order.orderId, order.payments.map((payment) => payment.paymentId)]),
    ).toEqual([
      ['A', []],
      ['C', ['PAY-2', 'PAY-1']],
    ]);
    expect(result.errors).toEqual([
      {
        line: 5,
        orderId: 'B',
        field: 'currency',
        reason: 'currency "USD" differs from "EUR" on line 3',
      },
      {
        line: 5,
        orderId: 'B',
        field: 'card_number',
        reason: 'card_number ending 4241 fails the Luhn check; check it for typos',
      },
    ]);
  });

  it('returns nothing for no rows', () => {
    expect(validateRows([])).toEqual({ orders: [], errors: [] });
  });
});

describe('orderBucket', () => {
  it('is FNV-1a, the same on every run', () => {
    // Published FNV-1a 32-bit values: "" → 0x811c9dc5, "a" → 0xe40c292c, "foobar" → 0xbf9cf968.
    expect(orderBucket('', 1000)).toBe(0x811c9dc5 % 1000);
    expect(orderBucket('a', 1000)).toBe(0xe40c292c % 1000);
    expect(orderBucket('foobar', 2 ** 31)).toBe(0xbf9cf968 % 2 ** 31);
    expect(orderBucket('ORD-1', 1)).toBe(0);
  });

  it('spreads ids over the buckets', () => {
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 8000; i++) {
      const bucket = orderBucket(`ORD-${i}`, 8);
      counts[bucket] = (counts[bucket] ?? 0) + 1;
    }
    for (const count of counts) {
      expect(count).toBeGreaterThan(800);
      expect(count).toBeLessThan(1200);
    }
  });

  it.each([0, -1, 1.5, 2 ** 31 + 1, Number.NaN])('refuses %p buckets', (count) => {
    expect(() => orderBucket('ORD-1', count)).toThrow(DomainError);
  });
});
