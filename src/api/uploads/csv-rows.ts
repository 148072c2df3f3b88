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
import { CsvRecordReader, type CsvRecord } from './csv-records';
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

export async function* readCsvRows(source: ByteSource): AsyncGenerator<RawRow> {
  let columns: Columns | undefined;
  for await (const records of csvRecords(source)) {
    for (const { fields, line } of records) {
      if (!columns) columns = headerColumns(fields, line);
      else yield csvRow(columns, fields, line);
    }
  }
  if (!columns) {
    throw new DomainError('UPLOAD_CSV_HEADER', `the file is empty; its first line must be ${HEADERS_RULE}`);
  }
}

/** The file's records, a batch per piece of text. */
async function* csvRecords(source: ByteSource): AsyncGenerator<CsvRecord[]> {
  const reader = new CsvRecordReader(MAX_RECORD_CHARS);
  for await (const text of decodeUtf8(source)) yield reader.read(text);
  yield reader.end();
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
