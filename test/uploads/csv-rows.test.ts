import fs from 'node:fs';
import path from 'node:path';
import { emptyFields, type RawFields, type RawRow } from '../../src/domain/uploads/rows';
import { CSV_EXPORT_HEADER, CSV_HEADER, readCsvRows } from '../../src/api/uploads/csv-rows';
import { validateRows } from '../../src/domain/uploads/group-orders';
import { chunks, collect, FIXTURES, rejectionOf } from './helpers';

const SAMPLE = fs.readFileSync(path.join(FIXTURES, 'orders-sample.csv'));

const read = (bytes: Uint8Array, chunkSize = 64 * 1024) => collect(readCsvRows(chunks(bytes, chunkSize)));
const readText = (text: string, chunkSize?: number) => read(Buffer.from(text, 'utf8'), chunkSize);
const failureOf = (bytes: Uint8Array, chunkSize?: number) => rejectionOf(read(bytes, chunkSize));

const ROW_1001 =
  'ORD-1001,120.00,USD,COMPLETED,2026-03-01T09:15:00Z,ana@example.com,PAY-1001-1,120.00,COMPLETED,CARD,4242424242424242';
const ROW_1003 = 'ORD-1003,80.50,EUR,PENDING,2026-03-02T08:30:00Z,chen@example.com,,,,,';

function fields(values: Partial<RawFields>): RawFields {
  return { ...emptyFields(), ...values };
}

const ORDER_1003 = fields({
  order_id: 'ORD-1003',
  order_amount: '80.50',
  currency: 'EUR',
  order_status: 'PENDING',
  created_at: '2026-03-02T08:30:00Z',
  customer_email: 'chen@example.com',
});

describe('readCsvRows: the sample file', () => {
  it('reads one row per line after the header, with the line numbers of the file', async () => {
    const rows = await read(SAMPLE);
    expect(rows.map((row) => [row.line, row.fields.order_id, row.fields.payment_id])).toEqual([
      [2, 'ORD-1001', 'PAY-1001-1'],
      [3, 'ORD-1002', 'PAY-1002-1'],
      [4, 'ORD-1002', 'PAY-1002-2'],
      [5, 'ORD-1003', ''],
      [6, 'ORD-1004', 'PAY-1004-1'],
      [7, 'ORD-1004', 'PAY-1004-2'],
      [8, 'ORD-1005', 'PAY-1005-1'],
    ]);
    expect(rows[3]).toEqual({ line: 5, fields: ORDER_1003 });
    expect(rows[6]?.fields).toEqual({
      order_id: 'ORD-1005',
      order_amount: '15.00',
      currency: 'GBP',
      order_status: 'PENDING',
      created_at: '2026-03-03T16:45:00Z',
      customer_email: 'eve, jr@example.com',
      payment_id: 'PAY-1005-1',
      payment_amount: '5.00',
      payment_status: 'PENDING',
      payment_method: 'CARD',
      card_number: '4242424242424242',
    });
  });

  it.each([1, 2, 3, 7, 100])('reads the same rows from chunks of %i bytes', async (size) => {
    expect(await read(SAMPLE, size)).toEqual(await read(SAMPLE));
  });

  it('reads a Node file stream', async () => {
    const rows = await collect(readCsvRows(fs.createReadStream(path.join(FIXTURES, 'orders-sample.csv'))));
    expect(rows).toEqual(await read(SAMPLE));
  });

  it('reads the same rows with a UTF-8 BOM, CRLF line ends, or no final line end', async () => {
    const lf = await read(SAMPLE);
    const text = SAMPLE.toString('utf8');
    expect(await readText(`\uFEFF${text}`)).toEqual(lf);
    expect(await readText(text.replace(/\n/g, '\r\n'), 5)).toEqual(lf);
    expect(await readText(`\uFEFF${text.replace(/\n/g, '\r\n')}`, 1)).toEqual(lf);
    expect(await readText(text.replace(/\n$/, ''))).toEqual(lf);
  });
});

