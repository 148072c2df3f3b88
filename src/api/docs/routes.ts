import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Router from '@koa/router';
import swaggerUiPath from 'swagger-ui-dist/absolute-path';
import { Problem } from '../http/problem';
import { pageSecurityHeaders } from '../http/security-headers';
import { addRoute } from '../http/route';
import { openApiSpec } from './openapi';
import { docsApi, type DocAsset } from './schemas';

const ASSETS_PREFIX = '/docs/assets';

/** Swagger UI's init code, served as a file so the page has no inline script (the CSP allows none). */
const INIT_SCRIPT = `'use strict';
window.addEventListener('DOMContentLoaded', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
  });
});
`;

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>durapay API</title>
    <link rel="stylesheet" href="${ASSETS_PREFIX}/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${ASSETS_PREFIX}/swagger-ui-bundle.js"></script>
    <script src="${ASSETS_PREFIX}/docs.js"></script>
  </body>
</html>
`;

const CSS = 'text/css; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';

/**
 * The only files served under /docs/assets: a fixed allow-list by name, so no request path ever reaches
 * the file system. Files from swagger-ui-dist are read once, on first request.
 */
const ASSETS: ReadonlyMap<string, { type: string; source: { file: string } | { text: string } }> = new Map<
  DocAsset,
  { type: string; source: { file: string } | { text: string } }
>([
  ['swagger-ui.css', { type: CSS, source: { file: 'swagger-ui.css' } }],
  ['swagger-ui-bundle.js', { type: JS, source: { file: 'swagger-ui-bundle.js' } }],
  ['docs.js', { type: JS, source: { text: INIT_SCRIPT } }],
]);

/** `GET /` (to `/docs`), `GET /openapi.json`, the Swagger UI page at `GET /docs`, and the page's static files. */
export function docsRoutes(): Router {
  const router = new Router();
  router.use('/docs', pageSecurityHeaders());
  const loaded = new Map<string, Promise<Buffer | string>>();
  const load = (name: string, source: { file: string } | { text: string }): Promise<Buffer | string> => {
    if ('text' in source) return Promise.resolve(source.text);
    let content = loaded.get(name);
    if (!content) {
      content = readFile(path.join(swaggerUiPath(), source.file));
      // A failed read is not remembered, so a later request tries again.
      content.catch(() => loaded.delete(name));
      loaded.set(name, content);
    }
    return content;
  };

  // A browser pointed at the API's address lands on its documentation.
  addRoute(router, docsApi.getRoot, (ctx) => {
    ctx.redirect('/docs');
  });

  addRoute(router, docsApi.getOpenApi, (ctx) => {
    ctx.body = openApiSpec;
  });

  addRoute(router, docsApi.getDocs, (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = PAGE;
  });

  addRoute(router, docsApi.getDocsAsset, async (ctx, { params }) => {
    const name = params.file;
    const asset = ASSETS.get(name);
    if (!asset) throw new Problem(404, 'Not Found', `no documentation asset "${name.slice(0, 64)}"`);
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.type = asset.type;
    ctx.body = await load(name, asset.source);
  });

  return router;
}
