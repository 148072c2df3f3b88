import { MockActivityEnvironment } from '@temporalio/testing';
import { createUploadActivities } from '../../src/activities/uploads';
import {
  BlockStager,
  committedProgress,
  createUpload,
  markStaged,
  removeStagedRows,
  SLOTS,
  SLOTS_PER_BIN,
  slotRange,
  stagedLocation,
  stagedRowsInSlots,
  stagedRowJson,
  UPLOAD_ROWS,
} from '../../src/db/uploads';
import type { OrderRow, PaymentRow } from '../../src/db/orders';
import { orderBucket } from '../../src/domain/uploads/group-orders';
import { emptyFields, type RawRow } from '../../src/domain/uploads/rows';
import type { ChunkCounts, ChunkWorkflowInput } from '../../src/workflows/uploads/messages';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { stageCsvLines } from './helpers';
import { testCipher, testFingerprinter } from '../support/orders';

type UploadActivities = ReturnType<typeof createUploadActivities>;

const ORDERS = 40;
const CHUNK_ROWS = 10;

/** The real chunk import on MariaDB: each chunk's counts are committed with its rows, exactly once. */
describe('importChunk and the committed progress of an upload', () => {
  let database: TestDatabase;
  let uploadId: string;
  const cipher = testCipher();

  // A fresh activity context per call, as each attempt of a real activity has.
  const importChunk = (input: ChunkWorkflowInput) =>
    new MockActivityEnvironment().run<[ChunkWorkflowInput], ChunkCounts, UploadActivities['importChunk']>(
      (chunk) =>
        createUploadActivities({ db: database.db, cipher, fingerprinter: testFingerprinter() }).importChunk(
          chunk,
        ),
      input,
    );
  const count = async (table: string) => Number((await database.db(table).count({ n: '*' }).first())?.n);
  const tableCounts = async () =>
    Object.fromEntries(
      await Promise.all(
        ['orders', 'payments', 'upload_errors', 'upload_chunks'].map(async (t) => [t, await count(t)]),
      ),
    ) as Record<string, number>;

  beforeAll(async () => {
    database = await createTestDatabase();
    // One bad order (ORD-7's card fails Luhn), wherever its slot puts it.
    const rows = Array.from(
      { length: ORDERS },
      (_, i) =>
        `ORD-${i},12.34,USD,COMPLETED,2026-03-01T09:15:00Z,c${i}@example.com,PAY-${i},12.34,COMPLETED,CARD,${i === 7 ? '4242424242424241' : '4242424242424242'}`,
    );
    const staged = await stageCsvLines(database.db, cipher, rows, CHUNK_ROWS);
    expect(staged.chunksTotal).toBe(ORDERS / CHUNK_ROWS);
    uploadId = staged.uploadId;
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('records each chunk with its rows, so MySQL knows the exact progress of a running upload', async () => {
    expect(await committedProgress(database.db, uploadId)).toEqual({
      chunksCompleted: 0,
      rowsImported: 0,
      rowsRejected: 0,
    });
    const first = await importChunk({ uploadId, chunk: 0 });
    const second = await importChunk({ uploadId, chunk: 1 });

    const progress = await committedProgress(database.db, uploadId);
    expect(progress).toEqual({
      chunksCompleted: 2,
      rowsImported: first.rowsImported + second.rowsImported,
      rowsRejected: first.rowsRejected + second.rowsRejected,
    });
    // One payment per row: the recorded counts are exactly what was committed.
    expect(progress.rowsImported).toBe(await count('payments'));
    expect(progress.rowsRejected).toBe(await count('upload_errors'));
  });

  it('answers a re-run chunk with its recorded counts and writes nothing new', async () => {
    const first = await importChunk({ uploadId, chunk: 2 });
    expect(first.rowsImported).toBeGreaterThan(0);
    const before = await tableCounts();
    // Without its staged rows, redoing the work would count nothing: the answer comes from the record.
    await database.db(UPLOAD_ROWS).where({ upload_id: uploadId, slot: 2 }).delete();

    expect(await importChunk({ uploadId, chunk: 2 })).toEqual(first);
    expect(await tableCounts()).toEqual(before);
  });

  it('counts every row of the upload once over all its chunks', async () => {
    await importChunk({ uploadId, chunk: 3 });
    expect(await committedProgress(database.db, uploadId)).toEqual({
      chunksCompleted: 4,
      rowsImported: ORDERS - 1,
      rowsRejected: 1,
    });
  });

  it('removes staged rows a bounded statement at a time, and only those of the upload', async () => {
    const other = {
      ...(await database.db(UPLOAD_ROWS).where({ upload_id: uploadId }).first()),
      upload_id: 'other',
    };
    await database
      .db('uploads')
      .insert({ upload_id: 'other', format: 'csv', upload_status: 'RUNNING', started_at: new Date() });
    await database.db(UPLOAD_ROWS).insert(other);
    const staged = await count(UPLOAD_ROWS);
    const copy = await database.db(UPLOAD_ROWS).where({ upload_id: uploadId }).select();
    let statements = 0;
    expect(await removeStagedRows(database.db, uploadId, () => statements++, 7)).toBe(staged - 1);
    expect(statements).toBe(Math.floor((staged - 1) / 7) + 1);
    expect(await database.db(UPLOAD_ROWS).pluck('upload_id')).toEqual(['other']);
    // Put back for the next test; the other upload goes.
    await database.db(UPLOAD_ROWS).insert(copy);
    await database.db(UPLOAD_ROWS).where({ upload_id: 'other' }).delete();
    await database.db('uploads').where({ upload_id: 'other' }).delete();
    expect(await count(UPLOAD_ROWS)).toBe(staged - 1);
  });

  it('finishes with the outcome recorded and the staged rows gone, and finishing again changes nothing', async () => {
    const progress = {
      chunksTotal: 4,
      chunksCompleted: 4,
      chunksFailed: 0,
      rowsImported: ORDERS - 1,
      rowsRejected: 1,
    };
    expect(await count(UPLOAD_ROWS)).toBeGreaterThan(0);
    const finish = () =>
      new MockActivityEnvironment().run<
        [{ uploadId: string; progress: typeof progress }],
        void,
        UploadActivities['finishUpload']
      >(
        (input) =>
          createUploadActivities({
            db: database.db,
            cipher,
            fingerprinter: testFingerprinter(),
          }).finishUpload(input),
        { uploadId, progress },
      );
    await finish();
    const outcome = async () =>
      database
        .db('uploads')
        .where({ upload_id: uploadId })
        .first('upload_status', 'rows_imported', 'rows_rejected');
    expect(await outcome()).toEqual({
      upload_status: 'COMPLETED_WITH_ERRORS',
      rows_imported: ORDERS - 1,
      rows_rejected: 1,
    });
    expect(await count(UPLOAD_ROWS)).toBe(0);
    const before = await tableCounts();
    await finish();
    expect(await outcome()).toEqual({
      upload_status: 'COMPLETED_WITH_ERRORS',
      rows_imported: ORDERS - 1,
      rows_rejected: 1,
    });
    expect(await tableCounts()).toEqual(before);
  });
});

/**
 * Uploads staged by an earlier release (SLOT_RANGES) on MariaDB: a chunk's slot range gets exactly its rows,
 * whichever blocks hold them.
 */
describe('stagedRowsInSlots over blocks staged by order-id hash', () => {
  let database: TestDatabase;
  const cipher = testCipher();
  const uploadId = 'blocks';
  const row = (line: number, orderId: string): RawRow => ({
    line,
    fields: { ...emptyFields(), order_id: orderId, card_number: '4242424242424242' },
  });
  const ids = (rows: RawRow[]) => rows.map((r) => r.fields.order_id);
  /** What an earlier release put in a block record's slot: its bin's first slot. */
  const binOf = (slot: number) => Math.floor(slot / SLOTS_PER_BIN) * SLOTS_PER_BIN;

  beforeAll(async () => {
    database = await createTestDatabase();
    await createUpload(database.db, uploadId, 'csv', new Date());
    const stager = new BlockStager(database.db, cipher, uploadId);
    // Slots 5, 700 and 1023 share the first bin, 1024 and 1500 the second; two flushes give two blocks each.
    const slots = [700, 1500, 5, 1023, 1024, 701, 1501];
    for (const [rowNo, slot] of slots.entries()) {
      // The JSON of such a block holds each row's slot where this release's holds its chunk.
      stager.add(
        binOf(slot),
        rowNo + 2,
        stagedRowJson({ row: row(rowNo + 2, `S-${slot}`), rowNo, chunk: slot }),
      );
      if (rowNo === 3) await stager.flush();
    }
    await stager.flush();
    // A row staged one record per row, as the previous version did, at slot 800.
    await database.db(UPLOAD_ROWS).insert({
      upload_id: uploadId,
      row_no: 1000,
      line: 50,
      order_line: 40,
      slot: 800,
      is_payment: true,
      fields_enc: cipher.encrypt(JSON.stringify(row(50, 'S-800').fields), stagedLocation(uploadId, 1000)),
      problems: null,
    });
    // A block staged before blocks were deflated: its rows as plain JSON, at slot 900.
    await database.db(UPLOAD_ROWS).insert({
      upload_id: uploadId,
      row_no: 999,
      line: 60,
      slot: 0,
      fields_enc: cipher.encrypt(
        JSON.stringify([[999, 900, row(60, 'S-900')]]),
        stagedLocation(uploadId, 999),
      ),
    });
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('answers the rows of the range in file order, across blocks and bins, and no other', async () => {
    const rows = await stagedRowsInSlots(database.db, cipher, uploadId, [700, 1025]);
    expect(ids(rows)).toEqual(['S-700', 'S-1023', 'S-1024', 'S-701', 'S-900', 'S-800']);
    expect(rows.map((r) => r.line)).toEqual([2, 5, 6, 7, 60, 50]);
    expect(rows[5]).toEqual({ ...row(50, 'S-800'), orderLine: 40, isPayment: true });
    expect(ids(await stagedRowsInSlots(database.db, cipher, uploadId, [0, 700]))).toEqual(['S-5']);
    expect(ids(await stagedRowsInSlots(database.db, cipher, uploadId, [1025, 1 << 20]))).toEqual([
      'S-1500',
      'S-1501',
    ]);
  });

  it('stores each block deflated and sealed: no row, and no JSON, in the staged record', async () => {
    const records = await database.db(UPLOAD_ROWS).where({ upload_id: uploadId }).where('row_no', '<', 999);
    expect(records).toHaveLength(4);
    for (const record of records) {
      // Only the cipher's own envelope: base64url has no quote, brace or bracket, so no JSON or id shows through.
      expect(record.fields_enc).toMatch(/^v1:[^:"]+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$/);
      const plaintext = cipher.decrypt(record.fields_enc, stagedLocation(uploadId, record.row_no));
      expect(plaintext).toMatch(/^z:[A-Za-z0-9+/=]+$/);
    }
  });

  it('splits a bin of long rows into several blocks and reads every row back', async () => {
    const longUpload = 'long-rows';
    await createUpload(database.db, longUpload, 'csv', new Date());
    const stager = new BlockStager(database.db, cipher, longUpload);
    const long = (rowNo: number): RawRow => ({
      ...row(rowNo + 2, `L-${rowNo}`),
      fields: { ...row(rowNo + 2, `L-${rowNo}`).fields, customer_email: 'x'.repeat(30_000) },
    });
    for (let rowNo = 0; rowNo < 5; rowNo++) {
      stager.add(binOf(10 + rowNo), rowNo + 2, stagedRowJson({ row: long(rowNo), rowNo, chunk: 10 + rowNo }));
    }
    await stager.flush();
    const records = await database.db(UPLOAD_ROWS).where({ upload_id: longUpload }).count({ n: '*' }).first();
    expect(Number(records?.n)).toBeGreaterThan(1);
    const rows = await stagedRowsInSlots(database.db, cipher, longUpload, [0, 1024]);
    expect(rows).toEqual([0, 1, 2, 3, 4].map(long));
    await database.db('uploads').where({ upload_id: longUpload }).delete();
  });

  it('keeps card numbers and emails sealed in the staging table', async () => {
    const stored = (await database.db(UPLOAD_ROWS).pluck('fields_enc')) as string[];
    expect(stored).toHaveLength(6);
    expect(stored.join('\n')).not.toContain('4242424242424242');
  });
});

/** The chunk import of each layout, on MariaDB: every order whole in exactly one chunk. */
describe('importChunk by chunk layout', () => {
  let database: TestDatabase;
  const cipher = testCipher();
  const activities = () =>
    createUploadActivities({ db: database.db, cipher, fingerprinter: testFingerprinter() });
  const importChunk = (input: ChunkWorkflowInput) =>
    new MockActivityEnvironment().run<[ChunkWorkflowInput], ChunkCounts, UploadActivities['importChunk']>(
      (chunk) => activities().importChunk(chunk),
      input,
    );
  const csvLine = (orderId: string, paymentId: string, amount: string, total = '20.00') =>
    `${orderId},${total},USD,COMPLETED,2026-03-01T09:15:00Z,,${paymentId},${amount},COMPLETED,CARD,4242424242424242`;
  const paymentsOf = async (orderId: string) =>
    (await database
      .db('payments')
      .where({ order_id: orderId })
      .orderBy('payment_id')
      .pluck('payment_id')) as string[];

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('FILE_ORDER: stages each chunk as a stretch of the file, and an order split across the file in its first chunk', async () => {
    // SPLIT's second payment is the file's last row, three chunks after its first.
    const lines = [
      csvLine('SPLIT', 'SPLIT-P1', '10.00'),
      csvLine('F-1', 'F-1-P', '20.00'),
      csvLine('F-2', 'F-2-P', '20.00'),
      csvLine('F-3', 'F-3-P', '20.00'),
      csvLine('F-4', 'F-4-P', '20.00'),
      csvLine('F-5', 'F-5-P', '20.00'),
      csvLine('SPLIT', 'SPLIT-P2', '10.00'),
    ];
    const staged = await stageCsvLines(database.db, cipher, lines, 2);
    expect(staged.chunksTotal).toBe(3);
    const upload = await database.db('uploads').where({ upload_id: staged.uploadId }).first();
    expect(upload.chunk_layout).toBe('FILE_ORDER');
    expect(
      await database
        .db(UPLOAD_ROWS)
        .where({ upload_id: staged.uploadId })
        .orderBy('slot')
        .distinct()
        .pluck('slot'),
    ).toEqual([0, 1, 2]);

    const first = await importChunk({ uploadId: staged.uploadId, chunk: 0 });
    expect(first).toEqual({ rowsImported: 3, rowsRejected: 0 });
    expect(await paymentsOf('SPLIT')).toEqual(['SPLIT-P1', 'SPLIT-P2']);
    expect(
      await database.db('orders').where({ order_id: 'SPLIT' }).first('order_status', 'amount_paid'),
    ).toEqual({
      order_status: 'COMPLETED',
      amount_paid: '20.0000',
    });
    expect(await importChunk({ uploadId: staged.uploadId, chunk: 1 })).toEqual({
      rowsImported: 2,
      rowsRejected: 0,
    });
    expect(await importChunk({ uploadId: staged.uploadId, chunk: 2 })).toEqual({
      rowsImported: 2,
      rowsRejected: 0,
    });
    expect(await paymentsOf('F-5')).toEqual(['F-5-P']);
  });

  it('writes each order and payment with its exact creation time, the import time, and sealed card and email', async () => {
    const lines = [
      'TIME-1,20.00,USD,COMPLETED,2026-03-01T10:15:00.123+01:00,ana@example.com,TIME-1-P,20.00,COMPLETED,CARD,4242424242424242',
      'TIME-2,7.50,USD,PENDING,1999-12-31T23:59:59Z,,TIME-2-P,7.50,PENDING,BANK_TRANSFER,',
    ];
    const staged = await stageCsvLines(database.db, cipher, lines, 100);
    const before = Date.now();
    expect(await importChunk({ uploadId: staged.uploadId, chunk: 0 })).toEqual({
      rowsImported: 2,
      rowsRejected: 0,
    });
    const after = Date.now();
    const orders = await database
      .db<OrderRow>('orders')
      .whereIn('order_id', ['TIME-1', 'TIME-2'])
      .orderBy('order_id')
      .select('order_id', 'created_at', 'updated_at', 'customer_email_enc');
    const payments = await database
      .db<PaymentRow>('payments')
      .whereIn('order_id', ['TIME-1', 'TIME-2'])
      .orderBy('payment_id')
      .select('payment_id', 'created_at', 'updated_at', 'card_number_enc', 'card_last4');
    expect(orders.map((order) => order.created_at.toISOString())).toEqual([
      '2026-03-01T09:15:00.123Z',
      '1999-12-31T23:59:59.000Z',
    ]);
    expect(payments.map((payment) => payment.created_at.toISOString())).toEqual([
      '2026-03-01T09:15:00.123Z',
      '1999-12-31T23:59:59.000Z',
    ]);
    // One import time for every row the chunk wrote.
    const updated = new Set([...orders, ...payments].map((row) => row.updated_at.getTime()));
    expect(updated.size).toBe(1);
    const [importedAt] = [...updated];
    expect(importedAt).toBeGreaterThanOrEqual(before - 1);
    expect(importedAt).toBeLessThanOrEqual(after);
    expect(
      cipher.decrypt(orders[0]!.customer_email_enc!, {
        table: 'orders',
        column: 'customer_email_enc',
        rowId: 'TIME-1',
      }),
    ).toBe('ana@example.com');
    expect(orders[1]!.customer_email_enc).toBeNull();
    expect(
      cipher.decrypt(payments[0]!.card_number_enc!, {
        table: 'payments',
        column: 'card_number_enc',
        rowId: 'TIME-1-P',
      }),
    ).toBe('4242424242424242');
    expect(payments.map((payment) => payment.card_last4)).toEqual(['4242', null]);
  });

  it('writes a chunk of new orders at once, and sorts one that meets existing orders without writing twice', async () => {
    // After the FILE_ORDER test: F-1 is in the database as this line has it; F-2 with 20.00, not 30.00.
    const lines = [
      csvLine('NEW-1', 'NEW-1-P', '20.00'),
      csvLine('F-1', 'F-1-P', '20.00'),
      csvLine('F-2', 'F-2-P', '30.00', '30.00'),
      csvLine('NEW-2', 'F-3-P', '20.00'),
      csvLine('NEW-3', 'NEW-3-P', '20.00'),
    ];
    const staged = await stageCsvLines(database.db, cipher, lines, 100);
    const ordersBefore = Number((await database.db('orders').count({ n: '*' }).first())?.n);

    expect(await importChunk({ uploadId: staged.uploadId, chunk: 0 })).toEqual({
      rowsImported: 3,
      rowsRejected: 2,
    });
    expect(await paymentsOf('NEW-1')).toEqual(['NEW-1-P']);
    expect(await paymentsOf('NEW-3')).toEqual(['NEW-3-P']);
    expect(await paymentsOf('NEW-2')).toEqual([]);
    expect(await database.db('orders').where({ order_id: 'F-2' }).pluck('order_amount')).toEqual(['20.0000']);
    expect(Number((await database.db('orders').count({ n: '*' }).first())?.n)).toBe(ordersBefore + 2);
    expect(
      await database
        .db('upload_errors')
        .where({ upload_id: staged.uploadId })
        .orderBy('line')
        .select('line', 'order_id', 'reason'),
    ).toEqual([
      { line: 4, order_id: 'F-2', reason: 'payment_id F-2-P already exists with other data' },
      { line: 5, order_id: 'NEW-2', reason: 'payment_id F-3-P already exists with other data' },
    ]);
  });

  it('SLOT_RANGES: imports an upload an earlier release staged by order-id hash, each order in its range', async () => {
    const uploadId = 'slot-ranges';
    const orderIds = Array.from({ length: 12 }, (_, i) => `H-${i * 7919}-${String.fromCharCode(65 + i)}`);
    await createUpload(database.db, uploadId, 'csv', new Date());
    await database.db('uploads').where({ upload_id: uploadId }).update({ chunk_layout: 'SLOT_RANGES' });
    const stager = new BlockStager(database.db, cipher, uploadId);
    for (const [rowNo, orderId] of orderIds.entries()) {
      const slot = orderBucket(orderId, SLOTS);
      const row: RawRow = {
        line: rowNo + 2,
        fields: {
          ...emptyFields(),
          order_id: orderId,
          order_amount: '20.00',
          currency: 'USD',
          order_status: 'COMPLETED',
          created_at: '2026-03-01T09:15:00Z',
          payment_id: `${orderId}-P`,
          payment_amount: '20.00',
          payment_status: 'COMPLETED',
          payment_method: 'CARD',
          card_number: '4242424242424242',
        },
      };
      stager.add(
        Math.floor(slot / SLOTS_PER_BIN) * SLOTS_PER_BIN,
        row.line,
        stagedRowJson({ row, rowNo, chunk: slot }),
      );
    }
    await stager.flush();
    await markStaged(database.db, uploadId, {
      bytes: 1,
      sha256: 'slot-ranges',
      rowsTotal: 12,
      chunksTotal: 3,
    });

    const counts = [];
    for (let chunk = 0; chunk < 3; chunk++) counts.push(await importChunk({ uploadId, chunk }));
    // Each chunk imports the orders whose slot is in its range, as the earlier release planned them.
    const inRange = (chunk: number) =>
      orderIds.filter((orderId) => {
        const [from, to] = slotRange(chunk, 3);
        const slot = orderBucket(orderId, SLOTS);
        return slot >= from && slot < to;
      }).length;
    expect(counts).toEqual([0, 1, 2].map((chunk) => ({ rowsImported: inRange(chunk), rowsRejected: 0 })));
    for (const orderId of orderIds) expect(await paymentsOf(orderId)).toEqual([`${orderId}-P`]);
  });
});
