import fs from 'node:fs';
import path from 'node:path';
import { emptyFields, type RawFields } from '../../src/domain/uploads/rows';
import { validateRows } from '../../src/domain/uploads/group-orders';
import { MAX_PAYMENTS_PER_ORDER, readXmlRows } from '../../src/api/uploads/xml-rows';
import { chunks, collect, FIXTURES, rejectionOf } from './helpers';

const SAMPLE = fs.readFileSync(path.join(FIXTURES, 'orders-sample.xml'));

const read = (bytes: Uint8Array, chunkSize = 64 * 1024) => collect(readXmlRows(chunks(bytes, chunkSize)));
const readText = (text: string, chunkSize?: number) => read(Buffer.from(text, 'utf8'), chunkSize);
const failureOf = (text: string | Uint8Array, chunkSize?: number) =>
  rejectionOf(read(typeof text === 'string' ? Buffer.from(text, 'utf8') : text, chunkSize));

const ORDER_ATTRIBUTES =
  'id="ORD-1" amount="100.00" currency="USD" status="PENDING" createdAt="2026-03-01T09:15:00Z"';
const ORDER_FIELDS = {
  order_id: 'ORD-1',
  order_amount: '100.00',
  currency: 'USD',
  order_status: 'PENDING',
  created_at: '2026-03-01T09:15:00Z',
  customer_email: 'ana@example.com',
};

function fields(values: Partial<RawFields>): RawFields {
  return { ...emptyFields(), ...values };
}

/** A file with one order holding `body`. */
const oneOrder = (body: string, attributes = ORDER_ATTRIBUTES) =>
  `<orders>\n<order ${attributes}>\n${body}\n</order>\n</orders>\n`;

describe('readXmlRows: the sample file', () => {
  it('reads one row per payment, or per order without payment, with lines of the file', async () => {
    const rows = await read(SAMPLE);
    expect(rows.map((row) => [row.line, row.orderLine, row.fields.order_id, row.fields.payment_id])).toEqual([
      [5, 3, 'ORD-2001', 'PAY-2001-1'],
      [9, 7, 'ORD-2002', 'PAY-2002-1'],
      [10, 7, 'ORD-2002', 'PAY-2002-2'],
      [12, 12, 'ORD-2003', ''],
      [17, 15, 'ORD-2004', 'PAY-2004-1'],
      [18, 15, 'ORD-2004', 'PAY-2004-2'],
    ]);
    expect(rows[0]).toEqual({
      line: 5,
      orderLine: 3,
      isPayment: true,
      fields: {
        order_id: 'ORD-2001',
        order_amount: '120.00',
        currency: 'USD',
        order_status: 'COMPLETED',
        created_at: '2026-03-01T09:15:00Z',
        customer_email: 'ana@example.com',
        payment_id: 'PAY-2001-1',
        payment_amount: '120.00',
        payment_status: 'COMPLETED',
        payment_method: 'CARD',
        card_number: '4242424242424242',
      },
    });
    expect(rows[3]).toEqual({
      line: 12,
      orderLine: 12,
      isPayment: false,
      fields: fields({
        order_id: 'ORD-2003',
        order_amount: '80.50',
        currency: 'EUR',
        order_status: 'PENDING',
        created_at: '2026-03-02T08:30:00Z',
        customer_email: 'chen@example.com',
      }),
    });
  });

  it.each([1, 2, 5, 64])('reads the same rows from chunks of %i bytes', async (size) => {
    expect(await read(SAMPLE, size)).toEqual(await read(SAMPLE));
  });

  it('reads the same rows with a UTF-8 BOM and CRLF or CR line ends', async () => {
    const text = SAMPLE.toString('utf8');
    const lf = await read(SAMPLE);
    expect(await readText(`\uFEFF${text.replace(/\n/g, '\r\n')}`, 3)).toEqual(lf);
    expect(await readText(text.replace(/\n/g, '\r'), 3)).toEqual(lf);
  });

  it('reads a Node file stream', async () => {
    const rows = await collect(readXmlRows(fs.createReadStream(path.join(FIXTURES, 'orders-sample.xml'))));
    expect(rows).toEqual(await read(SAMPLE));
  });
});

