import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import { Client, type Connection } from '@temporalio/client';
import type { Config } from '../config';
import type { FieldCipher } from '../crypto/field-cipher';
import type { Db } from '../db/knex';
import type { Logger } from '../logging/logger';
import { docsRoutes } from './docs/routes';
import { exportRoutes } from './exports/routes';
import { Problem, problemMiddleware } from './http/problem';
import { healthRoutes } from './health/routes';
import { requestLog } from './http/request-log';
import { createOrderService } from './orders/order-service';
import { orderRoutes } from './orders/routes';
import { uploadRoutes } from './uploads/routes';

export interface AppDeps {
  config: Config;
  db: Db;
  connection: Connection;
  cipher: FieldCipher;
  logger: Logger;
}

/** Builds the Koa app from its dependencies, so tests run it against real servers without a main. */
export function createApp({ config, db, connection, cipher, logger }: AppDeps): Koa {
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const orders = createOrderService({
    db,
    client,
    cipher,
    taskQueue: config.temporal.taskQueue,
    paymentWaitMs: config.orders.paymentWaitMs,
    defaultDeadlineMs: config.orders.defaultDeadlineMs,
    temporalDeadlineMs: config.orders.temporalDeadlineMs,
  });

  const app = new Koa();
  app.use(requestLog(logger));
  app.use(problemMiddleware(logger));
  // Uploads stream their own bodies (files), so they come before the JSON body handling.
  const uploads = uploadRoutes({ config, db, client, cipher });
  app.use(uploads.routes()).use(uploads.allowedMethods({ throw: true }));
  app.use(jsonBodiesOnly());
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: config.maxBodyBytes, encoding: 'utf-8' }));
  const routers = [
    healthRoutes({ db, temporal: connection }),
    orderRoutes(orders, { defaultDeadlineMs: config.orders.defaultDeadlineMs }),
    exportRoutes({ db, cipher, logger }),
    docsRoutes(),
  ];
  for (const router of routers) app.use(router.routes()).use(router.allowedMethods({ throw: true }));
  // What escapes the middleware (a client that hangs up mid-download) goes to the one logger, not stderr.
  app.silent = true;
  app.on('error', (error: unknown) => logger.warn('response stream failed', { error }));
  return app;
}

/** A body in any other type would be silently ignored by the parser and then refused as incomplete: say why. */
function jsonBodiesOnly(): Koa.Middleware {
  return async (ctx, next) => {
    const hasBody = Boolean(ctx.request.length) || ctx.get('Transfer-Encoding') !== '';
    if (hasBody && !ctx.request.is('application/json')) {
      throw new Problem(415, 'Unsupported Media Type', 'request bodies must be application/json');
    }
    await next();
  };
}
