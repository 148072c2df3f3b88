import { Agent } from 'undici';
import { eventually, startTestStack, type TestStack } from '../support/stack';

/**
 * An upload the API refuses before reading the whole body (bad auth, wrong type, too large, bad structure):
 * Node's fetch (undici), still sending, must read the problem details, not a reset connection, and the same
 * keep-alive agent must then serve the next request.
 */
describe('uploads refused early reach the client (real stack, Node fetch)', () => {
  let stack: TestStack;
  let agent: Agent;

  beforeAll(async () => {
    stack = await startTestStack({ DURAPAY_MAX_UPLOAD: '1mb' });
    agent = new Agent({ keepAliveTimeout: 30_000 });
  });

  afterAll(async () => {
    await agent?.close();
    await stack?.stop();
  });

  const BIG = 1_400_000;
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
});