describe('readXmlRows: structure', () => {
  it('reports the line where a tag starts, even when its attributes span lines', async () => {
    const rows = await readText(
      '<orders>\n<order\n id="ORD-1"\n>\n<payment\n id="PAY-1"\n/>\n  <payment id="PAY-2"/><payment\tid="PAY-3"\n/></order></orders>',
    );
    expect(rows.map((row) => [row.line, row.orderLine, row.fields.payment_id])).toEqual([
      [5, 2, 'PAY-1'],
      [8, 2, 'PAY-2'],
      [8, 2, 'PAY-3'],
    ]);
  });

  it('takes the customer wherever it is in the order, and decodes entities and character references', async () => {
    const rows = await readText(
      oneOrder(
        '<payment id="PAY-1" amount="1.00" status="COMPLETED" method="CARD"/>\n<customer email="ana&amp;bo&#64;example.com"/>',
      ),
    );
    expect(rows).toEqual([
      {
        line: 3,
        orderLine: 2,
        isPayment: true,
        fields: fields({
          ...ORDER_FIELDS,
          customer_email: 'ana&bo@example.com',
          payment_id: 'PAY-1',
          payment_amount: '1.00',
          payment_status: 'COMPLETED',
          payment_method: 'CARD',
        }),
      },
    ]);
  });

  it('leaves absent attributes empty, so validation names the required ones', async () => {
    const rows = await readText('<orders>\n<order id="ORD-1">\n<payment/>\n</order>\n</orders>');
    expect(rows).toEqual([{ line: 3, orderLine: 2, isPayment: true, fields: fields({ order_id: 'ORD-1' }) }]);
    // No customer email is an order without one.
    expect(validateRows(rows).errors.map((error) => error.reason)).toEqual([
      'order_amount is required',
      'currency is required',
      'order_status is required',
      'created_at is required',
      'payment_id is required',
      'payment_amount is required',
      'payment_status is required',
      'payment_method is required',
    ]);
  });

  it('turns unknown attributes, elements and text into problems that reject only their order', async () => {
    const text = [
      '<orders xmlns="urn:example:orders">',
      `<order ${ORDER_ATTRIBUTES} note="x"><customer email="ana@example.com"/></order>`,
      `<order ${ORDER_ATTRIBUTES.replace('ORD-1', 'ORD-2')}>`,
      '  <customer email="ana@example.com" name="Ana"/>',
      '  <payment id="PAY-2" amount="1.00" status="PENDING" method="CARD" cvc="123"/>',
      '</order>',
      `<order ${ORDER_ATTRIBUTES.replace('ORD-1', 'ORD-3')}>`,
      '  <customer email="ana@example.com"/><note><b>deep</b></note>',
      '  <payment id="PAY-3" amount="1.00" status="PENDING" method="CARD"><extra/></payment>',
      '  stray <![CDATA[text]]>',
      '</order>',
      '<invoice id="INV-1"><order/></invoice>',
      `<order ${ORDER_ATTRIBUTES.replace('ORD-1', 'ORD-4')}><customer email="ana@example.com"/><customer email="bo@example.com"/></order>`,
      `<order ${ORDER_ATTRIBUTES.replace('ORD-1', 'ORD-5')}><customer email="ana@example.com"/></order>`,
      '</orders>',
    ].join('\n');
    const result = validateRows(await readText(text, 7));
    expect(result.orders.map((order) => order.orderId)).toEqual(['ORD-5']);
    expect(result.errors).toEqual([
      { line: 2, orderId: 'ORD-1', field: 'row', reason: 'unknown attribute "note" on <order>' },
      { line: 4, orderId: 'ORD-2', field: 'row', reason: 'unknown attribute "name" on <customer>' },
      { line: 5, orderId: 'ORD-2', field: 'row', reason: 'unknown attribute "cvc" on <payment>' },
      {
        line: 8,
        orderId: 'ORD-3',
        field: 'row',
        reason: 'unexpected element <note> in <order>; expected <customer> or <payment>',
      },
      { line: 9, orderId: 'ORD-3', field: 'row', reason: 'unexpected element <extra> in <payment>' },
      { line: 10, orderId: 'ORD-3', field: 'row', reason: 'unexpected text in <order>' },
      { line: 10, orderId: 'ORD-3', field: 'row', reason: 'unexpected text in <order>' },
      { line: 12, field: 'row', reason: 'unexpected element <invoice> in <orders>; expected <order>' },
      {
        line: 13,
        orderId: 'ORD-4',
        field: 'customer_email',
        reason: '<customer> repeats the one on line 13',
      },
    ]);
  });

  it('refuses two <order> elements with one id', async () => {
    const order = `<order ${ORDER_ATTRIBUTES}><customer email="ana@example.com"/></order>`;
    const result = validateRows(await readText(`<orders>\n${order}\n\n${order}\n</orders>`));
    expect(result).toEqual({
      orders: [],
      errors: [
        {
          line: 4,
          orderId: 'ORD-1',
          field: 'order_id',
          reason: 'order_id "ORD-1" is already used by the order on line 2',
        },
      ],
    });
  });

  it('reads an empty <orders> as no rows', async () => {
    expect(await readText('<?xml version="1.0" encoding="utf-8"?>\n<orders/>\n<!-- done -->\n')).toEqual([]);
  });

  it('reads orders among comments and processing instructions that add up to more than the construct limit', async () => {
    const notes = Array.from(
      { length: 2000 },
      (_, i) => `<!-- note ${i} ${'='.repeat(600)} -->\n<?note ${i}?>`,
    );
    const rows = await readText(
      oneOrder(`${notes.join('\n')}\n<customer email="ana@example.com"/>`),
      64 * 1024,
    );
    expect(
      rows.map((row) => [row.line, row.fields.order_id, row.fields.customer_email, row.problems]),
    ).toEqual([[2, 'ORD-1', 'ana@example.com', undefined]]);
  });

  it(`refuses an order with more than ${MAX_PAYMENTS_PER_ORDER} payments without buffering them`, async () => {
    const payments = Array.from(
      { length: MAX_PAYMENTS_PER_ORDER + 5 },
      (_, i) => `<payment id="PAY-${i}" amount="0.01" status="COMPLETED" method="BANK_TRANSFER"/>`,
    ).join('\n');
    const rows = await readText(oneOrder(`<customer email="ana@example.com"/>\n${payments}`), 4096);
    expect(rows).toHaveLength(MAX_PAYMENTS_PER_ORDER + 1);
    expect(validateRows(rows)).toEqual({
      orders: [],
      errors: [{ line: 2, orderId: 'ORD-1', field: 'row', reason: 'the order has more than 10000 payments' }],
    });
  });

  it('keeps at most 100 problems of one order', async () => {
    const rows = await readText(oneOrder('<note/>\n'.repeat(500)), 1000);
    const problems = rows.filter((row) => row.problems);
    expect(problems).toHaveLength(100);
    expect(problems[99]).toEqual({
      line: 102,
      orderLine: 2,
      fields: fields({ order_id: 'ORD-1' }),
      problems: [
        { field: 'row', reason: 'unexpected element <note> in <order>; expected <customer> or <payment>' },
      ],
    });
  });

  it.each([
    [
      'a root other than <orders>',
      '<payments/>',
      'UPLOAD_XML_STRUCTURE',
      'line 1: the root element must be <orders>, not <payments>',
    ],
    [
      'elements nested without end',
      `<orders>\n${'<a>'.repeat(40)}${'</a>'.repeat(40)}</orders>`,
      'UPLOAD_XML_STRUCTURE',
      'line 2: elements are nested more than 32 deep',
    ],
    [
      'an empty file',
      '',
      'UPLOAD_XML_MALFORMED',
      'the file is not well-formed XML: line 1, column 0: document must contain a root element.',
    ],
    [
      'an unclosed element',
      '<orders>\n<order id="ORD-1">\n</orders>',
      'UPLOAD_XML_MALFORMED',
      'the file is not well-formed XML: line 3, column 9: unexpected close tag.',
    ],
    [
      'a repeated attribute',
      '<orders>\n<order id="1" id="2"/></orders>',
      'UPLOAD_XML_MALFORMED',
      'the file is not well-formed XML: line 2, column 22: duplicate attribute: id.',
    ],
    [
      'a second root',
      '<orders/>\n<orders/>',
      'UPLOAD_XML_MALFORMED',
      'the file is not well-formed XML: line 2, column 8: documents may contain only one root.',
    ],
    [
      'an undeclared entity',
      '<orders>\n<order id="&x;"/></orders>',
      'UPLOAD_XML_MALFORMED',
      'the file is not well-formed XML: line 2, column 14: undefined entity.',
    ],
    [
      'a CSV file',
      'order_id,order_amount\n',
      'UPLOAD_XML_MALFORMED',
      'the file is not well-formed XML: line 1, column 6: text data outside of root node.',
    ],
  ])('fails the file for %s', async (_name, text, code, message) => {
    expect(await failureOf(text, 3)).toEqual({ code, message });
  });
});

