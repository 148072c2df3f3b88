import { migrateLatest, migrateRollbackAll, migrationConfig } from '../../src/db/migrate';
import { createTestDatabase, type TestDatabase } from '../support/db';

describe('migrations on the real MariaDB', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
  });

  afterAll(async () => {
    await database?.drop();
  });

  /** Rolls back everything, then migrates up to the named migration, as a database of the release before it stands. */
  const upToBefore = async (prefix: string): Promise<string> => {
    await migrateRollbackAll(database.db);
    for (;;) {
      const [, pending] = (await database.db.migrate.list(migrationConfig)) as [unknown, { file: string }[]];
      if (pending[0]!.file.startsWith(prefix)) return pending[0]!.file;
      await database.db.migrate.up(migrationConfig);
    }
  };

  const tables = async () =>
    (await database
      .db('information_schema.tables')
      .where({ table_schema: database.db.raw('database()') })
      .pluck('table_name')) as string[];

  it('migrates up, is idempotent, migrates all the way down and up again', async () => {
    expect((await migrateLatest(database.db)).length).toBeGreaterThan(0);
    expect(await tables()).toEqual(expect.arrayContaining(['orders', 'payments']));
    expect(await migrateLatest(database.db)).toEqual([]);

    await migrateRollbackAll(database.db);
    expect(await tables()).not.toEqual(expect.arrayContaining(['orders']));
    expect(await tables()).not.toEqual(expect.arrayContaining(['payments']));

    await migrateLatest(database.db);
    expect(await tables()).toEqual(expect.arrayContaining(['orders', 'payments']));
  });

  it('indexes card fingerprints and keeps the key rotation batches and upload chunks', async () => {
    await migrateLatest(database.db);
    const indexes = (await database.db.raw('SHOW INDEX FROM payments WHERE Column_name = ?', [
      'card_fingerprint',
    ])) as [{ Key_name: string }[]];
    expect(indexes[0].map((index) => index.Key_name)).toEqual(['payments_card_fingerprint_idx']);
    expect(await tables()).toEqual(expect.arrayContaining(['key_rotation_batches', 'upload_chunks']));
  });

  it('makes identifiers case-sensitive, keeping the rows written before and the payments foreign key', async () => {
    const caseSensitiveIds = await upToBefore('20261204000400_case_sensitive_ids');
    const now = new Date('2026-11-22T10:00:00Z');
    const order = (orderId: string, amount: string) => ({
      order_id: orderId,
      order_amount: amount,
      currency: 'USD',
      order_status: 'PENDING',
      created_at: now,
      updated_at: now,
    });
    const payment = (paymentId: string, orderId: string) => ({
      payment_id: paymentId,
      order_id: orderId,
      payment_amount: '10.00',
      payment_status: 'PENDING',
      payment_method: 'CARD',
      created_at: now,
      updated_at: now,
    });
    await database.db('orders').insert(order('ORD-7', '10.00'));
    await database.db('payments').insert(payment('PAY-7', 'ORD-7'));
    // Paid through a URL that spelled the order's ID in another case, which the old collation let through.
    await database.db('payments').insert(payment('PAY-6', 'ord-7'));
    await expect(database.db('orders').insert(order('ord-7', '20.00'))).rejects.toThrow(/Duplicate entry/);

    await migrateLatest(database.db);
    expect(
      await database.db('payments').where({ order_id: 'ORD-7' }).orderBy('payment_id').pluck('payment_id'),
    ).toEqual(['PAY-6', 'PAY-7']);
    await database.db('orders').insert(order('ord-7', '20.00'));
    await database.db('payments').insert(payment('pay-7', 'ord-7'));
    expect(await database.db('orders').where({ order_id: 'ord-7' }).pluck('order_amount')).toEqual([
      '20.0000',
    ]);
    expect(await database.db('payments').where({ order_id: 'ord-7' }).pluck('payment_id')).toEqual(['pay-7']);
    await expect(database.db('payments').insert(payment('PAY-8', 'Ord-7'))).rejects.toThrow(
      /foreign key constraint/i,
    );
    await database.db('orders').where({ order_id: 'ORD-7' }).delete();
    expect(await database.db('payments').pluck('payment_id')).toEqual(['pay-7']);

    // Back down, two orders would be one key again: refused, with the schema left as it is.
    await database.db('orders').insert(order('ORD-7', '10.00'));
    const downCaseSensitiveIds = () =>
      database.db.migrate.down({ ...migrationConfig, name: caseSensitiveIds });
    await expect(downCaseSensitiveIds()).rejects.toThrow(/IDs differing only in case/);
    expect(await database.db('orders').where({ order_id: 'ORD-7' }).pluck('order_amount')).toEqual([
      '10.0000',
    ]);
    await database.db('orders').where({ order_id: 'ord-7' }).delete();
    await downCaseSensitiveIds();
    await expect(database.db('orders').insert(order('ORD-8', '10.00'))).resolves.toBeDefined();
    await expect(database.db('orders').insert(order('ord-8', '10.00'))).rejects.toThrow(/Duplicate entry/);
    await database.db('orders').delete();
    await migrateLatest(database.db);
  });

  it('keeps uploads staged before the chunk layout on SLOT_RANGES, which an earlier API also gets by default', async () => {
    await upToBefore('20261204000500_upload_chunk_layout');
    const upload = (uploadId: string) => ({
      upload_id: uploadId,
      format: 'csv',
      upload_status: 'RUNNING',
      started_at: new Date('2026-12-04T10:00:00Z'),
    });
    await database.db('uploads').insert(upload('before'));
    await migrateLatest(database.db);
    await database.db('uploads').insert(upload('earlier-api'));
    expect(await database.db('uploads').orderBy('upload_id').select('upload_id', 'chunk_layout')).toEqual([
      { upload_id: 'before', chunk_layout: 'SLOT_RANGES' },
      { upload_id: 'earlier-api', chunk_layout: 'SLOT_RANGES' },
    ]);
    await database.db('uploads').delete();
  });

  describe('the schema guards money', () => {
    const now = new Date('2026-11-22T10:00:00Z');
    const order = {
      order_id: 'ORD-1',
      order_amount: '120.50',
      currency: 'USD',
      order_status: 'PENDING',
      created_at: now,
      updated_at: now,
    };

    beforeAll(async () => {
      await migrateLatest(database.db);
    });

    afterEach(async () => {
      await database.db('payments').delete();
      await database.db('orders').delete();
    });

    it('stores amounts exactly and returns them as decimal strings', async () => {
      await database
        .db('orders')
        .insert({ ...order, order_amount: '9999999999999.9999', amount_paid: '0.1' });
      const row = (await database.db('orders').first()) as { order_amount: string; amount_paid: string };
      expect(row.order_amount).toBe('9999999999999.9999');
      expect(row.amount_paid).toBe('0.1000');
    });

    it('refuses amount_paid above the order total', async () => {
      await expect(database.db('orders').insert({ ...order, amount_paid: '120.51' })).rejects.toThrow(
        /orders_paid_within_total/,
      );
    });

    it('refuses non-positive totals and unknown statuses', async () => {
      await expect(database.db('orders').insert({ ...order, order_amount: '0' })).rejects.toThrow(
        /orders_amount_positive/,
      );
      await expect(database.db('orders').insert({ ...order, order_status: 'PAID' })).rejects.toThrow(
        /orders_status_known/,
      );
    });

    it('refuses a payment for an unknown order', async () => {
      await expect(
        database.db('payments').insert({
          payment_id: 'PAY-1',
          order_id: 'ORD-404',
          payment_amount: '1.00',
          payment_status: 'PENDING',
          payment_method: 'CARD',
          created_at: now,
          updated_at: now,
        }),
      ).rejects.toThrow(/foreign key constraint/i);
    });
  });
});
