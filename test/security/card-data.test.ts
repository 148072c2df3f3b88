import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { parseDatabaseUrl } from '../../src/config';
import { findExecutable } from '../../scripts/lib/process';
import type { TestCaller } from '../support/api';
import { mentionsDigits } from '../support/secrets';
import { eventually, startTestStack, type TestStack } from '../support/stack';

const SAMPLE = fs.readFileSync(path.resolve(__dirname, '../fixtures/uploads/orders-sample.csv'), 'utf8');
const AMEX = '378282246310005';
const AMEX_CVC = '8264';
const DECLINED = '4000000000000002';
const PROBE_CARD = '4111111111111111';
const EMAIL = 'quinn.cardholder@example.org';
const UNKNOWN_KEY = 'dpk_unknownKeyThatMustNotBeLogged0000';

/** Every card number the test sends or uploads: none may be found anywhere in clear. */
const CARDS = [
  AMEX,
  DECLINED,
  PROBE_CARD,
  ...SAMPLE.split('\n')
    .slice(1)
    .map((line) => line.split(',').at(-1)!.trim())
    .filter((cell) => /^\d{13,19}$/.test(cell)),
];
const EMAILS = [EMAIL, ...(SAMPLE.match(/[\w.]+@example\.com/g) ?? [])];

/**
 * Issue #5's sweep: after orders, payments (a decline among them), a bulk upload and some hostile requests
 * on the real stack, no full card number, CVC or email is in a full database dump, in any Temporal history
 * read without the codec, or in the API's log.
 */
describe('card data at rest, in Temporal and in logs', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack();
    await makeTraffic();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const call = (method: string, route: string, caller: TestCaller | undefined, body?: unknown) =>
    fetch(`${stack.api.baseUrl}${route}`, {
      method,
      headers: {
        'content-type': body === undefined || typeof body === 'string' ? 'text/csv' : 'application/json',
        ...(caller ? stack.api.headers(caller) : { authorization: `Bearer ${UNKNOWN_KEY}` }),
        'user-agent': `probe ${PROBE_CARD}`,
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  const card = (number: string, cvc: string) => ({ type: 'card', number, expMonth: 12, expYear: 2099, cvc });

  async function makeTraffic() {
    const orderId = `ORD-${randomUUID()}`;
    const created = await call('POST', '/orders', 'alice', {
      orderId,
      amount: '50.00',
      currency: 'USD',
      customer: { id: 'cust-9', email: EMAIL, name: 'Quinn' },
    });
    expect(created.status).toBe(201);
    const declined = await call('POST', `/orders/${orderId}/payments?wait=true`, 'alice', {
      amount: '50.00',
      method: card(DECLINED, '123'),
    });
    expect(await declined.json()).toMatchObject({ status: 'FAILED', failureReason: 'card_declined' });
    const paid = await call('POST', `/orders/${orderId}/payments?wait=true`, 'alice', {
      amount: '50.00',
      method: card(AMEX, AMEX_CVC),
    });
    expect(await paid.json()).toMatchObject({ status: 'COMPLETED' });

    const upload = await call('POST', '/uploads', 'operator', SAMPLE);
    expect(upload.status).toBe(202);
    const { uploadId } = (await upload.json()) as { uploadId: string };
    await eventually(
      async () =>
        ((await (await call('GET', `/uploads/${uploadId}`, 'operator')).json()) as { status: string }).status,
      (status) => status !== 'RUNNING',
      60_000,
    );

    // Secrets where a careless log line would pick them up: path, query, headers, a refused body.
    expect((await call('GET', `/orders/${PROBE_CARD}?email=${EMAIL}&cvc=${AMEX_CVC}`, 'alice')).status).toBe(
      400,
    );
    expect((await call('GET', '/orders', undefined)).status).toBe(401);
    const expired = await call('POST', `/orders/${orderId}/payments`, 'alice', {
      amount: '1.00',
      method: { ...card(PROBE_CARD, AMEX_CVC), expYear: 2001 },
    });
    expect(expired.status).toBe(422);
  }

  it('a full database dump holds no card number or email, and no cell holds the CVC', async () => {
    const { host, port, user, password, database } = parseDatabaseUrl(stack.database.url);
    const dumpTool = findExecutable(['mariadb-dump', 'mysqldump']);
    expect(dumpTool).toBeDefined();
    const { stdout: dump } = await promisify(execFile)(
      dumpTool!,
      [
        `--host=${host}`,
        `--port=${port}`,
        `--user=${user}`,
        `--password=${password}`,
        '--skip-ssl',
        database,
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    expect(dump).toContain('INSERT INTO `payments`');
    expect(dump).toContain(`'${AMEX.slice(-4)}'`); // the last 4 are kept, in their own column
    for (const secret of [...CARDS, ...EMAILS]) expect(dump).not.toContain(secret);

    for (const { TABLE_NAME: table } of await stack.database
      .db('information_schema.TABLES')
      .where({ TABLE_SCHEMA: database })
      .select('TABLE_NAME')) {
      for (const row of (await stack.database.db(table).select('*')) as Record<string, unknown>[]) {
        for (const value of Object.values(row)) expect(value).not.toBe(AMEX_CVC);
      }
    }
  });

  it('no Temporal history, read without the codec, holds a card number, CVC or email', async () => {
    const { workflowService } = stack.env.connection;
    const { executions } = await workflowService.listWorkflowExecutions({
      namespace: 'default',
      pageSize: 1000,
    });
    expect(executions.length).toBeGreaterThanOrEqual(3); // the order, the upload and its chunk
    for (const execution of executions) {
      const { history } = await workflowService.getWorkflowExecutionHistory({
        namespace: 'default',
        execution: execution.execution!,
      });
      const text = JSON.stringify(history, (_key, value: unknown) =>
        value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : value,
      );
      for (const secret of [...CARDS, ...EMAILS, `"${AMEX_CVC}"`]) expect(text).not.toContain(secret);
    }
  });

  it("the API's log holds the requests, with every card number, CVC, email and key redacted", () => {
    const log = stack.api.logLines.join('\n');
    expect(log).toContain('"path":"/orders/[CARD]"');
    expect(log).toContain('"status":401');
    for (const secret of [...CARDS, ...EMAILS, UNKNOWN_KEY, ...Object.values(stack.api.keys)]) {
      expect(log).not.toContain(secret);
    }
    expect(mentionsDigits(log, AMEX_CVC)).toBe(false);
  });
});
