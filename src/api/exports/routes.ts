import Router from '@koa/router';
import type { FieldCipher } from '../../crypto/field-cipher';
import type { Db } from '../../db/knex';
import type { OrderStatus } from '../../domain/orders/order-state';
import type { Logger } from '../../logging/logger';
import { Problem } from '../http/problem';
import { openOrderExport, readOrderBatches, type ExportFilter, type ExportFormat } from './export-stream';

export interface ExportDeps {
  db: Db;
  cipher: FieldCipher;
  logger: Logger;
}

const CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  xml: 'application/xml; charset=utf-8',
};

/** `GET /exports/orders`: operators' bulk download, streamed (see export-stream.ts). */
export function exportRoutes({ db, cipher, logger }: ExportDeps): Router {
  const router = new Router();

  router.get('/exports/orders', async (ctx) => {
    // Everything that can be refused is refused here, before a byte of the file is sent.
    const { format, filter } = parseExportQuery(ctx.query);
    const now = new Date();
    logger.info('export started', {
      format,
      status: filter.status,
      from: filter.from?.toISOString(),
      to: filter.to?.toISOString(),
    });
    const stream = await openOrderExport({ batches: readOrderBatches(db, filter), cipher, format, logger });
    ctx.set('Content-Type', CONTENT_TYPES[format]);
    ctx.set('Content-Disposition', `attachment; filename="orders-${fileTimestamp(now)}.${format}"`);
    // Customer emails: no shared cache may keep a copy.
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.body = stream;
  });

  return router;
}

const PARAMETERS = ['format', 'status', 'from', 'to'];
const FORMATS: readonly ExportFormat[] = ['csv', 'xml'];
const ORDER_STATUSES: readonly OrderStatus[] = ['PENDING', 'COMPLETED', 'CANCELLED', 'EXPIRED'];

export function parseExportQuery(query: Record<string, unknown>): {
  format: ExportFormat;
  filter: ExportFilter;
} {
  const unknown = Object.keys(query).filter((key) => !PARAMETERS.includes(key));
  if (unknown.length > 0) throw badRequest(`unknown query parameter ${unknown.join(', ')}`);
  const [format, status, from, to] = PARAMETERS.map((name) => single(query, name));
  if (format === undefined || !FORMATS.includes(format as ExportFormat)) {
    throw badRequest(`format is required and must be one of ${FORMATS.join(', ')}`);
  }
  if (status !== undefined && !ORDER_STATUSES.includes(status as OrderStatus)) {
    throw badRequest(`status must be one of ${ORDER_STATUSES.join(', ')}`);
  }
  const filter: ExportFilter = {
    ...(status === undefined ? {} : { status: status as OrderStatus }),
    ...(from === undefined ? {} : { from: parseTimestamp(from, 'from') }),
    ...(to === undefined ? {} : { to: parseTimestamp(to, 'to') }),
  };
  if (filter.from && filter.to && filter.from.getTime() >= filter.to.getTime()) {
    throw badRequest('from must be earlier than to');
  }
  return { format: format as ExportFormat, filter };
}

function single(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined || typeof value === 'string') return value;
  throw badRequest(`${name} must be given at most once`);
}

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/** What a DATETIME column holds. */
const EARLIEST = Date.UTC(1000, 0, 1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * An ISO 8601 date-time with a time zone (RFC 3339 profile; seconds optional), in the years DATETIME
 * holds. Digits below the millisecond round up: rows have millisecond precision, so `>=` and `<` against
 * the rounded-up instant select exactly the rows the precise instant would.
 */
function parseTimestamp(text: string, name: string): Date {
  const match = TIMESTAMP.exec(text);
  const refuse = (why: string) =>
    badRequest(
      `${name} ${why}, such as 2026-03-01T00:00:00Z` +
        // A raw "+" in a query string arrives as a space.
        (text.includes(' ') ? '; encode "+" in a UTC offset as %2B' : ''),
    );
  if (!match) throw refuse('must be an ISO 8601 date-time with a time zone');
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part ?? '0')) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  // Checked before Date.UTC, which reads years 0 to 99 as 1900 to 1999.
  if (year < 1000) throw refuse('must be within the years 1000 to 9999');
  const [fraction = '', sign, offsetHours = '0', offsetMinutes = '0'] = match.slice(7);
  // Day 0 of the next month is the last day of this one.
  const daysInMonth = month >= 1 && month <= 12 ? new Date(Date.UTC(year, month, 0)).getUTCDate() : 0;
  if (
    day < 1 ||
    day > daysInMonth ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    Number(offsetHours) > 23 ||
    Number(offsetMinutes) > 59
  ) {
    throw refuse('must be a valid date and time');
  }
  const millis = Number(fraction.padEnd(3, '0').slice(0, 3)) + (/[1-9]/.test(fraction.slice(3)) ? 1 : 0);
  const offset = (sign === '-' ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000;
  const instant = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offset;
  if (instant < EARLIEST || instant > LATEST) throw refuse('must be within the years 1000 to 9999');
  return new Date(instant);
}

/** `20260301T091500Z`: sortable, and without the colons some file systems refuse. */
function fileTimestamp(now: Date): string {
  return now
    .toISOString()
    .replace(/\.\d{3}/, '')
    .replace(/[-:]/g, '');
}

function badRequest(detail: string): Problem {
  return new Problem(400, 'Bad Request', detail);
}
