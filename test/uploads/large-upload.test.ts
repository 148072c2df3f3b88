import type { RawRow } from '../../src/domain/uploads/rows';
import { CSV_HEADER, readCsvRows } from '../../src/api/uploads/csv-rows';
import { LARGE_UPLOAD_ORDERS as ORDERS, generateLargeUpload as generate } from '../support/large-upload-file';
import { orderBucket, validateRows } from '../../src/domain/uploads/group-orders';
import { chunks, collect, rejectionOf } from './helpers';

describe('a large CSV upload with bad rows scattered', () => {
  const file = generate();
  let rows: RawRow[];

  beforeAll(async () => {
    rows = await collect(readCsvRows(chunks(Buffer.from(file.text, 'utf8'), 16 * 1024)));
  });

  it('is as large as intended', () => {
    expect(file.rows).toBe(26_665);
    expect(file.defective).toBe(33);
    expect(file.expectedErrors).toHaveLength(33);
  });

  it('reads every row', () => {
    expect(rows).toHaveLength(file.rows);
  });

  it('imports every order but the defective ones, and reports exactly their errors', () => {
    const result = validateRows(rows);
    expect(result.orders).toHaveLength(ORDERS - file.defective);
    expect(result.errors).toEqual(file.expectedErrors);
    expect(result.orders[1]).toEqual({
      orderId: 'ORD-1',
      amount: 1001,
      currency: 'USD',
      status: 'PENDING',
      createdAt: '2026-03-02T01:01:00.000Z',
      customerEmail: 'c1@example.com',
      payments: [
        {
          paymentId: 'PAY-1-1',
          amount: 500,
          status: 'COMPLETED',
          method: 'CARD',
          cardNumber: '5555555555554444',
        },
        { paymentId: 'PAY-1-2', amount: 1001, status: 'FAILED', method: 'BANK_TRANSFER' },
      ],
    });
  });

  it('gives the same result when validated bucket by bucket', () => {
    const buckets = Array.from({ length: 7 }, () => [] as RawRow[]);
    for (const row of rows) buckets[orderBucket(row.fields.order_id, buckets.length)]?.push(row);
    const results = buckets.map((bucket) => validateRows(bucket));
    const whole = validateRows(rows);
    const byId = (a: { orderId: string }, b: { orderId: string }) => a.orderId.localeCompare(b.orderId);
    expect(results.flatMap((result) => result.orders).sort(byId)).toEqual([...whole.orders].sort(byId));
    expect(results.flatMap((result) => result.errors).sort((a, b) => a.line - b.line)).toEqual(whole.errors);
    for (const bucket of buckets) expect(bucket.length).toBeGreaterThan(2000);
  });
});

it('refuses a quoted field that never ends after reading a bounded prefix', async () => {
  let bytes = 0;
  function* endless(): Generator<Uint8Array> {
    yield Buffer.from(`${CSV_HEADER}\nORD-1,"`);
    const chunk = Buffer.from('x'.repeat(16 * 1024));
    for (;;) {
      bytes += chunk.length;
      yield chunk;
    }
  }
  expect(await rejectionOf(collect(readCsvRows(endless())))).toEqual({
    code: 'UPLOAD_CSV_MALFORMED',
    message:
      'the file is not valid CSV: the record starting on line 2 is longer than 65536 characters; is a quote not closed?',
  });
  expect(bytes).toBeLessThan(1024 * 1024);
});
