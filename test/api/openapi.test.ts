/**
 * Keeps src/api/docs/openapi.ts honest: the routes the app registers and the paths the document lists
 * must be the same set, the document must be valid OpenAPI 3.1, and real responses from the real stack
 * (API, dev server, worker, MariaDB) must validate against the schema documented for their status and
 * content type.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type Router from '@koa/router';
import { Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type Koa from 'koa';
import { createKeyActivities } from '../../src/activities/keys';
import { createOrderActivities } from '../../src/activities/orders';
import { createSimulatedGateway } from '../../src/activities/orders/simulated-gateway';
import { createApp } from '../../src/api/app';
import {
  openApiSpec,
  type HttpMethod,
  type OpenApiDocument,
  type ParameterObject,
  type ResponseObject,
} from '../../src/api/docs/openapi';
import { loadConfig } from '../../src/config';
import { createDb } from '../../src/db/knex';
import { createLogger } from '../../src/logging/logger';
import { parseApiKeys } from '../../src/api/auth/api-keys';
import { authHeaders, startTestApi, type TestApi, type TestCaller } from '../support/api';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { testCipher, testFingerprinter } from '../support/orders';
import { createDevServerEnv, testDataConverter, testPayloadKeyRing } from '../support/temporal';

const spec: OpenApiDocument = openApiSpec;
const REPO_ROOT = path.resolve(__dirname, '../..');
const HTTP_METHODS: readonly HttpMethod[] = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'];
const SPEC_ID = 'durapay-openapi.json';

const VISA = '4242424242424242';
const DECLINED = '4000000000000002';
const card = (number = VISA) => ({
  type: 'card',
  number,
  expMonth: 12,
  expYear: new Date().getUTCFullYear() + 2,
  cvc: '123',
  holder: 'A. Tester',
});

// ---------------------------------------------------------------------------------------------------------
// Routes and document

/** `METHOD /path/{param}` for every route the real app registers (HEAD is implied by GET). */
function registeredRoutes(app: Koa): Set<string> {
  const routes = new Set<string>();
  let routers = 0;
  for (const middleware of app.middleware) {
    const router = (middleware as { router?: Router }).router;
    if (!router) continue;
    routers++;
    for (const layer of router.stack) {
      if (typeof layer.path !== 'string' || /[*(){}?+]/.test(layer.path)) {
        throw new Error(`route ${String(layer.path)} has a form this test cannot map to an OpenAPI path`);
      }
      const openApiPath = layer.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      for (const method of layer.methods) if (method !== 'HEAD') routes.add(`${method} ${openApiPath}`);
    }
  }
  if (routers === 0) throw new Error('found no routers on the app: has the way app.ts mounts them changed?');
  return routes;
}

function documentedRoutes(): Set<string> {
  const routes = new Set<string>();
  for (const [pathName, item] of Object.entries(spec.paths)) {
    for (const method of HTTP_METHODS) if (item[method]) routes.add(`${method.toUpperCase()} ${pathName}`);
  }
  return routes;
}

/** Runs the validator in a plain Node process: it is an ES module, which Jest's CommonJS runtime cannot load. */
function validateOpenApiDocument(document: unknown): { valid: boolean; errors?: unknown } {
  const script = `
    import { Validator } from '@seriousme/openapi-schema-validator';
    let input = '';
    for await (const chunk of process.stdin) input += chunk;
    const result = await new Validator().validate(JSON.parse(input));
    process.stdout.write(JSON.stringify({ valid: result.valid, errors: result.errors }));
  `;
  const output = execFileSync(process.execPath, ['--input-type=module', '--eval', script], {
    cwd: REPO_ROOT,
    input: JSON.stringify(document),
    encoding: 'utf8',
  });
  return JSON.parse(output) as { valid: boolean; errors?: unknown };
}

