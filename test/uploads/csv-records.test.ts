import { CsvRecordReader, type CsvRecord } from '../../src/api/uploads/csv-records';
import { DomainError } from '../../src/domain/errors';

const MAX = 64;

/** The records of `pieces` read one after the other, or the error that failed them. */
function read(pieces: string[], max = MAX): CsvRecord[] | DomainError {
  const reader = new CsvRecordReader(max);
  try {
    return [...pieces.flatMap((piece) => reader.read(piece)), ...reader.end()];
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
}

/** Every way of cutting `text` in two, and in single characters. */
const cuts = (text: string): string[][] => [
  ...Array.from({ length: text.length + 1 }, (_, at) => [text.slice(0, at), text.slice(at)]),
  [...text],
];

describe('CsvRecordReader', () => {
  const text =
    'a,"b ""q"", c",d\r\n' + // quoted comma and doubled quotes, CRLF
    '\n' + // a blank line
    '"multi\nline\r\nfield",,\n' + // line breaks inside quotes, empty fields
    '"",x\r\n' + // an empty quoted field is not a blank line
    '\r\n' + // a blank CRLF line
    'last,"q"'; // no final line break

  it('reads fields, quotes and line numbers the same however the text is cut', () => {
    const expected = [
      { fields: ['a', 'b "q", c', 'd'], line: 1 },
      { fields: ['multi\nline\r\nfield', '', ''], line: 3 },
      { fields: ['', 'x'], line: 6 },
      { fields: ['last', 'q'], line: 8 },
    ];
    expect(read([text])).toEqual(expected);
    for (const pieces of cuts(text)) expect(read(pieces)).toEqual(expected);
  });

  it('keeps a lone CR inside a field, spaces and a trailing empty field', () => {
    expect(read(['a\rb, c ,\n'])).toEqual([{ fields: ['a\rb', ' c ', ''], line: 1 }]);
  });

  it.each([
    [
      'a quote never closed',
      'a,b\nc,"d\ne\n',
      'the record starting on line 2 has a quoted field that is never closed',
    ],
    [
      'text after a closing quote',
      'a\n\n"b"c,d\n',
      'the record starting on line 3 has a closing quote followed by something other than a comma or line end',
    ],
    [
      'a closing quote before a lone CR',
      'a\n"b"\rc\n',
      'the record starting on line 2 has a closing quote followed by something other than a comma or line end',
    ],
    [
      'a quote inside an unquoted field',
      '"x\ny"\na"b\n',
      'the record starting on line 3 has a quote inside an unquoted field; quote the whole field and double its quotes ("")',
    ],
    [
      'a record over the limit',
      `a\n"${'z'.repeat(MAX)}"\n`,
      `the record starting on line 2 is longer than ${MAX} characters; is a quote not closed?`,
    ],
    [
      'an unclosed quote running past the limit',
      `a\n"${'z\n'.repeat(MAX)}`,
      `the record starting on line 2 is longer than ${MAX} characters; is a quote not closed?`,
    ],
  ])('fails the file for %s, naming the record line, however the text is cut', (_what, bad, message) => {
    for (const pieces of cuts(bad)) {
      expect(read(pieces)).toEqual(
        new DomainError('UPLOAD_CSV_MALFORMED', `the file is not valid CSV: ${message}`),
      );
    }
  });

  it('holds no more than a record and a piece: a long file of short records never trips the limit', () => {
    const lines = Array.from({ length: 200 }, (_, i) => `r${i},v`).join('\n');
    const records = read([lines.slice(0, 1000), lines.slice(1000)]);
    expect(Array.isArray(records) && records.length).toBe(200);
  });
});
