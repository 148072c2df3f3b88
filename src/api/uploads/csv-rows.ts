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
import { type ByteSource, decodeUtf8 } from './utf8-text';

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