/** Ajv over the whole document, so `$ref`s resolve exactly as in the document; schemas are found by pointer. */
function createSchemaRegistry() {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  addFormats(ajv);
  // The document's top-level members are not JSON Schema keywords; only schemas inside it are compiled.
  ajv.addVocabulary(Object.keys(spec));
  ajv.addSchema(structuredClone(spec), SPEC_ID);
  return (pointer: readonly string[]): ValidateFunction => {
    const encoded = pointer
      .map((part) => encodeURIComponent(part.replace(/~/g, '~0').replace(/\//g, '~1')))
      .join('/');
    const validate = ajv.getSchema(`${SPEC_ID}#/${encoded}`);
    if (!validate) throw new Error(`no schema at #/${pointer.join('/')}`);
    return validate;
  };
}

const schemaAt = createSchemaRegistry();

function resolveResponse(response: ResponseObject | { $ref: string }): {
  response: ResponseObject;
  pointer: string[];
} {
  if (!('$ref' in response)) throw new Error('resolveResponse expects a $ref');
  const name = /^#\/components\/responses\/([^/]+)$/.exec(response.$ref)?.[1];
  const resolved = name === undefined ? undefined : spec.components.responses?.[name];
  if (!name || !resolved) throw new Error(`unresolvable response ${response.$ref}`);
  return { response: resolved, pointer: ['components', 'responses', name] };
}

/** The documented response for exactly this status (never `default`), and where it is in the document. */
function documentedResponse(pathName: string, method: HttpMethod, status: number | 'default') {
  const operation = spec.paths[pathName]?.[method];
  if (!operation) throw new Error(`${method.toUpperCase()} ${pathName} is not in the document`);
  const response = operation.responses[String(status)];
  if (!response) {
    throw new Error(
      `${method.toUpperCase()} ${pathName} answered ${status}, which the document does not list`,
    );
  }
  return '$ref' in response
    ? resolveResponse(response)
    : { response, pointer: ['paths', pathName, method, 'responses', String(status)] };
}

describe('OpenAPI document', () => {
  it('lists exactly the routes the app registers', async () => {
    const db = createDb('mysql://nobody:nothing@127.0.0.1:1/none');
    const connection = Connection.lazy({ address: '127.0.0.1:1', interceptors: [] });
    try {
      // Dummy dependencies: nothing is requested, the routers are only read.
      const app = createApp({
        config: loadConfig({ NODE_ENV: 'test' }),
        db,
        connection,
        cipher: testCipher(),
        fingerprinter: testFingerprinter(),
        logger: createLogger({ service: 'api' }, { write: () => undefined }),
        apiKeys: parseApiKeys('nobody-calls-0123456789abcdef:client:nobody', 'test'),
        payloadKeys: testPayloadKeyRing,
      });
      const registered = registeredRoutes(app);
      const documented = documentedRoutes();
      expect({
        missingFromDocument: [...registered].filter((route) => !documented.has(route)).sort(),
        documentedWithoutRoute: [...documented].filter((route) => !registered.has(route)).sort(),
      }).toEqual({ missingFromDocument: [], documentedWithoutRoute: [] });
      expect(registered.size).toBeGreaterThanOrEqual(10);
    } finally {
      await db.destroy();
      await connection.close();
    }
  });

  it('is valid OpenAPI 3.1', () => {
    expect(spec.openapi).toMatch(/^3\.1\.\d+$/);
    expect(validateOpenApiDocument(spec)).toEqual({ valid: true });
    // The validator is not vacuous: a broken copy is refused.
    const broken = { ...structuredClone(spec), info: { title: 'no version' } };
    expect(validateOpenApiDocument(broken).valid).toBe(false);
  });

  it('declares every path parameter, and every operation ID once', () => {
    const operationIds: string[] = [];
    for (const [pathName, item] of Object.entries(spec.paths)) {
      const templated = [...pathName.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]).sort();
      for (const method of HTTP_METHODS) {
        const operation = item[method];
        if (!operation) continue;
        operationIds.push(operation.operationId);
        const declared = [...(item.parameters ?? []), ...(operation.parameters ?? [])]
          .map((parameter) => ('$ref' in parameter ? componentParameter(parameter.$ref) : parameter))
          .filter((parameter) => parameter.in === 'path')
          .map((parameter) => parameter.name)
          .sort();
        expect({ route: `${method} ${pathName}`, params: declared }).toEqual({
          route: `${method} ${pathName}`,
          params: templated,
        });
      }
    }
    expect(new Set(operationIds).size).toBe(operationIds.length);
  });

  it('has schemas that all compile under strict Ajv with every $ref resolved', () => {
    for (const name of Object.keys(spec.components.schemas)) schemaAt(['components', 'schemas', name]);
    for (const [pathName, item] of Object.entries(spec.paths)) {
      for (const method of HTTP_METHODS) {
        for (const status of Object.keys(item[method]?.responses ?? {})) {
          const { response, pointer } = documentedResponse(
            pathName,
            method,
            status === 'default' ? status : Number(status),
          );
          for (const mediaType of Object.keys(response.content ?? {})) {
            schemaAt([...pointer, 'content', mediaType, 'schema']);
          }
        }
      }
    }
  });

  it('refuses with its request schemas what the API refuses as unknown fields', () => {
    const createOrder = schemaAt(['components', 'schemas', 'CreateOrderRequest']);
    const createPayment = schemaAt(['components', 'schemas', 'CreatePaymentRequest']);
    expect(createOrder({ amount: '10.00', currency: 'USD' })).toBe(true);
    expect(createOrder({ amount: '10.00', currency: 'USD', colour: 'red' })).toBe(false);
    expect(createOrder({ amount: '10.00', currency: 'USD', customer: { phone: '1' } })).toBe(false);
    expect(createPayment({ amount: '1.00', method: card() })).toBe(true);
    expect(createPayment({ amount: '1.00', method: { ...card(), pin: '0000' } })).toBe(false);
    expect(createPayment({ amount: '1.00', method: card(), tip: '1.00' })).toBe(false);
  });
});

function componentParameter(reference: string): ParameterObject {
  const name = /^#\/components\/parameters\/([^/]+)$/.exec(reference)?.[1];
  const parameter = name === undefined ? undefined : spec.components.parameters?.[name];
  if (!parameter) throw new Error(`unresolvable parameter ${reference}`);
  return parameter;
}

// ---------------------------------------------------------------------------------------------------------
// Real responses

describe('real responses match the OpenAPI document (dev server, worker, MariaDB)', () => {
  let env: TestWorkflowEnvironment;
  let database: TestDatabase;
  let api: TestApi;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;

  beforeAll(async () => {
    [env, database] = await Promise.all([createDevServerEnv(), createTestDatabase()]);
    const taskQueue = `openapi-${randomUUID()}`;
    const cipher = testCipher();
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('../../src/workflows'),
      dataConverter: testDataConverter,
      activities: {
        ...createOrderActivities({ db: database.db, cipher, gateway: createSimulatedGateway() }),
        ...createKeyActivities({ db: database.db, cipher }),
      },
    });
    running = worker.run();
    api = await startTestApi(
      { db: database.db, connection: env.connection, taskQueue, cipher },
      { DURAPAY_MAX_BODY: '8kb', DURAPAY_PAYMENT_WAIT_MS: '30000' },
    );
  });

  afterAll(async () => {
    await api?.close();
    worker?.shutdown();
    await running;
    await database?.drop();
    await env?.teardown();
  });

  interface Call {
    status: number;
    headers: Headers;
    body: any;
  }

  /**
   * Calls `method template` with the template's parameters filled in, and checks the answer against the
   * document: its status is listed for the operation, its content type is one listed for that status, the
   * body validates against that schema, and required headers are present.
   */
  async function call(
    method: HttpMethod,
    template: string,
    options: {
      params?: Record<string, string>;
      query?: string;
      body?: unknown;
      rawBody?: string;
      headers?: Record<string, string>;
      /** Whose API key goes with the request (alice, a client, unless said); null for none. */
      caller?: TestCaller | null;
      /** Another API than the file's (the same stack with other settings). */
      api?: TestApi;
    } = {},
  ): Promise<Call> {
    const url = template.replace(/\{([^}]+)\}/g, (_, name: string) => {
      const value = options.params?.[name];
      if (value === undefined) throw new Error(`no value for {${name}}`);
      return encodeURIComponent(value);
    });
    const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    const response = await fetch(`${(options.api ?? api).baseUrl}${url}${options.query ?? ''}`, {
      method: method.toUpperCase(),
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.caller === null ? {} : authHeaders(options.caller ?? 'alice')),
        ...options.headers,
      },
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
    const parsed: unknown = /^application\/([a-z.+-]+\+)?json$/.test(mediaType) ? JSON.parse(text) : text;

    const where = `${method.toUpperCase()} ${url} → ${response.status}`;
    const { response: documented, pointer } = documentedResponse(template, method, response.status);
    const content = documented.content ?? {};
    if (!(mediaType in content)) {
      throw new Error(
        `${where}: content type "${mediaType}" is not one of ${Object.keys(content).join(', ')}`,
      );
    }
    const validate = schemaAt([...pointer, 'content', mediaType, 'schema']);
    if (!validate(parsed)) {
      throw new Error(
        `${where}: body does not match the documented schema:\n${JSON.stringify(validate.errors, null, 2)}\n` +
          `body: ${text.slice(0, 2000)}`,
      );
    }
    for (const [name, header] of Object.entries(documented.headers ?? {})) {
      const required =
        '$ref' in header
          ? spec.components.headers?.[header.$ref.split('/').pop()!]?.required
          : header.required;
      if (required && !response.headers.has(name))
        throw new Error(`${where}: required header ${name} is missing`);
    }
    return { status: response.status, headers: response.headers, body: parsed };
  }

  /** A request body the test sends expecting success, checked against its documented schema first. */
  const validRequest = <T>(schema: 'CreateOrderRequest' | 'CreatePaymentRequest', body: T): T => {
    const validate = schemaAt(['components', 'schemas', schema]);
    if (!validate(body))
      throw new Error(`${schema} refuses a request the API accepts: ${JSON.stringify(validate.errors)}`);
    return body;
  };

  async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean): Promise<T> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const value = await probe();
      if (accept(value)) return value;
      if (Date.now() > deadline) throw new Error(`condition not met; last value: ${JSON.stringify(value)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  const newOrder = async (amount = '100.00') => {
    const orderId = `ORD-${randomUUID()}`;
    const created = await call('post', '/orders', {
      body: validRequest('CreateOrderRequest', { orderId, amount, currency: 'USD' }),
    });
    expect(created.status).toBe(201);
    return orderId;
  };

  it('GET /health: 200 without an API key', async () => {
    const response = await call('get', '/health', { caller: null });
    expect(response.status).toBe(200);
  });

  it('POST /orders: 201, 200 on a retry, 409, 422, 400, 413', async () => {
    const orderId = `ORD-${randomUUID()}`;
    const body = validRequest('CreateOrderRequest', {
      orderId,
      amount: '125.50',
      currency: 'USD',
      customer: { id: 'cust-1', email: 'a@example.com', name: 'A. Tester' },
      paymentDeadline: 'P2D',
    });
    const created = await call('post', '/orders', { body });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ orderId, status: 'PENDING', amount: '125.50', payments: [] });
    expect(created.headers.get('location')).toBe(`/orders/${orderId}`);

    expect((await call('post', '/orders', { body })).status).toBe(200);
    expect((await call('post', '/orders', { body: { ...body, amount: '99.00' } })).status).toBe(409);

    const tooPrecise = await call('post', '/orders', { body: { amount: '1.234', currency: 'USD' } });
    expect(tooPrecise).toMatchObject({ status: 422, body: { code: 'AMOUNT_TOO_PRECISE' } });
    const unknownField = await call('post', '/orders', {
      body: { amount: '1.00', currency: 'USD', colour: 'red' },
    });
    expect(unknownField).toMatchObject({ status: 422, body: { detail: 'order has unknown field colour' } });

    expect((await call('post', '/orders', { rawBody: '{"amount": ' })).status).toBe(400);
    const tooLarge = await call('post', '/orders', { body: { ...body, padding: 'x'.repeat(16 * 1024) } });
    expect(tooLarge.status).toBe(413);
  });

  it('GET /orders/{orderId}: 200 and 404', async () => {
    const orderId = await newOrder();
    const found = await call('get', '/orders/{orderId}', { params: { orderId } });
    expect(found).toMatchObject({ status: 200, body: { orderId, amountDue: '100.00', payments: [] } });
    expect((await call('get', '/orders/{orderId}', { params: { orderId: 'no-such-order' } })).status).toBe(
      404,
    );
    expect((await call('get', '/orders/{orderId}', { params: { orderId: '-malformed' } })).status).toBe(400);
  });

  it('GET /orders: 200 with pages, and 400', async () => {
    await newOrder();
    await newOrder();
    const first = await call('get', '/orders', { query: '?status=PENDING&limit=1' });
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(1);
    expect(typeof first.body.nextCursor).toBe('string');
    const next = await call('get', '/orders', { query: `?limit=100&cursor=${first.body.nextCursor}` });
    expect(next).toMatchObject({ status: 200, body: { nextCursor: null } });
    expect(next.body.items.length).toBeGreaterThanOrEqual(1);

    expect((await call('get', '/orders', { query: '?limit=0' })).status).toBe(400);
    expect((await call('get', '/orders', { query: '?sort=asc' })).status).toBe(400);
  });

  it('POST /orders/{orderId}/payments: 202, a retry, then GET /payments/{paymentId}: 200 and 404', async () => {
    const orderId = await newOrder();
    const idempotencyKey = `key-${randomUUID()}`;
    const body = validRequest('CreatePaymentRequest', { amount: '30.00', method: card() });
    const submit = () =>
      call('post', '/orders/{orderId}/payments', {
        params: { orderId },
        body,
        headers: { 'Idempotency-Key': idempotencyKey },
      });

    const accepted = await submit();
    expect(accepted).toMatchObject({ status: 202, body: { orderId, status: 'PENDING' } });
    const { paymentId } = accepted.body;
    expect(accepted.headers.get('location')).toBe(`/payments/${paymentId}`);

    const settled = await eventually(
      () => call('get', '/payments/{paymentId}', { params: { paymentId } }),
      (response) => response.body.status !== 'PENDING',
    );
    expect(settled).toMatchObject({
      status: 200,
      body: {
        paymentId,
        amount: '30.00',
        status: 'COMPLETED',
        method: { type: 'card', brand: 'visa', last4: '4242' },
      },
    });

    const retried = await submit();
    expect(retried).toMatchObject({ status: 200, body: { paymentId, status: 'COMPLETED' } });

    const order = await call('get', '/orders/{orderId}', { params: { orderId } });
    expect(order.body).toMatchObject({ amountPaid: '30.00', amountDue: '70.00', payments: [{ paymentId }] });

    expect(
      (await call('get', '/payments/{paymentId}', { params: { paymentId: 'no-such-payment' } })).status,
    ).toBe(404);
  });

  it('POST /orders/{orderId}/payments?wait=true: 200 for a success and a decline; 400, 404, 422', async () => {
    const orderId = await newOrder();
    const pay = (body: unknown, extra: { query?: string; headers?: Record<string, string> } = {}) =>
      call('post', '/orders/{orderId}/payments', {
        params: { orderId },
        query: '?wait=true',
        body,
        ...extra,
      });

    const paid = await pay(validRequest('CreatePaymentRequest', { amount: '40.00', method: card() }));
    expect(paid).toMatchObject({
      status: 200,
      body: { orderId, status: 'COMPLETED', order: { status: 'PENDING', amountPaid: '40.00' } },
    });
    const declined = await pay(
      validRequest('CreatePaymentRequest', { amount: '10.00', method: card(DECLINED) }),
    );
    expect(declined).toMatchObject({
      status: 200,
      body: { status: 'FAILED', failureReason: 'card_declined' },
    });

    expect(await pay({ amount: '60.01', method: card() })).toMatchObject({ status: 422 });
    expect(await pay({ amount: '1.00', method: card('4242424242424241') })).toMatchObject({
      status: 422,
      body: { code: 'CARD_NUMBER_INVALID' },
    });
    expect((await pay({ amount: '1.00', method: card() }, { query: '?wait=maybe' })).status).toBe(400);
    expect(
      (await pay({ amount: '1.00', method: card() }, { headers: { 'Idempotency-Key': 'x'.repeat(256) } }))
        .status,
    ).toBe(400);
    const missing = await call('post', '/orders/{orderId}/payments', {
      params: { orderId: 'no-such-order' },
      body: { amount: '1.00', method: card() },
    });
    expect(missing.status).toBe(404);
  });

  it('POST /orders/{orderId}/cancel: 202, then payments 409; cancelling a completed order 409', async () => {
    const cancelled = await newOrder();
    const accepted = await call('post', '/orders/{orderId}/cancel', { params: { orderId: cancelled } });
    expect(accepted).toMatchObject({ status: 202, body: { orderId: cancelled, status: 'CANCELLING' } });
    await eventually(
      () => call('get', '/orders/{orderId}', { params: { orderId: cancelled } }),
      (response) => response.body.status === 'CANCELLED',
    );
    const late = await call('post', '/orders/{orderId}/payments', {
      params: { orderId: cancelled },
      body: { amount: '1.00', method: card() },
    });
    expect(late).toMatchObject({ status: 409, body: { title: 'Conflict' } });

    const completed = await newOrder('5.00');
    const paid = await call('post', '/orders/{orderId}/payments', {
      params: { orderId: completed },
      query: '?wait=true',
      body: { amount: '5.00', method: card() },
    });
    expect(paid).toMatchObject({ status: 200, body: { order: { status: 'COMPLETED' } } });
    await eventually(
      () => call('get', '/orders/{orderId}', { params: { orderId: completed } }),
      (response) => response.body.status === 'COMPLETED',
    );
    expect((await call('post', '/orders/{orderId}/cancel', { params: { orderId: completed } })).status).toBe(
      409,
    );
    expect(
      (await call('post', '/orders/{orderId}/cancel', { params: { orderId: 'no-such-order' } })).status,
    ).toBe(404);
  });

  it('protected operations: 401 without a key or with an unknown one, 403 for the wrong role, 429', async () => {
    const orderId = await newOrder();
    const anonymous = await call('get', '/orders/{orderId}', { params: { orderId }, caller: null });
    expect(anonymous).toMatchObject({ status: 401, body: { title: 'Unauthorized' } });
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="durapay"');
    const unknown = await call('get', '/orders', {
      caller: null,
      headers: { authorization: 'Bearer not-a-key-0123456789abcdefgh' },
    });
    expect(unknown.status).toBe(401);
    expect(unknown.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);

    const body = validRequest('CreateOrderRequest', { amount: '1.00', currency: 'USD' });
    expect((await call('post', '/orders', { body, caller: 'operator' })).status).toBe(403);
    expect((await call('get', '/exports/orders', { query: '?format=csv' })).status).toBe(403);
    expect((await call('get', '/uploads/{uploadId}', { params: { uploadId: 'any' } })).status).toBe(403);
    expect(
      (await call('get', '/uploads/{uploadId}', { params: { uploadId: '-bad' }, caller: 'operator' })).status,
    ).toBe(400);

    const limited = await startTestApi(
      { db: database.db, connection: env.connection, cipher: testCipher() },
      { DURAPAY_RATE_LIMIT: '1/h' },
    );
    try {
      expect((await call('get', '/orders/{orderId}', { params: { orderId }, api: limited })).status).toBe(
        200,
      );
      const refused = await call('get', '/orders/{orderId}', { params: { orderId }, api: limited });
      expect(refused).toMatchObject({ status: 429, body: { title: 'Too Many Requests' } });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(3000);
    } finally {
      await limited.close();
    }
  });

  it('POST /admin/key-rotations: 202; GET /admin/key-rotations/{rotationId}: 200 and 404', async () => {
    const caller = 'operator';
    const accepted = await call('post', '/admin/key-rotations', { caller });
    expect(accepted).toMatchObject({ status: 202, body: { status: 'RUNNING' } });
    const { rotationId } = accepted.body;
    expect(accepted.headers.get('location')).toBe(`/admin/key-rotations/${rotationId}`);
    const done = await eventually(
      () => call('get', '/admin/key-rotations/{rotationId}', { params: { rotationId }, caller }),
      (response) => response.body.status !== 'RUNNING',
    );
    expect(done).toMatchObject({ status: 200, body: { rotationId, status: 'COMPLETED' } });
    expect(done.body.columns).toHaveLength(4);
    const unknown = { params: { rotationId: 'no-such-key' }, caller } as const;
    expect((await call('get', '/admin/key-rotations/{rotationId}', unknown)).status).toBe(404);
  });

  it('GET /openapi.json serves this document', async () => {
    const response = await call('get', '/openapi.json', { caller: null });
    expect(response.status).toBe(200);
    expect(response.body).toEqual(JSON.parse(JSON.stringify(openApiSpec)));
  });

  it('GET /docs: a page without inline scripts, whose assets are served from a fixed list', async () => {
    const page = await call('get', '/docs', { caller: null });
    expect(page.status).toBe(200);
    const scripts = [...String(page.body).matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, inline] of scripts) {
      expect(attributes).toMatch(/\ssrc="\/docs\/assets\/[^"]+"/);
      expect(inline).toBe('');
    }

    const fileParameter = spec.paths['/docs/assets/{file}']?.get?.parameters?.find(
      (parameter): parameter is ParameterObject => !('$ref' in parameter) && parameter.name === 'file',
    );
    const files = (fileParameter?.schema.enum ?? []) as string[];
    const referenced = [...String(page.body).matchAll(/(?:src|href)="\/docs\/assets\/([^"]+)"/g)].map(
      (m) => m[1],
    );
    expect(files).toEqual(expect.arrayContaining(referenced));
    for (const file of files) {
      const asset = await call('get', '/docs/assets/{file}', { params: { file }, caller: null });
      expect(asset.status).toBe(200);
      expect(asset.headers.get('x-content-type-options')).toBe('nosniff');
      expect(String(asset.body).length).toBeGreaterThan(0);
    }
    expect(
      (await call('get', '/docs/assets/{file}', { params: { file: 'swagger-ui-bundle.js.map' } })).status,
    ).toBe(404);
    expect((await call('get', '/docs/assets/{file}', { params: { file: '../package.json' } })).status).toBe(
      404,
    );
    const traversal = await fetch(`${api.baseUrl}/docs/assets/..%2f..%2f..%2fpackage.json`);
    expect(traversal.status).toBe(404);
    expect(await traversal.text()).not.toContain('"name"');
  });
});
