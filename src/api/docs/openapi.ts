/**
 * The OpenAPI 3.1 description of the HTTP API, served at `GET /openapi.json` and browsable at `GET /docs`.
 * test/api/openapi.test.ts keeps it honest: every registered route must be here and every path here must
 * be a route, and real responses must validate against the schemas below.
 */
import { ROLES, type Role } from '../auth/api-keys';
import { CARD_BRANDS } from '../../domain/cards';
import { ID_PATTERN } from '../../domain/ids';
import { ORDER_STATUSES, PAYMENT_STATUSES } from '../../domain/orders/order-state';

/** The subset of JSON Schema 2020-12 (the OpenAPI 3.1 dialect) this document uses. */
export interface JsonSchema {
  $ref?: string;
  type?: JsonType | JsonType[];
  description?: string;
  title?: string;
  enum?: readonly (string | number | boolean | null)[];
  const?: string | number | boolean | null;
  default?: unknown;
  examples?: readonly unknown[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  oneOf?: readonly JsonSchema[];
  anyOf?: readonly JsonSchema[];
  readOnly?: boolean;
  writeOnly?: boolean;
}

type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null';

export interface MediaTypeObject {
  schema: JsonSchema;
}

export interface HeaderObject {
  description?: string;
  required?: boolean;
  schema: JsonSchema;
}

export interface ResponseObject {
  description: string;
  headers?: Record<string, HeaderObject | { $ref: string }>;
  content?: Record<string, MediaTypeObject>;
}

export interface ParameterObject {
  name: string;
  in: 'path' | 'query' | 'header';
  description?: string;
  required?: boolean;
  schema: JsonSchema;
}

export interface OperationObject {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  parameters?: (ParameterObject | { $ref: string })[];
  requestBody?: { required?: boolean; description?: string; content: Record<string, MediaTypeObject> };
  responses: Record<string, ResponseObject | { $ref: string }>;
  /** Security requirements: the names of `components.securitySchemes` an operation needs. */
  security?: Record<string, string[]>[];
  /** The roles whose API keys may call the operation (a specification extension). */
  'x-roles'?: readonly Role[];
}

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete' | 'head' | 'options';

export type PathItemObject = { parameters?: (ParameterObject | { $ref: string })[] } & Partial<
  Record<HttpMethod, OperationObject>
>;

export interface OpenApiDocument {
  openapi: string;
  info: {
    title: string;
    version: string;
    description?: string;
    license?: { name: string; identifier?: string };
  };
  tags?: { name: string; description?: string }[];
  paths: Record<string, PathItemObject>;
  components: {
    schemas: Record<string, JsonSchema>;
    parameters?: Record<string, ParameterObject>;
    headers?: Record<string, HeaderObject>;
    responses?: Record<string, ResponseObject>;
    securitySchemes?: Record<string, { type: 'http'; scheme: 'bearer'; description?: string }>;
  };
}

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';
export const JSON_MEDIA_TYPE = 'application/json';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: JsonSchema) => ({ [JSON_MEDIA_TYPE]: { schema } });
const problem = (description: string): ResponseObject => ({
  description,
  content: { [PROBLEM_MEDIA_TYPE]: { schema: ref('Problem') } },
});
const responseRef = (name: string) => ({ $ref: `#/components/responses/${name}` });
const location = { Location: { $ref: '#/components/headers/Location' } };

const API_KEY_SCHEME = 'apiKey';

/**
 * An operation that needs an API key of one of `roles`: the bearer scheme, and the 401, 403 (when some role
 * may not call it) and 429 answers every such operation can give.
 */
function forRoles(roles: readonly Role[], operation: OperationObject): OperationObject {
  const everyRole = ROLES.every((role) => roles.includes(role));
  return {
    ...operation,
    description: [operation.description, `Roles: ${roles.join(', ')}.`].filter(Boolean).join(' '),
    security: [{ [API_KEY_SCHEME]: [] }],
    'x-roles': roles,
    responses: {
      ...operation.responses,
      '401': responseRef('Unauthorized'),
      ...(everyRole ? {} : { '403': responseRef('Forbidden') }),
      '429': responseRef('TooManyRequests'),
    },
  };
}

const DECIMAL = '^[0-9]+(\\.[0-9]+)?$';

const cardDateField = (what: string, integer: JsonSchema): JsonSchema => ({
  description: `${what}, as a JSON integer or a string of digits.`,
  anyOf: [integer, { type: 'string', pattern: '^[0-9]{1,4}$' }],
});

