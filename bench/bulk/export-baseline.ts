/**
 * The export's yardstick: the least work the same CSV needs, with no API. One mysql2 connection streams the
 * export's joined query (src/db/exports.ts) in one statement, with no paging; each order's email is decrypted
 * with the project's FieldCipher on this thread, and the orders are written in the export's CSV format
 * (src/domain/exports/order-formats.ts) to nowhere: the text is encoded as UTF-8, counted and dropped.
 */
import { createConnection, type RowDataPacket } from 'mysql2';
import { loadConfig } from '../../src/config';
import { createFieldCipher } from '../../src/crypto';
import { toExportOrder } from '../../src/api/exports/export-stream';
import { exportRowsQuery, groupJoinedRows, type JoinedRow } from '../../src/db/exports';
import { CONNECTION_SETTINGS, createDb } from '../../src/db/knex';
import { ORDERS } from '../../src/db/orders';
import { ORDER_FORMATS } from '../../src/domain/exports/order-formats';

/** Rows grouped into orders at a time, as the export's batches are. */
const ROWS_PER_GROUP = 1000;
const CHUNK_CHARS = 64 * 1024;

export interface ExportBaselineResult {
  /** CSV records after the header, counted as the export counts them. */
  rows: number;
  orders: number;
  bytes: number;
  elapsedS: number;
}

export async function runExportBaseline(log: (line: string) => void): Promise<ExportBaselineResult> {
  const config = loadConfig();
  const cipher = createFieldCipher(config, () => undefined);
  // knex only writes the statement; it never connects.
  const builder = createDb(config.databaseUrl, { max: 1 });
  const { sql, bindings } = exportRowsQuery(builder, {}).toSQL().toNative();
  await builder.destroy();
  // Read as the API's handle reads (src/db/knex.ts): DECIMAL as strings, dates as UTC.
  const connection = createConnection({ uri: config.databaseUrl, ...CONNECTION_SETTINGS });
  const { head, order: formatOrder } = ORDER_FORMATS.csv;
  const result: ExportBaselineResult = { rows: 0, orders: 0, bytes: 0, elapsedS: 0 };
  let chunk = head;
  const emit = () => {
    result.bytes += Buffer.from(chunk, 'utf8').length;
    chunk = '';
  };
  const write = (rows: JoinedRow[]) => {
    const { orders, payments } = groupJoinedRows(rows);
    for (const order of orders) {
      const email =
        order.customer_email_enc === null
          ? null
          : cipher.decrypt(order.customer_email_enc, {
              table: ORDERS,
              column: 'customer_email_enc',
              rowId: order.order_id,
            });
      const orderPayments = payments.get(order.order_id) ?? [];
      chunk += formatOrder(toExportOrder(order, email, orderPayments));
      result.orders += 1;
      result.rows += Math.max(orderPayments.length, 1);
      if (chunk.length >= CHUNK_CHARS) emit();
    }
  };
  const started = performance.now();
  let nextLog = started + 10_000;
  try {
    let pending: JoinedRow[] = [];
    const stream = connection.query(sql, bindings as unknown[]).stream();
    for await (const row of stream as AsyncIterable<RowDataPacket & JoinedRow>) {
      // A group ends between orders, so an order's payments stay together.
      if (pending.length >= ROWS_PER_GROUP && row.order_id !== pending[pending.length - 1]!.order_id) {
        write(pending);
        pending = [];
      }
      pending.push(row);
      if (performance.now() > nextLog) {
        log(`export baseline: ${result.rows} rows`);
        nextLog += 10_000;
      }
    }
    write(pending);
    emit();
    result.elapsedS = (performance.now() - started) / 1000;
    return result;
  } finally {
    await connection.promise().end();
  }
}
