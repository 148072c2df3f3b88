/**
 * CSV records from text that arrives in pieces (RFC 4180): fields separated by commas, quoted fields that may
 * hold commas, doubled quotes and line breaks, records ended by LF or CRLF, each record with the line it starts
 * on. Blank lines are skipped but counted. Strict: a quote inside an unquoted field, text after a closing quote,
 * a quote never closed and a record over `maxRecordChars` fail the file, naming the record's line.
 *
 * Written here rather than taken from csv-parse: csv-parse 7.0.3, with the raw text of each record that it needs
 * to count lines, read the bench's file at 8.8 µs per row against 2.0 µs here (`readCsvRows` over a million rows,
 * one thread, 2026-12-04), and the upload's POST waits for this reader (BENCHMARKS.md, bulk analysis).
 */
import { DomainError } from '../../domain/errors';

export interface CsvRecord {
  fields: string[];
  line: number;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

/** A record parsed from `start`: its fields, where the next record starts, and the line breaks it spans. */
interface Parsed {
  fields: string[];
  end: number;
  lineBreaks: number;
}

export class CsvRecordReader {
  /** Text of records not yet complete; it starts at a record's start, on line `line`. */
  private pending = '';
  private line = 1;
  /** Pending text is parsed again only once it has doubled, so a record arriving in tiny pieces costs linear time. */
  private parseAt = 0;

  constructor(private readonly maxRecordChars: number) {}

  /** The records that `text` completes. */
  read(text: string): CsvRecord[] {
    this.pending += text;
    if (this.pending.length < this.parseAt && this.pending.length <= this.maxRecordChars) return [];
    return this.parse(false);
  }

  /** The records left at the end of the text: a last one without a line break. */
  end(): CsvRecord[] {
    return this.parse(true);
  }

  private parse(final: boolean): CsvRecord[] {
    const text = this.pending;
    const records: CsvRecord[] = [];
    let start = 0;
    while (start < text.length) {
      const parsed = this.record(text, start, final);
      if (!parsed) break;
      if (parsed.end - start > this.maxRecordChars) throw tooLong(this.line, this.maxRecordChars);
      const blank = parsed.fields.length === 1 && parsed.fields[0] === '' && text.charCodeAt(start) !== QUOTE;
      if (!blank) records.push({ fields: parsed.fields, line: this.line });
      this.line += parsed.lineBreaks;
      start = parsed.end;
    }
    this.pending = text.slice(start);
    if (this.pending.length > this.maxRecordChars) throw tooLong(this.line, this.maxRecordChars);
    this.parseAt = 2 * this.pending.length;
    return records;
  }

  /** The record at `start`, or undefined when the text ends before it does and more may come. */
  private record(text: string, start: number, final: boolean): Parsed | undefined {
    const { length } = text;
    const fields: string[] = [];
    let lineBreaks = 0;
    let at = start;
    for (;;) {
      if (at < length && text.charCodeAt(at) === QUOTE) {
        let value = '';
        let from = at + 1;
        for (;;) {
          const quote = text.indexOf('"', from);
          if (quote === -1 || (quote + 1 === length && !final)) {
            if (final && quote === -1) throw malformed(this.line, 'has a quoted field that is never closed');
            return undefined;
          }
          if (text.charCodeAt(quote + 1) === QUOTE) {
            value += text.slice(from, quote + 1);
            from = quote + 2;
            continue;
          }
          value += text.slice(from, quote);
          lineBreaks += countLineFeeds(text, at, quote);
          at = quote + 1;
          break;
        }
        fields.push(value);
        if (at === length) return final ? { fields, end: at, lineBreaks } : undefined;
        const next = text.charCodeAt(at);
        if (next === COMMA) {
          at += 1;
          continue;
        }
        if (next === LF) return { fields, end: at + 1, lineBreaks: lineBreaks + 1 };
        if (next === CR && at + 1 === length && !final) return undefined;
        if (next === CR && text.charCodeAt(at + 1) === LF) {
          return { fields, end: at + 2, lineBreaks: lineBreaks + 1 };
        }
        throw malformed(
          this.line,
          'has a closing quote followed by something other than a comma or line end',
        );
      }

      let stop = at;
      for (; stop < length; stop++) {
        const code = text.charCodeAt(stop);
        if (code === COMMA || code === LF) break;
        if (code === QUOTE) {
          throw malformed(
            this.line,
            'has a quote inside an unquoted field; quote the whole field and double its quotes ("")',
          );
        }
      }
      if (stop === length) {
        if (!final) return undefined;
        fields.push(text.slice(at, stop));
        return { fields, end: stop, lineBreaks };
      }
      if (text.charCodeAt(stop) === COMMA) {
        fields.push(text.slice(at, stop));
        at = stop + 1;
        continue;
      }
      // A CRLF ends the record as an LF does.
      fields.push(text.slice(at, stop > at && text.charCodeAt(stop - 1) === CR ? stop - 1 : stop));
      return { fields, end: stop + 1, lineBreaks: lineBreaks + 1 };
    }
  }
}

function countLineFeeds(text: string, from: number, to: number): number {
  let count = 0;
  for (let at = text.indexOf('\n', from); at !== -1 && at < to; at = text.indexOf('\n', at + 1)) count++;
  return count;
}

function malformed(line: number, problem: string): DomainError {
  return new DomainError(
    'UPLOAD_CSV_MALFORMED',
    `the file is not valid CSV: the record starting on line ${line} ${problem}`,
  );
}

const tooLong = (line: number, maxRecordChars: number) =>
  malformed(line, `is longer than ${maxRecordChars} characters; is a quote not closed?`);
