import fs from 'node:fs';
import path from 'node:path';
import type { ImportOrder } from '../../src/domain/uploads/rows';
import { readCsvRows } from '../../src/api/uploads/csv-rows';
import { validateRows } from '../../src/domain/uploads/group-orders';
import { readXmlRows } from '../../src/api/uploads/xml-rows';
import { collect, FIXTURES } from './helpers';

const open = (name: string) => fs.createReadStream(path.join(FIXTURES, name));

/** The sample's ORD-2001..2004 as the issue describes them. */
const XML_ORDERS: ImportOrder[] = [
  {
    orderId: 'ORD-2001',
    amount: 12000,
    currency: 'USD',
    status: 'COMPLETED',
    createdAt: '2026-03-01T09:15:00.000Z',
    customerEmail: 'ana@example.com',
    payments: [
      {
        paymentId: 'PAY-2001-1',
        amount: 12000,
        status: 'COMPLETED',
        method: 'CARD',
        cardNumber: '4242424242424242',
      },
    ],
  },
  {
    orderId: 'ORD-2002',
    amount: 25000,
    currency: 'USD',
    status: 'PENDING',
    createdAt: '2026-03-01T10:00:00.000Z',
    customerEmail: 'bo@example.com',
    payments: [
      {
        paymentId: 'PAY-2002-1',
        amount: 10000,
        status: 'COMPLETED',
        method: 'CARD',
        cardNumber: '5555555555554444',
      },
      {
        paymentId: 'PAY-2002-2',
        amount: 15000,
        status: 'FAILED',
        method: 'CARD',
        cardNumber: '4000000000000002',
      },
    ],
  },
  {
    orderId: 'ORD-2003',
    amount: 8050,
    currency: 'EUR',
    status: 'PENDING',
    createdAt: '2026-03-02T08:30:00.000Z',
    customerEmail: 'chen@example.com',
    payments: [],
  },
  {
    orderId: 'ORD-2004',
    amount: 199999,
    currency: 'USD',
    status: 'COMPLETED',
    createdAt: '2026-03-02T12:00:00.000Z',
    customerEmail: 'dee@example.com',
    payments: [
      { paymentId: 'PAY-2004-1', amount: 99999, status: 'COMPLETED', method: 'BANK_TRANSFER' },
      {
        paymentId: 'PAY-2004-2',
        amount: 100000,
        status: 'COMPLETED',
        method: 'CARD',
        cardNumber: '378282246310005',
      },
    ],
  },
];

/** ORD-1xxx / PAY-1xxx-n in the CSV are ORD-2xxx / PAY-2xxx-n in the XML. */
function asXmlIds(order: ImportOrder): ImportOrder {
  return JSON.parse(JSON.stringify(order).replace(/"(ORD|PAY)-1(\d{3})/g, '"$1-2$2')) as ImportOrder;
}

describe('the sample files', () => {
  it('the XML sample is the four orders it describes', async () => {
    expect(validateRows(await collect(readXmlRows(open('orders-sample.xml'))))).toEqual({
      orders: XML_ORDERS,
      errors: [],
    });
  });

  it('the CSV sample holds the same orders with other ids, and ORD-1005 with a quoted comma', async () => {
    const { orders, errors } = validateRows(await collect(readCsvRows(open('orders-sample.csv'))));
    expect(errors).toEqual([]);
    expect(orders.map((order) => order.orderId)).toEqual([
      'ORD-1001',
      'ORD-1002',
      'ORD-1003',
      'ORD-1004',
      'ORD-1005',
    ]);
    expect(orders.slice(0, 4).map(asXmlIds)).toEqual(XML_ORDERS);
    expect(orders[4]).toEqual({
      orderId: 'ORD-1005',
      amount: 1500,
      currency: 'GBP',
      status: 'PENDING',
      createdAt: '2026-03-03T16:45:00.000Z',
      customerEmail: 'eve, jr@example.com',
      payments: [
        {
          paymentId: 'PAY-1005-1',
          amount: 500,
          status: 'PENDING',
          method: 'CARD',
          cardNumber: '4242424242424242',
        },
      ],
    });
  });
});
