import Router from '@koa/router';
import type { Readable } from 'node:stream';
import type { FieldCipher } from '../../crypto/field-cipher';
import { FieldCipherThread } from '../../crypto/field-cipher-thread';
import type { Db } from '../../db/knex';
import type { Logger } from '../../logging/logger';
import { requestLogger } from '../http/request-log';
import { Problem } from '../http/problem';
import { addRoute } from '../http/route';
import {
  ExportFailedError,
  openOrderExport,
  readOrderBatches,
  UnreadableOrderError,
  type ExportFormat,
} from './export-stream';
import { exportApi } from './schemas';

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

  // Everything that can be refused is refused by the query's schema, before a byte of the file is sent.
  addRoute(router, exportApi.exportOrders, async (ctx, { query: { format, ...filter } }) => {
    const now = new Date();
    const log = requestLogger(ctx, logger);
    log.info('export started', {
      format,
      status: filter.status,
      from: filter.from?.toISOString(),
      to: filter.to?.toISOString(),
    });
    // A thread per export: it exists only while the export streams, and two exports never queue on one.
    const cipherThread = new FieldCipherThread(cipher);
    let stream: Readable;
    try {
      stream = await openOrderExport({
        batches: readOrderBatches(db, filter, cipherThread),
        format,
        logger: log,
      });
    } catch (error) {
      await cipherThread.close();
      const unreadable = error instanceof ExportFailedError && error.cause;
      if (unreadable instanceof UnreadableOrderError) {
        log.error('export failed before its first byte', { format, error: unreadable });
        throw new Problem(
          500,
          'Internal Server Error',
          `the export cannot be written: ${unreadable.message}`,
          {
            orderId: unreadable.orderId,
          },
        );
      }
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

/** `20260301T091500Z`: sortable, and without the colons some file systems refuse. */
function fileTimestamp(now: Date): string {
  return now
    .toISOString()
    .replace(/\.\d{3}/, '')
    .replace(/[-:]/g, '');
}
