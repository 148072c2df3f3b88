/**
 * Unit test of the HTTP adapter's mapping of provider answers, against a tiny local HTTP server that
 * answers what each test asks. The adapter against the real sandbox is tested in test/sandbox.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  GatewayRequestError,
  GatewayUnavailableError,
  type ChargeRequest,
} from '../../src/activities/orders/gateway';
import { createHttpGateway, type HttpGateway } from '../../src/activities/orders/http-gateway';

const CARD = '4242424242424242';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

let answer: (response: http.ServerResponse, request: http.IncomingMessage) => void;
let received: Received[];
let server: http.Server;
let baseUrl: string;
let gateway: HttpGateway;

beforeAll(async () => {
  server = http.createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      received.push({
        method: request.method!,
        url: request.url!,
        headers: request.headers,
        body: JSON.parse(text),
      });
      answer(response, request);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/provider`;
  gateway = createHttpGateway({ url: baseUrl, apiKey: 'sk_test_adapter_key', responseTimeoutMs: 300 });
});

beforeEach(() => {
  received = [];
});

afterAll(async () => {
  await gateway.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const charge = (overrides: Partial<ChargeRequest> = {}): ChargeRequest => ({
  idempotencyKey: 'durapay:payment:PAY-1',
  amount: 2550,
  currency: 'EUR',
  cardNumber: CARD,
  expMonth: 7,
  expYear: 2031,
  cvc: '321',
  metadata: { orderId: 'ORD-1', paymentId: 'PAY-1' },
  ...overrides,
});

const json = (status: number, body: unknown) => (response: http.ServerResponse) => {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
};

test('sends one POST to v1/charges under the base URL, with the Bearer key, the idempotency key and the body', async () => {
  answer = json(200, { id: 'ch_1', status: 'succeeded', amount: 2550, currency: 'EUR' });
  await expect(gateway.charge(charge())).resolves.toEqual({ status: 'succeeded', chargeId: 'ch_1' });
  expect(received).toHaveLength(1);
  expect(received[0]).toMatchObject({
    method: 'POST',
    url: '/provider/v1/charges',
    headers: {
      authorization: 'Bearer sk_test_adapter_key',
      'idempotency-key': 'durapay:payment:PAY-1',
      'content-type': 'application/json',
    },
    body: {
      amount: 2550,
      currency: 'EUR',
      card: { number: CARD, exp_month: 7, exp_year: 2031, cvc: '321' },
      metadata: { order_id: 'ORD-1', payment_id: 'PAY-1' },
    },
  });
});

test('a charge without a CVC sends none', async () => {
  answer = json(200, { id: 'ch_2', status: 'succeeded' });
  await gateway.charge(charge({ cvc: undefined }));
  expect(received[0]!.body.card).toEqual({ number: CARD, exp_month: 7, exp_year: 2031 });
});

test('402 is a decline with the provider code', async () => {
  answer = json(402, { error: { type: 'card_error', code: 'insufficient_funds' } });
  await expect(gateway.charge(charge())).resolves.toEqual({
    status: 'declined',
    reason: 'insufficient_funds',
  });
  answer = json(402, {});
  await expect(gateway.charge(charge())).resolves.toEqual({ status: 'declined', reason: 'card_declined' });
});

test.each([409, 429, 500, 502, 503])(
  '%i is retryable, and the adapter itself sends it once',
  async (status) => {
    answer = json(status, { error: { type: 'api_error', code: 'whatever' } });
    const error = await gateway.charge(charge()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GatewayUnavailableError);
    expect(String(error)).toContain(String(status));
    expect(received).toHaveLength(1);
  },
);

test.each([
  [400, 'parameter_invalid'],
  [401, undefined],
  [404, undefined],
  [422, 'idempotency_key_reused'],
])('%i is a request error, not retryable', async (status, code) => {
  answer = json(status, { error: { type: 'invalid_request_error', ...(code ? { code } : {}) } });
  const error = await gateway.charge(charge()).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(GatewayRequestError);
  expect(error).not.toBeInstanceOf(GatewayUnavailableError);
  expect(error).toMatchObject({ name: 'GatewayRequestError', status, code });
  expect(received).toHaveLength(1);
});

test('an error message never carries the card, even when the provider quotes it', async () => {
  answer = json(400, {
    error: { type: 'invalid_request_error', message: `card ${CARD} with cvc: 321 is not accepted` },
  });
  const error = (await gateway.charge(charge()).catch((caught: unknown) => caught)) as Error;
  expect(error).toBeInstanceOf(GatewayRequestError);
  expect(error.message).toContain('is not accepted');
  expect(error.message).not.toContain(CARD);
  expect(error.message).not.toContain('321');
});

test('a 200 without a readable charge is retryable: the same key reads it again', async () => {
  answer = (response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<html>proxy</html>');
  await expect(gateway.charge(charge())).rejects.toBeInstanceOf(GatewayUnavailableError);
});

test('a connection dropped before the answer is retryable', async () => {
  answer = (_response, request) => request.socket.destroy();
  await expect(gateway.charge(charge())).rejects.toBeInstanceOf(GatewayUnavailableError);
  expect(received).toHaveLength(1);
});

test('no answer within the response timeout is retryable', async () => {
  const held: http.ServerResponse[] = [];
  answer = (response) => held.push(response);
  const error = await gateway.charge(charge()).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(GatewayUnavailableError);
  expect(String(error)).toMatch(/timeout/i);
  for (const response of held) response.destroy();
});

test('a refused connection is retryable', async () => {
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const nowhere = createHttpGateway({ url: `http://127.0.0.1:${port}`, apiKey: 'sk_test_adapter_key' });
  try {
    const error = await nowhere.charge(charge()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GatewayUnavailableError);
    expect(String(error)).toContain('ECONNREFUSED');
  } finally {
    await nowhere.close();
  }
});
