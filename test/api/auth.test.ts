/**
 * Authentication, roles and request limits on the real stack (dev server, worker, MariaDB, API). The
 * protected and public operations come from the OpenAPI document, which test/api/openapi.test.ts keeps
 * equal to the registered routes: a new route is covered here without being listed by hand.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Role } from '../../src/api/auth/api-keys';
import { openApiSpec } from '../../src/api/docs/openapi';
import type { TestApi, TestCaller } from '../support/api';
import { seedOrder } from '../support/orders';
import { eventually, startTestStack, type TestStack } from '../support/stack';

type OperationObject = {
  operationId: string;
  security?: unknown[];
  'x-roles'?: Role[];
  responses: Record<string, unknown>;
};
const paths = openApiSpec.paths as Record<string, Record<string, OperationObject>>;
const CSV_HEADER = fs
  .readFileSync(path.resolve(__dirname, '../fixtures/uploads/orders-sample.csv'), 'utf8')
  .split('\n')[0]!;
const card = () => ({ type: 'card', number: '4242424242424242', expMonth: 12, expYear: 2099, cvc: '123' });

/** The rules of src/api/auth/access.ts for the orders, uploads and exports operations. */
const EXPECTED_ROLES: Record<string, readonly Role[]> = {
  createOrder: ['client'],
  listOrders: ['client', 'operator'],
  getOrder: ['client', 'operator'],
  submitPayment: ['client', 'operator'],
  cancelOrder: ['client', 'operator'],
  getPayment: ['client', 'operator'],
  createUpload: ['operator'],
  getUpload: ['operator'],
  getUploadErrors: ['operator'],
  exportOrders: ['operator'],
};
const CALLER_OF_ROLE: Record<Role, TestCaller> = { client: 'alice', operator: 'operator' };

interface Operation {
  method: string;
  template: string;
  operationId: string;
  secured: boolean;
  roles: readonly Role[];
  documents403: boolean;
}

/** The codec server is another component with its own authentication and its own tests. */
const operations: Operation[] = Object.entries(paths)
  .filter(([template]) => !template.startsWith('/codec'))
  .flatMap(([template, item]) =>
    Object.entries(item).map(([method, operation]) => ({
      method: method.toUpperCase(),
      template,
      operationId: operation.operationId,
      secured: (operation.security ?? []).length > 0,
      roles: operation['x-roles'] ?? [],
      documents403: '403' in operation.responses,
    })),
  );
const secured = operations.filter((operation) => operation.secured);
const open = operations.filter((operation) => !operation.secured);
const named = (list: Operation[]) => list.map((op) => [`${op.method} ${op.template}`, op] as const);

/** A path for the template, with IDs that are well-formed (whether or not they exist). */
const pathOf = (template: string, ids: Record<string, string> = {}) =>
  template.replace(/\{([^}]+)\}/g, (_, name: string) => ids[name] ?? (name === 'file' ? 'docs.js' : 'X-1'));

/** A body each operation accepts, so a refusal is about the caller and not the request. */
function requestFor(operation: Operation): { body?: string; type?: string } {
  if (operation.operationId === 'createOrder') {
    return { body: JSON.stringify({ amount: '1.00', currency: 'USD' }), type: 'application/json' };
  }
  if (operation.operationId === 'submitPayment') {
    return { body: JSON.stringify({ amount: '1.00', method: card() }), type: 'application/json' };
  }
  if (operation.operationId === 'createUpload') {
    return { body: `${CSV_HEADER}\n`, type: 'text/csv' };
  }
  return {};
}