/** The Temporal Web UI's codec server calls (src/api/codec): a POST and its CORS preflight. */
function codecPath(operation: 'encode' | 'decode'): PathItemObject {
  const payloads: JsonSchema = {
    type: 'object',
    required: ['payloads'],
    properties: {
      payloads: {
        type: 'array',
        items: {
          type: 'object',
          description: 'A Temporal payload in proto3 JSON: metadata values and data are base64',
          properties: {
            metadata: { type: 'object', additionalProperties: { type: 'string', format: 'byte' } },
            data: { type: 'string', format: 'byte' },
          },
        },
      },
    },
  };
  return {
    post: {
      operationId: `codec${operation === 'encode' ? 'Encode' : 'Decode'}`,
      summary: operation === 'encode' ? 'Encrypt payloads' : 'Decrypt payloads',
      description:
        "The Temporal Web UI's remote codec. Operators only: a bearer key, or the cookie of " +
        '`POST /codec/session`. CORS allows only DURAPAY_CODEC_CORS_ORIGIN; any other `Origin` is 403. ' +
        (operation === 'decode' ? 'Payloads that are not `binary/encrypted` come back unchanged.' : ''),
      tags: ['codec'],
      security: [{ [API_KEY_SCHEME]: [] }],
      'x-roles': ['operator'],
      requestBody: { required: true, content: json(payloads) },
      responses: {
        '200': { description: `The ${operation}d payloads, in order`, content: json(payloads) },
        '400': responseRef('BadRequest'),
        '401': responseRef('Unauthorized'),
        '403': problem('Not an operator, or a request from an origin other than the Web UI'),
        '413': responseRef('ContentTooLarge'),
        '415': responseRef('UnsupportedMediaType'),
        ...(operation === 'decode'
          ? { '422': problem('A payload does not decrypt: tampered, or under a key no longer configured') }
          : {}),
        default: responseRef('Error'),
      },
    },
    options: {
      operationId: `codec${operation === 'encode' ? 'Encode' : 'Decode'}Preflight`,
      summary: 'CORS preflight',
      description: 'Needs no credentials. Allowed only from DURAPAY_CODEC_CORS_ORIGIN (403 otherwise).',
      tags: ['codec'],
      responses: {
        '204': { description: 'The Web UI may POST with `X-Namespace`, `Content-Type` and `Authorization`' },
        '403': problem('A preflight from another origin'),
        default: responseRef('Error'),
      },
    },
  };
}

