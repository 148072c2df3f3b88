import { decideAttempt, refusalFor, type OrderState } from '../../src/domain/orders/order-state';

const order = (extra: Partial<OrderState> = {}): OrderState => ({
  orderId: 'ORD-1',
  currency: 'USD',
  amount: 1_000,
  amountPaid: 400,
  status: 'PENDING',
  payments: [{ paymentId: 'p1', amount: 400, status: 'COMPLETED' }],
  attemptsProcessed: 1,
  ...extra,
});

describe('payment attempt decisions', () => {
  it('charges an attempt within the amount due while the deadline has not passed', () => {
    expect(decideAttempt(order(), { paymentId: 'p2', amount: 600 })).toEqual({ kind: 'charge' });
  });

  it('refuses an attempt whose turn comes after the deadline, naming the reason', () => {
    expect(decideAttempt(order(), { paymentId: 'p2', amount: 600 }, { deadlinePassed: true })).toEqual({
      kind: 'refuse',
      reason: 'deadline_passed',
      message: 'the payment deadline of order ORD-1 has passed',
    });
  });

  it('answers a repeated paymentId as a duplicate, even after the deadline', () => {
    expect(decideAttempt(order(), { paymentId: 'p1', amount: 400 }, { deadlinePassed: true })).toMatchObject({
      kind: 'duplicate',
    });
  });

  it('refuses a final order as not pending, whatever the deadline', () => {
    expect(
      refusalFor(order({ status: 'EXPIRED' }), { paymentId: 'p2', amount: 100 }, { deadlinePassed: true }),
    ).toMatchObject({ reason: 'order_not_pending' });
  });
});
