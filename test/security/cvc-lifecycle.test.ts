/**
 * The CVC's life (PCI DSS 3.3.2), on the real stack with the real sandbox provider: kept encrypted and bound
 * to its payment row while the payment awaits its outcome, sent to the provider, erased once the payment is
 * COMPLETED or FAILED, and never in a Temporal payload, raw or decoded, nor in a log.
 */
import { randomUUID } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { CARD_CVC_COLUMN, PAYMENTS, type PaymentRow } from '../../src/db/orders';
import { INCORRECT_CVC, TEST_CARDS } from '../../src/domain/payments/test-cards';
import { eventually, startTestStack, type TestStack } from '../support/stack';
import { testDataConverter } from '../support/temporal';

const VISA = '4242424242424242';
const CVCS = ['468', '579', '681'];
const EXP_YEAR = new Date().getUTCFullYear() + 2;

// A CVC would travel as a JSON string or field; its three digits alone also turn up in timestamps.
const leaks = (text: string, cvc: string) => text.includes(`"${cvc}"`) || /"cvc"/i.test(text);

function payloadsIn(value: unknown): Payload[] {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return [];
  if ('metadata' in value && (value as Payload).metadata?.encoding instanceof Uint8Array)
    return [value as Payload];
  return Object.values(value).flatMap(payloadsIn);
}

const asText = (value: unknown) =>
  JSON.stringify(value, (_key, inner: unknown) =>
    inner instanceof Uint8Array ? Buffer.from(inner).toString('utf8') : inner,
  );

describe('the CVC from the accepted attempt to the outcome', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${stack.api.baseUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...stack.api.headers('alice') },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  const newOrder = async (amount: string) => {
    const orderId = `ORD-${randomUUID()}`;
    expect((await call('POST', '/orders', { orderId, amount, currency: 'USD' })).status).toBe(201);
    return orderId;
  };
  const pay = (orderId: string, amount: string, number: string, cvc: string) =>
    call('POST', `/orders/${orderId}/payments`, {
      amount,
      method: { type: 'card', number, expMonth: 11, expYear: EXP_YEAR, cvc },
    });
  const paymentRow = (paymentId: string) =>
    stack.database.db<PaymentRow>(PAYMENTS).where({ payment_id: paymentId }).first();
  const settled = (paymentId: string) =>
    eventually(
      () => call('GET', `/payments/${paymentId}`),
      (r) => r.body.status !== 'PENDING',
    );

  it('keeps it sealed to its row while the payment is pending, and erases it with the outcome', async () => {
    // The provider holds each charge a while, so the payment is still PENDING when the row is read.
    await stack.sandbox.setFaults({ latencyMs: 3_000 });
    try {
      const orderId = await newOrder('20.00');
      const accepted = await pay(orderId, '20.00', VISA, CVCS[0]!);
      expect(accepted.status).toBe(202);
      const paymentId = accepted.body.paymentId as string;

      const pending = (await paymentRow(paymentId))!;
      expect(pending.payment_status).toBe('PENDING');
      expect(pending).toMatchObject({ card_exp_month: 11, card_exp_year: EXP_YEAR });
      const cell = { table: PAYMENTS, column: CARD_CVC_COLUMN, rowId: paymentId };
      expect(pending.card_cvc_enc).not.toContain(CVCS[0]);
      expect(stack.cipher.decrypt(pending.card_cvc_enc!, cell)).toBe(CVCS[0]);
      // Bound to its cell: copied onto another row it does not decrypt.
      expect(() => stack.cipher.decrypt(pending.card_cvc_enc!, { ...cell, rowId: 'pay_other' })).toThrow();

      expect((await settled(paymentId)).body.status).toBe('COMPLETED');
      expect((await paymentRow(paymentId))!.card_cvc_enc).toBeNull();
      expect(await stack.sandbox.chargesFor(paymentId)).toEqual([
        expect.objectContaining({ amount: 2_000, currency: 'USD' }),
      ]);
    } finally {
      await stack.sandbox.resetFaults();
    }
  });

  it('sends it to the provider, which checks it: CVC 000 is declined as incorrect_cvc', async () => {
    const orderId = await newOrder('9.00');
    const accepted = await pay(orderId, '9.00', VISA, INCORRECT_CVC);
    const payment = await settled(accepted.body.paymentId as string);
    expect(payment.body).toMatchObject({ status: 'FAILED', failureReason: 'incorrect_cvc' });
    expect(await stack.sandbox.chargesFor(payment.body.paymentId as string)).toEqual([]);
  });

  it('leaves no CVC on any final payment, declined or paid, and none in Temporal or the logs', async () => {
    const orderId = await newOrder('30.00');
    const declined = await pay(orderId, '10.00', TEST_CARDS.declined, CVCS[1]!);
    expect((await settled(declined.body.paymentId as string)).body).toMatchObject({
      status: 'FAILED',
      failureReason: 'card_declined',
    });
    const flaky = await pay(orderId, '30.00', TEST_CARDS.flaky, CVCS[2]!);
    expect((await settled(flaky.body.paymentId as string)).body.status).toBe('COMPLETED');

    const [kept] = await stack.database
      .db(PAYMENTS)
      .whereNot('payment_status', 'PENDING')
      .whereNotNull(CARD_CVC_COLUMN)
      .count({ n: '*' });
    expect(Number(kept!.n)).toBe(0);
    expect(
      Number(
        (await stack.database.db(PAYMENTS).whereNot('payment_status', 'PENDING').count({ n: '*' }))[0]!.n,
      ),
    ).toBeGreaterThanOrEqual(4);

    for (const id of await stack.database.db('orders').pluck('order_id')) {
      const history = await stack.env.client.workflow.getHandle(`order:${id}`).fetchHistory();
      const decoded = await testDataConverter.payloadCodecs![0]!.decode(payloadsIn(history));
      const raw = asText(history);
      const clear = decoded.map((payload) => Buffer.from(payload.data ?? []).toString('utf8')).join('\n');
      expect(clear).toContain(id);
      for (const cvc of [...CVCS, INCORRECT_CVC]) {
        expect(leaks(raw, cvc)).toBe(false);
        expect(leaks(clear, cvc)).toBe(false);
      }
    }
    const logs = stack.api.logLines.join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const cvc of CVCS) expect(leaks(logs, cvc)).toBe(false);
  });
});
