/**
 * GET /exports/orders against the real API and MariaDB. Temporal is never called by an export, so the
 * API gets a lazy connection to nowhere.
 */
import type { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Connection } from '@temporalio/client';
import { SaxesParser } from 'saxes';
import {
  EXPORT_BATCH_ROWS,
  formatOrders,
  openOrderExport,
  readOrderBatches,
  type ClearBatch,
  type ExportProgress,
} from '../../src/api/exports/export-stream';
import type { FieldCipher } from '../../src/crypto/field-cipher';
import { FieldCipherThread } from '../../src/crypto/field-cipher-thread';
import type { Db } from '../../src/db/knex';
import {
  insertOrder,
  insertPayment,
  newCardPaymentRow,
  newOrderRow,
  ORDERS,
  PAYMENTS,
  type PaymentRow,
} from '../../src/db/orders';
import { createLogger } from '../../src/logging/logger';
import type { OrderStatus, PaymentStatus } from '../../src/domain/orders/order-state';
import { startTestApi, type TestApi } from '../support/api';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { testCipher, testFingerprinter } from '../support/orders';

// A full collection on demand, to tell memory the export holds from garbage not yet collected.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const HEADER =
  'order_id,order_amount,currency,order_status,created_at,customer_email,payment_id,payment_amount,' +
  'payment_status,payment_method,card_brand,card_last4';

interface Fixture {
  database: TestDatabase;
  connection: Connection;
  cipher: FieldCipher;
  api: TestApi;
}

async function startFixture(): Promise<Fixture> {
  const database = await createTestDatabase();
  const connection = Connection.lazy({ address: '127.0.0.1:1', interceptors: [] });
  const cipher = testCipher();
  const api = await startTestApi({ db: database.db, connection, cipher });
  return { database, connection, cipher, api };
}

async function stopFixture(fixture: Fixture | undefined): Promise<void> {
  await fixture?.api.close();
  await fixture?.connection.close();
  await fixture?.database.drop();
}

async function seedOrder(
  db: Db,
  cipher: FieldCipher,
  order: {
    orderId: string;
    amount: number;
    currency: string;
    status: OrderStatus;
    createdAt: string;
    email?: string;
  },
): Promise<void> {
  const row = newOrderRow(
    {
      orderId: order.orderId,
      amount: order.amount,
      currency: order.currency,
      ...(order.email === undefined ? {} : { customer: { email: order.email } }),
    },
    cipher,
    new Date(order.createdAt),
  );
  await insertOrder(db, { ...row, order_status: order.status });
}

async function seedCardPayment(
  db: Db,
  cipher: FieldCipher,
  payment: {
    paymentId: string;
    orderId: string;
    amount: number;
    currency: string;
    cardNumber: string;
    status: PaymentStatus;
    createdAt: string;
  },
): Promise<void> {
  const row = newCardPaymentRow(payment, cipher, testFingerprinter(), new Date(payment.createdAt));
  await insertPayment(db, { ...row, payment_status: payment.status });
}

/** The API only creates card payments; a bank transfer row is what an upload would write. */
async function seedBankTransfer(
  db: Db,
  payment: { paymentId: string; orderId: string; amount: string; status: PaymentStatus; createdAt: string },
): Promise<void> {
  const at = new Date(payment.createdAt);
  const row: PaymentRow = {
    payment_id: payment.paymentId,
    order_id: payment.orderId,
    payment_amount: payment.amount,
    payment_status: payment.status,
    payment_method: 'BANK_TRANSFER',
    card_brand: null,
    card_last4: null,
    card_number_enc: null,
    card_fingerprint: null,
    card_exp_month: null,
    card_exp_year: null,
    card_cvc_enc: null,
    failure_reason: null,
    idempotency_key: null,
    request_hash: null,
    created_at: at,
    updated_at: at,
  };
  await db(PAYMENTS).insert(row);
}

const problemOf = async (response: Response) => ({
  status: response.status,
  type: response.headers.get('content-type'),
  disposition: response.headers.get('content-disposition'),
  body: (await response.json()) as Record<string, unknown>,
});

// ---------------------------------------------------------------------------------------------------------