export const openApiSpec = {
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
    { name: 'codec', description: 'The codec server of the Temporal Web UI, for operators' },
    { name: 'operations', description: 'Health and documentation' },
  ],
  paths: {
    '/codec/encode': codecPath('encode'),
    '/codec/decode': codecPath('decode'),
    '/codec/session': {
      get: {
        operationId: 'codecLoginForm',
        summary: 'Operator sign-in form for the codec server',
        tags: ['codec'],
        responses: {
          '200': { description: 'An HTML form', content: { 'text/html': { schema: { type: 'string' } } } },
        },
      },
      post: {
        operationId: 'codecLogin',
        summary: 'Sign in to the codec server',
        description:
          'Takes an operator key (form field `key`, or a bearer key) and sets an HttpOnly, SameSite=Strict ' +
          'cookie for `/codec` that lasts 4 hours, so the Web UI can decode with "Include cross-origin ' +
          'credentials" on.',
        tags: ['codec'],
        requestBody: {
          content: {
            'application/x-www-form-urlencoded': {
              schema: { type: 'object', properties: { key: { type: 'string', writeOnly: true } } },
            },
          },
        },
        responses: {
          '200': {
            description: 'Signed in (form): a confirmation page, and the cookie',
            content: { 'text/html': { schema: { type: 'string' } } },
          },
          '204': { description: 'Signed in (bearer key): the cookie' },
          '401': responseRef('Unauthorized'),
          '403': problem('Not an operator key, or a form posted from another origin'),
          '413': responseRef('ContentTooLarge'),
          default: responseRef('Error'),
        },
      },
    },
    '/health': {
      get: {
        operationId: 'getHealth',
        summary: 'Health of the API and its dependencies',
        description:
          '200 when both the database and Temporal answer, 503 (naming the one that failed) otherwise.',
        tags: ['operations'],
        responses: {
          '200': { description: 'Healthy', content: json(ref('Health')) },
          '503': { description: 'A dependency is down', content: json(ref('Health')) },
          default: responseRef('Error'),
        },
      },
    },
    '/orders': {
      post: forRoles(['client'], {
        operationId: 'createOrder',
        summary: 'Create an order',
        description:
          'Creates a PENDING order and starts its workflow. With a client-chosen `orderId` the call is ' +
          'idempotent: repeating the same body answers 200 with the order, a different body 409.',
        tags: ['orders'],
        requestBody: { required: true, content: json(ref('CreateOrderRequest')) },
        responses: {
          '201': { description: 'Created', headers: location, content: json(ref('Order')) },
          '200': {
            description: 'The order already existed with this same body (a retry)',
            headers: location,
            content: json(ref('Order')),
          },
          '400': responseRef('BadRequest'),
          '409': problem('An order with this `orderId` exists with a different body'),
          '413': responseRef('ContentTooLarge'),
          '415': responseRef('UnsupportedMediaType'),
          '422': responseRef('UnprocessableContent'),
          default: responseRef('Error'),
        },
      }),
      get: forRoles(ROLES, {
        operationId: 'listOrders',
        summary: 'List orders, newest first',
        description:
          'Keyset pagination: pass `nextCursor` back as `cursor` for the next page. Unknown query parameters are refused.',
        tags: ['orders'],
        parameters: [
          {
            name: 'status',
            in: 'query',
            description: 'Only orders in this status',
            schema: { type: 'string', enum: ORDER_STATUSES },
          },
          {
            name: 'limit',
            in: 'query',
            description: 'Page size',
            schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
          },
          {
            name: 'cursor',
            in: 'query',
            description: 'The `nextCursor` of the previous page, as returned (opaque)',
            schema: { type: 'string' },
          },
        ],
        responses: {
          '200': {
            description: 'A page of orders (without their payments)',
            content: json(ref('OrderList')),
          },
          '400': responseRef('BadRequest'),
          default: responseRef('Error'),
        },
      }),
    },
    '/orders/{orderId}': {
      parameters: [{ $ref: '#/components/parameters/OrderId' }],
      get: forRoles(ROLES, {
        operationId: 'getOrder',
        summary: 'Get an order with its payments',
        tags: ['orders'],
        responses: {
          '200': { description: 'The order', content: json(ref('Order')) },
          '400': responseRef('BadRequest'),
          '404': responseRef('NotFound'),
          default: responseRef('Error'),
        },
      }),
    },
    '/orders/{orderId}/payments': {
      parameters: [{ $ref: '#/components/parameters/OrderId' }],
      post: forRoles(ROLES, {
        operationId: 'submitPayment',
        summary: 'Pay (part of) an order by card',
        description:
          'Records the payment and hands it to the order workflow. Without `wait` the answer is 202 at ' +
          'once; with `wait=true` it is 200 with the outcome, or 202 if the outcome takes longer than the ' +
          'configured wait. A retry with the same `Idempotency-Key` (or the same `paymentId`) and body ' +
          'answers with the payment recorded the first time (200 once settled, 202 while pending) and ' +
          'charges nothing more; with a different body it is refused with 422.',
        tags: ['orders'],
        parameters: [
          {
            name: 'Idempotency-Key',
            in: 'header',
            description: 'Makes retries safe: 1 to 255 visible ASCII characters, unique per order',
            schema: { type: 'string', pattern: '^[!-~]{1,255}$', minLength: 1, maxLength: 255 },
          },
          {
            name: 'wait',
            in: 'query',
            description: 'Wait for the outcome of the payment (up to a server-configured time)',
            schema: { type: 'boolean', default: false },
          },
        ],
        requestBody: { required: true, content: json(ref('CreatePaymentRequest')) },
        responses: {
          '200': {
            description:
              'Settled: the outcome after `wait=true` (with `order`), or the final payment a retry repeats',
            headers: location,
            content: json(ref('Payment')),
          },
          '202': {
            description: 'Accepted and still PENDING (or `wait=true` ran out of time): follow `Location`',
            headers: location,
            content: json(ref('Payment')),
          },
          '400': responseRef('BadRequest'),
          '404': responseRef('NotFound'),
          '409': problem(
            'The order is not PENDING (completed, cancelled or expired); may carry the `paymentId` that was refused',
          ),
          '413': responseRef('ContentTooLarge'),
          '415': responseRef('UnsupportedMediaType'),
          '422': responseRef('UnprocessableContent'),
          default: responseRef('Error'),
        },
      }),
    },
    '/orders/{orderId}/cancel': {
      parameters: [{ $ref: '#/components/parameters/OrderId' }],
      post: forRoles(ROLES, {
        operationId: 'cancelOrder',
        summary: 'Cancel a pending order',
        description:
          'Asks the order workflow to cancel; a payment already in flight finishes first. Cancelling a ' +
          'cancelled order is accepted again. The request body, if any, is ignored.',
        tags: ['orders'],
        responses: {
          '202': {
            description: 'Cancellation accepted',
            headers: location,
            content: json(ref('CancelAccepted')),
          },
          '400': responseRef('BadRequest'),
          '404': responseRef('NotFound'),
          '409': problem('The order is COMPLETED or EXPIRED'),
          '413': responseRef('ContentTooLarge'),
          '415': responseRef('UnsupportedMediaType'),
          default: responseRef('Error'),
        },
      }),
    },
    '/payments/{paymentId}': {
      get: forRoles(ROLES, {
        operationId: 'getPayment',
        summary: 'Get a payment',
        tags: ['payments'],
        parameters: [
          {
            name: 'paymentId',
            in: 'path',
            required: true,
            description: 'Payment ID (a malformed ID is answered 400)',
            schema: ref('Id'),
          },
        ],
        responses: {
          '200': { description: 'The payment', content: json(ref('Payment')) },
          '400': responseRef('BadRequest'),
          '404': responseRef('NotFound'),
          default: responseRef('Error'),
        },
      }),
    },
    '/exports/orders': {
      get: forRoles(['operator'], {
        operationId: 'exportOrders',
        summary: 'Download orders and their payments as CSV or XML',
        description:
          'The bulk-upload formats, streamed: one CSV row per payment (an order without payments has one ' +
          'row with empty payment columns), or one `<order>` element holding its `<payment>` elements. ' +
          'Orders come in `orderId` order. Customer emails are included; card numbers never are, only ' +
          '`card_brand` and `card_last4`. CSV cells starting with `=`, `+`, `-`, `@`, tab or CR get a ' +
          "leading `'` so spreadsheets do not run them as formulas. The file is not a point-in-time " +
          'snapshot: orders changing during a long download appear as they were when their batch was ' +
          'read. If the export fails after the download has started, the connection is cut before the end ' +
          'of the response (a broken transfer, never a shorter file that looks complete); retry it.',
        tags: ['exports'],
        parameters: [
          {
            name: 'format',
            in: 'query',
            required: true,
            schema: { type: 'string', enum: ['csv', 'xml'] },
          },
          {
            name: 'status',
            in: 'query',
            description: 'Only orders in this status',
            schema: { type: 'string', enum: ORDER_STATUSES },
          },
          {
            name: 'from',
            in: 'query',
            description:
              'Only orders created at or after this instant: an ISO 8601 date-time with a time zone ' +
              '(encode `+` as `%2B`)',
            schema: { type: 'string', format: 'date-time', examples: ['2026-03-01T00:00:00Z'] },
          },
          {
            name: 'to',
            in: 'query',
            description: 'Only orders created before this instant (exclusive); must be later than `from`',
            schema: { type: 'string', format: 'date-time', examples: ['2026-04-01T00:00:00Z'] },
          },
        ],
        responses: {
          '200': {
            description: 'The file, as an attachment named `orders-<UTC timestamp>.<format>`',
            headers: {
              'Content-Disposition': {
                required: true,
                schema: { type: 'string', examples: ['attachment; filename="orders-20260301T091500Z.csv"'] },
              },
            },
            content: {
              'text/csv': {
                schema: {
                  type: 'string',
                  description:
                    'UTF-8 without BOM, LF line endings, RFC 4180 quoting. Header: ' +
                    'order_id,order_amount,currency,order_status,created_at,customer_email,payment_id,' +
                    'payment_amount,payment_status,payment_method,card_brand,card_last4',
                },
              },
              'application/xml': {
                schema: {
                  type: 'string',
                  description:
                    '`<orders><order id amount currency status createdAt><customer email/>' +
                    '<payment id amount status method cardBrand cardLast4/>…</order></orders>`',
                },
              },
            },
          },
          '400': problem(
            'A missing or unknown `format`, a bad `status`, `from` or `to`, `from` not before `to`, a ' +
              'parameter given twice, or an unknown query parameter',
          ),
          default: responseRef('Error'),
        },
      }),
    },
    '/uploads': {
      post: forRoles(['operator'], {
        operationId: 'createUpload',
        summary: 'Upload a CSV or XML file of orders and payments',
        description:
          'The body is the file: raw `text/csv` or `application/xml`, or `multipart/form-data` with a `file` ' +
          'field. It is streamed into staging, then imported chunk by chunk by the upload workflow. The same ' +
          'file uploaded again answers the first upload (`duplicate: true`) and imports nothing twice. A bad ' +
          'row rejects its whole order; every other order is imported.',
        tags: ['uploads'],
        requestBody: {
          required: true,
          content: {
            'text/csv': { schema: { type: 'string' } },
            'application/xml': { schema: { type: 'string' } },
            'multipart/form-data': {
              schema: {
                type: 'object',
                properties: { file: { type: 'string', description: 'The .csv or .xml file' } },
              },
            },
          },
        },
        responses: {
          '202': {
            description: 'Staged; follow `Location`',
            headers: location,
            content: json(ref('UploadAccepted')),
          },
          '400': problem('An unknown query parameter (the operation takes none)'),
          '413': problem('The file is larger than the configured upload limit'),
          '415': problem('Not text/csv, application/xml or multipart/form-data'),
          '422': problem(
            'The file cannot be read: not UTF-8, a wrong CSV header, malformed XML or an XML DOCTYPE',
          ),
          default: responseRef('Error'),
        },
      }),
    },
    '/uploads/{uploadId}': {
      get: forRoles(['operator'], {
        operationId: 'getUpload',
        summary: 'Status, counts, chunk progress and the first rejected rows of an upload',
        tags: ['uploads'],
        parameters: [{ name: 'uploadId', in: 'path', required: true, schema: ref('Id') }],
        responses: {
          '200': { description: 'The upload', content: json(ref('Upload')) },
          '400': responseRef('BadRequest'),
          '404': responseRef('NotFound'),
          default: responseRef('Error'),
        },
      }),
    },
    '/uploads/{uploadId}/errors': {
      get: forRoles(['operator'], {
        operationId: 'getUploadErrors',
        summary: 'Every rejected row of an upload, as CSV (line, order_id, field, reason)',
        tags: ['uploads'],
        parameters: [{ name: 'uploadId', in: 'path', required: true, schema: ref('Id') }],
        responses: {
          '200': { description: 'The error report', content: { 'text/csv': { schema: { type: 'string' } } } },
          '400': responseRef('BadRequest'),
          '404': responseRef('NotFound'),
          default: responseRef('Error'),
        },
      }),
    },
    '/admin/key-rotations': {
      post: forRoles(['operator'], {
        operationId: 'startKeyRotation',
        summary: 'Re-encrypt every encrypted column to the active key of DURAPAY_FIELD_KEYS',
        description:
          'Starts the key-rotation workflow for the active (first) key of this server, or answers the one ' +
          'already running for it. Values under a retired key are rewritten in batches; values under the ' +
          'active key are left as they are, so running it again is safe and rewrites nothing. Put the new ' +
          'key first in DURAPAY_FIELD_KEYS of every API and worker process before starting it.',
        tags: ['keys'],
        responses: {
          '202': {
            description: 'Running; follow `Location`',
            headers: location,
            content: json(ref('KeyRotationAccepted')),
          },
          '400': responseRef('BadRequest'),
          default: responseRef('Error'),
        },
      }),
    },
    '/admin/key-rotations/{rotationId}': {
      get: forRoles(['operator'], {
        operationId: 'getKeyRotation',
        summary: 'Progress of a key rotation per column, or its result once done',
        tags: ['keys'],
        parameters: [
          {
            name: 'rotationId',
            in: 'path',
            required: true,
            description: 'The id of the key the rotation rewrites to',
            schema: ref('KeyId'),
          },
        ],
        responses: {
          '200': { description: 'The rotation', content: json(ref('KeyRotation')) },
          '400': responseRef('BadRequest'),
          '404': responseRef('NotFound'),
          default: responseRef('Error'),
        },
      }),
    },
    '/openapi.json': {
      get: {
        operationId: 'getOpenApi',
        summary: 'This OpenAPI document',
        tags: ['operations'],
        responses: {
          '200': { description: 'OpenAPI 3.1 document', content: json({ type: 'object' }) },
          default: responseRef('Error'),
        },
      },
    },
    '/docs': {
      get: {
        operationId: 'getDocs',
        summary: 'Browsable API documentation (Swagger UI)',
        tags: ['operations'],
        responses: {
          '200': { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' } } } },
          default: responseRef('Error'),
        },
      },
    },
    '/docs/assets/{file}': {
      get: {
        operationId: 'getDocsAsset',
        summary: 'Static files of the documentation page',
        tags: ['operations'],
        parameters: [
          {
            name: 'file',
            in: 'path',
            required: true,
            schema: { type: 'string', enum: ['swagger-ui.css', 'swagger-ui-bundle.js', 'docs.js'] },
          },
        ],
        responses: {
          '200': {
            description: 'The file',
            content: {
              'text/css': { schema: { type: 'string' } },
              'text/javascript': { schema: { type: 'string' } },
            },
          },
          '404': responseRef('NotFound'),
          default: responseRef('Error'),
        },
      },
    },
  },
  components: {
    parameters: {
      OrderId: {
        name: 'orderId',
        in: 'path',
        required: true,
        description: 'Order ID (a malformed ID is answered 400)',
        schema: ref('Id'),
      },
    },
    headers: {
      Location: { description: 'Where the resource can be read', required: true, schema: { type: 'string' } },
    },
    securitySchemes: {
      [API_KEY_SCHEME]: {
        type: 'http',
        scheme: 'bearer',
        description:
          'An API key from DURAPAY_API_KEYS (in development, printed by the API on its first start and kept ' +
          'in .data/durapay_api_keys.dev), sent as `Authorization: Bearer <key>`',
      },
    },
    responses: {
      BadRequest: problem(
        'Malformed request: a malformed ID in the path, JSON that does not parse, a bad `Idempotency-Key`, ' +
          '`wait`, `status`, `limit` or `cursor`, or an unknown query parameter',
      ),
      NotFound: problem(
        "No such resource, or one the caller may not see (another client's order or payment): both are " +
          'answered alike',
      ),
      Unauthorized: {
        description: 'No API key, or one the API does not know',
        headers: {
          'WWW-Authenticate': {
            description: '`Bearer realm="durapay"`, with `error="invalid_token"` for an unknown key',
            required: true,
            schema: { type: 'string' },
          },
        },
        content: { [PROBLEM_MEDIA_TYPE]: { schema: ref('Problem') } },
      },
      Forbidden: problem('The API key is valid but its role may not call this operation'),
      TooManyRequests: {
        description: 'This API key made more requests than its rate limit allows; retry after `Retry-After`',
        headers: {
          'Retry-After': {
            description: 'Seconds until the key may make a request again',
            required: true,
            schema: { type: 'string', pattern: '^[0-9]+$' },
          },
        },
        content: { [PROBLEM_MEDIA_TYPE]: { schema: ref('Problem') } },
      },
      ContentTooLarge: problem('The request body is larger than the configured limit'),
      UnsupportedMediaType: problem('The request has a body that is not application/json'),
      UnprocessableContent: problem(
        'The body is well-formed JSON but not a valid request: missing or unknown fields, a bad amount, ' +
          'currency or card, an amount above what is due, or an idempotency key or ID reused with a ' +
          'different body. Domain rule violations carry a `code`, e.g. `AMOUNT_TOO_PRECISE`, `CARD_EXPIRED`.',
      ),
      Error: problem('Any other error (405 wrong method, 500 …), as problem details'),
    },
    schemas: {
      Id: {
        type: 'string',
        description:
          "1 to 64 characters of letters, digits, '.', '_', ':' or '-', starting with a letter or digit",
        pattern: ID_PATTERN.source,
        examples: ['ord_3f2c9a', 'INV-2026-0042'],
      },
      Amount: {
        type: 'string',
        description:
          "Decimal string in the major unit with at most the currency's decimals; no sign, exponent or separators",
        pattern: DECIMAL,
        examples: ['125.50', '1000'],
      },
      Currency: {
        type: 'string',
        description: 'ISO 4217 code, upper case (funds and precious-metal codes are not supported)',
        pattern: '^[A-Z]{3}$',
        examples: ['USD', 'EUR', 'JPY'],
      },
      OrderStatus: { type: 'string', enum: ORDER_STATUSES },
      PaymentStatus: { type: 'string', enum: PAYMENT_STATUSES },
      Timestamp: { type: 'string', format: 'date-time' },
      Order: {
        type: 'object',
        additionalProperties: false,
        required: [
          'orderId',
          'status',
          'amount',
          'currency',
          'amountPaid',
          'amountDue',
          'paymentDeadline',
          'createdAt',
          'updatedAt',
        ],
        properties: {
          orderId: ref('Id'),
          status: ref('OrderStatus'),
          amount: ref('Amount'),
          currency: ref('Currency'),
          amountPaid: { ...ref('Amount'), description: 'Sum of the completed payments' },
          amountDue: { ...ref('Amount'), description: 'amount − amountPaid' },
          customer: {
            type: 'object',
            description: 'Only the customer ID is returned; contact details are stored encrypted',
            additionalProperties: false,
            required: ['id'],
            properties: { id: ref('Id') },
          },
          paymentDeadline: {
            type: ['string', 'null'],
            format: 'date-time',
            description: 'When a still PENDING order expires; null for an imported order not yet used',
          },
          createdAt: ref('Timestamp'),
          updatedAt: ref('Timestamp'),
          payments: {
            type: 'array',
            description: 'Present on a single order (oldest first), absent in lists',
            items: ref('Payment'),
          },
        },
      },
      OrderList: {
        type: 'object',
        additionalProperties: false,
        required: ['items', 'nextCursor'],
        properties: {
          items: { type: 'array', items: ref('Order') },
          nextCursor: {
            type: ['string', 'null'],
            description: 'Pass as `cursor` for the next page; null when this page is not full',
          },
        },
      },
      PaymentMethod: {
        type: 'object',
        additionalProperties: false,
        required: ['type'],
        properties: {
          type: { type: 'string', enum: ['card'] },
          brand: { type: 'string', enum: CARD_BRANDS },
          last4: { type: 'string', pattern: '^[0-9]{4}$' },
        },
      },
      Payment: {
        type: 'object',
        additionalProperties: false,
        required: [
          'paymentId',
          'orderId',
          'amount',
          'currency',
          'status',
          'method',
          'createdAt',
          'updatedAt',
        ],
        properties: {
          paymentId: ref('Id'),
          orderId: ref('Id'),
          amount: ref('Amount'),
          currency: ref('Currency'),
          status: ref('PaymentStatus'),
          method: ref('PaymentMethod'),
          failureReason: {
            type: 'string',
            description: 'Why a FAILED payment failed',
            examples: ['card_declined', 'insufficient_funds', 'order_not_pending'],
          },
          createdAt: ref('Timestamp'),
          updatedAt: ref('Timestamp'),
          order: {
            type: 'object',
            description: 'The order right after this payment; present on `wait=true` answers',
            additionalProperties: false,
            required: ['status', 'amountPaid'],
            properties: { status: ref('OrderStatus'), amountPaid: ref('Amount') },
          },
        },
      },
      KeyId: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,32}$', examples: ['k2'] },
      KeyRotationAccepted: {
        type: 'object',
        additionalProperties: false,
        required: ['rotationId', 'status'],
        properties: { rotationId: ref('KeyId'), status: { type: 'string', const: 'RUNNING' } },
      },
      KeyRotation: {
        type: 'object',
        additionalProperties: false,
        required: ['rotationId', 'status'],
        properties: {
          rotationId: ref('KeyId'),
          status: { type: 'string', enum: ['RUNNING', 'COMPLETED', 'FAILED'] },
          columns: {
            type: 'array',
            description: 'Each encrypted column; absent once the rotation failed',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['column', 'scanned', 'rewritten', 'done'],
              properties: {
                column: { type: 'string', examples: ['payments.card_number_enc'] },
                scanned: { type: 'integer', minimum: 0, description: 'Values read' },
                rewritten: {
                  type: 'integer',
                  minimum: 0,
                  description: 'Values that were under a retired key and are now under the active key',
                },
                done: { type: 'boolean' },
              },
            },
          },
          reason: { type: 'string', description: 'Why the rotation failed' },
        },
      },
      UploadAccepted: {
        type: 'object',
        additionalProperties: false,
        required: ['uploadId', 'status', 'duplicate'],
        properties: {
          uploadId: ref('Id'),
          status: ref('UploadStatus'),
          duplicate: {
            type: 'boolean',
            description: 'The same file was uploaded before; this is that upload',
          },
        },
      },
      UploadStatus: { type: 'string', enum: ['RUNNING', 'COMPLETED', 'COMPLETED_WITH_ERRORS', 'FAILED'] },
      Upload: {
        type: 'object',
        additionalProperties: false,
        required: [
          'uploadId',
          'status',
          'format',
          'rowsTotal',
          'rowsImported',
          'rowsRejected',
          'chunks',
          'startedAt',
          'finishedAt',
          'errors',
        ],
        properties: {
          uploadId: ref('Id'),
          status: ref('UploadStatus'),
          format: { type: 'string', enum: ['csv', 'xml'] },
          rowsTotal: { type: 'integer', minimum: 0 },
          rowsImported: { type: 'integer', minimum: 0 },
          rowsRejected: { type: 'integer', minimum: 0 },
          chunks: {
            type: 'object',
            additionalProperties: false,
            required: ['total', 'completed', 'failed'],
            properties: {
              total: { type: 'integer', minimum: 0 },
              completed: { type: 'integer', minimum: 0 },
              failed: { type: 'integer', minimum: 0 },
            },
          },
          startedAt: ref('Timestamp'),
          finishedAt: { type: ['string', 'null'], format: 'date-time' },
          errors: {
            type: 'array',
            description: 'The first rejected rows; the full report is at /uploads/{uploadId}/errors',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['line', 'field', 'reason'],
              properties: {
                line: { type: 'integer' },
                orderId: { type: 'string' },
                field: { type: 'string' },
                reason: { type: 'string' },
              },
            },
          },
        },
      },
      CancelAccepted: {
        type: 'object',
        additionalProperties: false,
        required: ['orderId', 'status'],
        properties: { orderId: ref('Id'), status: { type: 'string', const: 'CANCELLING' } },
      },
      CreateOrderRequest: {
        type: 'object',
        additionalProperties: false,
        required: ['amount', 'currency'],
        properties: {
          orderId: { ...ref('Id'), description: 'Client-chosen ID, which makes the create idempotent' },
          amount: { ...ref('Amount'), description: 'Greater than zero' },
          currency: ref('Currency'),
          customer: {
            type: 'object',
            additionalProperties: false,
            properties: {
              id: ref('Id'),
              email: { type: 'string', minLength: 1, maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+$' },
              name: { type: 'string', minLength: 1, maxLength: 200 },
            },
          },
          paymentDeadline: {
            type: 'string',
            description:
              'ISO 8601 duration from now, longer than zero and at most 366 days, in weeks, days, hours, ' +
              'minutes and seconds (years and months have no fixed length and are refused). Defaults to a ' +
              'server-configured window.',
            pattern:
              '^P(?:[0-9]+(?:\\.[0-9]+)?W)?(?:[0-9]+(?:\\.[0-9]+)?D)?' +
              '(?:T(?:[0-9]+(?:\\.[0-9]+)?H)?(?:[0-9]+(?:\\.[0-9]+)?M)?(?:[0-9]+(?:\\.[0-9]+)?S)?)?$',
            examples: ['P7D', 'PT36H', 'P1DT12H30M'],
          },
        },
      },
      CreatePaymentRequest: {
        type: 'object',
        additionalProperties: false,
        required: ['amount', 'method'],
        properties: {
          paymentId: { ...ref('Id'), description: 'Client-chosen ID, which makes the payment idempotent' },
          amount: { ...ref('Amount'), description: 'Greater than zero and at most the amount due' },
          method: {
            type: 'object',
            writeOnly: true,
            additionalProperties: false,
            required: ['type', 'number', 'expMonth', 'expYear', 'cvc'],
            properties: {
              type: { type: 'string', const: 'card' },
              number: {
                type: 'string',
                description:
                  '12 to 19 digits passing the Luhn check, optionally grouped with spaces or dashes',
                pattern: '^[ -]*(?:[0-9][ -]*){12,19}$',
                examples: ['4242 4242 4242 4242'],
              },
              expMonth: cardDateField('Expiry month 1 to 12', { type: 'integer', minimum: 1, maximum: 12 }),
              expYear: cardDateField('Expiry year, four digits or two meaning 20YY', {
                type: 'integer',
                minimum: 0,
                maximum: 9999,
              }),
              cvc: {
                type: 'string',
                description: '3 digits, or 4 for American Express; checked and never stored',
                pattern: '^[0-9]{3,4}$',
              },
              holder: { type: 'string', minLength: 1, maxLength: 128 },
            },
          },
        },
      },
      Health: {
        type: 'object',
        additionalProperties: false,
        required: ['status', 'checks'],
        properties: {
          status: { type: 'string', enum: ['ok', 'unavailable'] },
          checks: {
            type: 'object',
            additionalProperties: false,
            required: ['database', 'temporal'],
            properties: { database: ref('HealthCheck'), temporal: ref('HealthCheck') },
          },
        },
      },
      HealthCheck: {
        type: 'object',
        additionalProperties: false,
        required: ['status', 'latencyMs'],
        properties: {
          status: { type: 'string', enum: ['up', 'down'] },
          latencyMs: { type: 'integer', minimum: 0 },
          error: { type: 'string', description: 'Why the check failed, when down' },
        },
      },
      Problem: {
        type: 'object',
        description:
          'RFC 9457 problem details; extension members such as `code` or `paymentId` may be present',
        required: ['type', 'title', 'status', 'detail', 'instance'],
        properties: {
          type: { type: 'string', description: 'Always `about:blank`: the status says what kind of problem' },
          title: { type: 'string', examples: ['Unprocessable Content'] },
          status: { type: 'integer', minimum: 400, maximum: 599 },
          detail: { type: 'string', description: 'What was wrong, for a human to act on' },
          instance: { type: 'string', description: 'The request path' },
          code: {
            type: 'string',
            description: 'Machine-readable reason of a 422 from a domain rule',
            examples: ['AMOUNT_TOO_PRECISE', 'CARD_NUMBER_INVALID', 'CURRENCY_UNKNOWN'],
          },
          paymentId: { ...ref('Id'), description: 'The payment a 409 or 422 refused, when one was recorded' },
        },
        additionalProperties: true,
      },
    },
  },
} satisfies OpenApiDocument;