describe('readXmlRows: exported payments and customers', () => {
  const PAYMENT = 'id="PAY-1" amount="100.00" status="COMPLETED" method="CARD"';
  const COMPLETED = ORDER_ATTRIBUTES.replace('PENDING', 'COMPLETED');

  it('reads cardBrand and cardLast4 into card_brand and card_last4', async () => {
    const rows = await readText(
      oneOrder(
        `<customer email="ana@example.com"/>\n<payment ${PAYMENT} cardBrand="amex" cardLast4="0005"/>`,
        COMPLETED,
      ),
    );
    expect(rows).toEqual([
      {
        line: 4,
        orderLine: 2,
        isPayment: true,
        fields: {
          ...fields({
            ...ORDER_FIELDS,
            order_status: 'COMPLETED',
            payment_id: 'PAY-1',
            payment_amount: '100.00',
            payment_status: 'COMPLETED',
            payment_method: 'CARD',
          }),
          card_brand: 'amex',
          card_last4: '0005',
        },
      },
    ]);
    expect(validateRows(rows).orders[0]?.payments).toEqual([
      {
        paymentId: 'PAY-1',
        amount: 10000,
        status: 'COMPLETED',
        method: 'CARD',
        cardBrand: 'amex',
        cardLast4: '0005',
      },
    ]);
  });

  it('refuses cardNumber together with cardLast4 or cardBrand on one payment', async () => {
    const text = [
      '<orders>',
      `<order ${COMPLETED}><customer email="ana@example.com"/>`,
      `<payment ${PAYMENT} cardNumber="4242424242424242" cardBrand="visa" cardLast4="4242"/></order>`,
      `<order ${COMPLETED.replace('ORD-1', 'ORD-2')}><customer email="ana@example.com"/>`,
      `<payment ${PAYMENT} cardNumber="4242424242424242" cardBrand="visa"/></order>`,
      '</orders>',
    ].join('\n');
    expect(validateRows(await readText(text))).toEqual({
      orders: [],
      errors: [
        {
          line: 3,
          orderId: 'ORD-1',
          field: 'card_last4',
          reason: 'give either card_number or card_brand and card_last4, not both',
        },
        {
          line: 5,
          orderId: 'ORD-2',
          field: 'card_brand',
          reason: 'give either card_number or card_brand and card_last4, not both',
        },
      ],
    });
  });

  it('reads <customer/> without email, or no <customer> at all, as an order without email', async () => {
    const text = [
      '<orders>',
      `<order ${ORDER_ATTRIBUTES}><customer/></order>`,
      `<order ${ORDER_ATTRIBUTES.replace('ORD-1', 'ORD-2')}/>`,
      '</orders>',
    ].join('\n');
    const { orders, errors } = validateRows(await readText(text));
    expect(errors).toEqual([]);
    expect(orders.map((order) => [order.orderId, 'customerEmail' in order])).toEqual([
      ['ORD-1', false],
      ['ORD-2', false],
    ]);
  });

  it('takes values as they are: XML is never neutralised', async () => {
    const rows = await readText(oneOrder(`<customer email="'=1+1@example.com"/>`));
    expect(rows[0]?.fields.customer_email).toBe("'=1+1@example.com");
  });
});

