import {
  FLAKY_CARD_FAILURES,
  TEST_CARDS,
  testCardDecline,
  transientFailuresBeforeAnswer,
} from '../../src/domain/payments/test-cards';
import { GatewayUnavailableError } from '../../src/activities/orders/gateway';
import { createSimulatedGateway } from '../../src/activities/orders/simulated-gateway';

const NOW = new Date('2026-06-15T12:00:00Z');

describe('test cards', () => {
  test('decline by number, by CVC 000 and by expiry; any other card succeeds', () => {
    expect(testCardDecline({ number: TEST_CARDS.declined }, NOW)).toBe('card_declined');
    expect(testCardDecline({ number: TEST_CARDS.insufficientFunds }, NOW)).toBe('insufficient_funds');
    expect(testCardDecline({ number: '4242424242424242', cvc: '000' }, NOW)).toBe('incorrect_cvc');
    expect(testCardDecline({ number: '4242424242424242', expMonth: 5, expYear: 2026 }, NOW)).toBe(
      'expired_card',
    );
    // Usable through the last day of its expiry month.
    expect(testCardDecline({ number: '4242424242424242', expMonth: 6, expYear: 2026, cvc: '123' }, NOW)).toBe(
      undefined,
    );
    expect(testCardDecline({ number: TEST_CARDS.flaky }, NOW)).toBe(undefined);
  });

  test('only the flaky card fails transiently first', () => {
    expect(transientFailuresBeforeAnswer(TEST_CARDS.flaky)).toBe(FLAKY_CARD_FAILURES);
    expect(transientFailuresBeforeAnswer('4242424242424242')).toBe(0);
  });

  test('the in-process simulator answers by the same table', async () => {
    const gateway = createSimulatedGateway();
    const request = { amount: 100, currency: 'USD', expMonth: 12, expYear: 2099 };
    await expect(
      gateway.charge({ ...request, idempotencyKey: 'a', cardNumber: TEST_CARDS.declined }),
    ).resolves.toEqual({ status: 'declined', reason: 'card_declined' });
    await expect(
      gateway.charge({ ...request, idempotencyKey: 'b', cardNumber: '4242424242424242', cvc: '000' }),
    ).resolves.toEqual({ status: 'declined', reason: 'incorrect_cvc' });
    for (let i = 0; i < FLAKY_CARD_FAILURES; i++) {
      await expect(
        gateway.charge({ ...request, idempotencyKey: 'c', cardNumber: TEST_CARDS.flaky }),
      ).rejects.toBeInstanceOf(GatewayUnavailableError);
    }
    await expect(
      gateway.charge({ ...request, idempotencyKey: 'c', cardNumber: TEST_CARDS.flaky }),
    ).resolves.toMatchObject({ status: 'succeeded' });
    expect(gateway.charges.size).toBe(1);
  });
});
