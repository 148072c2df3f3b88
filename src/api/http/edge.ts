import type Koa from 'koa';
import type { Logger } from '../../logging/logger';
import type { ApiMetrics } from './metrics';
import { beginRequestLog, logRequest } from './request-log';
import { setSecurityHeaders } from './security-headers';
import { drainUnreadBody } from './unread-body';

/**
 * The outermost middleware: what every request gets, whatever answers it. Security headers, a request id,
 * the drain of a body nobody read, then the request's metric and log line, which see the status the error
 * mapping chose. One middleware rather than one per concern: each layer of Koa's chain is a promise and a
 * closure on every request, and five layers cost the order read about a sixth of its CPU (BENCHMARKS.md,
 * "Read path").
 */
export function httpEdge({ logger, metrics }: { logger: Logger; metrics: ApiMetrics }): Koa.Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    setSecurityHeaders(ctx.req, ctx.res);
    const requestId = beginRequestLog(ctx, logger);
    try {
      await next();
      await drainUnreadBody(ctx);
    } finally {
      const ms = performance.now() - started;
      metrics.observeRequest(ctx, ms / 1000);
      logRequest(ctx, logger, requestId, ms);
    }
  };
}