interface Answer {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

describe('authentication, roles and limits on the real stack', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ DURAPAY_MAX_BODY: '4kb', DURAPAY_MAX_UPLOAD: '16kb' });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  async function send(
    caller: TestCaller | null | { authorization: string },
    method: string,
    url: string,
    options: { body?: string | object; type?: string; api?: TestApi } = {},
  ): Promise<Answer> {
    const api = options.api ?? stack.api;
    const auth = caller === null ? {} : typeof caller === 'string' ? api.headers(caller) : caller;
    const body = typeof options.body === 'object' ? JSON.stringify(options.body) : options.body;
    const type = options.type ?? (typeof options.body === 'object' ? 'application/json' : undefined);
    const response = await fetch(`${api.baseUrl}${url}`, {
      method,
      headers: { ...auth, ...(type ? { 'content-type': type } : {}) },
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  }

  const newOrder = async (caller: TestCaller, amount = '50.00') => {
    const orderId = `ORD-${randomUUID()}`;
    const created = await send(caller, 'POST', '/orders', { body: { orderId, amount, currency: 'USD' } });
    expect(created.status).toBe(201);
    return orderId;
  };
  const payWait = async (caller: TestCaller, orderId: string, amount: string) =>
    send(caller, 'POST', `/orders/${orderId}/payments?wait=true`, { body: { amount, method: card() } });
  const orderRow = (orderId: string) => stack.database.db('orders').where({ order_id: orderId }).first();
  const paymentCount = async (orderId: string) =>
    Number((await stack.database.db('payments').where({ order_id: orderId }).count({ n: '*' }))[0]!.n);

  /** Everything a caller can observe of an answer except the date, with the asked-for ID made neutral. */
  const observable = (answer: Answer, id: string) => ({
    status: answer.status,
    // The date and the request id differ between any two answers.
    headers: [...answer.headers.entries()].filter(([name]) => name !== 'date' && name !== 'x-request-id'),
    text: answer.text.split(id).join('<id>'),
  });
  /** An ID of the same length as `id` that nobody has, so even Content-Length may not differ. */
  const unknownLike = (id: string) => `${id.slice(0, 4)}${randomUUID()}`.slice(0, id.length);

  describe('authentication', () => {
    it('covers every operation of the document, each protected one naming the roles that may call it', () => {
      expect(Object.fromEntries(secured.map((op) => [op.operationId, op.roles]))).toMatchObject(
        EXPECTED_ROLES,
      );
      for (const operation of secured) expect(operation.roles.length).toBeGreaterThan(0);
      expect(open.map((op) => `${op.method} ${op.template}`).sort()).toEqual([
        'GET /',
        'GET /docs',
        'GET /docs/assets/{file}',
        'GET /health',
        'GET /openapi.json',
      ]);
    });

    it.each(named(secured))('%s without a key: 401 with a Bearer challenge', async (_name, operation) => {
      const answer = await send(null, operation.method, pathOf(operation.template), requestFor(operation));
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="durapay"');
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(answer.body).toMatchObject({ status: 401, title: 'Unauthorized' });
    });

    it.each(named(secured))('%s with an unknown or malformed key: 401', async (_name, operation) => {
      for (const authorization of [
        'Bearer unknown-key-0123456789abcdefghij',
        `Bearer ${stack.api.keys.alice}x`,
        `Basic ${Buffer.from(`alice:${stack.api.keys.alice}`).toString('base64')}`,
        stack.api.keys.operator,
      ]) {
        const answer = await send({ authorization }, operation.method, pathOf(operation.template));
        expect({ authorization, status: answer.status }).toEqual({ authorization, status: 401 });
        expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="durapay", error="invalid_token"');
        expect(answer.text).not.toContain(stack.api.keys.alice);
      }
    });

    it.each(named(open))('%s stays public', async (_name, operation) => {
      const answer = await send(null, operation.method, pathOf(operation.template));
      expect(answer.status).toBe(200);
    });

    it('stages nothing for a caller without a key', async () => {
      const before = await stack.database.db('uploads').count({ n: '*' });
      const answer = await send(null, 'POST', '/uploads', { body: `${CSV_HEADER}\n`, type: 'text/csv' });
      expect(answer.status).toBe(401);
      expect(await stack.database.db('uploads').count({ n: '*' })).toEqual(before);
    });
  });

  describe('roles', () => {
    const refusals = secured.flatMap((operation) =>
      (['client', 'operator'] as const)
        .filter((role) => !operation.roles.includes(role))
        .map((role) => [`${operation.method} ${operation.template} as ${role}`, operation, role] as const),
    );

    it('documents a 403 exactly where some role may not call the operation', () => {
      for (const operation of secured) {
        expect({ id: operation.operationId, documents403: operation.documents403 }).toEqual({
          id: operation.operationId,
          documents403: operation.roles.length < 2,
        });
      }
    });

    it.each(refusals)('%s: 403', async (_name, operation, role) => {
      const answer = await send(
        CALLER_OF_ROLE[role],
        operation.method,
        pathOf(operation.template),
        requestFor(operation),
      );
      expect(answer.status).toBe(403);
      expect(answer.body).toMatchObject({ status: 403, title: 'Forbidden' });
    });

    it('refuses a client upload before staging anything', async () => {
      const before = await stack.database.db('uploads').count({ n: '*' });
      const answer = await send('alice', 'POST', '/uploads', { body: `${CSV_HEADER}\n`, type: 'text/csv' });
      expect(answer.status).toBe(403);
      expect(await stack.database.db('uploads').count({ n: '*' })).toEqual(before);
    });
  });

  describe('one client against another', () => {
    let aliceOrder: string;
    let alicePayment: string;

    beforeAll(async () => {
      aliceOrder = await newOrder('alice');
      const paid = await payWait('alice', aliceOrder, '10.00');
      expect(paid.status).toBe(200);
      alicePayment = paid.body.paymentId;
    });

    it.each([
      ['GET', ''],
      ['POST', '/payments'],
      ['POST', '/cancel'],
    ] as const)(
      "%s /orders/:id%s on another client's order: 404, identical to an unknown order",
      async (method, suffix) => {
        const url = (id: string) => `/orders/${id}${suffix}`;
        const body = suffix === '/payments' ? { amount: '1.00', method: card() } : undefined;
        const unknown = unknownLike(aliceOrder);
        const theirs = await send('bob', method, url(aliceOrder), { ...(body ? { body } : {}) });
        const nobodys = await send('bob', method, url(unknown), { ...(body ? { body } : {}) });
        expect(theirs.status).toBe(404);
        expect(observable(theirs, aliceOrder)).toEqual(observable(nobodys, unknown));
        // Nothing changed for alice.
        expect(await orderRow(aliceOrder)).toMatchObject({ order_status: 'PENDING', amount_paid: '10.0000' });
        expect(await paymentCount(aliceOrder)).toBe(1);
      },
    );

    it("GET /payments/:id of another client's payment: 404, identical to an unknown payment", async () => {
      const unknown = unknownLike(alicePayment);
      const theirs = await send('bob', 'GET', `/payments/${alicePayment}`);
      const nobodys = await send('bob', 'GET', `/payments/${unknown}`);
      expect(theirs.status).toBe(404);
      expect(observable(theirs, alicePayment)).toEqual(observable(nobodys, unknown));
      expect((await send('alice', 'GET', `/payments/${alicePayment}`)).status).toBe(200);
    });

    it('an orderId taken by another client is a 409 exactly like a different body', async () => {
      const orderId = `ORD-${randomUUID()}`;
      const body = { orderId, amount: '5.00', currency: 'USD' };
      expect((await send('alice', 'POST', '/orders', { body })).status).toBe(201);
      expect((await send('alice', 'POST', '/orders', { body })).status).toBe(200);
      const sameBodyOtherClient = await send('bob', 'POST', '/orders', { body });
      const otherBodySameClient = await send('alice', 'POST', '/orders', {
        body: { ...body, amount: '6.00' },
      });
      expect(sameBodyOtherClient.status).toBe(409);
      expect(observable(sameBodyOtherClient, orderId)).toEqual(observable(otherBodySameClient, orderId));
      expect(await orderRow(orderId)).toMatchObject({ owner_principal: 'alice', order_amount: '5.0000' });
    });

    it('lists only the caller’s own orders to a client, and every order to an operator', async () => {
      const bobOrder = await newOrder('bob');
      const imported = `ORD-imported-${randomUUID()}`;
      await seedOrder(stack.database.db, stack.cipher, { orderId: imported, amount: 300 });
      const ids = async (caller: TestCaller) => {
        const seen: string[] = [];
        let cursor: string | null = null;
        do {
          const page: Answer = await send(
            caller,
            'GET',
            `/orders?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
          );
          expect(page.status).toBe(200);
          seen.push(...page.body.items.map((item: { orderId: string }) => item.orderId));
          cursor = page.body.nextCursor;
        } while (cursor);
        return seen;
      };
      const ownersOf = async (orderIds: string[]) =>
        (await stack.database.db('orders').whereIn('order_id', orderIds).distinct('owner_principal')).map(
          (row: { owner_principal: string | null }) => row.owner_principal,
        );
      const alice = await ids('alice');
      const bob = await ids('bob');
      expect(alice).toContain(aliceOrder);
      expect(bob).toContain(bobOrder);
      expect(await ownersOf(alice)).toEqual(['alice']);
      expect(await ownersOf(bob)).toEqual(['bob']);
      const all = await ids('operator');
      expect(all).toEqual(expect.arrayContaining([aliceOrder, bobOrder, imported]));
      expect(all).toHaveLength(Number((await stack.database.db('orders').count({ n: '*' }))[0]!.n));
    });

    it('lets an operator read, pay and cancel any order, and pay an imported one no client may see', async () => {
      expect((await send('operator', 'GET', `/orders/${aliceOrder}`)).body).toMatchObject({
        orderId: aliceOrder,
        payments: [{ paymentId: alicePayment }],
      });
      expect((await send('operator', 'GET', `/payments/${alicePayment}`)).status).toBe(200);

      const imported = `ORD-imported-${randomUUID()}`;
      await seedOrder(stack.database.db, stack.cipher, { orderId: imported, amount: 400 });
      expect((await send('alice', 'GET', `/orders/${imported}`)).status).toBe(404);
      expect((await payWait('alice', imported, '4.00')).status).toBe(404);
      expect(await paymentCount(imported)).toBe(0);
      const paid = await payWait('operator', imported, '4.00');
      expect(paid).toMatchObject({
        status: 200,
        body: { status: 'COMPLETED', order: { status: 'COMPLETED' } },
      });

      const bobOrder = await newOrder('bob');
      expect((await send('operator', 'POST', `/orders/${bobOrder}/cancel`)).status).toBe(202);
      await eventually(
        () => send('bob', 'GET', `/orders/${bobOrder}`),
        (answer) => answer.body.status === 'CANCELLED',
      );
    });

    it('lets a client cancel its own order', async () => {
      const orderId = await newOrder('bob');
      expect((await send('bob', 'POST', `/orders/${orderId}/cancel`)).status).toBe(202);
      await eventually(
        () => send('bob', 'GET', `/orders/${orderId}`),
        (answer) => answer.body.status === 'CANCELLED',
      );
    });
  });

  describe('limits', () => {
    it('answers a caller over its rate limit with 429 and Retry-After, and leaves the other callers alone', async () => {
      const limited = await stack.startApi({ DURAPAY_RATE_LIMIT: '2/min' });
      try {
        const orderId = await newOrder('alice');
        const read = (caller: TestCaller | null) =>
          send(caller, 'GET', `/orders/${orderId}`, { api: limited });
        expect((await read('alice')).status).toBe(200);
        expect((await read('alice')).status).toBe(200);
        const refused = await read('alice');
        expect(refused.status).toBe(429);
        expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(refused.body).toMatchObject({ status: 429, title: 'Too Many Requests' });
        const retryAfter = Number(refused.headers.get('retry-after'));
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(30);
        // Every request counts, a refused one too: the bucket is still empty.
        expect((await send('alice', 'POST', '/orders', { api: limited, body: {} })).status).toBe(429);
        // Other keys have their own buckets; a missing key is refused before any bucket.
        expect((await read('operator')).status).toBe(200);
        expect((await read(null)).status).toBe(401);
        // Public routes are not limited.
        expect((await send(null, 'GET', '/health', { api: limited })).status).toBe(200);
      } finally {
        await limited.close();
      }
    });

    it('still refuses bodies over the limits from an authenticated caller (413)', async () => {
      const order = await send('alice', 'POST', '/orders', {
        body: { amount: '1.00', currency: 'USD', customer: { name: 'x'.repeat(8 * 1024) } },
      });
      expect(order.status).toBe(413);
      expect(order.body).toMatchObject({ status: 413, detail: expect.stringContaining('limit') });

      const before = await stack.database.db('uploads').count({ n: '*' });
      const upload = await send('operator', 'POST', '/uploads', {
        body: `${CSV_HEADER}\n${'x'.repeat(20 * 1024)}`,
        type: 'text/csv',
      });
      expect(upload.status).toBe(413);
      expect(await stack.database.db('uploads').count({ n: '*' })).toEqual(before);
    });

    it('sets the security headers on answers, refusals and public pages', async () => {
      const orderId = await newOrder('alice');
      const answers = [
        await send('alice', 'GET', `/orders/${orderId}`),
        await send('bob', 'GET', `/orders/${orderId}`),
        await send(null, 'GET', '/orders'),
        await send('alice', 'GET', '/exports/orders?format=csv'),
        await send(null, 'GET', '/health'),
        await send(null, 'GET', '/docs'),
        await send(null, 'GET', '/openapi.json'),
      ];
      for (const answer of answers) {
        expect({
          status: answer.status,
          cache: answer.headers.get('cache-control'),
          nosniff: answer.headers.get('x-content-type-options'),
          referrer: answer.headers.get('referrer-policy'),
          frames: answer.headers.get('x-frame-options'),
        }).toEqual({
          status: answer.status,
          cache: 'no-store',
          nosniff: 'nosniff',
          referrer: 'no-referrer',
          frames: 'DENY',
        });
      }
      // A JSON answer can be neither rendered nor framed; the documentation page gets a page's policy.
      for (const answer of answers.filter((_, index) => index !== 5)) {
        expect(answer.headers.get('content-security-policy')).toBe(
          "default-src 'none';frame-ancestors 'none'",
        );
        expect(answer.headers.get('strict-transport-security')).toMatch(/^max-age=\d+/);
      }
      // The documentation's static files may be cached; the page's CSP lets it run only its own files.
      const asset = await send(null, 'GET', '/docs/assets/docs.js');
      expect(asset.headers.get('cache-control')).toBe('public, max-age=3600');
      const policy = answers[5]!.headers.get('content-security-policy') ?? '';
      expect(policy).toContain("script-src 'self'");
      expect(policy).toContain("default-src 'self'");
      expect(policy).not.toContain('unsafe-eval');
    });
  });

  describe('strict parsing', () => {
    it.each([
      ['GET', '/orders/-starts-with-dash', 'alice'],
      ['GET', `/orders/${'a'.repeat(65)}`, 'alice'],
      ['GET', '/orders/a%20b', 'alice'],
      ['POST', '/orders/..%2Fx/payments', 'alice'],
      ['POST', '/orders/-x/cancel', 'alice'],
      ['GET', '/payments/pay%00', 'alice'],
      ['GET', '/uploads/-x', 'operator'],
      ['GET', '/uploads/-x/errors', 'operator'],
    ] as const)('%s %s: malformed ID, 400', async (method, url, caller) => {
      const body = url.endsWith('/payments') ? { amount: '1.00', method: card() } : undefined;
      const answer = await send(caller, method, url, { ...(body ? { body } : {}) });
      expect(answer.status).toBe(400);
      expect(answer.body.detail).toMatch(/^(orderId|paymentId|uploadId) must be 1 to 64 characters/);
    });

    it.each(named(secured))('%s with an unknown query parameter: 400', async (_name, operation) => {
      const role = operation.roles[0]!;
      const orderId = role === 'client' ? await newOrder('alice') : 'X-1';
      const url = pathOf(operation.template, { orderId });
      const separator = operation.operationId === 'exportOrders' ? '?format=csv&' : '?';
      const answer = await send(
        CALLER_OF_ROLE[role],
        operation.method,
        `${url}${separator}colour=red`,
        requestFor(operation),
      );
      expect(answer.status).toBe(400);
      expect(answer.body.detail).toBe('unknown query parameter colour');
    });

    it.each([
      ['POST', 'payments?wait=yes', /^wait must be "true" or "false"$/],
      ['POST', 'payments?wait=true&wait=false', /^wait must be "true" or "false"$/],
    ] as const)('%s /orders/:id/%s: 400', async (method, suffix, detail) => {
      const orderId = await newOrder('alice');
      const answer = await send('alice', method, `/orders/${orderId}/${suffix}`, {
        body: { amount: '1.00', method: card() },
      });
      expect(answer.status).toBe(400);
      expect(answer.body.detail).toMatch(detail);
      expect(await paymentCount(orderId)).toBe(0);
    });

    it.each(['limit=1&limit=2', 'status=PENDING&status=PAID', 'cursor=a&cursor=b', 'limit=1.5'])(
      'GET /orders?%s: 400',
      async (query) => {
        expect((await send('alice', 'GET', `/orders?${query}`)).status).toBe(400);
      },
    );
  });
});
