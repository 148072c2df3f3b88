import type Koa from 'koa';
import type { Logger } from '../../logging/logger';

/**
 * One line per request. The query string and user agent are logged because they help an operator most;
 * the logger's redaction keeps card numbers, emails and keys in them out of the line.
 */
export function requestLog(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const principal = (ctx.state as { principal?: { id: string } }).principal;
      logger.info('request', {
        method: ctx.method,
        path: ctx.path,
        ...(ctx.querystring ? { query: ctx.querystring } : {}),
        status: ctx.status,
        ms: Math.round(performance.now() - started),
        ...(principal ? { principal: principal.id } : {}),
        userAgent: ctx.get('User-Agent') || undefined,
      });
    }
  };
}
