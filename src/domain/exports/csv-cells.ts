/**
 * CSV cells for exports (RFC 4180) that are also safe to open in a spreadsheet. Pure and free of Node
 * built-ins, so workflow code may use it too.
 */
import { DomainError } from '../errors';

/**
 * A cell starting with one of these is read as a formula by Excel, LibreOffice or Google Sheets (tab and
 * CR because some of them strip leading whitespace before deciding): CSV injection.
 */
const FORMULA_TRIGGERS: ReadonlySet<string> = new Set(['=', '+', '-', '@', '\t', '\r']);
/** A value neutraliseFormula prefixed: `'` and then one of FORMULA_TRIGGERS. */
const NEUTRALISED = /^'[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;
const PLAIN_DECIMAL = /^\d+(?:\.\d+)?$/;

/** Prefixes a leading `'`, which spreadsheets show as text and do not evaluate. */
export function neutraliseFormula(value: string): string {
  return FORMULA_TRIGGERS.has(value.charAt(0)) ? `'${value}` : value;
}

/** Undoes neutraliseFormula, as an upload reads an exported cell back (see src/api/uploads/csv-rows.ts). */
export function undoNeutralisation(value: string): string {
  return NEUTRALISED.test(value) ? value.slice(1) : value;
}

/** RFC 4180: a field holding a comma, quote, CR or LF is quoted, with quotes doubled. */
export function quoteCsvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Any text that did not come from our own formatting: neutralised, then quoted. Null is an empty cell. */
export function csvTextCell(value: string | null | undefined): string {
  return value == null ? '' : quoteCsvField(neutraliseFormula(value));
}

/**
 * An amount we formatted ourselves, left as a number so spreadsheets can sum it. Only unsigned plain
 * decimals pass, so nothing reaching a cell this way can be read as a formula.
 */
export function csvNumberCell(value: string): string {
  if (!PLAIN_DECIMAL.test(value)) {
    throw new DomainError('CSV_NOT_A_NUMBER', `${JSON.stringify(value)} is not an unsigned decimal number`);
  }
  return value;
}

/** One record of already encoded cells, LF-terminated. */
export function csvRecord(cells: readonly string[]): string {
  return `${cells.join(',')}\n`;
}
