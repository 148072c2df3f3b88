import type Koa from 'koa';

/**
 * Headers on every response, errors included. Responses carry orders and customer data, so nothing may
 * cache them unless a route says otherwise (the /docs assets do). No Content-Security-Policy here: the
 * Swagger UI page at /docs runs its bundled scripts.
 */
export function securityHeaders(): Koa.Middleware {
  return async (ctx, next) => {
    ctx.set({
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
    });
    await next();
  };
}