/** Polls a condition up to a deadline (a hang guard, not a timing assertion). */
async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('GET /exports/orders on a small known data set', () => {
  let fixture: Fixture;
  const PANS = {
    visa: '4242424242424242',
    mastercard: '5555555555554444',
    declined: '4000000000000002',
    amex: '378282246310005',
    jcb: '3530111333300000',
  };
  const EVE = '+eve, "jr" <e&v>@example.com';
  const DEE = '-dee\n@example.com';

  beforeAll(async () => {
    fixture = await startFixture();
    const { db } = fixture.database;
    const { cipher } = fixture;
    await seedOrder(db, cipher, {
      orderId: 'ORD-A1',
      amount: 12000,
      currency: 'USD',
      status: 'COMPLETED',
      createdAt: '2026-03-01T09:15:00Z',
      email: 'ana@example.com',
    });
    await seedCardPayment(db, cipher, {
      paymentId: 'PAY-A1-1',
      orderId: 'ORD-A1',
      amount: 12000,
      currency: 'USD',
      cardNumber: PANS.visa,
      status: 'COMPLETED',
      createdAt: '2026-03-01T09:16:00Z',
    });
    await seedOrder(db, cipher, {
      orderId: 'ORD-A2',
      amount: 25000,
      currency: 'USD',
      status: 'PENDING',
      createdAt: '2026-03-01T10:00:00.250Z',
      email: '=1+1@example.com',
    });
    // Inserted out of time order: payments are listed oldest first.
    await seedCardPayment(db, cipher, {
      paymentId: 'PAY-A2-1',
      orderId: 'ORD-A2',
      amount: 15000,
      currency: 'USD',
      cardNumber: PANS.declined,
      status: 'FAILED',
      createdAt: '2026-03-01T10:02:00Z',
    });
    await seedCardPayment(db, cipher, {
      paymentId: 'PAY-A2-2',
      orderId: 'ORD-A2',
      amount: 10000,
      currency: 'USD',
      cardNumber: PANS.mastercard,
      status: 'COMPLETED',
      createdAt: '2026-03-01T10:01:00Z',
    });
    await seedOrder(db, cipher, {
      orderId: 'ORD-A3',
      amount: 8050,
      currency: 'EUR',
      status: 'PENDING',
      createdAt: '2026-03-02T08:30:00Z',
      email: EVE,
    });
    await seedOrder(db, cipher, {
      orderId: 'ORD-A4',
      amount: 199999,
      currency: 'USD',
      status: 'COMPLETED',
      createdAt: '2026-03-02T12:00:00Z',
      email: DEE,
    });
    await seedBankTransfer(db, {
      paymentId: 'PAY-A4-1',
      orderId: 'ORD-A4',
      amount: '999.9900',
      status: 'COMPLETED',
      createdAt: '2026-03-02T12:01:00Z',
    });
    await seedCardPayment(db, cipher, {
      paymentId: 'PAY-A4-2',
      orderId: 'ORD-A4',
      amount: 100000,
      currency: 'USD',
      cardNumber: PANS.amex,
      status: 'COMPLETED',
      createdAt: '2026-03-02T12:02:00Z',
    });
    await seedOrder(db, cipher, {
      orderId: 'ORD-A5',
      amount: 1000,
      currency: 'JPY',
      status: 'CANCELLED',
      createdAt: '2026-03-03T16:45:00Z',
      email: 'zoë@例え.jp',
    });
    await seedCardPayment(db, cipher, {
      paymentId: 'PAY-A5-1',
      orderId: 'ORD-A5',
      amount: 1000,
      currency: 'JPY',
      cardNumber: PANS.jcb,
      status: 'FAILED',
      createdAt: '2026-03-03T16:46:00Z',
    });
    await seedOrder(db, cipher, {
      orderId: 'ORD-A6',
      amount: 1500,
      currency: 'GBP',
      status: 'EXPIRED',
      createdAt: '2026-03-04T00:00:00Z',
    });
  });

  afterAll(async () => {
    await stopFixture(fixture);
  });

  const get = (query: string) =>
    fetch(`${fixture.api.baseUrl}/exports/orders${query}`, { headers: fixture.api.headers('operator') });

  const CSV_ROWS = {
    A1: 'ORD-A1,120.00,USD,COMPLETED,2026-03-01T09:15:00.000Z,ana@example.com,PAY-A1-1,120.00,COMPLETED,CARD,visa,4242',
    A2a:
      "ORD-A2,250.00,USD,PENDING,2026-03-01T10:00:00.250Z,'=1+1@example.com," +
      'PAY-A2-2,100.00,COMPLETED,CARD,mastercard,4444',
    A2b: "ORD-A2,250.00,USD,PENDING,2026-03-01T10:00:00.250Z,'=1+1@example.com,PAY-A2-1,150.00,FAILED,CARD,visa,0002",
    A3: `ORD-A3,80.50,EUR,PENDING,2026-03-02T08:30:00.000Z,"'+eve, ""jr"" <e&v>@example.com",,,,,,`,
    A4a: `ORD-A4,1999.99,USD,COMPLETED,2026-03-02T12:00:00.000Z,"'-dee\n@example.com",PAY-A4-1,999.99,COMPLETED,BANK_TRANSFER,,`,
    A4b: `ORD-A4,1999.99,USD,COMPLETED,2026-03-02T12:00:00.000Z,"'-dee\n@example.com",PAY-A4-2,1000.00,COMPLETED,CARD,amex,0005`,
    A5: 'ORD-A5,1000,JPY,CANCELLED,2026-03-03T16:45:00.000Z,zoë@例え.jp,PAY-A5-1,1000,FAILED,CARD,jcb,0000',
    A6: 'ORD-A6,15.00,GBP,EXPIRED,2026-03-04T00:00:00.000Z,,,,,,,',
  };
  const csv = (...rows: string[]) => [HEADER, ...rows].map((row) => `${row}\n`).join('');

  const XML_ORDERS = {
    A1:
      '  <order id="ORD-A1" amount="120.00" currency="USD" status="COMPLETED" createdAt="2026-03-01T09:15:00.000Z">\n' +
      '    <customer email="ana@example.com"/>\n' +
      '    <payment id="PAY-A1-1" amount="120.00" status="COMPLETED" method="CARD" cardBrand="visa" cardLast4="4242"/>\n' +
      '  </order>\n',
    A2:
      '  <order id="ORD-A2" amount="250.00" currency="USD" status="PENDING" createdAt="2026-03-01T10:00:00.250Z">\n' +
      '    <customer email="=1+1@example.com"/>\n' +
      '    <payment id="PAY-A2-2" amount="100.00" status="COMPLETED" method="CARD" cardBrand="mastercard" cardLast4="4444"/>\n' +
      '    <payment id="PAY-A2-1" amount="150.00" status="FAILED" method="CARD" cardBrand="visa" cardLast4="0002"/>\n' +
      '  </order>\n',
    A3:
      '  <order id="ORD-A3" amount="80.50" currency="EUR" status="PENDING" createdAt="2026-03-02T08:30:00.000Z">\n' +
      '    <customer email="+eve, &quot;jr&quot; &lt;e&amp;v&gt;@example.com"/>\n' +
      '  </order>\n',
    A4:
      '  <order id="ORD-A4" amount="1999.99" currency="USD" status="COMPLETED" createdAt="2026-03-02T12:00:00.000Z">\n' +
      '    <customer email="-dee&#10;@example.com"/>\n' +
      '    <payment id="PAY-A4-1" amount="999.99" status="COMPLETED" method="BANK_TRANSFER"/>\n' +
      '    <payment id="PAY-A4-2" amount="1000.00" status="COMPLETED" method="CARD" cardBrand="amex" cardLast4="0005"/>\n' +
      '  </order>\n',
    A5:
      '  <order id="ORD-A5" amount="1000" currency="JPY" status="CANCELLED" createdAt="2026-03-03T16:45:00.000Z">\n' +
      '    <customer email="zoë@例え.jp"/>\n' +
      '    <payment id="PAY-A5-1" amount="1000" status="FAILED" method="CARD" cardBrand="jcb" cardLast4="0000"/>\n' +
      '  </order>\n',
    A6:
      '  <order id="ORD-A6" amount="15.00" currency="GBP" status="EXPIRED" createdAt="2026-03-04T00:00:00.000Z">\n' +
      '    <customer/>\n' +
      '  </order>\n',
  };
  const xml = (...orders: string[]) =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<orders>\n${orders.join('')}</orders>\n`;

  it('exports CSV exactly: one row per payment, neutralised and quoted cells, LF, no BOM', async () => {
    const response = await get('?format=csv');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toMatch(
      /^attachment; filename="orders-\d{8}T\d{6}Z\.csv"$/,
    );
    expect(response.headers.get('cache-control')).toBe('no-store');
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(false);
    expect(bytes.toString('utf8')).toBe(
      csv(
        CSV_ROWS.A1,
        CSV_ROWS.A2a,
        CSV_ROWS.A2b,
        CSV_ROWS.A3,
        CSV_ROWS.A4a,
        CSV_ROWS.A4b,
        CSV_ROWS.A5,
        CSV_ROWS.A6,
      ),
    );
    expect(bytes.includes('\r')).toBe(false);
  });

  it('exports well-formed XML exactly, with escaped attributes and no neutralisation', async () => {
    const response = await get('?format=xml');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/xml; charset=utf-8');
    expect(response.headers.get('content-disposition')).toMatch(
      /^attachment; filename="orders-\d{8}T\d{6}Z\.xml"$/,
    );
    const text = await response.text();
    expect(text).toBe(
      xml(XML_ORDERS.A1, XML_ORDERS.A2, XML_ORDERS.A3, XML_ORDERS.A4, XML_ORDERS.A5, XML_ORDERS.A6),
    );

    // An XML parser reads the emails back exactly as stored.
    const emails: string[] = [];
    const parser = new SaxesParser();
    parser.on('error', (error) => {
      throw error;
    });
    parser.on('opentag', (tag) => {
      if (tag.name === 'customer' && typeof tag.attributes.email === 'string')
        emails.push(tag.attributes.email);
    });
    parser.write(text).close();
    expect(emails).toEqual(['ana@example.com', '=1+1@example.com', EVE, DEE, 'zoë@例え.jp']);
  });

  it('never exports a card number or a ciphertext', async () => {
    for (const format of ['csv', 'xml']) {
      const text = await (await get(`?format=${format}`)).text();
      for (const pan of Object.values(PANS)) expect(text).not.toContain(pan);
      expect(text).not.toMatch(/v1:test1:/);
    }
  });

  it.each([
    ['?format=csv&status=PENDING', [CSV_ROWS.A2a, CSV_ROWS.A2b, CSV_ROWS.A3]],
    ['?format=csv&status=EXPIRED', [CSV_ROWS.A6]],
    ['?format=csv&status=CANCELLED&to=2026-03-03T16:45:00Z', []],
    // from is inclusive, to exclusive, both to the millisecond.
    [
      '?format=csv&from=2026-03-01T10:00:00.250Z&to=2026-03-02T12:00:00Z',
      [CSV_ROWS.A2a, CSV_ROWS.A2b, CSV_ROWS.A3],
    ],
    ['?format=csv&to=2026-03-01T10:00:00.250Z', [CSV_ROWS.A1]],
    // Digits below the millisecond round up.
    ['?format=csv&to=2026-03-01T10:00:00.2501Z', [CSV_ROWS.A1, CSV_ROWS.A2a, CSV_ROWS.A2b]],
    ['?format=csv&from=2026-03-01T10:00:00.2500001Z&to=2026-03-02T12:00:00Z', [CSV_ROWS.A3]],
    // A UTC offset, "+" encoded.
    ['?format=csv&from=2026-03-02T13:00%2B01:00', [CSV_ROWS.A4a, CSV_ROWS.A4b, CSV_ROWS.A5, CSV_ROWS.A6]],
    ['?format=csv&from=2026-03-03T11:45:00-05:00&status=CANCELLED', [CSV_ROWS.A5]],
  ])('filters: %s', async (query, rows) => {
    const response = await get(query);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(csv(...rows));
  });

  it('filters XML the same way, and an empty XML export is still a document', async () => {
    expect(await (await get('?format=xml&status=PENDING')).text()).toBe(xml(XML_ORDERS.A2, XML_ORDERS.A3));
    expect(await (await get('?format=xml&from=2030-01-01T00:00:00Z')).text()).toBe(xml());
  });

  it.each([
    ['', /^format is required/],
    ['?format=json', /^format is required and must be one of csv, xml$/],
    ['?format=CSV', /^format is required/],
    ['?format=csv&format=xml', /^format must be given at most once$/],
    ['?format=csv&status=paid', /^status must be one of PENDING, COMPLETED, CANCELLED, EXPIRED$/],
    ['?format=csv&status=', /^status must be one of/],
    ['?format=csv&status=PENDING&status=EXPIRED', /^status must be given at most once$/],
    ['?format=csv&from=yesterday', /^from must be an ISO 8601 date-time with a time zone/],
    ['?format=csv&from=', /^from must be an ISO 8601 date-time/],
    ['?format=csv&from=2026-03-01', /^from must be an ISO 8601 date-time/],
    ['?format=csv&to=2026-03-01T00:00:00', /^to must be an ISO 8601 date-time with a time zone/],
    ['?format=csv&from=2026-02-29T00:00:00Z', /^from must be a valid date and time/],
    ['?format=csv&from=2026-03-01T24:00:00Z', /^from must be a valid date and time/],
    ['?format=csv&from=0099-03-01T00:00:00Z', /^from must be within the years 1000 to 9999/],
    ['?format=csv&from=2026-03-01T00:00:00+01:00', /encode "\+" in a UTC offset as %2B$/],
    ['?format=csv&from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z', /^from must be earlier than to$/],
    [
      '?format=csv&from=2026-03-01T00:00:00Z&to=2026-03-01T01:00:00%2B01:00',
      /^from must be earlier than to$/,
    ],
    ['?format=csv&limit=10', /^unknown query parameter limit$/],
    ['?format=csv&cursor=x&sort=asc', /^unknown query parameter cursor, sort$/],
  ])('refuses %j with 400 problem details before streaming', async (query, detail) => {
    const problem = await problemOf(await get(query));
    expect(problem).toMatchObject({
      status: 400,
      type: 'application/problem+json',
      disposition: null,
      body: { status: 400, title: 'Bad Request', instance: '/exports/orders' },
    });
    expect(problem.body.detail).toMatch(detail);
  });

  it.each([
    [
      'a ciphertext moved from another row',
      (_own: string, other: string) => other,
      'does not authenticate for orders.customer_email_enc of row ORD-A1',
    ],
    [
      'a tampered ciphertext',
      (own: string) => `${own.slice(0, -4)}${own.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`,
      'does not authenticate for orders.customer_email_enc of row ORD-A1',
    ],
    [
      'a value sealed under an unknown key',
      (own: string) => own.replace(/^v1:[^:]+:/, 'v1:retired-key:'),
      'no key "retired-key" in the key ring',
    ],
  ])(
    'answers 500 problem details naming the order and the reason when the first rows hold %s',
    async (_what, plant, reason) => {
      const { db } = fixture.database;
      const [a1, a2] = await db(ORDERS)
        .whereIn('order_id', ['ORD-A1', 'ORD-A2'])
        .orderBy('order_id')
        .select('customer_email_enc');
      await db(ORDERS)
        .where({ order_id: 'ORD-A1' })
        .update({ customer_email_enc: plant(a1.customer_email_enc, a2.customer_email_enc) });
      try {
        const problem = await problemOf(await get('?format=csv'));
        expect(problem).toMatchObject({
          status: 500,
          type: 'application/problem+json',
          disposition: null,
          body: { orderId: 'ORD-A1' },
        });
        expect(problem.body.detail).toContain('order ORD-A1: its customer email does not decrypt');
        expect(problem.body.detail).toContain(reason);
        const logged = fixture.api.logLines.join('\n');
        expect(logged).toContain('export failed before its first byte');
        expect(logged).toContain(reason.replace(/"/g, '\\"'));
        expect(logged).not.toContain('example.com');
      } finally {
        await db(ORDERS).where({ order_id: 'ORD-A1' }).update({ customer_email_enc: a1.customer_email_enc });
      }
    },
  );

  it('answers 500, not 422, when a stored amount is more precise than its currency', async () => {
    const { db } = fixture.database;
    const row = newOrderRow({ orderId: 'ORD-A0', amount: 100, currency: 'USD' }, fixture.cipher, new Date());
    await insertOrder(db, { ...row, order_amount: '1.2345' });
    try {
      const problem = await problemOf(await get('?format=csv'));
      expect(problem).toMatchObject({ status: 500, type: 'application/problem+json', disposition: null });
      expect(fixture.api.logLines.join('\n')).toContain('export failed: database amount \\"1.2345\\"');
    } finally {
      await db(ORDERS).where({ order_id: 'ORD-A0' }).delete();
    }
  });

  it('refuses to write an email XML 1.0 cannot hold, naming the order but not the value', async () => {
    const { db } = fixture.database;
    const { cipher } = fixture;
    await seedOrder(db, cipher, {
      orderId: 'ORD-A0',
      amount: 100,
      currency: 'USD',
      status: 'PENDING',
      createdAt: '2026-03-01T00:00:00Z',
      email: 'bell\u0007@example.com',
    });
    try {
      const problem = await problemOf(await get('?format=xml'));
      expect(problem).toMatchObject({ status: 500, type: 'application/problem+json' });
      const logged = fixture.api.logLines.join('\n');
      expect(logged).toContain('order ORD-A0: email holds a character XML 1.0 cannot represent');
      expect(logged).not.toContain('bell');
      // CSV carries any text.
      const text = await (await get('?format=csv&to=2026-03-01T09:00:00Z')).text();
      expect(text).toBe(csv('ORD-A0,1.00,USD,PENDING,2026-03-01T00:00:00.000Z,bell\u0007@example.com,,,,,,'));
    } finally {
      await db(ORDERS).where({ order_id: 'ORD-A0' }).delete();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('GET /exports/orders on 20,000 orders', () => {
  const ORDER_COUNT = 20_000;
  const PANS = ['4242424242424242', '5555555555554444', '378282246310005'];
  const orderId = (i: number) => `BULK-${String(i).padStart(5, '0')}`;
  /** Every 10th order has no payment, every 3rd of the others two. */
  const paymentsOf = (i: number) => (i % 10 === 0 ? 0 : i % 3 === 0 ? 2 : 1);
  let expectedRows = 0;
  let fixture: Fixture;

  beforeAll(async () => {
    fixture = await startFixture();
    const { db } = fixture.database;
    const { cipher } = fixture;
    const fingerprinter = testFingerprinter();
    const created = Date.UTC(2026, 0, 1);
    for (let start = 0; start < ORDER_COUNT; start += 1000) {
      const orders = [];
      const payments: PaymentRow[] = [];
      for (let i = start; i < start + 1000; i++) {
        const at = new Date(created + i * 1000);
        const row = newOrderRow(
          {
            orderId: orderId(i),
            amount: 1000 + i,
            currency: 'USD',
            customer: { email: i % 1000 === 7 ? `=cmd|' /C calc'!A0@example.com` : `user${i}@example.com` },
          },
          cipher,
          at,
        );
        orders.push({ ...row, amount_paid: '0' });
        for (let p = 1; p <= paymentsOf(i); p++) {
          payments.push(
            newCardPaymentRow(
              {
                paymentId: `${orderId(i)}-${p}`,
                orderId: orderId(i),
                amount: 500,
                currency: 'USD',
                cardNumber: PANS[(i + p) % PANS.length]!,
              },
              cipher,
              fingerprinter,
              at,
            ),
          );
        }
        expectedRows += Math.max(paymentsOf(i), 1);
      }
      await db(ORDERS).insert(orders);
      await db(PAYMENTS).insert(payments);
    }
  });

  afterAll(async () => {
    await stopFixture(fixture);
  });

  /** Reads a response body line by line without keeping it, so the client adds no memory of its own. */
  async function forEachLine(response: Response, onLine: (line: string) => void): Promise<number> {
    const decoder = new TextDecoder();
    let carry = '';
    let bytes = 0;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.byteLength;
      const lines = (carry + decoder.decode(chunk, { stream: true })).split('\n');
      carry = lines.pop()!;
      for (const line of lines) onLine(line);
    }
    expect(carry + decoder.decode()).toBe('');
    return bytes;
  }

  it('streams the whole CSV, in order, with one row per payment, in bounded memory', async () => {
    collectGarbage();
    const before = process.memoryUsage();
    let peakHeap = before.heapUsed;
    let peakRss = before.rss;
    let peakRetained = 0;
    let gcMs = 0;
    const started = performance.now();
    const response = await fetch(`${fixture.api.baseUrl}/exports/orders?format=csv`, {
      headers: fixture.api.headers('operator'),
    });
    expect(response.status).toBe(200);

    let rows = -1;
    let orders = 0;
    let previous = '';
    let neutralised = 0;
    const bytes = await forEachLine(response, (line) => {
      rows++;
      if (rows === 0) {
        expect(line).toBe(HEADER);
        return;
      }
      if (rows % 500 === 0) {
        const usage = process.memoryUsage();
        peakHeap = Math.max(peakHeap, usage.heapUsed);
        peakRss = Math.max(peakRss, usage.rss);
      }
      if (rows % 5000 === 0) {
        const gcStarted = performance.now();
        collectGarbage();
        gcMs += performance.now() - gcStarted;
        peakRetained = Math.max(peakRetained, process.memoryUsage().heapUsed - before.heapUsed);
      }
      const id = line.slice(0, line.indexOf(','));
      if (id !== previous) {
        expect(id).toBe(orderId(orders));
        orders++;
        previous = id;
      }
      if (line.includes(",'=cmd|' /C calc'!A0@example.com,")) neutralised++;
      for (const pan of PANS) if (line.includes(pan)) throw new Error(`card number in row ${rows}`);
    });
    const seconds = (performance.now() - started - gcMs) / 1000;

    expect(orders).toBe(ORDER_COUNT);
    expect(rows).toBe(expectedRows);
    expect(neutralised).toBeGreaterThanOrEqual(ORDER_COUNT / 1000);
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    // Reported, not asserted: timing and heap depend on the machine and on when GC runs. Server and
    // client share this process, so the numbers cover both.
    process.stderr.write(
      `[exports] ${rows} rows (${orders} orders, ${mb(bytes)} MB) in ${seconds.toFixed(2)} s = ` +
        `${Math.round(rows / seconds)} rows/s; over the start: peak heap +${mb(peakHeap - before.heapUsed)} MB ` +
        `(garbage included), heap after full GC mid-stream +${mb(peakRetained)} MB, ` +
        `peak RSS +${mb(peakRss - before.rss)} MB\n`,
    );
  });

  it('streams the whole XML document', async () => {
    const response = await fetch(`${fixture.api.baseUrl}/exports/orders?format=xml`, {
      headers: fixture.api.headers('operator'),
    });
    let orders = 0;
    let payments = 0;
    let last = '';
    await forEachLine(response, (line) => {
      if (line.startsWith('  <order ')) orders++;
      else if (line.startsWith('    <payment ')) payments++;
      last = line;
    });
    expect(last).toBe('</orders>');
    expect(orders + payments).toBe(ORDER_COUNT + expectedRows - ORDER_COUNT / 10);
    expect(orders).toBe(ORDER_COUNT);
  });

  /** A cipher thread for the test's body, closed after it. */
  async function withCipherThread<T>(use: (thread: FieldCipherThread) => Promise<T>): Promise<T> {
    const thread = new FieldCipherThread(fixture.cipher);
    try {
      return await use(thread);
    } finally {
      await thread.close();
    }
  }

  /** Rows of a batch as written: one per payment, or one for an order without any. */
  const rowsOf = (batch: ClearBatch) =>
    batch.orders.reduce(
      (sum, order) => sum + Math.max(batch.payments.get(order.order_id)?.length ?? 0, 1),
      0,
    );

  it('hands the formatter one batch of whole orders at a time, each of at most a batch of rows', async () => {
    const { db } = fixture.database;
    const progress: ExportProgress = { orders: 0, rows: 0 };
    let fetched = 0;
    let largest = 0;
    await withCipherThread(async (thread) => {
      async function* instrumented(): AsyncGenerator<ClearBatch> {
        for await (const batch of readOrderBatches(db, {}, thread)) {
          // Every order of the batches before this one has been written out.
          expect(progress.orders).toBe(fetched);
          fetched += batch.orders.length;
          largest = Math.max(largest, rowsOf(batch));
          yield batch;
        }
      }
      let chunks = 0;
      for await (const _ of formatOrders(instrumented(), 'csv', progress)) chunks++;
      expect(chunks).toBeGreaterThan(expectedRows / EXPORT_BATCH_ROWS);
    });
    expect(fetched).toBe(ORDER_COUNT);
    // Full batches give back the order the limit cut into (at most 2 rows here) to the next batch.
    expect(largest).toBeLessThanOrEqual(EXPORT_BATCH_ROWS);
    expect(largest).toBeGreaterThanOrEqual(EXPORT_BATCH_ROWS - 2);
    expect(progress).toEqual({ orders: ORDER_COUNT, rows: expectedRows });
  });

  it('never splits an order between batches, and reads one with more payments than a batch holds alone', async () => {
    const { db } = fixture.database;
    // Orders 100 to 159: a tenth without payments, a third of the rest with two.
    const filter = {
      from: new Date(Date.UTC(2026, 0, 1) + 100_000),
      to: new Date(Date.UTC(2026, 0, 1) + 160_000),
    };
    const read = (batchRows: number) =>
      withCipherThread(async (thread) => {
        const batches: ClearBatch[] = [];
        for await (const batch of readOrderBatches(db, filter, thread, batchRows)) batches.push(batch);
        return batches;
      });
    const whole = await read(EXPORT_BATCH_ROWS);
    expect(whole).toHaveLength(1);
    const [all] = whole;
    expect(all!.orders.map((order) => order.order_id)).toEqual(
      Array.from({ length: 60 }, (_, i) => orderId(100 + i)),
    );
    for (const batchRows of [1, 2, 3]) {
      const batches = await read(batchRows);
      expect(batches.flatMap((batch) => batch.orders)).toEqual(all!.orders);
      for (const batch of batches) {
        for (const order of batch.orders) {
          expect(batch.payments.get(order.order_id)).toEqual(all!.payments.get(order.order_id));
        }
        // One row over the limit only when a single order holds more payments than it.
        if (rowsOf(batch) > batchRows) expect(batch.orders).toHaveLength(1);
      }
    }
    // Each order's payments oldest first, then by id.
    expect(all!.payments.get(orderId(102))!.map((payment) => payment.payment_id)).toEqual([
      `${orderId(102)}-1`,
      `${orderId(102)}-2`,
    ]);
  });

  it('reads and decrypts ahead of the reader, and no further: a paused reader stops the database reads', async () => {
    const { db } = fixture.database;
    let orderQueries = 0;
    const countOrderQueries = (query: { sql: string }) => {
      if (/^select .* from `orders`/i.test(query.sql)) orderQueries++;
    };
    db.on('query', countOrderQueries);
    try {
      await withCipherThread(async (thread) => {
        const lines: string[] = [];
        const logger = createLogger({}, { write: (line) => lines.push(line) });
        const stream: Readable = await openOrderExport({
          batches: readOrderBatches(db, {}, thread),
          format: 'csv',
          logger,
        });
        const reader = stream[Symbol.asyncIterator]();
        await reader.next();
        // The stream's buffer takes the rest of the first batch (1000 rows, about 70 KB) and the start of the
        // second, and then the reads stop: the batch being written, one decrypted and one read ahead of it.
        await until(() => stream.readableLength >= stream.readableHighWaterMark && orderQueries >= 4);
        expect(orderQueries).toBe(4);
        // Abandoning the stream ends the reads.
        await reader.return!();
        await until(() => lines.join('\n').includes('export abandoned by the client'));
        expect(orderQueries).toBe(4);
        expect(lines.join('\n')).toContain('export abandoned by the client');
      });
    } finally {
      db.off('query', countOrderQueries);
    }
  });

  it('cuts the transfer off when a row fails to decrypt mid-stream, and logs it', async () => {
    const { db } = fixture.database;
    const bad = orderId(12_345);
    const [original] = await db(ORDERS).where({ order_id: bad }).select('customer_email_enc');
    const [other] = await db(ORDERS)
      .where({ order_id: orderId(1) })
      .select('customer_email_enc');
    await db(ORDERS).where({ order_id: bad }).update({ customer_email_enc: other.customer_email_enc });
    try {
      const response = await fetch(`${fixture.api.baseUrl}/exports/orders?format=csv`, {
        headers: fixture.api.headers('operator'),
      });
      expect(response.status).toBe(200);
      let rows = 0;
      await expect(
        forEachLine(response, () => {
          rows++;
        }),
      ).rejects.toThrow();
      // Rows up to the batch before the bad order arrived; the file never ended normally.
      expect(rows).toBeGreaterThan(1000);
      const failure = fixture.api.logLines
        .map((line) => JSON.parse(line))
        .find((entry) => entry.msg === 'export failed mid-stream; the response was cut off');
      expect(failure).toMatchObject({
        level: 'error',
        format: 'csv',
        error: {
          name: 'UnreadableOrderError',
          message: `order ${bad}: its customer email does not decrypt: ciphertext does not authenticate for orders.customer_email_enc of row ${bad}`,
        },
      });
      // Orders 0 to 12,344 were formatted; 12,345 failed.
      expect(failure.orders).toBe(12_345);
    } finally {
      await db(ORDERS).where({ order_id: bad }).update({ customer_email_enc: original.customer_email_enc });
    }
  });
});
