import { randomUUID } from 'node:crypto';
import { createDb, statementPool, type Db } from '../../src/db/knex';
import {
  findOrderWithPayments,
  insertOrder,
  insertPayment,
  newCardPaymentRow,
  newOrderRow,
} from '../../src/db/orders';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { testCipher, testFingerprinter } from '../support/orders';

/** The order read (`GET /orders/:id`): one prepared statement on mysql2's own pool, beside knex's. */
describe('the order read on the real MariaDB', () => {
  let database: TestDatabase;
  const cipher = testCipher();
  const fingerprinter = testFingerprinter();

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database?.drop();
  });

  const placeOrder = async (owner: string, paymentsAt: Date[]) => {
    const orderId = `ord_${randomUUID()}`;
    await insertOrder(
      database.db,
      newOrderRow({ orderId, amount: 5000, currency: 'USD', ownerPrincipal: owner }, cipher, new Date()),
    );
    const paymentIds: string[] = [];
    for (const at of paymentsAt) {
      const paymentId = `pay_${randomUUID()}`;
      paymentIds.push(paymentId);
      const payment = { paymentId, orderId, amount: 1000, currency: 'USD', cardNumber: '4242424242424242' };
      await insertPayment(database.db, newCardPaymentRow(payment, cipher, fingerprinter, at));
    }
    return { orderId, paymentIds };
  };

  it('returns the order and its payments oldest first, with no card ciphertext, only to its owner', async () => {
    const first = new Date('2026-12-01T10:00:00Z');
    const second = new Date('2026-12-01T11:00:00Z');
    // Inserted newest first, so the order of the answer is the read's, not the table's.
    const { orderId, paymentIds } = await placeOrder('alice', [second, first]);

    const found = await findOrderWithPayments(database.db, orderId, { ownerPrincipal: 'alice' });
    expect(found?.order).toMatchObject({
      order_id: orderId,
      order_amount: '50.0000',
      order_status: 'PENDING',
    });
    expect(found?.payments.map((payment) => payment.payment_id)).toEqual([paymentIds[1], paymentIds[0]]);
    expect(found?.payments[0]).toMatchObject({
      order_id: orderId,
      card_last4: '4242',
      payment_amount: '10.0000',
    });
    expect(found?.payments[0]).not.toHaveProperty('card_number_enc');
    expect(found?.payments[0]).not.toHaveProperty('card_fingerprint');

    expect(await findOrderWithPayments(database.db, orderId, { ownerPrincipal: 'bob' })).toBeUndefined();
    expect(await findOrderWithPayments(database.db, orderId)).toMatchObject({ payments: [{}, {}] });
    expect(await findOrderWithPayments(database.db, `ord_${randomUUID()}`)).toBeUndefined();
  });

  it('returns an order without payments with an empty list', async () => {
    const { orderId } = await placeOrder('alice', []);
    expect((await findOrderWithPayments(database.db, orderId))?.payments).toEqual([]);
  });

  it("closes the read's own connections when the handle is destroyed, and refuses to open them again", async () => {
    const db: Db = createDb(database.url);
    const admin = createDb(database.url, { max: 1 });
    const connectionIds = async () =>
      new Set(
        (
          (await admin.raw(
            'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID()',
          )) as [{ id: number }[]]
        )[0].map((row) => row.id),
      );
    try {
      const before = await connectionIds();
      await Promise.all(Array.from({ length: 4 }, () => findOrderWithPayments(db, `ord_${randomUUID()}`)));
      const opened = [...(await connectionIds())].filter((id) => !before.has(id));
      expect(opened.length).toBeGreaterThan(0);

      await db.destroy();
      // The server drops a closed connection from its list a moment after the client has gone.
      let stillOpen = opened;
      for (let attempt = 0; attempt < 50 && stillOpen.length > 0; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const now = await connectionIds();
        stillOpen = opened.filter((id) => now.has(id));
      }
      expect(stillOpen).toEqual([]);
      expect(() => statementPool(db)).toThrow('the database handle was destroyed');
    } finally {
      await admin.destroy();
    }
  });
});