describe('readCsvRows: CSV syntax', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, counting lines in the file', async () => {
    const text = [
      CSV_HEADER,
      'ORD-1,100.00,USD,PENDING,2026-03-01T09:15:00Z,"say ""hi"", ana@example.com",,,,,',
      'ORD-2,100.00,USD,PENDING,2026-03-01T09:15:00Z,"two',
      'lines@example.com",,,,,',
      '"ORD-3","100.00",USD,PENDING,2026-03-01T09:15:00Z,"three\r\nlines\r\n@example.com",,,,,',
      ROW_1003,
    ].join('\n');
    const rows = await readText(text);
    expect(rows.map((row) => [row.line, row.fields.order_id, row.fields.customer_email])).toEqual([
      [2, 'ORD-1', 'say "hi", ana@example.com'],
      [3, 'ORD-2', 'two\nlines@example.com'],
      [5, 'ORD-3', 'three\r\nlines\r\n@example.com'],
      [8, 'ORD-1003', 'chen@example.com'],
    ]);
    expect(await readText(text.replace(/\r?\n/g, '\r\n'), 3)).toEqual(
      rows.map((row) => ({
        ...row,
        fields: { ...row.fields, customer_email: row.fields.customer_email.replace(/\r?\n/g, '\r\n') },
      })),
    );
  });

  it('skips blank lines but keeps counting them', async () => {
    const rows = await readText(`${CSV_HEADER}\n\n${ROW_1001}\r\n\r\n\n${ROW_1003}\n\n`);
    expect(rows.map((row) => [row.line, row.fields.order_id])).toEqual([
      [3, 'ORD-1001'],
      [6, 'ORD-1003'],
    ]);
  });

  it('reads unicode intact, even when characters are split between chunks', async () => {
    const text = `${CSV_HEADER}\n${ROW_1003.replace('chen@example.com', 'zoë.ñandú😀@exämple.com')}\n`;
    const rows = await readText(text, 1);
    expect(rows).toEqual([{ line: 2, fields: { ...ORDER_1003, customer_email: 'zoë.ñandú😀@exämple.com' } }]);
    expect(validateRows(rows).orders.map((order) => order.customerEmail)).toEqual([
      'zoë.ñandú😀@exämple.com',
    ]);
  });

  it('keeps spaces and does not trim values', async () => {
    const rows = await readText(`${CSV_HEADER}\n${ROW_1003.replace('EUR', ' EUR ')}\n`);
    expect(rows[0]?.fields.currency).toBe(' EUR ');
  });

  it('turns a row with the wrong column count into a problem that rejects its order', async () => {
    const text = [
      CSV_HEADER,
      ROW_1001.replace('PAY-1001-1,120.00', 'PAY-1001-1,60.00').replace(/COMPLETED,2026/, 'PENDING,2026'),
      `${ROW_1003},extra`,
      ROW_1001.replace('PAY-1001-1,120.00', 'PAY-1001-2,60.00')
        .replace(/COMPLETED,2026/, 'PENDING,2026')
        .replace(',4242424242424242', ''),
      ',,,',
      'ORD-1004,1.00,USD',
    ].join('\n');
    const rows = await readText(text);
    expect(rows.slice(1)).toEqual([
      {
        line: 3,
        fields: fields({ order_id: 'ORD-1003' }),
        problems: [{ field: 'row', reason: 'the row has 12 columns; the header has 11' }],
      },
      {
        line: 4,
        fields: fields({ order_id: 'ORD-1001' }),
        problems: [{ field: 'row', reason: 'the row has 10 columns; the header has 11' }],
      },
      {
        line: 5,
        fields: fields({}),
        problems: [{ field: 'row', reason: 'the row has 4 columns; the header has 11' }],
      },
      {
        line: 6,
        fields: fields({ order_id: 'ORD-1004' }),
        problems: [{ field: 'row', reason: 'the row has 3 columns; the header has 11' }],
      },
    ]);
    expect(validateRows(rows)).toEqual({
      orders: [],
      errors: [
        { line: 3, orderId: 'ORD-1003', field: 'row', reason: 'the row has 12 columns; the header has 11' },
        { line: 4, orderId: 'ORD-1001', field: 'row', reason: 'the row has 10 columns; the header has 11' },
        { line: 5, field: 'row', reason: 'the row has 4 columns; the header has 11' },
        { line: 6, orderId: 'ORD-1004', field: 'row', reason: 'the row has 3 columns; the header has 11' },
      ],
    });
  });

  it('stops reading when the consumer stops', async () => {
    const seen: number[] = [];
    for await (const row of readCsvRows(chunks(SAMPLE, 10))) {
      seen.push(row.line);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual([2, 3]);
  });

  it.each([
    [
      'an unclosed quote',
      `${CSV_HEADER}\n${ROW_1001}\n${ROW_1003}\nORD-9,"1.00,USD\n${ROW_1003}\n`,
      'the file is not valid CSV: the record starting on line 4 has a quoted field that is never closed',
    ],
    [
      'text after a closing quote',
      `${CSV_HEADER}\n${ROW_1001}\n"ORD-9"x,1.00\n`,
      'the file is not valid CSV: the record starting on line 3 has a closing quote followed by something other than a comma or line end',
    ],
    [
      'a quote inside an unquoted field',
      `${CSV_HEADER}\r\n"multi\r\nline",a\r\n${ROW_1003}\r\nORD-9,say "hi",4242424242424242\r\n`,
      'the file is not valid CSV: the record starting on line 5 has a quote inside an unquoted field; quote the whole field and double its quotes ("")',
    ],
    [
      'a record longer than 64 KiB',
      `${CSV_HEADER}\n${ROW_1003}\nORD-9,"${'9'.repeat(70_000)}"\n`,
      'the file is not valid CSV: the record starting on line 3 is longer than 65536 characters; is a quote not closed?',
    ],
  ])('fails the file for %s, naming the line, never the values', async (_name, text, message) => {
    for (const size of [1000, 64 * 1024]) {
      expect(await failureOf(Buffer.from(text), size)).toEqual({ code: 'UPLOAD_CSV_MALFORMED', message });
    }
  });
});

