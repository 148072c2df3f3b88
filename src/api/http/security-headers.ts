import type Koa from 'koa';
import helmet from 'koa-helmet';

/**
 * Headers on every response, errors included, from helmet: the set OWASP's REST Security Cheat Sheet
 * gives for API responses. The browser-page headers (cross-origin policies, DNS prefetch, download options,
 * the XSS filter) mean nothing on a JSON answer and doubled the size of a small one, so only the
 * documentation page gets them (pageSecurityHeaders). Responses carry orders and customer data, so nothing
 * may cache them unless a route says otherwise (the /docs assets do).
 */
export function securityHeaders(): Koa.Middleware[] {
  return [
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
      },
      xFrameOptions: { action: 'deny' },
      referrerPolicy: { policy: 'no-referrer' },
      crossOriginOpenerPolicy: false,
      crossOriginResourcePolicy: false,
      originAgentCluster: false,
      xDnsPrefetchControl: false,
      xDownloadOptions: false,
      xPermittedCrossDomainPolicies: false,
      xXssProtection: false,
    }),
    async (ctx, next) => {
      ctx.set('Cache-Control', 'no-store');
      await next();
    },
  ];
}

/**
 * helmet's full set for the pages a browser renders (/docs). The Content-Security-Policy lets a page run
 * only this API's own scripts and styles: the Swagger UI page loads its bundle and init script as files (no
 * inline script), and its styles set inline `style` attributes.
 */
export function pageSecurityHeaders(): Koa.Middleware {
  return helmet({
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
  });
}
