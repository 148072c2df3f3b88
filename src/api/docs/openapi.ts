/**
 * `GET /openapi.json`, generated from the route definitions of each domain (their schemas validate the
 * requests and type the answers) plus what holds for every route: the API key scheme, and the 401, 403
 * and 429 answers a role-checked route can give.
 */
import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { reconciliationApi } from '../admin/schemas';
import { ROLES } from '../auth/api-keys';
import { codecApi } from '../codec/schemas';
import { exportApi } from '../exports/schemas';
import { healthApi } from '../health/schemas';
import type { ApiRoute } from '../http/route';
import { ProblemDetails, shared, SHARED_RESPONSES } from '../http/schemas';
import { keyApi } from '../keys/schemas';
import { orderApi } from '../orders/schemas';
import { uploadApi } from '../uploads/schemas';
import { docsApi } from './schemas';

/** Every route of the API, as the routers register them. */
export const API_ROUTES: readonly ApiRoute[] = [
  codecApi,
  healthApi,
  docsApi,
  orderApi,
  exportApi,
  uploadApi,
  keyApi,
  reconciliationApi,
].flatMap((routes) => Object.values(routes) as ApiRoute[]);

const API_KEY_SCHEME = 'apiKey';

/** `/orders/:orderId` as OpenAPI writes it: `/orders/{orderId}`. */
export const openApiPath = (path: string): string => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

function routeConfig(route: ApiRoute): RouteConfig {
  const { roles } = route;
  const everyRole = roles !== undefined && ROLES.every((role) => roles.includes(role));
  const body = route.request.body;
  return {
    method: route.method,
    path: openApiPath(route.path),
    operationId: route.operationId,
    summary: route.summary,
    tags: route.tags,
    ...(roles
      ? {
          description: [route.description, `Roles: ${roles.join(', ')}.`].filter(Boolean).join(' '),
          security: [{ [API_KEY_SCHEME]: [] }],
          'x-roles': roles,
        }
      : route.description && { description: route.description }),
    request: {
      ...(route.request.params && { params: route.request.params }),
      ...(route.request.query && { query: route.request.query }),
      ...(route.request.headers && { headers: route.request.headers }),
      ...(body
        ? { body: { required: true, content: { 'application/json': { schema: body } } } }
        : route.documentedBody && { body: route.documentedBody }),
    },
    responses: {
      ...(roles && {
        401: shared('Unauthorized'),
        ...(everyRole ? {} : { 403: shared('Forbidden') }),
        ...(route.authenticatesItself ? {} : { 429: shared('TooManyRequests') }),
      }),
      ...route.responses,
      default: shared('Error'),
    },
  };
}

function generate() {
  const registry = new OpenAPIRegistry();
  registry.register('Problem', ProblemDetails);
  for (const [name, response] of Object.entries(SHARED_RESPONSES)) {
    registry.registerComponent('responses', name, response);
  }
  registry.registerComponent('securitySchemes', API_KEY_SCHEME, {
    type: 'http',
    scheme: 'bearer',
    description:
      'An API key from DURAPAY_API_KEYS (in development, printed by the API on its first start and kept ' +
      'in .data/durapay_api_keys.dev), sent as `Authorization: Bearer <key>`',
  });
  for (const route of API_ROUTES) registry.registerPath(routeConfig(route));
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'durapay',
      version: '0.1.0',
      description:
        'Durable orders and card payments. Amounts are decimal strings in the major unit with exactly the ' +
        'currency\'s decimals ("125.50" USD, "1000" JPY). Errors are RFC 9457 problem details ' +
        '(`application/problem+json`). Card numbers and CVCs are never returned: a payment shows only the ' +
        'card brand and last 4 digits. Every operation except health and documentation needs an API key ' +
        '(`Authorization: Bearer <key>`) of the role it names: clients create orders and see, pay and cancel ' +
        "only their own (another client's order or payment is answered 404, exactly like an unknown one); " +
        'operators see, pay and cancel every order, imported ones included, and use uploads and exports. ' +
        'Each key is rate limited (429 with `Retry-After`).',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    tags: [
      { name: 'orders', description: 'Orders and their payments' },
      { name: 'payments', description: 'Payments by ID' },
      { name: 'uploads', description: 'Bulk uploads of orders and payments for operators' },
      { name: 'exports', description: 'Bulk downloads for operators' },
      { name: 'keys', description: 'Re-encryption of stored data under a new key, for operators' },
      {
        name: 'reconciliation',
        description: "The provider's charges compared with the payments, for operators",
      },
      { name: 'codec', description: 'The codec server of the Temporal Web UI, for operators' },
      { name: 'operations', description: 'Health and documentation' },
    ],
  });
}

export const openApiSpec = generate();