describe('readCsvRows: the header', () => {
  /** Either header is accepted, so a header error names both. */
  const RULE = `"${CSV_HEADER}" or, as exported, "${CSV_EXPORT_HEADER}"`;

  it('accepts quoted header names', async () => {
    const header = CSV_HEADER.split(',')
      .map((name) => `"${name}"`)
      .join(',');
    expect(await readText(`${header}\n${ROW_1003}\n`)).toEqual([{ line: 2, fields: ORDER_1003 }]);
  });

  it('reads a file with only the header as no rows', async () => {
    expect(await readText(`${CSV_HEADER}\r\n`)).toEqual([]);
  });

  it.each([
    ['an empty file', '', `the file is empty; its first line must be ${RULE}`],
    ['a file of blank lines', '\n\r\n\n', `the file is empty; its first line must be ${RULE}`],
    [
      'a missing header',
      `${ROW_1001}\n`,
      `line 1: the header must be ${RULE}; found "ORD-1001,120.00,USD,COMPLETED,2026-03-01T09:15:00Z,ana@example.com,PAY-1001-1,120.00,COMPLETED,CARD,****4242" (column 1 should be "order_id")`,
    ],
    [
      'a misspelt column',
      `${CSV_HEADER.replace('currency', 'curency')}\n`,
      `line 1: the header must be ${RULE}; found "${CSV_HEADER.replace('currency', 'curency')}" (column 3 should be "currency")`,
    ],
    [
      'an extra column',
      `${CSV_HEADER},note\n`,
      `line 1: the header must be ${RULE}; found "${CSV_HEADER},note" (12 columns instead of 11)`,
    ],
    [
      'upper-case names after a blank line',
      `\n${CSV_HEADER.toUpperCase()}\n`,
      `line 2: the header must be ${RULE}; found "${CSV_HEADER.toUpperCase()}" (column 1 should be "order_id")`,
    ],
    [
      'a semicolon-separated file',
      `${CSV_HEADER.replace(/,/g, ';')}\n`,
      `line 1: the header must be ${RULE}; found "${CSV_HEADER.replace(/,/g, ';')}" (1 column instead of 11)`,
    ],
  ])('fails the file for %s', async (_name, text, message) => {
    expect(await failureOf(Buffer.from(text))).toEqual({ code: 'UPLOAD_CSV_HEADER', message });
  });
});

