/**
 * Streaming CSV upload reader: bytes in, RawRows out, one at a time, so a file of any size is read in
 * bounded memory. File-level problems (not UTF-8, wrong header, broken quoting) throw a DomainError; a
 * row with the wrong column count becomes a RawRow with a problem, which rejects only its order.
 *
 * Two headers are accepted: the upload one (card_number) and the export one (card_brand, card_last4), so
 * an exported file uploads again. Text cells are read with the exporter's formula neutralisation undone:
 * a leading `'` before `=`, `+`, `-`, `@`, tab or CR is dropped. The exporter adds it to such values and
 * never otherwise, so this restores them; the one value it cannot restore is text that itself began with
 * `'` and a trigger, which the exporter writes unchanged and this reads without its `'`.
 */
import { Readable, pipeline } from 'node:stream';
import { CsvError, type Options, parse } from 'csv-parse';
import { DomainError } from '../../domain/errors';
import { undoNeutralisation } from '../../domain/exports/csv-cells';
import {
  emptyFields,
  EXPORT_COLUMNS,
  IMPORT_COLUMNS,
  type RawColumn,
  type RawRow,
  redactCardNumbers,
} from '../../domain/uploads/rows';

export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export const CSV_HEADER = IMPORT_COLUMNS.join(',');
/** The header of an export (card brand and last 4 instead of the number), accepted as well. */
export const CSV_EXPORT_HEADER = EXPORT_COLUMNS.join(',');

type Columns = readonly RawColumn[];
const HEADERS: readonly Columns[] = [IMPORT_COLUMNS, EXPORT_COLUMNS];
const HEADERS_RULE = `"${CSV_HEADER}" or, as exported, "${CSV_EXPORT_HEADER}"`;

/** Amounts are never neutralised by the exporter (src/domain/exports/csv-cells.ts). */
const NUMBER_COLUMNS: ReadonlySet<RawColumn> = new Set(['order_amount', 'payment_amount']);

/** Far above any valid row (~700 characters); stops an unclosed quote from swallowing the whole file. */
const MAX_RECORD_CHARS = 64 * 1024;
const MAX_ECHO = 200;

interface CsvRecord {
  record: string[];
  line: number;
}

export async function* readCsvRows(source: ByteSource): AsyncGenerator<RawRow> {
  // Counted where the parser emits records, not where we consume them: a parse error may discard
  // records already parsed but not yet read, and its line must still be right.
  let nextLine = 1;
  const options: Options<CsvRecord, { record: string[]; raw: string }> = {
    raw: true,
    relax_column_count: true,
    record_delimiter: ['\r\n', '\n'],
    max_record_size: MAX_RECORD_CHARS,
    on_record: ({ record, raw }) => {
      const line = nextLine;
      nextLine += lineBreaks(raw);
      // A blank line is a record of one empty field; it carries no data.
      return record.length === 1 && /^[\r\n]*$/.test(raw) ? null : { record, line };
    },
  };
  // The typings tie on_record's types to `columns`; with raw: true it receives { record, raw }.
  const parser = parse(options as unknown as Options);
  pipeline(Readable.from(decodeUtf8(source)), parser, () => {
    // Errors reach the consumer through the parser's iterator below.
  });

  let columns: Columns | undefined;
  try {
    for await (const item of parser as AsyncIterable<CsvRecord>) {
      if (!columns) columns = headerColumns(item.record, item.line);
      else yield csvRow(columns, item.record, item.line);
    }
  } catch (error) {
    if (error instanceof CsvError) throw csvSyntaxError(error, nextLine);
    throw error;
  }
  if (!columns) {
    throw new DomainError('UPLOAD_CSV_HEADER', `the file is empty; its first line must be ${HEADERS_RULE}`);
  }
}

function csvRow(columns: Columns, record: string[], line: number): RawRow {
  const fields = emptyFields();
  if (record.length !== columns.length) {
    // Values may be shifted; only the order_id is kept, so the row still rejects its order.
    fields.order_id = undoNeutralisation(record[0] ?? '');
    const reason = `the row has ${record.length} columns; the header has ${columns.length}`;
    return { line, fields, problems: [{ field: 'row', reason }] };
  }
  columns.forEach((column, index) => {
    const value = record[index] ?? '';
    fields[column] = NUMBER_COLUMNS.has(column) ? value : undoNeutralisation(value);
  });
  return { line, fields };
}

/** The columns of whichever accepted header `record` is exactly; anything else fails the file. */
function headerColumns(record: string[], line: number): Columns {
  const matching = HEADERS.find(
    (columns) => record.length === columns.length && record.every((name, i) => name === columns[i]),
  );
  if (matching) return matching;
  const found = record.join(',');
  const shown = redactCardNumbers(found.length > MAX_ECHO ? `${found.slice(0, MAX_ECHO)}…` : found);
  // Explained against the header it follows furthest, then the one of its length, then the upload one.
  const agreeing = (columns: Columns) => {
    const index = columns.findIndex((name, i) => record[i] !== name);
    return index === -1 ? columns.length : index;
  };
  const score = (columns: Columns) => agreeing(columns) * 2 + (record.length === columns.length ? 1 : 0);
  const closest = HEADERS.reduce((best, columns) => (score(columns) > score(best) ? columns : best));
  const index = agreeing(closest);
  const detail =
    record.length !== closest.length
      ? `${record.length} column${record.length === 1 ? '' : 's'} instead of ${closest.length}`
      : `column ${index + 1} should be "${closest[index]}"`;
  throw new DomainError(
    'UPLOAD_CSV_HEADER',
    `line ${line}: the header must be ${HEADERS_RULE}; found ${JSON.stringify(shown)} (${detail})`,
  );
}

