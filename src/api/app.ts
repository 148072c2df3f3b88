import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import type { Connection } from '@temporalio/client';
import type { Db } from '../db/knex';
import type { Logger } from '../logging/logger';
import { problemMiddleware } from './http/problem';
import { healthRoutes } from './health/routes';

export interface AppDeps {
  db: Db;
  temporal: Connection;
  logger: Logger;
  maxBodyBytes: number;
}

/** Builds the Koa app from its dependencies, so tests run it against real servers without a main. */
export function createApp({ db, temporal, logger, maxBodyBytes }: AppDeps): Koa {
  const app = new Koa();
  app.use(requestLog(logger));
  app.use(problemMiddleware(logger));
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: maxBodyBytes, encoding: 'utf-8' }));
  for (const router of [healthRoutes({ db, temporal })]) {
    app.use(router.routes()).use(router.allowedMethods({ throw: true }));
  }
  return app;
}

function requestLog(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      logger.info('request', {
        method: ctx.method,
        path: ctx.path,
        status: ctx.status,
        ms: Math.round(performance.now() - started),
      });
    }
  };
}
