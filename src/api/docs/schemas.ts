/** The documentation routes: the generated spec, the Swagger UI page and its fixed list of files. */
import { apiRoute } from '../http/route';
import { shared } from '../http/schemas';
import { z } from '../http/zod';

export const DOC_ASSETS = ['swagger-ui.css', 'swagger-ui-bundle.js', 'docs.js'] as const;
export type DocAsset = (typeof DOC_ASSETS)[number];

const text = z.string();

export const docsApi = {
  getRoot: apiRoute({
    method: 'get',
    path: '/',
    operationId: 'getRoot',
    summary: 'Redirects to the documentation page',
    tags: ['operations'],
    request: {},
    responses: {
      302: {
        description: 'To `/docs`',
        headers: { Location: { required: true, description: '`/docs`', schema: { type: 'string' } } },
        content: { 'text/plain': { schema: text }, 'text/html': { schema: text } },
      },
    },
  }),
  getOpenApi: apiRoute({
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This OpenAPI document',
    tags: ['operations'],
    request: {},
    responses: {
      200: {
        description: 'OpenAPI 3.1 document',
        content: { 'application/json': { schema: z.looseObject({}) } },
      },
    },
  }),
  getDocs: apiRoute({
    method: 'get',
    path: '/docs',
    operationId: 'getDocs',
    summary: 'Browsable API documentation (Swagger UI)',
    tags: ['operations'],
    request: {},
    responses: { 200: { description: 'HTML page', content: { 'text/html': { schema: text } } } },
  }),
  getDocsAsset: apiRoute({
    method: 'get',
    path: '/docs/assets/:file',
    operationId: 'getDocsAsset',
    summary: 'Static files of the documentation page',
    tags: ['operations'],
    request: {
      // Any other name is answered 404, like a missing file, so the parameter is read by the route.
      params: z.object({ file: z.string().openapi({ type: 'string', enum: [...DOC_ASSETS] }) }),
    },
    responses: {
      200: {
        description: 'The file',
        content: { 'text/css': { schema: text }, 'text/javascript': { schema: text } },
      },
      404: shared('NotFound'),
    },
  }),
};
