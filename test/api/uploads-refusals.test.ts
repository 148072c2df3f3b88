import { Agent } from 'undici';
import { DRAIN_BYTES } from '../../src/api/http/unread-body';
import { authHeaders } from '../support/api';
import { eventually, startTestStack, type TestStack } from '../support/stack';

/** A body the API will not drain: it answers and closes the connection. */
const PAST_DRAIN = DRAIN_BYTES + 12 * 1024 * 1024;

/**
 * An upload the API refuses before reading the whole body (bad auth, wrong type, too large, bad structure):
 * Node's fetch (undici), still sending, must read the problem details, not a reset connection, and the same
 * keep-alive agent must then serve the next request.
 */
describe('uploads refused early reach the client (real stack, Node fetch)', () => {
  let stack: TestStack;
  let agent: Agent;

  beforeAll(async () => {
    stack = await startTestStack({ DURAPAY_MAX_UPLOAD: '6mb' });
    agent = new Agent({ keepAliveTimeout: 30_000 });
  });

  afterAll(async () => {
    await agent?.close();
    await stack?.stop();
  });

  /**
   * Over the 6 MB limit and under the drain bound. The limit is above what the API reads ahead of its parser
   * (CHUNKS_IN_FLIGHT reads of at most 64 KiB), so the nesting fault, a few hundred bytes in, is met first.
   */
  const BIG = 7_000_000;
  const badNesting = () => {
    const head = `<?xml version="1.0"?><orders>${'<order>'.repeat(100)}`;
    return head + ' '.repeat(BIG - head.length);
  };
  const HEADER =
    'order_id,order_amount,currency,order_status,created_at,customer_email,payment_id,payment_amount,payment_status,payment_method,card_number';
  const csvOver = () => {
    const line = 'ORD-1,1.00,USD,PENDING,2026-03-01T00:00:00Z,,,,,,\n';
    return `${HEADER}\n${line.repeat(Math.ceil(BIG / line.length))}`;
  };

  it.each([
    ['XML that fails the nesting check early', 'application/xml', badNesting, 'operator', 422],
    ['a wrong content type', 'application/json', () => ' '.repeat(BIG), 'operator', 415],
    ['a file over the upload limit', 'text/csv', csvOver, 'operator', 413],
    ['a client key (no operator role)', 'text/csv', csvOver, 'alice', 403],
  ] as const)(
    '%s: the client reads the problem, and the connection serves the next request',
    async (_what, type, body, caller, status) => {
      const response = await fetch(`${stack.api.baseUrl}/uploads`, {
        method: 'POST',
        headers: { 'content-type': type, ...stack.api.headers(caller) },
        body: body(),
        dispatcher: agent,
      });
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(((await response.json()) as { status: number }).status).toBe(status);

      const next = await eventually(
        async () =>
          (
            await fetch(`${stack.api.baseUrl}/health`, {
              dispatcher: agent,
            })
          ).status,
        (code) => code === 200,
      );
      expect(next).toBe(200);
    },
  );

  // Multipart bodies over the 6 MB file limit, refused for their form, not their size: no file part is ever read.
  const FORM_BIG = 7_000_000;
  const BOUNDARY = 'durapay-test-boundary';
  const formType = `multipart/form-data; boundary=${BOUNDARY}`;
  const namelessPart = (closed: boolean) =>
    `--${BOUNDARY}\r\nContent-Disposition: form-data; filename="orders.csv"\r\nContent-Type: text/csv\r\n\r\n` +
    `${HEADER}\r\n${'x'.repeat(FORM_BIG)}\r\n` +
    (closed ? `--${BOUNDARY}--\r\n` : '');
  const unclosedFile = () =>
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="note"\r\n\r\n${'n'.repeat(FORM_BIG)}\r\n` +
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="orders.csv"\r\n` +
    `Content-Type: text/csv\r\n\r\n${HEADER}\r\nORD-1,1.00,USD,PENDING,2026-03-01T00:00:00Z,,,,,,\r\n`;

  it.each([
    ['a form whose only part has no name', formType, () => namelessPart(true), 422, /no `file` field/],
    ['a form whose boundary never closes', formType, () => namelessPart(false), 400, /malformed/],
    ['a form whose file part never ends', formType, unclosedFile, 400, /malformed/],
    ['a form with no boundary', 'multipart/form-data', () => namelessPart(true), 400, /malformed/],
  ] as const)(
    'a bad multipart form (%s): the client reads a 4xx problem, and the connection serves the next request',
    async (_what, type, body, status, detail) => {
      const response = await fetch(`${stack.api.baseUrl}/uploads`, {
        method: 'POST',
        headers: { 'content-type': type, ...stack.api.headers('operator') },
        body: body(),
        dispatcher: agent,
      });
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = (await response.json()) as { status: number; detail: string };
      expect(problem.status).toBe(status);
      expect(problem.detail).toMatch(detail);

      const next = await fetch(`${stack.api.baseUrl}/health`, { dispatcher: agent });
      expect(next.status).toBe(200);
    },
  );

  it.each([
    ['a bad API key', 'text/csv', { authorization: 'Bearer not-a-key' }, 401],
    ['a wrong content type', 'application/json', authHeaders('operator'), 415],
  ] as const)(
    'a refused body past the drain bound (%s): the client reads the problem, and the connection is closed',
    async (_what, type, headers, status) => {
      const response = await fetch(`${stack.api.baseUrl}/uploads`, {
        method: 'POST',
        headers: { 'content-type': type, ...headers },
        body: ' '.repeat(PAST_DRAIN),
        dispatcher: agent,
      });
      expect(response.status).toBe(status);
      expect(response.headers.get('connection')).toBe('close');
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(((await response.json()) as { status: number }).status).toBe(status);

      // The agent opens a new connection for the next request.
      const next = await fetch(`${stack.api.baseUrl}/health`, { dispatcher: agent });
      expect(next.status).toBe(200);
    },
  );
});
