/**
 * The baseline of the read path: bare Koa and a mysql2 pool, `GET /orders/:orderId` selecting one order row by
 * primary key from the same MariaDB the API uses. No router, body parser, request log, views or Temporal: the
 * least a Node server must do for that read, so the API's read throughput can be stated as a ratio to it.
 *
 * Run as its own process (bench/orders.ts starts it), so it has an event loop of its own like the API. It
 * listens on 127.0.0.1 on a free port and prints `listening <port>` once ready.
 */
import Koa from 'koa';
import { createPool, type RowDataPacket } from 'mysql2/promise';
import { loadConfig } from '../../src/config';
import { CONNECTION_SETTINGS } from '../../src/db/knex';

/** The same size as the API's pools (src/db/knex.ts), so both have as many database connections per query path. */
const POOL_SIZE = 10;

function main(): void {
  const config = loadConfig();
  // The API's connection settings (src/db/knex.ts), so both read the same values the same way.
  const pool = createPool({ uri: config.databaseUrl, ...CONNECTION_SETTINGS, connectionLimit: POOL_SIZE });

  const app = new Koa();
  app.use(async (ctx) => {
    const match = /^\/orders\/([A-Za-z0-9._:-]{1,64})$/.exec(ctx.path);
    if (ctx.method !== 'GET' || !match) {
      ctx.status = 404;
      return;
    }
    const [rows] = await pool.query<RowDataPacket[]>('SELECT * FROM orders WHERE order_id = ?', [match[1]]);
    if (rows.length === 0) {
      ctx.status = 404;
      ctx.body = { title: 'Not Found' };
      return;
    }
    ctx.body = rows[0];
  });

  // The API's accept queue (src/api/http/server.ts), so both meet a burst of connections alike.
  const server = app.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    process.stdout.write(`listening ${port}\n`);
  });

  const stop = () => {
    server.close(() => void pool.end().then(() => process.exit(0)));
    server.closeAllConnections();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main();
