import type { IncomingMessage, ServerResponse } from 'node:http';
import type Koa from 'koa';
import helmet from 'helmet';
import koaHelmet from 'koa-helmet';

/**
 * helmet's headers for API responses: the set OWASP's REST Security Cheat Sheet gives. The browser-page
 * headers (cross-origin policies, DNS prefetch, download options, the XSS filter) mean nothing on a JSON
 * answer and doubled the size of a small one, so only the documentation page gets them (pageSecurityHeaders).
 */
const apiHeaders = helmet({
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
});

/**
 * Sets the API's security headers on a response, errors included. helmet's middleware sets its headers
 * synchronously, so it is called here directly instead of through a Koa middleware of its own (one promise
 * less on every request). Responses carry orders and customer data, so nothing may cache them unless a route
 * says otherwise (the /docs assets do).
 */
export function setSecurityHeaders(req: IncomingMessage, res: ServerResponse): void {
  apiHeaders(req, res, (error?: unknown) => {
    // Only a directive helmet cannot write fails, and these are fixed above.
    if (error) throw new Error('helmet could not set the security headers', { cause: error });
  });
  res.setHeader('Cache-Control', 'no-store');
}

/**
 * helmet's full set for the pages a browser renders (/docs). The Content-Security-Policy lets a page run
 * only this API's own scripts and styles: the Swagger UI page loads its bundle and init script as files (no
 * inline script), and its styles set inline `style` attributes.
 */
export function pageSecurityHeaders(): Koa.Middleware {
  return koaHelmet({
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