/** csv-parse messages quote field values, which may hold card numbers: say what is wrong in our words. */
function csvSyntaxError(error: CsvError, line: number): DomainError {
  const where = `the record starting on line ${line}`;
  const reasons: Record<string, string> = {
    CSV_QUOTE_NOT_CLOSED: `${where} has a quoted field that is never closed`,
    CSV_INVALID_CLOSING_QUOTE: `${where} has a closing quote followed by something other than a comma or line end`,
    INVALID_OPENING_QUOTE: `${where} has a quote inside an unquoted field; quote the whole field and double its quotes ("")`,
    CSV_MAX_RECORD_SIZE: `${where} is longer than ${MAX_RECORD_CHARS} characters; is a quote not closed?`,
  };
  return new DomainError(
    'UPLOAD_CSV_MALFORMED',
    `the file is not valid CSV: ${reasons[error.code] ?? `${where} cannot be parsed (${error.code})`}`,
  );
}

/** Line breaks in a record's raw text; a CRLF record delimiter reaches `raw` without its LF. */
function lineBreaks(raw: string): number {
  let count = 0;
  for (let i = raw.indexOf('\n'); i !== -1; i = raw.indexOf('\n', i + 1)) count++;
  return raw.endsWith('\r') ? count + 1 : count;
}

/**
 * Strict UTF-8 decoding of an upload, shared by the CSV and XML readers. Drops a leading UTF-8 BOM;
 * refuses UTF-16/32 byte order marks, invalid or truncated byte sequences, and NUL characters (UTF-16
 * without a BOM, or a binary file), naming the byte offset and line.
 */
export async function* decodeUtf8(source: ByteSource): AsyncGenerator<string> {
  const validator = new Utf8Validator();
  // ignoreBOM: false strips a leading UTF-8 BOM; the bytes are validated before they get here.
  const decoder = new TextDecoder('utf-8');
  // The first bytes are held back until a byte order mark can be recognised, even from 1-byte chunks.
  let head: Uint8Array | undefined = new Uint8Array(0);
  for await (const chunk of source) {
    let bytes = chunk;
    if (head) {
      head = concat(head, chunk);
      if (head.length < 4) continue;
      refuseForeignBom(head);
      bytes = head;
      head = undefined;
    }
    validator.push(bytes);
    const text = decoder.decode(bytes, { stream: true });
    if (text !== '') yield text;
  }
  if (head) {
    refuseForeignBom(head);
    validator.push(head);
    const text = decoder.decode(head, { stream: true });
    if (text !== '') yield text;
  }
  validator.end();
  const rest = decoder.decode();
  if (rest !== '') yield rest;
}

function refuseForeignBom(head: Uint8Array): void {
  const [a, b, c, d] = head;
  const utf16 = (a === 0xff && b === 0xfe) || (a === 0xfe && b === 0xff);
  const utf32be = a === 0 && b === 0 && c === 0xfe && d === 0xff;
  if (utf16 || utf32be) {
    throw new DomainError(
      'UPLOAD_NOT_UTF8',
      'the file is UTF-16 or UTF-32 encoded (it starts with a byte order mark); save it as UTF-8',
    );
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a, 0);
  joined.set(b, a.length);
  return joined;
}

/** Incremental UTF-8 validation as the WHATWG decoder defines it (no overlongs, surrogates or > U+10FFFF). */
class Utf8Validator {
  private offset = 0;
  private line = 1;
  /** Continuation bytes still expected, the allowed range of the next one, and where the sequence began. */
  private needed = 0;
  private lower = 0x80;
  private upper = 0xbf;
  private sequenceStart = 0;

  push(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i] as number;
      const at = this.offset + i;
      if (this.needed > 0) {
        if (byte < this.lower || byte > this.upper) this.fail(this.sequenceStart);
        this.lower = 0x80;
        this.upper = 0xbf;
        this.needed--;
        continue;
      }
      if (byte < 0x80) {
        if (byte === 0x0a) this.line++;
        else if (byte === 0) {
          throw new DomainError(
            'UPLOAD_NOT_UTF8',
            `the file contains a NUL character at byte offset ${at} (line ${this.line}), so it is not UTF-8 text; is it UTF-16 or binary?`,
          );
        }
        continue;
      }
      this.sequenceStart = at;
      if (byte >= 0xc2 && byte <= 0xdf) this.needed = 1;
      else if (byte >= 0xe0 && byte <= 0xef) {
        this.needed = 2;
        if (byte === 0xe0) this.lower = 0xa0;
        if (byte === 0xed) this.upper = 0x9f;
      } else if (byte >= 0xf0 && byte <= 0xf4) {
        this.needed = 3;
        if (byte === 0xf0) this.lower = 0x90;
        if (byte === 0xf4) this.upper = 0x8f;
      } else {
        this.fail(at);
      }
    }
    this.offset += bytes.length;
  }

  end(): void {
    if (this.needed > 0) this.fail(this.sequenceStart);
  }

  private fail(at: number): never {
    throw new DomainError(
      'UPLOAD_NOT_UTF8',
      `the file is not valid UTF-8: invalid byte sequence at byte offset ${at} (line ${this.line}); save it as UTF-8`,
    );
  }
}