describe('readCsvRows: the export header', () => {
  const EXPORT_ROW =
    'ORD-1,120.00,USD,COMPLETED,2026-03-01T09:15:00.000Z,ana@example.com,PAY-1,120.00,COMPLETED,CARD,visa,4242';

  it('reads card_brand and card_last4 instead of card_number', async () => {
    const rows = await readText(
      `${CSV_EXPORT_HEADER}\n${EXPORT_ROW}\nORD-2,1.00,USD,EXPIRED,2026-03-01T09:15:00Z,,,,,,,\n`,
    );
    expect(rows).toEqual([
      {
        line: 2,
        fields: {
          order_id: 'ORD-1',
          order_amount: '120.00',
          currency: 'USD',
          order_status: 'COMPLETED',
          created_at: '2026-03-01T09:15:00.000Z',
          customer_email: 'ana@example.com',
          payment_id: 'PAY-1',
          payment_amount: '120.00',
          payment_status: 'COMPLETED',
          payment_method: 'CARD',
          card_number: '',
          card_brand: 'visa',
          card_last4: '4242',
        },
      },
      {
        line: 3,
        fields: {
          ...fields({
            order_id: 'ORD-2',
            order_amount: '1.00',
            currency: 'USD',
            order_status: 'EXPIRED',
            created_at: '2026-03-01T09:15:00Z',
          }),
          card_brand: '',
          card_last4: '',
        },
      },
    ]);
    expect(validateRows(rows).orders.map((order) => order.payments)).toEqual([
      [
        {
          paymentId: 'PAY-1',
          amount: 12000,
          status: 'COMPLETED',
          method: 'CARD',
          cardBrand: 'visa',
          cardLast4: '4242',
        },
      ],
      [],
    ]);
  });

  it('counts columns against the export header', async () => {
    const rows = await readText(`${CSV_EXPORT_HEADER}\n${EXPORT_ROW},x\n${ROW_1001}\n`);
    expect(rows.map((row) => row.problems)).toEqual([
      [{ field: 'row', reason: 'the row has 13 columns; the header has 12' }],
      [{ field: 'row', reason: 'the row has 11 columns; the header has 12' }],
    ]);
  });

  it('accepts it quoted, with a BOM and CRLF', async () => {
    const header = CSV_EXPORT_HEADER.split(',')
      .map((name) => `"${name}"`)
      .join(',');
    expect(await readText(`\uFEFF${header}\r\n${EXPORT_ROW}\r\n`, 3)).toEqual(
      await readText(`${CSV_EXPORT_HEADER}\n${EXPORT_ROW}\n`),
    );
  });

  const RULE = `"${CSV_HEADER}" or, as exported, "${CSV_EXPORT_HEADER}"`;
  it.each([
    ['without card_last4', CSV_EXPORT_HEADER.replace(',card_last4', ''), '11 columns instead of 12'],
    [
      'with card_last4 misspelt',
      CSV_EXPORT_HEADER.replace('card_last4', 'card_last_4'),
      'column 12 should be "card_last4"',
    ],
    [
      'with brand and last 4 swapped',
      CSV_EXPORT_HEADER.replace('card_brand,card_last4', 'card_last4,card_brand'),
      'column 11 should be "card_brand"',
    ],
    ['with card_number as well', `${CSV_HEADER},card_brand,card_last4`, '13 columns instead of 11'],
    ['with card_number last', `${CSV_EXPORT_HEADER},card_number`, '13 columns instead of 12'],
    [
      'with card_number in place of card_last4',
      CSV_EXPORT_HEADER.replace('card_last4', 'card_number'),
      'column 12 should be "card_last4"',
    ],
  ])('fails the file for the export header %s', async (_name, header, detail) => {
    expect(await failureOf(Buffer.from(`${header}\n`))).toEqual({
      code: 'UPLOAD_CSV_HEADER',
      message: `line 1: the header must be ${RULE}; found "${header}" (${detail})`,
    });
  });
});

