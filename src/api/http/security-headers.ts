import type Koa from 'koa';
import helmet from 'koa-helmet';

/**
 * Headers on every response, errors included, from helmet. The Content-Security-Policy lets a page run
 * only this API's own scripts and styles: the Swagger UI page at /docs loads its bundle and init script as
 * files (no inline script), and its styles set inline `style` attributes. Responses carry orders and
 * customer data, so nothing may cache them unless a route says otherwise (the /docs assets do).
 */
export function securityHeaders(): Koa.Middleware[] {
  return [
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          scriptSrcAttr: ["'none'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:'],
          fontSrc: ["'self'", 'data:'],
          objectSrc: ["'none'"],
          baseUri: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
      xFrameOptions: { action: 'deny' },
      referrerPolicy: { policy: 'no-referrer' },
    }),
    async (ctx, next) => {
      ctx.set('Cache-Control', 'no-store');
      await next();
    },
  ];
}
