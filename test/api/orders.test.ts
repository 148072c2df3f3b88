import { randomUUID } from 'node:crypto';
import { paymentCommand } from '../../src/api/orders/commands';
import { CreatePaymentRequest } from '../../src/api/orders/schemas';
import { orderView } from '../../src/api/orders/views';
import { findOrder, insertPayment, listPayments, newCardPaymentRow } from '../../src/db/orders';
import { seedOrder } from '../support/orders';
import { mentionsDigits } from '../support/secrets';
import { eventually, startTestStack, type TestStack } from '../support/stack';

const VISA = '4242424242424242';
const DECLINED = '4000000000000002';
const CVC = '7319';
const card = (number = VISA, extra: Record<string, unknown> = {}) => ({
  type: 'card',
  number,
  expMonth: 12,
  expYear: new Date().getUTCFullYear() + 2,
  cvc: number.startsWith('37') ? CVC : CVC.slice(0, 3),
  ...extra,
});

describe('orders API on the real stack (dev server, worker, MariaDB)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  // As alice, a client, unless the headers say otherwise.
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${stack.api.baseUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...stack.api.headers('alice'), ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      type: response.headers.get('content-type') ?? '',
      location: response.headers.get('location'),
      body: (text ? JSON.parse(text) : undefined) as Record<string, any>,
    };
  };
  const newOrder = async (amount = '100.00', currency = 'USD') => {
    const orderId = `ORD-${randomUUID()}`;
    const created = await call('POST', '/orders', { orderId, amount, currency, customer: { id: 'cust-1' } });
    expect(created.status).toBe(201);
    return orderId;
  };
  const paymentCount = async (orderId: string) =>
    Number((await stack.database.db('payments').where({ order_id: orderId }).count({ n: '*' }))[0]!.n);

  describe('POST /orders', () => {
    it('creates an order: 201, Location, and the order as PENDING', async () => {
      const orderId = `ORD-${randomUUID()}`;
      const response = await call('POST', '/orders', { orderId, amount: '125.50', currency: 'USD' });
      expect(response.status).toBe(201);
      expect(response.location).toBe(`/orders/${orderId}`);
      expect(response.body).toMatchObject({
        orderId,
        status: 'PENDING',
        amount: '125.50',
        currency: 'USD',
        amountPaid: '0.00',
        amountDue: '125.50',
        payments: [],
      });
      const description = await stack.env.client.workflow.getHandle(`order:${orderId}`).describe();
      expect(description.status.name).toBe('RUNNING');
    });

    it('answers a repeated create with the same order and starts nothing new; another body is a 409', async () => {
      const body = { orderId: `ORD-${randomUUID()}`, amount: '10.00', currency: 'EUR' };
      const first = await call('POST', '/orders', body);
      const runId = (await stack.env.client.workflow.getHandle(`order:${body.orderId}`).describe()).runId;
      const again = await call('POST', '/orders', body);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      expect((await stack.env.client.workflow.getHandle(`order:${body.orderId}`).describe()).runId).toBe(
        runId,
      );

      const conflict = await call('POST', '/orders', { ...body, amount: '11.00' });
      expect(conflict.status).toBe(409);
      expect(conflict.type).toMatch(/^application\/problem\+json/);
      expect(conflict.body.detail).toMatch(/exists with a different body/);
    });

    it('keeps order IDs that differ only in case apart, as Temporal does: two orders, two workflows', async () => {
      const upper = `CASE-${randomUUID()}`.toUpperCase();
      const lower = upper.toLowerCase();
      const first = await call('POST', '/orders', { orderId: upper, amount: '10.00', currency: 'USD' });
      const second = await call('POST', '/orders', { orderId: lower, amount: '20.00', currency: 'USD' });
      expect([first.status, second.status]).toEqual([201, 201]);
      expect((await call('GET', `/orders/${upper}`)).body).toMatchObject({ orderId: upper, amount: '10.00' });
      expect((await call('GET', `/orders/${lower}`)).body).toMatchObject({ orderId: lower, amount: '20.00' });
      for (const orderId of [upper, lower]) {
        const description = await stack.env.client.workflow.getHandle(`order:${orderId}`).describe();
        expect(description.status.name).toBe('RUNNING');
      }
    });

    it.each([
      [{ amount: '0.00', currency: 'USD' }, 422, 'must be greater than zero'],
      [{ amount: '-5.00', currency: 'USD' }, 422, 'amount'],
      [{ amount: '1.234', currency: 'USD' }, 422, 'USD allows at most 2'],
      [{ amount: '100.5', currency: 'JPY' }, 422, 'JPY allows none'],
      [{ amount: '10.00', currency: 'XYZ' }, 422, 'not a supported ISO 4217 code'],
      [{ amount: 10, currency: 'USD' }, 422, 'must be a string'],
      [{ amount: '10.00', currency: 'USD', paymentDeadline: 'P1M' }, 422, 'month'],
      [{ amount: '10.00', currency: 'USD', surprise: true }, 422, 'unknown field surprise'],
    ])('refuses %j with %i', async (body, status, detail) => {
      const orderId = `ORD-${randomUUID()}`;
      const response = await call('POST', '/orders', { orderId, ...body });
      expect(response.status).toBe(status);
      expect(response.type).toMatch(/^application\/problem\+json/);
      expect(response.body.detail).toEqual(expect.stringContaining(detail));
      expect(await stack.database.db('orders').where({ order_id: orderId }).first()).toBeUndefined();
    });

    it('answers 503 when Temporal does not take the start in time, and a retry of the same create heals it', async () => {
      const impatient = await stack.startApi({ DURAPAY_TEMPORAL_DEADLINE_MS: '1' });
      const body = { orderId: `ORD-${randomUUID()}`, amount: '3.00', currency: 'USD' };
      try {
        const refused = await fetch(`${impatient.baseUrl}/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...impatient.headers('alice') },
          body: JSON.stringify(body),
        });
        expect(refused.status).toBe(503);
        expect(refused.headers.get('retry-after')).toBe('5');
      } finally {
        await impatient.close();
      }
      const retried = await call('POST', '/orders', body);
      expect(retried.status).toBe(200);
      const description = await stack.env.client.workflow.getHandle(`order:${body.orderId}`).describe();
      expect(description.status.name).toBe('RUNNING');
    });

    it('sheds writes past DURAPAY_TEMPORAL_MAX_IN_FLIGHT with an immediate 503, and a retry heals', async () => {
      // No worker polls this queue, so a payment waiting for its update to be accepted holds the only slot.
      const busy = await stack.startApi(
        { DURAPAY_TEMPORAL_MAX_IN_FLIGHT: '1', DURAPAY_TEMPORAL_DEADLINE_MS: '8000' },
        { taskQueue: `idle-${randomUUID()}` },
      );
      const post = (path: string, body: unknown) =>
        fetch(`${busy.baseUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...busy.headers('alice') },
          body: JSON.stringify(body),
        });
      try {
        const held = { orderId: `ORD-${randomUUID()}`, amount: '5.00', currency: 'USD' };
        expect((await post('/orders', held)).status).toBe(201);
        // The holder and the probing creates race for the one slot: whichever loses is shed. So the holder (one
        // payment, by its Idempotency-Key) is sent again whenever it has ended, and each probe comes after it.
        let holding: Promise<Response> | undefined;
        let holderDone = true;
        const hold = () => {
          holderDone = false;
          holding = fetch(`${busy.baseUrl}/orders/${held.orderId}/payments?wait=true`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'idempotency-key': `hold-${held.orderId}`,
              ...busy.headers('alice'),
            },
            body: JSON.stringify({ amount: '5.00', method: card() }),
          });
          void holding.finally(() => (holderDone = true));
        };
        const shedBody = { orderId: `ORD-${randomUUID()}`, amount: '6.00', currency: 'USD' };
        const shed = await eventually(
          async () => {
            if (holderDone) hold();
            // The holder records its payment just before it calls Temporal: probe once it is there.
            await eventually(
              () => stack.database.db('payments').where({ order_id: held.orderId }).first(),
              Boolean,
            );
            return post('/orders', shedBody);
          },
          (response) => response.status !== 201 && response.status !== 200,
          60_000,
        );
        expect(shed.status).toBe(503);
        expect(shed.headers.get('retry-after')).toBe('1');
        expect(await shed.json()).toMatchObject({
          detail: 'Temporal is busy (in-flight limit 1 reached); retry later',
        });
        expect((await holding!).status).toBe(503); // its own deadline: no worker ever accepts the update
        const retried = await post('/orders', shedBody);
        expect(retried.status).toBe(200);
        const description = await stack.env.client.workflow.getHandle(`order:${shedBody.orderId}`).describe();
        expect(description.status.name).toBe('RUNNING');
      } finally {
        await busy.close();
      }
    });

    it('refuses malformed JSON with 400', async () => {
      const response = await call('POST', '/orders', '{"amount": "1.00",');
      expect(response.status).toBe(400);
      expect(response.body.detail).toMatch(/malformed JSON/);
    });
  });

  describe('GET /orders', () => {
    it('returns 404 for an unknown order', async () => {
      const response = await call('GET', '/orders/ORD-nope');
      expect(response.status).toBe(404);
      expect(response.type).toMatch(/^application\/problem\+json/);
    });

    it('returns an order with its payments oldest first, as its rows in MySQL read', async () => {
      const orderId = await newOrder('90.00');
      const at = (seconds: number) => new Date(Date.UTC(2026, 0, 2, 3, 4, seconds, 567));
      const payment = (paymentId: string, amount: number, createdAt: Date, cardNumber = VISA) =>
        newCardPaymentRow(
          { paymentId, orderId, amount, currency: 'USD', cardNumber },
          stack.cipher,
          stack.fingerprinter,
          createdAt,
        );
      // Inserted out of order; two at the same instant, which their IDs then order.
      await insertPayment(stack.database.db, payment('pay-c', 3000, at(9)));
      await insertPayment(stack.database.db, {
        ...payment('pay-b', 2000, at(5), DECLINED),
        payment_status: 'FAILED',
        failure_reason: 'card_declined',
      });
      await insertPayment(stack.database.db, payment('pay-a', 1000, at(5)));

      const response = await fetch(`${stack.api.baseUrl}/orders/${orderId}`, {
        headers: stack.api.headers('alice'),
      });
      const text = await response.text();
      expect(response.status).toBe(200);
      const body = JSON.parse(text) as { payments: { paymentId: string; amount: string }[] };
      expect(body.payments.map((p) => [p.paymentId, p.amount])).toEqual([
        ['pay-a', '10.00'],
        ['pay-b', '20.00'],
        ['pay-c', '30.00'],
      ]);
      expect(body.payments[1]).toMatchObject({ status: 'FAILED', failureReason: 'card_declined' });
      // Byte for byte the view of the order row and of its payment rows, each read on its own.
      const order = await findOrder(stack.database.db, orderId);
      expect(text).toBe(JSON.stringify(orderView(order!, await listPayments(stack.database.db, orderId))));
    });

    it("answers another client's order like one that does not exist", async () => {
      const orderId = await newOrder();
      const response = await call('GET', `/orders/${orderId}`, undefined, stack.api.headers('bob'));
      expect(response.status).toBe(404);
      expect(response.body.detail).toBe(`no order "${orderId}"`);
    });

    it('pages through orders by status with a cursor', async () => {
      const ids = [await newOrder('1.00'), await newOrder('2.00'), await newOrder('3.00')];
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<typeof call>> = await call(
          'GET',
          `/orders?status=PENDING&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.items.map((item: { orderId: string }) => item.orderId));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen).toEqual(expect.arrayContaining(ids));
      expect(new Set(seen).size).toBe(seen.length);
    });

    it.each(['limit=0', 'limit=abc', 'status=PAID', 'cursor=garbage', 'sort=asc'])(
      'refuses ?%s with 400',
      async (query) => {
        const response = await call('GET', `/orders?${query}`);
        expect(response.status).toBe(400);
        expect(response.type).toMatch(/^application\/problem\+json/);
      },
    );
  });

  describe('POST /orders/:orderId/payments', () => {
    it('accepts a payment with 202 and Location, then settles it', async () => {
      const orderId = await newOrder('50.00');
      const accepted = await call('POST', `/orders/${orderId}/payments`, { amount: '20.00', method: card() });
      expect(accepted.status).toBe(202);
      expect(accepted.body).toMatchObject({ paymentId: expect.any(String), orderId, status: 'PENDING' });
      expect(accepted.body.method).toEqual({ type: 'card', brand: 'visa', last4: '4242' });
      expect(accepted.location).toBe(`/payments/${accepted.body.paymentId}`);

      const settled = await eventually(
        () => call('GET', accepted.location!),
        (r) => r.body.status !== 'PENDING',
      );
      expect(settled.body).toMatchObject({
        paymentId: accepted.body.paymentId,
        amount: '20.00',
        status: 'COMPLETED',
        method: { type: 'card', brand: 'visa', last4: '4242' },
      });
      const order = await call('GET', `/orders/${orderId}`);
      expect(order.body).toMatchObject({ status: 'PENDING', amountPaid: '20.00', amountDue: '30.00' });
    });

    it('with ?wait=true answers with the final result, a decline included, and completes the order', async () => {
      const orderId = await newOrder('30.00');
      const declined = await call('POST', `/orders/${orderId}/payments?wait=true`, {
        amount: '30.00',
        method: card(DECLINED),
      });
      expect(declined.status).toBe(200);
      expect(declined.body).toMatchObject({ status: 'FAILED', failureReason: 'card_declined' });

      const paid = await call('POST', `/orders/${orderId}/payments?wait=true`, {
        amount: '30.00',
        method: card(),
      });
      expect(paid.status).toBe(200);
      expect(paid.body).toMatchObject({
        status: 'COMPLETED',
        order: { status: 'COMPLETED', amountPaid: '30.00' },
      });

      const order = await eventually(
        () => call('GET', `/orders/${orderId}`),
        (r) => r.body.status === 'COMPLETED',
      );
      expect(order.body.payments.map((p: { status: string }) => p.status)).toEqual(['FAILED', 'COMPLETED']);
    });

    it('honours Idempotency-Key: the same request returns the same payment, another body is a 422', async () => {
      const orderId = await newOrder('40.00');
      const key = { 'Idempotency-Key': `key-${randomUUID()}` };
      const first = await call(
        'POST',
        `/orders/${orderId}/payments`,
        { amount: '10.00', method: card() },
        key,
      );
      const again = await call(
        'POST',
        `/orders/${orderId}/payments`,
        { amount: '10.00', method: card() },
        key,
      );
      expect(again.body.paymentId).toBe(first.body.paymentId);
      expect(again.location).toBe(first.location);

      const different = await call(
        'POST',
        `/orders/${orderId}/payments`,
        { amount: '11.00', method: card() },
        key,
      );
      expect(different.status).toBe(422);
      expect(different.body.detail).toMatch(/Idempotency-Key was already used/);

      await eventually(
        () => call('GET', `/orders/${orderId}`),
        (r) => r.body.amountPaid === '10.00',
      );
      expect(await paymentCount(orderId)).toBe(1);
      const charges = await stack.sandbox.chargesFor(first.body.paymentId as string);
      expect(charges.map(({ amount, currency }) => ({ amount, currency }))).toEqual([
        { amount: 1_000, currency: 'USD' },
      ]);
    });

    it.each([
      [{ amount: '0.00', method: card() }, 'greater than zero'],
      [{ amount: '60.01', method: card() }, 'more than the 60.00 USD still due'],
      [{ amount: '1.001', method: card() }, 'USD allows at most 2'],
      [{ amount: '1.00', method: card('4242424242424241') }, 'card number'],
      [{ amount: '1.00', method: card(VISA, { expYear: 2020 }) }, 'expired'],
      [{ amount: '1.00', method: card(VISA, { expMonth: 13 }) }, 'month'],
      [{ amount: '1.00', method: card(VISA, { cvc: '12' }) }, 'security code must be 3 digits'],
      [{ amount: '1.00', method: { type: 'card', number: VISA } }, 'must be'],
      [{ amount: '1.00', method: { type: 'crypto' } }, 'method.type must be "card"'],
    ])('refuses %j with 422 and records nothing', async (body, detail) => {
      const orderId = await newOrder('60.00');
      const response = await call('POST', `/orders/${orderId}/payments`, body);
      expect(response.status).toBe(422);
      expect(response.type).toMatch(/^application\/problem\+json/);
      expect(response.body.detail).toEqual(expect.stringContaining(detail));
      expect(JSON.stringify(response.body)).not.toContain(VISA);
      expect(await paymentCount(orderId)).toBe(0);
    });

    it('refuses payments into an unknown order (404) and a finished one (409), recording nothing', async () => {
      const unknown = await call('POST', '/orders/ORD-missing/payments', { amount: '1.00', method: card() });
      expect(unknown.status).toBe(404);

      const orderId = await newOrder('5.00');
      await call('POST', `/orders/${orderId}/payments?wait=true`, { amount: '5.00', method: card() });
      await eventually(
        () => call('GET', `/orders/${orderId}`),
        (r) => r.body.status === 'COMPLETED',
      );
      const late = await call('POST', `/orders/${orderId}/payments`, { amount: '1.00', method: card() });
      expect(late.status).toBe(409);
      expect(late.body.detail).toMatch(/is COMPLETED, not PENDING/);
      expect(await paymentCount(orderId)).toBe(1);
    });

    it('delivers a PENDING payment again when its request is retried (the first delivery may have been lost)', async () => {
      const orderId = await newOrder('12.00');
      const body = { amount: '12.00', method: card() };
      const key = `key-${randomUUID()}`;
      // What a request leaves behind when it dies between recording the payment and signalling the workflow.
      const command = paymentCommand(CreatePaymentRequest.parse(body), 'USD', new Date());
      const paymentId = `pay_lost_${randomUUID()}`;
      await insertPayment(
        stack.database.db,
        newCardPaymentRow(
          {
            paymentId,
            orderId,
            amount: command.amount,
            currency: 'USD',
            cardNumber: command.card.number,
            expMonth: command.card.expMonth,
            expYear: command.card.expYear,
            cvc: body.method.cvc,
            idempotencyKey: key,
            requestHash: command.requestHash,
          },
          stack.cipher,
          stack.fingerprinter,
          new Date(),
        ),
      );

      const retried = await call('POST', `/orders/${orderId}/payments`, body, { 'Idempotency-Key': key });
      expect(retried.status).toBe(202);
      expect(retried.body.paymentId).toBe(paymentId);
      const settled = await eventually(
        () => call('GET', `/payments/${paymentId}`),
        (r) => r.body.status !== 'PENDING',
      );
      expect(settled.body.status).toBe('COMPLETED');
      expect(await paymentCount(orderId)).toBe(1);
    });

    it('starts the workflow of an order that exists only in MySQL (an import) on its first payment', async () => {
      const orderId = `ORD-imported-${randomUUID()}`;
      await seedOrder(stack.database.db, stack.cipher, { orderId, amount: 700 });
      // An import has no owning client: operators pay it.
      const paid = await call(
        'POST',
        `/orders/${orderId}/payments?wait=true`,
        { amount: '7.00', method: card() },
        stack.api.headers('operator'),
      );
      expect(paid.status).toBe(200);
      expect(paid.body).toMatchObject({ status: 'COMPLETED', order: { status: 'COMPLETED' } });
    });
  });

  describe('GET /payments/:paymentId', () => {
    it('returns 404 for an unknown payment', async () => {
      expect((await call('GET', '/payments/PAY-nope')).status).toBe(404);
    });
  });

  describe('POST /orders/:orderId/cancel', () => {
    it('cancels a PENDING order (202); a completed order gives 409', async () => {
      const orderId = await newOrder('9.00');
      const cancelled = await call('POST', `/orders/${orderId}/cancel`);
      expect(cancelled.status).toBe(202);
      await eventually(
        () => call('GET', `/orders/${orderId}`),
        (r) => r.body.status === 'CANCELLED',
      );
      const payAfterCancel = await call('POST', `/orders/${orderId}/payments`, {
        amount: '1.00',
        method: card(),
      });
      expect(payAfterCancel.status).toBe(409);

      const paidId = await newOrder('2.00');
      await call('POST', `/orders/${paidId}/payments?wait=true`, { amount: '2.00', method: card() });
      await eventually(
        () => call('GET', `/orders/${paidId}`),
        (r) => r.body.status === 'COMPLETED',
      );
      expect((await call('POST', `/orders/${paidId}/cancel`)).status).toBe(409);
      expect((await call('POST', '/orders/ORD-missing/cancel')).status).toBe(404);
    });
  });

  describe('card data', () => {
    it('never stores, logs or sends to Temporal a full card number or CVC', async () => {
      const amex = '378282246310005';
      const orderId = await newOrder('15.00');
      const paid = await call('POST', `/orders/${orderId}/payments?wait=true`, {
        amount: '15.00',
        method: card(amex),
      });
      expect(paid.body.status).toBe('COMPLETED');

      const dump = JSON.stringify([
        await stack.database.db('orders').select(),
        await stack.database.db('payments').select(),
      ]);
      expect(dump).toContain('"card_last4":"0005"');
      for (const secret of [amex, VISA, DECLINED]) expect(dump).not.toContain(secret);
      const cells = JSON.parse(dump)
        .flat()
        .flatMap((row: Record<string, unknown>) => Object.values(row));
      expect(cells).not.toContain(CVC);

      const logs = stack.api.logLines.join('\n');
      expect(logs.length).toBeGreaterThan(0);
      for (const secret of [amex, VISA, CVC]) expect(mentionsDigits(logs, secret)).toBe(false);

      const history = await stack.env.client.workflow.getHandle(`order:${orderId}`).fetchHistory();
      const historyText = JSON.stringify(history, (_key, value: unknown) =>
        value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : value,
      );
      expect(historyText).toContain(orderId);
      for (const secret of [amex, CVC]) expect(mentionsDigits(historyText, secret)).toBe(false);
    });

    it('fingerprints the card, so the same card is found without decrypting however it was typed', async () => {
      const number = '6011111111111117';
      const orderIds = [await newOrder('5.00'), await newOrder('5.00')];
      for (const [orderId, typed] of [
        [orderIds[0]!, number],
        [orderIds[1]!, '6011-1111-1111-1117'],
      ]) {
        const paid = await call('POST', `/orders/${orderId}/payments`, {
          amount: '5.00',
          method: card(typed),
        });
        expect(paid.status).toBe(202);
      }
      const fingerprint = stack.fingerprinter.fingerprint(number);
      expect(fingerprint).not.toContain(number);
      const sameCard = await stack.database
        .db('payments')
        .where({ card_fingerprint: fingerprint })
        .pluck('order_id');
      expect(sameCard.sort()).toEqual([...orderIds].sort());
    });
  });
});
