import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import { Client, type Connection } from '@temporalio/client';
import type { Config } from '../config';
import type { CardFingerprinter } from '../crypto/card-fingerprint';
import type { FieldCipher } from '../crypto/field-cipher';
import type { KeyRing } from '../crypto/key-ring';
import type { Db } from '../db/knex';
import type { Logger } from '../logging/logger';
import { createDataConverter } from '../temporal/data-converter';
import type { ApiKeys } from './auth/api-keys';
import { authenticate, rateLimit } from './auth/middleware';
import { RateLimiter } from './auth/rate-limit';
import { reconciliationRoutes } from './admin/routes';
import { codecRoutes } from './codec/routes';
import { docsRoutes } from './docs/routes';
import { exportRoutes } from './exports/routes';
import { Problem, problemMiddleware } from './http/problem';
import { httpEdge } from './http/edge';
import { healthRoutes } from './health/routes';
import { keyRotationRoutes } from './keys/routes';
import { requestLogger } from './http/request-log';
import { createApiMetrics, type ApiMetrics } from './http/metrics';
import { createTemporalCalls } from './http/temporal';
import { createOrderService } from './orders/order-service';
import { orderRoutes } from './orders/routes';
import { uploadRoutes } from './uploads/routes';

export interface AppDeps {
  config: Config;
  db: Db;
  connection: Connection;
  cipher: FieldCipher;
  fingerprinter: CardFingerprinter;
  logger: Logger;
  /** Who may call the protected routes (auth/access.ts says what each role may do). */
  apiKeys: ApiKeys;
  /** Encrypts Temporal payloads (the client's data converter) and backs the codec server. */
  payloadKeys: KeyRing;
  /** Where the API's metrics go; main.ts serves its registry on the metrics port. */
  metrics?: ApiMetrics;
}

/** Builds the Koa app from its dependencies, so tests run it against real servers without a main. */
export function createApp({
  config,
  db,
  connection,
  cipher,
  fingerprinter,
  logger,
  apiKeys,
  payloadKeys,
  metrics = createApiMetrics(),
}: AppDeps): Koa {
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: createDataConverter(payloadKeys),
  });
  // One deadline and one in-flight limit for every call the API makes to Temporal.
  const temporal = createTemporalCalls(client, {
    deadlineMs: config.temporal.callDeadlineMs,
    maxInFlight: config.temporal.maxCallsInFlight,
    onShed: metrics.shed,
  });
  metrics.watchTemporalCalls(temporal.inFlight, config.temporal.maxCallsInFlight);
  const orders = createOrderService({
    db,
    client,
    temporal,
    cipher,
    fingerprinter,
    taskQueue: config.temporal.taskQueue,
    paymentWaitMs: config.orders.paymentWaitMs,
    defaultDeadlineMs: config.orders.defaultDeadlineMs,
  });

  const app = new Koa();
  const mount = (...routers: Router[]) => {
    // The routes of several modules in one router: Koa's chain matches a request once for them all, not once
    // per module.
    const router = new Router().use(...routers.map((each) => each.routes()));
    app.use(router.routes()).use(router.allowedMethods({ throw: true }));
  };
  app.use(httpEdge({ logger, metrics }));
  app.use(problemMiddleware(logger));
  // Public: the codec server (it authenticates operators itself, by bearer or login cookie, and answers CORS
  // preflights, which carry none), health checks and the documentation.
  mount(
    codecRoutes({ config, apiKeys, payloadKeys }),
    healthRoutes({ db, temporal: connection }),
    docsRoutes(),
  );
  // Everything after needs an API key, and no request body is read before the caller is known. Uploads
  // stream their own bodies (files), so they come before the JSON body handling.
  app.use(authenticate(apiKeys));
  app.use(rateLimit(new RateLimiter(config.security.rateLimit)));
  mount(uploadRoutes({ config, db, client, temporal, cipher }));
  app.use(jsonBodiesOnly());
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: config.maxBodyBytes, encoding: 'utf-8' }));
  mount(
    orderRoutes(orders, { defaultDeadlineMs: config.orders.defaultDeadlineMs }),
    exportRoutes({ db, cipher, logger }),
    keyRotationRoutes({ config, client, temporal, cipher }),
    reconciliationRoutes({ db }),
  );
  // What escapes the middleware (a client that hangs up mid-download) goes to the one logger, not stderr.
  app.silent = true;
  app.on('error', (error: unknown, ctx?: Koa.Context) =>
    (ctx ? requestLogger(ctx, logger) : logger).warn('response stream failed', { error }),
  );
  return app;
}

/** A body in any other type would be silently ignored by the parser and then refused as incomplete: say why. */
function jsonBodiesOnly(): Koa.Middleware {
  return (ctx, next) => {
    const hasBody = Boolean(ctx.request.length) || ctx.get('Transfer-Encoding') !== '';
    if (hasBody && !ctx.request.is('application/json')) {
      throw new Problem(415, 'Unsupported Media Type', 'request bodies must be application/json');
    }
    return next();
  };
}