describe('readCsvRows: formula neutralisation undone', () => {
  const withEmail = (cell: string) => `${CSV_HEADER}\n${ROW_1003.replace('chen@example.com', cell)}\n`;
  const emailOf = async (cell: string) => (await readText(withEmail(cell)))[0]?.fields.customer_email;

  it.each([
    ["'=1+1@example.com", '=1+1@example.com'],
    ["'+eve@example.com", '+eve@example.com'],
    ["'-dee@example.com", '-dee@example.com'],
    ["'@home@example.com", '@home@example.com'],
    ['"\'\tx@example.com"', '\tx@example.com'],
    ['"\'\rx@example.com"', '\rx@example.com'],
    ['"\'-dee\n@example.com"', '-dee\n@example.com'],
    [`"'+eve, ""jr"" <e&v>@example.com"`, '+eve, "jr" <e&v>@example.com'],
  ])('reads %j as %j', async (cell, value) => {
    expect(await emailOf(cell)).toBe(value);
  });

  it.each([
    ["'ana@example.com", 'a quote before anything else'],
    ["''=x@example.com", 'two quotes'],
    ['=x@example.com', 'an unprefixed formula'],
    ["a'=b@example.com", 'a quote further in'],
    ["'", 'a quote alone'],
    ["' =x@example.com", 'a space between'],
  ])('keeps %j (%s) as it is', async (cell) => {
    expect(await emailOf(cell)).toBe(cell);
  });

  it('undoes it in every text column of either header, and never in an amount', async () => {
    const text = [
      CSV_EXPORT_HEADER,
      "'-ORD,'-1.00,'=USD,'+PENDING,'@2026,'-x@example.com,'=PAY,'-2.00,'+FAILED,'@CARD,'=visa,'-123",
    ].join('\n');
    expect((await readText(text))[0]?.fields).toEqual({
      order_id: '-ORD',
      order_amount: "'-1.00",
      currency: '=USD',
      order_status: '+PENDING',
      created_at: '@2026',
      customer_email: '-x@example.com',
      payment_id: '=PAY',
      payment_amount: "'-2.00",
      payment_status: '+FAILED',
      payment_method: '@CARD',
      card_number: '',
      card_brand: '=visa',
      card_last4: '-123',
    });
    const upload = await readText(`${CSV_HEADER}\n${ROW_1001.replace('ana@', "'=ana@")}\n`);
    expect(upload[0]?.fields.customer_email).toBe('=ana@example.com');
  });

  it('still validates the value read: a neutralised amount or email is no loophole', async () => {
    const text = [
      CSV_EXPORT_HEADER,
      "ORD-1,'-1.00,USD,PENDING,2026-03-01T09:15:00Z,,,,,,,",
      "ORD-2,1.00,USD,PENDING,2026-03-01T09:15:00Z,'-,,,,,,",
    ].join('\n');
    expect(validateRows(await readText(text)).errors).toEqual([
      {
        line: 2,
        orderId: 'ORD-1',
        field: 'order_amount',
        reason: `order_amount "'-1.00" is not a plain decimal number such as "125.50"`,
      },
      {
        line: 3,
        orderId: 'ORD-2',
        field: 'customer_email',
        reason: 'customer_email is not an email address',
      },
    ]);
  });
});

