import fs from 'node:fs';
import path from 'node:path';
import { eventually, startTestStack, type TestStack } from '../support/stack';

const FIXTURES = path.resolve(__dirname, '../fixtures/uploads');
const SAMPLE_CSV = fs.readFileSync(path.join(FIXTURES, 'orders-sample.csv'));
const SAMPLE_XML = fs.readFileSync(path.join(FIXTURES, 'orders-sample.xml'));
const HEADER = SAMPLE_CSV.toString('utf8').split('\n')[0]!;

describe('bulk uploads on the real stack (dev server, worker, MariaDB)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      DURAPAY_UPLOAD_CHUNK_ROWS: '2',
      DURAPAY_UPLOAD_WINDOW: '2',
      DURAPAY_MAX_UPLOAD: '64kb',
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  // Uploads and exports are for operators; orders created over the API belong to a client (alice).
  const operator = () => stack.api.headers('operator');
  const upload = async (body: string | Buffer | FormData, contentType?: string) => {
    const response = await fetch(`${stack.api.baseUrl}/uploads`, {
      method: 'POST',
      headers: { ...operator(), ...(contentType ? { 'content-type': contentType } : {}) },
      body,
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  const finished = (uploadId: string) =>
    eventually(
      async () =>
        (await (
          await fetch(`${stack.api.baseUrl}/uploads/${uploadId}`, { headers: operator() })
        ).json()) as Record<string, any>,
      (view) => view.status !== 'RUNNING',
      60_000,
    );
  const orderRow = (orderId: string) => stack.database.db('orders').where({ order_id: orderId }).first();
  const paymentRows = (orderId: string) =>
    stack.database.db('payments').where({ order_id: orderId }).orderBy('payment_id');

  it('imports the sample CSV exactly, with card numbers only encrypted', async () => {
    const accepted = await upload(SAMPLE_CSV, 'text/csv');
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({ status: 'RUNNING', duplicate: false });

    const view = await finished(accepted.body.uploadId);
    // Chunks of 2 rows that never split an order: ORD-1001 and ORD-1002's two rows, ORD-1003 and ORD-1004's two, ORD-1005.
    expect(view).toMatchObject({
      status: 'COMPLETED',
      format: 'csv',
      rowsTotal: 7,
      rowsImported: 7,
      rowsRejected: 0,
      chunks: { total: 3, completed: 3, failed: 0 },
      errors: [],
    });
    expect(await orderRow('ORD-1002')).toMatchObject({
      order_amount: '250.0000',
      amount_paid: '100.0000',
      order_status: 'PENDING',
      currency: 'USD',
    });
    expect(await orderRow('ORD-1004')).toMatchObject({ amount_paid: '1999.9900', order_status: 'COMPLETED' });
    expect(await orderRow('ORD-1003')).toMatchObject({
      order_amount: '80.5000',
      currency: 'EUR',
      amount_paid: '0.0000',
    });
    expect(
      (await paymentRows('ORD-1004')).map((p: any) => [
        p.payment_method,
        p.card_brand,
        p.card_last4,
        p.card_fingerprint,
      ]),
    ).toEqual([
      ['BANK_TRANSFER', null, null, null],
      ['CARD', 'amex', '0005', stack.fingerprinter.fingerprint('378282246310005')],
    ]);
    const dump = JSON.stringify([
      await stack.database.db('orders').select(),
      await stack.database.db('payments').select(),
      await stack.database.db('upload_rows').select(),
    ]);
    for (const pan of ['4242424242424242', '5555555555554444', '378282246310005'])
      expect(dump).not.toContain(pan);
    expect(dump).not.toContain('ana@example.com');
  });

  it('imports the sample XML sent as a multipart form into the same orders', async () => {
    const form = new FormData();
    form.append('file', new Blob([SAMPLE_XML], { type: 'application/xml' }), 'orders.xml');
    const accepted = await upload(form);
    expect(accepted.status).toBe(202);
    const view = await finished(accepted.body.uploadId);
    expect(view).toMatchObject({ status: 'COMPLETED', format: 'xml', rowsImported: 6, rowsRejected: 0 });
    expect(await orderRow('ORD-2002')).toMatchObject({ amount_paid: '100.0000', order_status: 'PENDING' });
    expect(await orderRow('ORD-2004')).toMatchObject({ amount_paid: '1999.9900', order_status: 'COMPLETED' });
  });

  it('answers the same file uploaded again with the first upload and duplicates nothing', async () => {
    const before = await stack.database.db('payments').count({ n: '*' });
    const again = await upload(SAMPLE_CSV, 'text/csv');
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ duplicate: true, status: 'COMPLETED' });
    expect(await stack.database.db('payments').count({ n: '*' })).toEqual(before);

    // The same orders in a different file are recognised as already imported, not doubled.
    const reordered = [HEADER, ...SAMPLE_CSV.toString('utf8').trim().split('\n').slice(1).reverse()].join(
      '\n',
    );
    const view = await finished((await upload(reordered, 'text/csv')).body.uploadId);
    expect(view).toMatchObject({ status: 'COMPLETED', rowsImported: 7, rowsRejected: 0 });
    expect(await stack.database.db('payments').count({ n: '*' })).toEqual(before);
  });

  it('rejects a bad row with its whole order, imports the rest, and reports every rejected row', async () => {
    const csv = [
      HEADER,
      'ORD-3001,10.00,USD,COMPLETED,2026-03-01T09:15:00Z,a@example.com,PAY-3001-1,10.00,COMPLETED,CARD,4242424242424242',
      'ORD-3002,20.00,USD,PENDING,2026-03-01T09:15:00Z,b@example.com,PAY-3002-1,5.00,COMPLETED,CARD,4242424242424241',
      'ORD-3002,20.00,USD,PENDING,2026-03-01T09:15:00Z,b@example.com,PAY-3002-2,5.00,COMPLETED,CARD,4242424242424242',
      'ORD-3003,1.234,USD,PENDING,2026-03-01T09:15:00Z,c@example.com,,,,,',
    ].join('\n');
    const view = await finished((await upload(csv, 'text/csv')).body.uploadId);
    expect(view).toMatchObject({
      status: 'COMPLETED_WITH_ERRORS',
      rowsTotal: 4,
      rowsImported: 1,
      rowsRejected: 3,
    });
    expect(await orderRow('ORD-3001')).toBeDefined();
    expect(await orderRow('ORD-3002')).toBeUndefined();
    expect(await orderRow('ORD-3003')).toBeUndefined();

    const report = await fetch(`${stack.api.baseUrl}/uploads/${view.uploadId}/errors`, {
      headers: operator(),
    });
    expect(report.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await report.text()).trim().split('\n');
    expect(lines[0]).toBe('line,order_id,field,reason');
    expect(lines.slice(1).map((line) => line.split(',').slice(0, 3).join(','))).toEqual(
      expect.arrayContaining(['3,ORD-3002,card_number', '5,ORD-3003,order_amount']),
    );
    expect(lines.join('\n')).not.toContain('4242424242424241');
  });

  it('imports order and payment IDs that differ only in case as different orders and payments', async () => {
    const csv = [
      HEADER,
      'CASE-3101,10.00,USD,COMPLETED,2026-03-01T09:15:00Z,a@example.com,PAY-3101-A,10.00,COMPLETED,CARD,4242424242424242',
      'case-3101,20.00,USD,COMPLETED,2026-03-01T09:15:00Z,b@example.com,pay-3101-a,20.00,COMPLETED,CARD,4242424242424242',
    ].join('\n');
    const view = await finished((await upload(csv, 'text/csv')).body.uploadId);
    expect(view).toMatchObject({ status: 'COMPLETED', rowsImported: 2, rowsRejected: 0 });
    expect(await orderRow('CASE-3101')).toMatchObject({ order_id: 'CASE-3101', order_amount: '10.0000' });
    expect(await orderRow('case-3101')).toMatchObject({ order_id: 'case-3101', order_amount: '20.0000' });
    expect((await paymentRows('case-3101')).map((row: { payment_id: string }) => row.payment_id)).toEqual([
      'pay-3101-a',
    ]);
  });

  it('rejects an order that uses the payment ID of an earlier order in the file, and imports the rest', async () => {
    const csv = [
      HEADER,
      'ORD-3201,10.00,USD,COMPLETED,2026-03-01T09:15:00Z,a@example.com,PAY-3201,10.00,COMPLETED,CARD,4242424242424242',
      'ORD-3202,20.00,USD,COMPLETED,2026-03-01T09:15:00Z,b@example.com,PAY-3201,20.00,COMPLETED,CARD,4242424242424242',
    ].join('\n');
    const view = await finished((await upload(csv, 'text/csv')).body.uploadId);
    expect(view).toMatchObject({ status: 'COMPLETED_WITH_ERRORS', rowsImported: 1, rowsRejected: 1 });
    expect(await orderRow('ORD-3201')).toMatchObject({ order_amount: '10.0000' });
    expect(await orderRow('ORD-3202')).toBeUndefined();
    expect((await paymentRows('ORD-3201')).map((row: { payment_id: string }) => row.payment_id)).toEqual([
      'PAY-3201',
    ]);
    expect(view.errors).toEqual([
      expect.objectContaining({ line: 3, orderId: 'ORD-3202', field: 'payment_id' }),
    ]);
  });

  it.each([
    [
      'an XML DOCTYPE with entities',
      '<?xml version="1.0"?><!DOCTYPE o [<!ENTITY x SYSTEM "file:///etc/passwd">]><orders>&x;</orders>',
      'application/xml',
      422,
    ],
    ['a file that is not UTF-8', Buffer.from([0xff, 0xfe, 0x6f, 0x00]), 'text/csv', 422],
    ['a body over the upload limit', `${HEADER}\n${'x'.repeat(70 * 1024)}`, 'text/csv', 413],
    ['an unsupported media type', '{}', 'application/json', 415],
  ])('refuses %s and stages nothing', async (_what, body, type, status) => {
    const before = await stack.database.db('uploads').count({ n: '*' });
    const response = await upload(body, type);
    expect(response.status).toBe(status);
    expect(response.body.type).toBeDefined();
    expect(await stack.database.db('uploads').count({ n: '*' })).toEqual(before);
  });

  it('makes an imported PENDING order a live order that takes payments (from an operator)', async () => {
    const response = await fetch(`${stack.api.baseUrl}/orders/ORD-1002/payments?wait=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...operator() },
      body: JSON.stringify({
        amount: '150.00',
        method: { type: 'card', number: '4242424242424242', expMonth: 12, expYear: 2099, cvc: '123' },
      }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: 'COMPLETED',
      order: { status: 'COMPLETED', amountPaid: '250.00' },
    });
  });

  it('answers 404 for an unknown upload', async () => {
    expect((await fetch(`${stack.api.baseUrl}/uploads/nope`, { headers: operator() })).status).toBe(404);
  });

  it.each(['csv', 'xml'])(
    'round-trips: a %s export uploaded into an empty database exports identically',
    async (format) => {
      const pay = (orderId: string, amount: string, number: string) =>
        fetch(`${stack.api.baseUrl}/orders/${orderId}/payments?wait=true`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...stack.api.headers('alice') },
          body: JSON.stringify({
            amount,
            method: { type: 'card', number, expMonth: 12, expYear: 2099, cvc: '123' },
          }),
        });
      const create = (body: object) =>
        fetch(`${stack.api.baseUrl}/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...stack.api.headers('alice') },
          body: JSON.stringify(body),
        });
      const suffix = format.toUpperCase();
      await create({
        orderId: `RT-${suffix}-1`,
        amount: '30.00',
        currency: 'USD',
        customer: { email: '=cmd@example.com' },
      });
      await pay(`RT-${suffix}-1`, '10.00', '4000000000000002');
      await pay(`RT-${suffix}-1`, '30.00', '5555555555554444');
      await create({ orderId: `RT-${suffix}-2`, amount: '1000', currency: 'JPY' });
      await pay(`RT-${suffix}-2`, '400', '378282246310005');

      const exportAll = async () =>
        (await fetch(`${stack.api.baseUrl}/exports/orders?format=${format}`, { headers: operator() })).text();
      const before = await exportAll();
      expect(before).toContain(`RT-${suffix}-1`);
      for (const pan of ['5555555555554444', '378282246310005', '4000000000000002'])
        expect(before).not.toContain(pan);

      await stack.database.db('payments').delete();
      await stack.database.db('orders').delete();
      await stack.database.db('uploads').delete();
      const accepted = await upload(before, format === 'csv' ? 'text/csv' : 'application/xml');
      const view = await finished(accepted.body.uploadId);
      expect(view).toMatchObject({ status: 'COMPLETED', rowsRejected: 0 });

      // Same lines; within an order, payments may come back in another order (the file has no payment times).
      const lines = (text: string) => text.split('\n').sort();
      expect(lines(await exportAll())).toEqual(lines(before));
    },
  );
});