describe('readXmlRows: entities and DOCTYPE', () => {
  const refused = (line: number) => ({
    code: 'UPLOAD_XML_DOCTYPE',
    message: `line ${line}: DOCTYPE declarations are not allowed (they can declare entities that read files or expand without bound); remove it`,
  });
  const laughs = [
    '<?xml version="1.0"?>',
    '<!DOCTYPE orders [',
    '  <!ENTITY lol "lol">',
    ...Array.from(
      { length: 9 },
      (_, i) => `  <!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`,
    ),
    ']>',
    `<orders><order id="&lol9;" ${ORDER_ATTRIBUTES.replace('id="ORD-1" ', '')}><customer email="&lol9;"/></order></orders>`,
  ].join('\n');

  it.each([
    ['a bare DOCTYPE', '<!DOCTYPE orders>\n<orders/>', 1],
    [
      'an internal entity',
      '<?xml version="1.0"?>\n\n<!DOCTYPE orders [<!ENTITY x "ORD-1">]>\n<orders><order id="&x;"/></orders>',
      3,
    ],
    [
      'an external entity reading a local file',
      '<!DOCTYPE orders [\n<!ENTITY x SYSTEM "file:///etc/passwd">\n]>\n<orders><order id="&x;"/></orders>',
      1,
    ],
    [
      'an external parameter entity',
      '<!DOCTYPE orders [<!ENTITY % remote SYSTEM "http://example.com/evil.dtd"> %remote;]>\n<orders/>',
      1,
    ],
    ['an external DTD', '<!DOCTYPE orders SYSTEM "file:///etc/passwd">\n<orders/>', 1],
    ['a billion-laughs bomb', laughs, 2],
  ])('refuses %s', async (_name, text, line) => {
    for (const size of [1, 7, 64 * 1024]) {
      const failure = await failureOf(text, size);
      expect(failure).toEqual(refused(line));
      expect(failure.message).not.toMatch(/root:|lollol/);
    }
  });

  /** An endless byte source: the reader must give up on its own after reading a bounded prefix. */
  function* endless(prefix: string, unit: string, read: { bytes: number }): Generator<Uint8Array> {
    const head = Buffer.from(prefix);
    read.bytes += head.length;
    yield head;
    const chunk = Buffer.from(unit.repeat(Math.ceil((16 * 1024) / unit.length)));
    for (;;) {
      read.bytes += chunk.length;
      yield chunk;
    }
  }

  it.each([
    ['a DOCTYPE', '<!DOCTYPE orders [', '<!ENTITY a "b">'],
    ['a comment', '<orders><!--', 'comment '],
    ['an attribute value', '<orders><order id="', 'x'],
    ['a text', '<orders><order>', 'text '],
    ['an attribute name', '<orders><order ', 'a'],
  ])('refuses %s that never ends after reading a bounded prefix', async (_name, prefix, unit) => {
    const read = { bytes: 0 };
    const failure = await rejectionOf(collect(readXmlRows(endless(prefix, unit, read))));
    expect(failure).toEqual({
      code: 'UPLOAD_XML_TOO_LARGE',
      message:
        'the XML construct (tag, text, comment or declaration) after line 1 is longer than 1048576 characters',
    });
    expect(read.bytes).toBeLessThan(2 * 1024 * 1024);
  });
});

