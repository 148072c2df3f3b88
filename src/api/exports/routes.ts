import Router from '@koa/router';
import type { Readable } from 'node:stream';
import type { FieldCipher } from '../../crypto/field-cipher';
import { FieldCipherThread } from '../../crypto/field-cipher-thread';
import type { Db } from '../../db/knex';
import { ORDER_STATUSES, type OrderStatus } from '../../domain/orders/order-state';
import type { Logger } from '../../logging/logger';
import { parseTimestamp } from '../../domain/timestamps';
import { allowRoles } from '../auth/middleware';
import { Problem } from '../http/problem';
import { allowQueryParameters } from '../http/query';
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

  router.get('/exports/orders', allowRoles('operator'), async (ctx) => {
    // Everything that can be refused is refused here, before a byte of the file is sent.
    const { format, filter } = parseExportQuery(ctx.query);
    const now = new Date();
    logger.info('export started', {
      format,
      status: filter.status,
      from: filter.from?.toISOString(),
      to: filter.to?.toISOString(),
    });
    // A thread per export: it exists only while the export streams, and two exports never queue on one.
    const cipherThread = new FieldCipherThread(cipher);
    let stream: Readable;
    try {
      stream = await openOrderExport({ batches: readOrderBatches(db, filter, cipherThread), format, logger });
    } catch (error) {
      await cipherThread.close();
      throw error;
    }
    // Ended, failed or abandoned: a Readable closes in every case.
    stream.once('close', () => void cipherThread.close());
    ctx.set('Content-Type', CONTENT_TYPES[format]);
    ctx.set('Content-Disposition', `attachment; filename="orders-${fileTimestamp(now)}.${format}"`);
    ctx.body = stream;
  });

  return router;
}

const PARAMETERS = ['format', 'status', 'from', 'to'];
const FORMATS: readonly ExportFormat[] = ['csv', 'xml'];

export function parseExportQuery(query: Record<string, unknown>): {
  format: ExportFormat;
  filter: ExportFilter;
} {
  allowQueryParameters(query, PARAMETERS);
  const [format, status, from, to] = PARAMETERS.map((name) => single(query, name));
  if (format === undefined || !FORMATS.includes(format as ExportFormat)) {
    throw badRequest(`format is required and must be one of ${FORMATS.join(', ')}`);
  }
  if (status !== undefined && !ORDER_STATUSES.includes(status as OrderStatus)) {
    throw badRequest(`status must be one of ${ORDER_STATUSES.join(', ')}`);
  }
  const filter: ExportFilter = {
    ...(status === undefined ? {} : { status: status as OrderStatus }),
    ...(from === undefined ? {} : { from: parseBound(from, 'from') }),
    ...(to === undefined ? {} : { to: parseBound(to, 'to') }),
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

/**
 * An ISO 8601 date-time with a time zone (RFC 3339 profile; seconds optional), in the years DATETIME
 * holds. Digits below the millisecond round up, so the bound selects exactly the rows the precise instant would.
 */
function parseBound(text: string, name: string): Date {
  const parsed = parseTimestamp(text, { secondsOptional: true, subMillisecond: 'round-up' });
  if (typeof parsed === 'number') return new Date(parsed);
  const why = {
    malformed: 'must be an ISO 8601 date-time with a time zone',
    invalid: 'must be a valid date and time',
    out_of_range: 'must be within the years 1000 to 9999',
  }[parsed];
  // A raw "+" in a query string arrives as a space.
  const plusHint = text.includes(' ') ? '; encode "+" in a UTC offset as %2B' : '';
  throw badRequest(`${name} ${why}, such as 2026-03-01T00:00:00Z${plusHint}`);
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
