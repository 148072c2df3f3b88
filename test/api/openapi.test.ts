/**
 * The generated OpenAPI document against the app: every route the routers register has a definition (and
 * so a schema and a place in the document) and every definition a route; the document is valid OpenAPI 3.1
 * whose schemas all compile. That real answers match it is checked in every API test: the test API
 * (test/support/api.ts) validates each answer it gives against the document.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type Router from '@koa/router';
import { Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type Koa from 'koa';
import { createKeyActivities } from '../../src/activities/keys';
import { createApp } from '../../src/api/app';
import { parseApiKeys } from '../../src/api/auth/api-keys';
import { API_ROUTES, openApiPath, openApiSpec } from '../../src/api/docs/openapi';
import { CreateOrderRequest, CreatePaymentRequest } from '../../src/api/orders/schemas';
import { loadConfig } from '../../src/config';
import { createDb } from '../../src/db/knex';
import { createLogger } from '../../src/logging/logger';
import {
  documentedResponse,
  offContract,
  specSchemaAt,
  startTestApi,
  type SeenAnswer,
  type TestApi,
} from '../support/api';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { testCipher, testFingerprinter } from '../support/orders';
import { createDevServerEnv, testDataConverter, testPayloadKeyRing } from '../support/temporal';

const REPO_ROOT = path.resolve(__dirname, '../..');
type Operation = { operationId: string; parameters?: { in: string; name: string }[]; responses: object };
const paths = openApiSpec.paths as Record<string, Record<string, Operation>>;

const card = { type: 'card', number: '4242424242424242', expMonth: 12, expYear: 2099, cvc: '123' };

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
      for (const method of layer.methods) {
        if (method !== 'HEAD') routes.add(`${method} ${openApiPath(layer.path)}`);
      }
    }
  }
  if (routers === 0) throw new Error('found no routers on the app: has the way app.ts mounts them changed?');
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

describe('OpenAPI document', () => {
  it('has a definition for every route the app registers, and a route for every definition', async () => {
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
      const defined = new Set(
        API_ROUTES.map((route) => `${route.method.toUpperCase()} ${openApiPath(route.path)}`),
      );
      const documented = new Set(
        Object.entries(paths).flatMap(([pathName, item]) =>
          Object.keys(item).map((method) => `${method.toUpperCase()} ${pathName}`),
        ),
      );
      expect({
        withoutDefinition: [...registered].filter((route) => !defined.has(route)).sort(),
        definedWithoutRoute: [...defined].filter((route) => !registered.has(route)).sort(),
      }).toEqual({ withoutDefinition: [], definedWithoutRoute: [] });
      expect(documented).toEqual(defined);
      expect(registered.size).toBeGreaterThanOrEqual(20);
    } finally {
      await db.destroy();
      await connection.close();
    }
  });

  it('is valid OpenAPI 3.1', () => {
    expect(openApiSpec.openapi).toMatch(/^3\.1\.\d+$/);
    expect(validateOpenApiDocument(openApiSpec)).toEqual({ valid: true });
    // The validator is not vacuous: a broken copy is refused.
    const broken = { ...structuredClone(openApiSpec), info: { title: 'no version' } };
    expect(validateOpenApiDocument(broken).valid).toBe(false);
  });

  it('declares every path parameter, and every operation ID once', () => {
    const operationIds: string[] = [];
    for (const [pathName, item] of Object.entries(paths)) {
      const templated = [...pathName.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]).sort();
      for (const [method, operation] of Object.entries(item)) {
        operationIds.push(operation.operationId);
        const declared = (operation.parameters ?? [])
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

  it('has response schemas that all compile under strict Ajv with every $ref resolved', () => {
    for (const name of Object.keys(openApiSpec.components?.schemas ?? {})) {
      specSchemaAt(['components', 'schemas', name]);
    }
    for (const [pathName, item] of Object.entries(paths)) {
      for (const [method, operation] of Object.entries(item)) {
        for (const status of Object.keys(operation.responses)) {
          const documented = documentedResponse(pathName, method, status === 'default' ? 599 : +status)!;
          const content = (documented.response.content ?? {}) as Record<string, unknown>;
          for (const mediaType of Object.keys(content)) {
            specSchemaAt([...documented.pointer, 'content', mediaType, 'schema']);
          }
        }
      }
    }
    // The answers' check is not vacuous: an order without its amounts is refused.
    const order = specSchemaAt(['components', 'schemas', 'Order']);
    expect(order({ orderId: 'ORD-1', status: 'PENDING' })).toBe(false);
  });

  it('finds what is off the document in an answer the test API sees', () => {
    const order = {
      orderId: 'ORD-1',
      status: 'PENDING',
      amount: '10.00',
      currency: 'USD',
      amountPaid: '0.00',
      amountDue: '10.00',
      paymentDeadline: null,
      createdAt: '2026-03-01T00:00:00.000Z',
      updatedAt: '2026-03-01T00:00:00.000Z',
      payments: [],
    };
    const answer = (overrides: Partial<SeenAnswer>): SeenAnswer => ({
      method: 'GET',
      path: '/orders/ORD-1',
      status: 200,
      type: 'application/json',
      header: () => '',
      body: order,
      ...overrides,
    });
    expect(offContract(answer({}))).toEqual([]);
    expect(offContract(answer({ body: { ...order, secret: 'x' } }))).toEqual([
      expect.stringContaining('additionalProperties'),
    ]);
    expect(offContract(answer({ status: 201 }))).toEqual([expect.stringContaining('content type')]);
    expect(offContract(answer({ status: 409 }))).toEqual([expect.stringContaining('content type')]);
    expect(offContract(answer({ type: 'text/html' }))).toEqual([expect.stringContaining('content type')]);
    expect(offContract(answer({ method: 'POST', path: '/orders', status: 201 }))).toEqual([
      'POST /orders → 201: no Location header',
    ]);
    expect(offContract(answer({ path: '/no-such-route' }))).toEqual([]);
  });

  it('refuses, in the document and in the API, the unknown fields the API refuses', () => {
    const createOrder = specSchemaAt(['components', 'schemas', 'CreateOrderRequest']);
    const createPayment = specSchemaAt(['components', 'schemas', 'CreatePaymentRequest']);
    const bodies = {
      order: { amount: '10.00', currency: 'USD' },
      colour: { amount: '10.00', currency: 'USD', colour: 'red' },
      phone: { amount: '10.00', currency: 'USD', customer: { phone: '1' } },
    };
    const payments = {
      payment: { amount: '1.00', method: card },
      pin: { amount: '1.00', method: { ...card, pin: '0000' } },
      tip: { amount: '1.00', method: card, tip: '1.00' },
    };
    expect([createOrder(bodies.order), createOrder(bodies.colour), createOrder(bodies.phone)]).toEqual([
      true,
      false,
      false,
    ]);
    expect([
      createPayment(payments.payment),
      createPayment(payments.pin),
      createPayment(payments.tip),
    ]).toEqual([true, false, false]);
    expect(Object.values(bodies).map((body) => CreateOrderRequest.safeParse(body).success)).toEqual([
      true,
      false,
      false,
    ]);
    expect(Object.values(payments).map((body) => CreatePaymentRequest.safeParse(body).success)).toEqual([
      true,
      false,
      false,
    ]);
  });
});

describe('operations no other API test calls (dev server, worker, MariaDB)', () => {
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
      activities: createKeyActivities({ db: database.db, cipher }),
    });
    running = worker.run();
    api = await startTestApi({ db: database.db, connection: env.connection, taskQueue, cipher });
  });

  afterAll(async () => {
    await api?.close();
    worker?.shutdown();
    await running;
    await database?.drop();
    await env?.teardown();
  });

  const get = async (url: string, caller: 'operator' | null = null) => {
    const response = await fetch(`${api.baseUrl}${url}`, {
      headers: caller ? api.headers(caller) : {},
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text };
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

  it('POST /admin/key-rotations: 202; GET /admin/key-rotations/{rotationId}: 200 and 404', async () => {
    const started = await fetch(`${api.baseUrl}/admin/key-rotations`, {
      method: 'POST',
      headers: api.headers('operator'),
    });
    const accepted = (await started.json()) as { rotationId: string; status: string };
    expect({ status: started.status, body: accepted }).toMatchObject({
      status: 202,
      body: { status: 'RUNNING' },
    });
    expect(started.headers.get('location')).toBe(`/admin/key-rotations/${accepted.rotationId}`);
    const done = await eventually(
      () => get(`/admin/key-rotations/${accepted.rotationId}`, 'operator'),
      (answer) => JSON.parse(answer.text).status !== 'RUNNING',
    );
    expect(done.status).toBe(200);
    expect(JSON.parse(done.text)).toMatchObject({ rotationId: accepted.rotationId, status: 'COMPLETED' });
    expect(JSON.parse(done.text).columns).toHaveLength(5);
    expect((await get('/admin/key-rotations/no-such-key', 'operator')).status).toBe(404);
    expect((await get('/admin/key-rotations/not%20a%20key', 'operator')).status).toBe(404);
  });

  it('GET /openapi.json serves the generated document', async () => {
    const answer = await get('/openapi.json');
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual(JSON.parse(JSON.stringify(openApiSpec)));
  });

  it('GET /docs: a page without inline scripts, under a CSP that allows its own files only', async () => {
    const page = await get('/docs');
    expect(page.status).toBe(200);
    const policy = Object.fromEntries(
      (page.headers.get('content-security-policy') ?? '').split(';').map((directive) => {
        const [name = '', ...sources] = directive.trim().split(/\s+/);
        return [name, sources];
      }),
    );
    expect(policy).toMatchObject({
      'default-src': ["'self'"],
      'script-src': ["'self'"],
      'script-src-attr': ["'none'"],
      'object-src': ["'none'"],
      'frame-ancestors': ["'none'"],
    });
    // Swagger UI sets inline `style` attributes, and its icons are data: URLs.
    expect(policy['style-src']).toEqual(["'self'", "'unsafe-inline'"]);
    expect(policy['img-src']).toEqual(["'self'", 'data:']);

    const scripts = [...page.text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, inline] of scripts) {
      expect(attributes).toMatch(/\ssrc="\/docs\/assets\/[^"]+"/);
      expect(inline).toBe('');
    }
    expect(page.text).not.toMatch(/\son[a-z]+=/i);

    const fileParameter = paths['/docs/assets/{file}']?.get?.parameters?.find(
      (parameter) => parameter.name === 'file',
    ) as { schema?: { enum?: string[] } } | undefined;
    const files = fileParameter?.schema?.enum ?? [];
    const referenced = [...page.text.matchAll(/(?:src|href)="\/docs\/assets\/([^"]+)"/g)].map((m) => m[1]);
    expect(files).toEqual(expect.arrayContaining(referenced));
    for (const file of files) {
      const asset = await get(`/docs/assets/${file}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('x-content-type-options')).toBe('nosniff');
      expect(asset.text.length).toBeGreaterThan(0);
    }
    expect((await get('/docs/assets/swagger-ui-bundle.js.map')).status).toBe(404);
    const traversal = await get('/docs/assets/..%2f..%2f..%2fpackage.json');
    expect(traversal.status).toBe(404);
    expect(traversal.text).not.toContain('"name"');
  });
});
