import net from 'node:net';
import { Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createDb } from '../../src/db/knex';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { startTestApi, type TestApi } from '../support/api';
import { createDevServerEnv } from '../support/temporal';

describe('API foundation against the real dev server and MariaDB', () => {
  let env: TestWorkflowEnvironment;
  let database: TestDatabase;
  let api: TestApi;

  beforeAll(async () => {
    [env, database] = await Promise.all([createDevServerEnv(), createTestDatabase()]);
    api = await startTestApi({ db: database.db, connection: env.connection }, { DURAPAY_MAX_BODY: '1kb' });
  });

  afterAll(async () => {
    await api?.close();
    await database?.drop();
    await env?.teardown();
  });

  it('reports healthy when Temporal and the database answer', async () => {
    const response = await fetch(`${api.baseUrl}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: 'ok',
      checks: { database: { status: 'up' }, temporal: { status: 'up' } },
    });
  });

  it('reports 503 and names the dependency that is down; requests needing it get a 503 problem', async () => {
    const deadDb = createDb('mysql://nobody:nothing@127.0.0.1:1/none');
    // No retry interceptor: the SDK's retry timer would outlive close() and crash the test process.
    const deadTemporal = Connection.lazy({ address: '127.0.0.1:1', interceptors: [] });
    const broken = await startTestApi({ db: deadDb, connection: deadTemporal });
    try {
      const response = await fetch(`${broken.baseUrl}/health`);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({
        status: 'unavailable',
        checks: { database: { status: 'down' }, temporal: { status: 'down' } },
      });

      const create = await fetch(`${broken.baseUrl}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...broken.headers('alice') },
        body: JSON.stringify({ amount: '1.00', currency: 'USD' }),
      });
      expect(create.status).toBe(503);
      expect(create.headers.get('retry-after')).toBe('5');
      expect(await create.json()).toMatchObject({ status: 503, title: 'Service Unavailable' });

      const read = await fetch(`${broken.baseUrl}/orders/ORD-1`, { headers: broken.headers('alice') });
      expect(read.status).toBe(503);
      expect(await read.json()).toMatchObject({ status: 503, title: 'Service Unavailable' });
    } finally {
      await broken.close();
      await deadDb.destroy();
      await deadTemporal.close();
    }
  });

  it('answers unknown routes with a problem+json 404', async () => {
    const response = await fetch(`${api.baseUrl}/nope`, { headers: api.headers('alice') });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({
      status: 404,
      title: 'Not Found',
      detail: 'no route for GET /nope',
    });
  });

  it('answers a body over the limit with a problem+json 413', async () => {
    const response = await fetch(`${api.baseUrl}/health`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...api.headers('alice') },
      body: JSON.stringify({ padding: 'x'.repeat(4096) }),
    });
    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({
      status: 413,
      detail: expect.stringContaining('limit') as unknown,
    });
  });

  it('answers malformed JSON with a problem+json 400', async () => {
    const response = await fetch(`${api.baseUrl}/health`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...api.headers('alice') },
      body: '{"amount": ',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      status: 400,
      detail: expect.stringContaining('malformed JSON') as unknown,
    });
  });

  it('answers a wrong method with a problem+json 405', async () => {
    const response = await fetch(`${api.baseUrl}/health`, {
      method: 'DELETE',
      headers: api.headers('alice'),
    });
    expect(response.status).toBe(405);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('answers a non-JSON body with a problem+json 415 and an unknown method with 501', async () => {
    const text = await fetch(`${api.baseUrl}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', ...api.headers('alice') },
      body: 'amount=1',
    });
    expect(text.status).toBe(415);
    expect(await text.json()).toMatchObject({
      status: 415,
      detail: 'request bodies must be application/json',
    });

    const unknownMethod = await fetch(`${api.baseUrl}/orders`, {
      method: 'PROPFIND',
      headers: api.headers('alice'),
    });
    expect(unknownMethod.status).toBe(501);
    expect(unknownMethod.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('keeps an idle keep-alive connection open for DURAPAY_KEEP_ALIVE_MS, then closes it', async () => {
    const shortLived = await startTestApi(
      { db: database.db, connection: env.connection },
      { DURAPAY_KEEP_ALIVE_MS: '400' },
    );
    // A raw socket: an HTTP client agent would close the connection itself on the server's keep-alive hint.
    const socket = net.connect(Number(new URL(shortLived.baseUrl).port), '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8').on('data', (data: string) => (received += data));
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
    const answered = async (count: number) => {
      while (received.split('HTTP/1.1 ').length - 1 < count) await new Promise((r) => setTimeout(r, 10));
    };
    const request = 'GET /openapi.json HTTP/1.1\r\nHost: localhost\r\n\r\n';
    try {
      socket.write(request);
      await answered(1);
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.write(request);
      await answered(2);
      const idleSince = Date.now();
      expect(received.match(/HTTP\/1\.1 200 /g)).toHaveLength(2);
      // Node's own default is 5 s: a close well before that is the setting at work.
      const closedAfterMs = (await closed) - idleSince;
      expect(closedAfterMs).toBeGreaterThanOrEqual(350);
      expect(closedAfterMs).toBeLessThan(4500);
    } finally {
      socket.destroy();
      await shortLived.close();
    }
  });

  it('answers a request whose body stalls past DURAPAY_REQUEST_TIMEOUT_MS with 408 and records nothing', async () => {
    const strict = await startTestApi(
      { db: database.db, connection: env.connection },
      { DURAPAY_REQUEST_TIMEOUT_MS: '1000' },
    );
    const orderId = `stalled-${Date.now()}`;
    const body = JSON.stringify({ orderId, amount: '10.00', currency: 'USD' });
    const socket = net.connect(Number(new URL(strict.baseUrl).port), '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8').on('data', (data: string) => (received += data));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    try {
      const headers = [
        'POST /orders HTTP/1.1',
        'Host: localhost',
        'Content-Type: application/json',
        `Content-Length: ${body.length}`,
        `Authorization: ${strict.headers('alice').authorization}`,
      ];
      // Half the body, then nothing: a client that stalls mid-upload.
      socket.write(`${headers.join('\r\n')}\r\n\r\n${body.slice(0, 10)}`);
      await closed;
      expect(received).toMatch(/^HTTP\/1\.1 408 /);
      expect(await database.db('orders').where({ order_id: orderId }).first()).toBeUndefined();
    } finally {
      socket.destroy();
      await strict.close();
    }
  });
});
