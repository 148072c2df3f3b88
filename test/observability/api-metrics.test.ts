import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { createApiMetrics, type ApiMetrics } from '../../src/api/http/metrics';
import { startTestApi, type TestApi } from '../support/api';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { eventually } from '../support/stack';

/** The value of one series in a Prometheus text exposition, or undefined when it is absent. */
async function sample(metrics: ApiMetrics, name: string, labels: Record<string, string> = {}) {
  const values = (await metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
  return values.find((value) =>
    Object.entries(labels).every(([key, expected]) => String(value.labels[key]) === expected),
  )?.value;
}

/**
 * The API's own metrics, request ids and root redirect, against a Temporal that accepts connections and
 * never answers: a call to it stays in flight, so the in-flight gauge and the shedding are seen for sure.
 */
describe('API metrics, request ids and the root redirect', () => {
  let database: TestDatabase;
  let silentTemporal: net.Server;
  const sockets: net.Socket[] = [];
  let connection: Connection;
  const apis: TestApi[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    silentTemporal = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silentTemporal.listen(0, '127.0.0.1', resolve));
    const { port } = silentTemporal.address() as net.AddressInfo;
    connection = Connection.lazy({ address: `127.0.0.1:${port}` });
  });

  afterAll(async () => {
    for (const api of apis) await api.close();
    for (const socket of sockets) socket.destroy();
    silentTemporal?.close();
    await connection?.close();
    await database?.drop();
  });

  const start = async (env: Record<string, string> = {}) => {
    const metrics = createApiMetrics();
    const api = await startTestApi({ db: database.db, connection, metrics }, env);
    apis.push(api);
    return { api, metrics };
  };

  it('times requests by route template and status, never by raw path', async () => {
    const { api, metrics } = await start();
    const orderId = `ORD-${randomUUID()}`;
    const missing = await fetch(`${api.baseUrl}/orders/${orderId}`, { headers: api.headers('alice') });
    expect(missing.status).toBe(404);
    expect(
      await sample(metrics, 'durapay_api_request_duration_seconds', {
        le: '+Inf',
        method: 'GET',
        route: '/orders/:orderId',
        status: '404',
      }),
    ).toBe(1);
    expect(await metrics.registry.metrics()).not.toContain(orderId);
  });

  it('counts requests refused with 429', async () => {
    const { api, metrics } = await start({ DURAPAY_RATE_LIMIT: '2/min' });
    const statuses = [];
    for (let i = 0; i < 3; i += 1) {
      statuses.push((await fetch(`${api.baseUrl}/orders`, { headers: api.headers('alice') })).status);
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(await sample(metrics, 'durapay_api_requests_rate_limited_total')).toBe(1);
  });

  it('reports Temporal calls in flight and counts the requests shed at the limit', async () => {
    const { api, metrics } = await start({
      DURAPAY_TEMPORAL_MAX_IN_FLIGHT: '1',
      DURAPAY_TEMPORAL_DEADLINE_MS: '15000',
    });
    const create = () =>
      fetch(`${api.baseUrl}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...api.headers('alice') },
        body: JSON.stringify({ orderId: `ORD-${randomUUID()}`, amount: '10.00', currency: 'USD' }),
      });
    const waiting = create();
    await eventually(
      () => sample(metrics, 'durapay_api_temporal_calls_in_flight'),
      (inFlight) => inFlight === 1,
    );
    const shed = await create();
    expect(shed.status).toBe(503);
    expect(await sample(metrics, 'durapay_api_requests_shed_total')).toBe(1);
    await waiting;
    expect(await sample(metrics, 'durapay_api_temporal_calls_in_flight')).toBe(0);
  });

  it('keeps a sane incoming request id, replaces any other, and logs it with the order', async () => {
    const { api } = await start();
    const orderId = `ORD-${randomUUID()}`;
    const kept = await fetch(`${api.baseUrl}/orders/${orderId}`, {
      headers: { ...api.headers('alice'), 'X-Request-Id': 'req-abc.123' },
    });
    expect(kept.headers.get('x-request-id')).toBe('req-abc.123');
    const replaced = await fetch(`${api.baseUrl}/orders`, {
      headers: { ...api.headers('alice'), 'X-Request-Id': 'no spaces <allowed>' },
    });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    const lines = api.logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'request',
        requestId: 'req-abc.123',
        orderId,
        workflowId: `order:${orderId}`,
        status: 404,
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'request', requestId: replaced.headers.get('x-request-id') }),
    );
  });

  it('redirects GET / to the documentation', async () => {
    const { api } = await start();
    const root = await fetch(`${api.baseUrl}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/docs');
  });
});