describe('readCsvRows: encodings', () => {
  const header = Buffer.from(`${CSV_HEADER}\n`);
  const withBytes = (...bytes: number[]) =>
    Buffer.concat([header, Buffer.from('ORD-1,1.00,USD,PENDING,2026-03-01T09:15:00Z,'), Buffer.from(bytes)]);
  const OFFSET = header.length + 'ORD-1,1.00,USD,PENDING,2026-03-01T09:15:00Z,'.length;

  it.each([
    ['a Latin-1 "ë"', [0x7a, 0x6f, 0xeb, 0x40, 0x78], OFFSET + 2],
    ['a lone continuation byte', [0x61, 0x80, 0x62], OFFSET + 1],
    ['an overlong encoding', [0xc0, 0xaf], OFFSET],
    ['an encoded surrogate', [0xed, 0xa0, 0x80], OFFSET],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80], OFFSET],
    ['a byte that never occurs in UTF-8', [0xff], OFFSET],
    ['a sequence cut short by another character', [0xe2, 0x82, 0x41], OFFSET],
  ])('refuses %s, naming its byte offset and line', async (_name, bytes, offset) => {
    for (const size of [1, 5, 4096]) {
      expect(await failureOf(withBytes(...bytes), size)).toEqual({
        code: 'UPLOAD_NOT_UTF8',
        message: `the file is not valid UTF-8: invalid byte sequence at byte offset ${offset} (line 2); save it as UTF-8`,
      });
    }
  });

  it('refuses a file that ends inside a multi-byte character', async () => {
    expect(await failureOf(withBytes(0x61, 0xe2, 0x82), 3)).toEqual({
      code: 'UPLOAD_NOT_UTF8',
      message: `the file is not valid UTF-8: invalid byte sequence at byte offset ${OFFSET + 1} (line 2); save it as UTF-8`,
    });
  });

  it.each([
    ['UTF-16LE', Buffer.from(`\uFEFF${SAMPLE.toString('utf8')}`, 'utf16le')],
    ['UTF-16BE', Buffer.from(`\uFEFF${SAMPLE.toString('utf8')}`, 'utf16le').swap16()],
    ['UTF-32BE', Buffer.from([0x00, 0x00, 0xfe, 0xff, 0x00, 0x00, 0x00, 0x6f])],
  ])('refuses %s with a byte order mark', async (_name, bytes) => {
    for (const size of [1, 4096]) {
      expect(await failureOf(bytes, size)).toEqual({
        code: 'UPLOAD_NOT_UTF8',
        message: 'the file is UTF-16 or UTF-32 encoded (it starts with a byte order mark); save it as UTF-8',
      });
    }
  });

  it('refuses a file shorter than a byte order mark by its bytes', async () => {
    expect(await failureOf(Buffer.from([0xff]))).toEqual({
      code: 'UPLOAD_NOT_UTF8',
      message:
        'the file is not valid UTF-8: invalid byte sequence at byte offset 0 (line 1); save it as UTF-8',
    });
  });

  it('refuses UTF-16 without a byte order mark by its NUL bytes', async () => {
    expect(await failureOf(Buffer.from(SAMPLE.toString('utf8'), 'utf16le'))).toEqual({
      code: 'UPLOAD_NOT_UTF8',
      message:
        'the file contains a NUL character at byte offset 1 (line 1), so it is not UTF-8 text; is it UTF-16 or binary?',
    });
  });

  it('accepts every valid UTF-8 length, up to U+10FFFF', async () => {
    const email = 'a\u00e9\u0800\uffff\u{10000}\u{10ffff}@example.com';
    const rows = await read(Buffer.from(`${CSV_HEADER}\n${ROW_1003.replace('chen@example.com', email)}`), 1);
    expect(rows.map((row: RawRow) => row.fields.customer_email)).toEqual([email]);
  });
});
