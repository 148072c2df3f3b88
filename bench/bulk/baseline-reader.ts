/**
 * The baseline's CSV reader, as `readCsvRows` (src/api/uploads/csv-rows.ts) read files when issue #12 was filed:
 * the text decoded by the project's strict UTF-8 decoder, records parsed by csv-parse with the raw text it needs
 * to count lines, each cell's formula neutralisation undone. The issue keeps the baseline's work unchanged so
 * that its ratios compare with the issue's: the upload's own reader has since been replaced by a faster one
 * (src/api/uploads/csv-records.ts), and a baseline that followed it would move with the upload.
 */
import { Readable, pipeline } from 'node:stream';
import { type Options, parse } from 'csv-parse';
import { decodeUtf8 } from '../../src/api/uploads/utf8-text';
import { undoNeutralisation } from '../../src/domain/exports/csv-cells';
import { emptyFields, IMPORT_COLUMNS, type RawFields } from '../../src/domain/uploads/rows';

const NUMBER_COLUMNS = new Set(['order_amount', 'payment_amount']);

/** The file's rows after the header, as fields by column (the upload header only: the bench writes it). */
export async function* readBaselineRows(source: AsyncIterable<Uint8Array>): AsyncGenerator<RawFields> {
  let nextLine = 1;
  const options = {
    raw: true,
    relax_column_count: true,
    record_delimiter: ['\r\n', '\n'],
    max_record_size: 64 * 1024,
    on_record: ({ record, raw }: { record: string[]; raw: string }) => {
      const line = nextLine;
      nextLine += raw.split('\n').length - 1 + (raw.endsWith('\r') ? 1 : 0);
      return record.length === 1 && /^[\r\n]*$/.test(raw) ? null : { record, line };
    },
  };
  const parser = parse(options as unknown as Options);
  pipeline(Readable.from(decodeUtf8(source)), parser, () => undefined);
  let header = true;
  for await (const { record } of parser as AsyncIterable<{ record: string[]; line: number }>) {
    if (header) {
      if (record.join(',') !== IMPORT_COLUMNS.join(','))
        throw new Error('the baseline reads the upload header only');
      header = false;
      continue;
    }
    const fields = emptyFields();
    IMPORT_COLUMNS.forEach((column, index) => {
      const value = record[index] ?? '';
      fields[column] = NUMBER_COLUMNS.has(column) ? value : undoNeutralisation(value);
    });
    yield fields;
  }
}