describe('readXmlRows: encodings', () => {
  it.each(['UTF-16', 'ISO-8859-1', 'windows-1252'])('refuses a declared encoding of %s', async (encoding) => {
    expect(await failureOf(`<?xml version="1.0" encoding="${encoding}"?>\n<orders/>`)).toEqual({
      code: 'UPLOAD_NOT_UTF8',
      message: `the XML declaration says encoding="${encoding}"; only UTF-8 files are accepted`,
    });
  });

  it('refuses UTF-16 with a byte order mark', async () => {
    expect(await failureOf(Buffer.from(`\uFEFF${SAMPLE.toString('utf8')}`, 'utf16le'))).toEqual({
      code: 'UPLOAD_NOT_UTF8',
      message: 'the file is UTF-16 or UTF-32 encoded (it starts with a byte order mark); save it as UTF-8',
    });
  });

  it('refuses invalid UTF-8 with its byte offset and line', async () => {
    const bytes = Buffer.concat([
      Buffer.from('<orders>\n<order id="z'),
      Buffer.from([0xf6]),
      Buffer.from('"/></orders>'),
    ]);
    expect(await failureOf(bytes, 2)).toEqual({
      code: 'UPLOAD_NOT_UTF8',
      message:
        'the file is not valid UTF-8: invalid byte sequence at byte offset 21 (line 2); save it as UTF-8',
    });
  });

  it('reads characters outside the BMP split across chunks', async () => {
    const rows = await readText(oneOrder('<customer email="😀ü@exämple.com"/>'), 1);
    expect(rows.map((row) => row.fields.customer_email)).toEqual(['😀ü@exämple.com']);
  });
});

it('streams a file of thousands of orders', async () => {
  const orders = Array.from(
    { length: 5000 },
    (_, i) =>
      `<order id="ORD-${i}" amount="${i + 1}.00" currency="EUR" status="COMPLETED" createdAt="2026-03-01T09:15:00+01:00">` +
      `<customer email="c${i}@example.com"/>` +
      `<payment id="PAY-${i}" amount="${i + 1}" status="COMPLETED" method="CARD" cardNumber="4242424242424242"/></order>`,
  );
  const rows = await readText(`<orders>\n${orders.join('\n')}\n</orders>`, 997);
  expect(rows).toHaveLength(5000);
  const result = validateRows(rows);
  expect(result.errors).toEqual([]);
  expect(result.orders).toHaveLength(5000);
  expect(result.orders[4999]).toEqual({
    orderId: 'ORD-4999',
    amount: 500000,
    currency: 'EUR',
    status: 'COMPLETED',
    createdAt: '2026-03-01T08:15:00.000Z',
    customerEmail: 'c4999@example.com',
    payments: [
      {
        paymentId: 'PAY-4999',
        amount: 500000,
        status: 'COMPLETED',
        method: 'CARD',
        cardNumber: '4242424242424242',
      },
    ],
  });
});
