import {
  csvNumberCell,
  csvRecord,
  csvTextCell,
  neutraliseFormula,
  quoteCsvField,
} from '../../src/domain/exports/csv-cells';
import { errorOf } from '../support/domain-errors';

describe('neutraliseFormula', () => {
  it.each([
    ['=1+1', "'=1+1"],
    ['+1', "'+1"],
    ['-1', "'-1"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    ['\rx', "'\rx"],
    ['=HYPERLINK("http://evil.example","click")', '\'=HYPERLINK("http://evil.example","click")'],
  ])('prefixes %j with a quote', (value, expected) => {
    expect(neutraliseFormula(value)).toBe(expected);
  });

  it.each(['', 'ana@example.com', 'a=1', '1-2', ' =1', '\n=1', "'=1", 'Zoë', '例え'])(
    'leaves %j as it is (no trigger in first place)',
    (value) => {
      expect(neutraliseFormula(value)).toBe(value);
    },
  );
});

describe('quoteCsvField', () => {
  it.each([
    ['plain', 'plain'],
    ['', ''],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['"', '""""'],
    ['line\nbreak', '"line\nbreak"'],
    ['carriage\rreturn', '"carriage\rreturn"'],
    ['crlf\r\n', '"crlf\r\n"'],
    ['tab\tinside', 'tab\tinside'],
    ['zoë@exämple.jp, 例え', '"zoë@exämple.jp, 例え"'],
    ['emoji 💳', 'emoji 💳'],
  ])('encodes %j as %j', (value, expected) => {
    expect(quoteCsvField(value)).toBe(expected);
  });
});

describe('csvTextCell', () => {
  it.each([
    ['=1+1', "'=1+1"],
    ['+1', "'+1"],
    ['-1', "'-1"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    // Neutralised first, then quoted because of the CR.
    ['\rx', `"'\rx"`],
    ['=1,2', `"'=1,2"`],
    ['+"a"', `"'+""a"""`],
    ['-\n1', `"'-\n1"`],
    ['eve, jr@example.com', '"eve, jr@example.com"'],
    ['Ünïcødé 例え', 'Ünïcødé 例え'],
  ])('encodes %j as %j', (value, expected) => {
    expect(csvTextCell(value)).toBe(expected);
  });

  it('writes null and undefined as an empty cell', () => {
    expect(csvTextCell(null)).toBe('');
    expect(csvTextCell(undefined)).toBe('');
  });
});

describe('csvNumberCell', () => {
  it.each(['0', '120.00', '1000', '1.500', '007.50'])('passes %j through', (value) => {
    expect(csvNumberCell(value)).toBe(value);
  });

  it.each(['', '-1', '+1', '=1+1', '1e5', '1,000', ' 1', '1.', '.5', '@1'])('refuses %j', (value) => {
    expect(errorOf(() => csvNumberCell(value)).code).toBe('CSV_NOT_A_NUMBER');
  });
});

describe('csvRecord', () => {
  it('joins encoded cells with commas and ends with LF only', () => {
    expect(csvRecord(['a', '"b,c"', '', 'd'])).toBe('a,"b,c",,d\n');
    expect(csvRecord([csvTextCell('=x'), csvNumberCell('1.00')])).toBe("'=x,1.00\n");
  });
});
