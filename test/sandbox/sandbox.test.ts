/**
 * The sandbox provider as a real process on the real MariaDB, called through durapay's HTTP adapter and
 * with raw HTTP. Every answer of the provider API, its fault knobs, idempotency under concurrency and
 * across a crash of the sandbox, and what it keeps of a card.
 */
import { randomBytes } from 'node:crypto';
import {
  GatewayRequestError,
  GatewayUnavailableError,
  type ChargeRequest,
} from '../../src/activities/orders/gateway';
import { createHttpGateway, providerBody, type HttpGateway } from '../../src/activities/orders/http-gateway';
import { TEST_CARDS } from '../../src/domain/payments/test-cards';
import { insertLockedKey } from '../../src/sandbox/store';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { startSandboxProcess, TEST_SANDBOX_KEY, type SandboxProcess } from '../support/sandbox-process';
import { eventually } from '../support/stack';

const CARD = '4242424242424242';
const CVC = '987';
const EXP_YEAR = new Date().getUTCFullYear() + 3;

let database: TestDatabase;
let sandbox: SandboxProcess;
let gateway: HttpGateway;

beforeAll(async () => {
  database = await createTestDatabase({ migrate: false });
  sandbox = await startSandboxProcess({ databaseUrl: database.url });
  gateway = createHttpGateway({ url: sandbox.url, apiKey: TEST_SANDBOX_KEY });
});

afterEach(async () => {
  if (sandbox.child.exitCode === null) await call('DELETE', '/sandbox/faults');
});

afterAll(async () => {
  await gateway?.close();
  await sandbox?.stop();
  await database?.drop();
});

function newCharge(overrides: Partial<ChargeRequest> = {}): ChargeRequest {
  const paymentId = `PAY-${randomBytes(6).toString('hex')}`;
  return {
    idempotencyKey: `durapay:payment:${paymentId}`,
    amount: 1250,
    currency: 'USD',
    cardNumber: CARD,
    expMonth: 12,
    expYear: EXP_YEAR,
    cvc: CVC,
    metadata: { orderId: 'ORD-1', paymentId },
    ...overrides,
  };
}

async function call(
  method: string,
  path: string,
  options: { body?: unknown; rawBody?: string; idempotencyKey?: string; key?: string | null } = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.key !== null) headers.authorization = `Bearer ${options.key ?? TEST_SANDBOX_KEY}`;
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  const response = await fetch(`${sandbox.url}${path}`, {
    method,
    headers,
    body: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

const chargesFor = async (key: string): Promise<any[]> =>
  (await call('GET', `/v1/charges?idempotency_key=${encodeURIComponent(key)}`)).body.data;

async function restartSandbox(): Promise<void> {
  await sandbox.kill();
  sandbox = await startSandboxProcess({ databaseUrl: database.url, port: sandbox.port });
}

describe('charges through the HTTP adapter', () => {
  test('a charge succeeds once per key: a repeat answers the same charge and takes nothing more', async () => {
    const charge = newCharge();
    const first = await gateway.charge(charge);
    expect(first).toEqual({ status: 'succeeded', chargeId: expect.stringMatching(/^ch_/) });
    await expect(gateway.charge(charge)).resolves.toEqual(first);

    expect(await chargesFor(charge.idempotencyKey)).toEqual([
      {
        id: (first as { chargeId: string }).chargeId,
        object: 'charge',
        status: 'succeeded',
        amount: 1250,
        currency: 'USD',
        created: expect.any(String),
        card: { brand: 'visa', last4: '4242' },
        metadata: { order_id: 'ORD-1', payment_id: charge.metadata!.paymentId },
      },
    ]);
  });

  test.each([
    ['card_declined', { cardNumber: TEST_CARDS.declined }],
    ['insufficient_funds', { cardNumber: TEST_CARDS.insufficientFunds }],
    ['expired_card', { expMonth: 1, expYear: 2020 }],
    ['incorrect_cvc', { cvc: '000' }],
  ] as const)('%s is a decline, repeated to a retry, and charges nothing', async (code, overrides) => {
    const charge = newCharge(overrides);
    await expect(gateway.charge(charge)).resolves.toEqual({ status: 'declined', reason: code });
    await expect(gateway.charge(charge)).resolves.toEqual({ status: 'declined', reason: code });
    expect(await chargesFor(charge.idempotencyKey)).toEqual([]);
  });

  test('the flaky card fails transiently twice under its key, then succeeds', async () => {
    const charge = newCharge({ cardNumber: TEST_CARDS.flaky });
    await expect(gateway.charge(charge)).rejects.toBeInstanceOf(GatewayUnavailableError);
    await expect(gateway.charge(charge)).rejects.toBeInstanceOf(GatewayUnavailableError);
    await expect(gateway.charge(charge)).resolves.toMatchObject({ status: 'succeeded' });
    // Another key starts its own count.
    await expect(gateway.charge(newCharge({ cardNumber: TEST_CARDS.flaky }))).rejects.toBeInstanceOf(
      GatewayUnavailableError,
    );
  });

  test('the same key with another body is a 422 the adapter reports as a non-retryable request error', async () => {
    const charge = newCharge();
    await gateway.charge(charge);
    const error = await gateway.charge({ ...charge, amount: 1300 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GatewayRequestError);
    expect(error).toMatchObject({ status: 422, code: 'idempotency_key_reused' });
    expect(await chargesFor(charge.idempotencyKey)).toHaveLength(1);
  });

  test('a retry without the CVC (erased after the outcome) is the same request and gets the first answer', async () => {
    const charge = newCharge();
    const first = await gateway.charge(charge);
    await expect(gateway.charge({ ...charge, cvc: undefined })).resolves.toEqual(first);
  });

  test('a wrong key is a 401 and a body the provider refuses is a 400: request errors, not retried', async () => {
    const wrongKey = createHttpGateway({ url: sandbox.url, apiKey: 'sk_test_not_the_sandbox_key_000' });
    try {
      await expect(wrongKey.charge(newCharge())).rejects.toMatchObject({
        name: 'GatewayRequestError',
        status: 401,
      });
    } finally {
      await wrongKey.close();
    }
    const error = await gateway.charge(newCharge({ expMonth: undefined })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GatewayRequestError);
    expect(error).toMatchObject({ status: 400 });
    expect(String(error)).toContain('card.exp_month');
    expect(String(error)).not.toContain(CARD);
  });
});

describe('finding a charge by idempotency key through the HTTP adapter', () => {
  test('finds the charge a lost answer left behind, and nothing under a key never charged or declined', async () => {
    await call('POST', '/sandbox/faults', { body: { dropResponseRate: 1 } });
    const charge = newCharge();
    await expect(gateway.charge(charge)).rejects.toBeInstanceOf(GatewayUnavailableError);
    await call('DELETE', '/sandbox/faults');
    const [taken] = await chargesFor(charge.idempotencyKey);

    await expect(gateway.findCharge(charge.idempotencyKey)).resolves.toEqual({
      chargeId: taken.id,
      paymentId: charge.metadata!.paymentId,
      amount: 1250,
      currency: 'USD',
    });
    await expect(gateway.findCharge(newCharge().idempotencyKey)).resolves.toBeUndefined();
    const declined = newCharge({ cardNumber: TEST_CARDS.declined });
    await gateway.charge(declined);
    await expect(gateway.findCharge(declined.idempotencyKey)).resolves.toBeUndefined();
  });

  test('a key whose request is still in progress is answered 409, which is worth retrying', async () => {
    const charge = newCharge();
    // The moment between taking the key and taking the charge, held still: what a lookup may meet.
    await insertLockedKey(database.db, charge.idempotencyKey, 'request-hash', 'test-instance', new Date());
    const answer = await call(
      'GET',
      `/v1/charges?idempotency_key=${encodeURIComponent(charge.idempotencyKey)}`,
    );
    expect(answer).toMatchObject({
      status: 409,
      body: { error: { type: 'idempotency_error', code: 'idempotency_key_in_use' } },
    });
    await expect(gateway.findCharge(charge.idempotencyKey)).rejects.toBeInstanceOf(GatewayUnavailableError);
  });

  test('the sandbox down or stopped is worth retrying; a wrong key is a request error', async () => {
    const charge = newCharge();
    await gateway.charge(charge);
    await call('POST', '/sandbox/faults', { body: { down: true } });
    await expect(gateway.findCharge(charge.idempotencyKey)).rejects.toBeInstanceOf(GatewayUnavailableError);
    await call('DELETE', '/sandbox/faults');

    const wrongKey = createHttpGateway({ url: sandbox.url, apiKey: 'sk_test_not_the_sandbox_key_000' });
    try {
      await expect(wrongKey.findCharge(charge.idempotencyKey)).rejects.toMatchObject({
        name: 'GatewayRequestError',
        status: 401,
      });
    } finally {
      await wrongKey.close();
    }

    await sandbox.kill();
    try {
      await expect(gateway.findCharge(charge.idempotencyKey)).rejects.toBeInstanceOf(GatewayUnavailableError);
    } finally {
      sandbox = await startSandboxProcess({ databaseUrl: database.url, port: sandbox.port });
    }
    await expect(gateway.findCharge(charge.idempotencyKey)).resolves.toMatchObject({ amount: 1250 });
  });
});

describe('fault knobs', () => {
  test('errorRate answers 503 without charging; the key then charges normally', async () => {
    await expect(call('POST', '/sandbox/faults', { body: { errorRate: 1 } })).resolves.toMatchObject({
      status: 200,
      body: { errorRate: 1, latencyMs: 0, dropResponseRate: 0, down: false },
    });
    const charge = newCharge();
    await expect(gateway.charge(charge)).rejects.toBeInstanceOf(GatewayUnavailableError);
    expect(await chargesFor(charge.idempotencyKey)).toEqual([]);

    await call('DELETE', '/sandbox/faults');
    await expect(gateway.charge(charge)).resolves.toMatchObject({ status: 'succeeded' });
    expect(await chargesFor(charge.idempotencyKey)).toHaveLength(1);
  });

  test('dropResponseRate takes the charge and drops the connection; a retry with the key gets that charge', async () => {
    await call('POST', '/sandbox/faults', { body: { dropResponseRate: 1 } });
    const charge = newCharge();
    await expect(gateway.charge(charge)).rejects.toBeInstanceOf(GatewayUnavailableError);
    const taken = await chargesFor(charge.idempotencyKey);
    expect(taken).toHaveLength(1);
    expect(taken[0]).toMatchObject({ amount: 1250, currency: 'USD' });

    await call('DELETE', '/sandbox/faults');
    await expect(gateway.charge(charge)).resolves.toEqual({ status: 'succeeded', chargeId: taken[0].id });
    expect(await chargesFor(charge.idempotencyKey)).toHaveLength(1);
  });

  test('down answers 503 to everything but the fault knobs, until they are reset', async () => {
    await call('POST', '/sandbox/faults', { body: { down: true } });
    const charge = newCharge();
    await expect(gateway.charge(charge)).rejects.toBeInstanceOf(GatewayUnavailableError);
    const read = await call('GET', '/v1/charges?limit=1');
    expect(read.status).toBe(503);
    expect(read.headers.get('retry-after')).toBe('1');
    expect(read.body).toMatchObject({ error: { type: 'api_error' } });

    await expect(call('DELETE', '/sandbox/faults')).resolves.toMatchObject({
      status: 200,
      body: { down: false },
    });
    await expect(gateway.charge(charge)).resolves.toMatchObject({ status: 'succeeded' });
  });

  test('fault settings are validated, and need the key like every endpoint', async () => {
    await expect(call('POST', '/sandbox/faults', { body: { errorRate: 2 } })).resolves.toMatchObject({
      status: 400,
      body: { error: { type: 'invalid_request_error', message: expect.stringContaining('errorRate') } },
    });
    await expect(call('POST', '/sandbox/faults', { body: { down: true }, key: null })).resolves.toMatchObject(
      {
        status: 401,
      },
    );
    await expect(call('GET', '/v1/charges?limit=1')).resolves.toMatchObject({ status: 200 });
  });
});

describe('idempotency under concurrency and crashes', () => {
  test('concurrent requests with one key take one charge; the others wait (409) or get the same answer', async () => {
    // Latency holds the first request in progress, so the others meet it there.
    await call('POST', '/sandbox/faults', { body: { latencyMs: 500 } });
    const charge = newCharge();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        call('POST', '/v1/charges', { body: providerBody(charge), idempotencyKey: charge.idempotencyKey }),
      ),
    );
    const taken = await chargesFor(charge.idempotencyKey);
    expect(taken).toHaveLength(1);
    for (const answer of answers) {
      if (answer.status === 409) {
        expect(answer.body).toMatchObject({
          error: { type: 'idempotency_error', code: 'idempotency_key_in_use' },
        });
      } else {
        expect(answer).toMatchObject({ status: 200, body: { id: taken[0].id } });
      }
    }
    expect(answers.filter((answer) => answer.status === 200).length).toBeGreaterThanOrEqual(1);
  });

  test('a sandbox killed mid-charge keeps the charge; after a restart the same key answers it, once', async () => {
    await call('POST', '/sandbox/faults', { body: { latencyMs: 60_000 } });
    const charge = newCharge();
    const inFlight = gateway.charge(charge).catch((error: unknown) => error);
    // Taken, its key still in progress: the window in which the provider dies.
    await eventually(
      () => database.db('charges').where({ idempotency_key: charge.idempotencyKey }).count({ n: '*' }),
      (rows) => Number(rows[0]?.n) === 1,
    );
    // Meanwhile the same key is in progress: 409, which the adapter reports as retryable.
    const meanwhile = await gateway.charge(charge).catch((error: unknown) => error);
    expect(meanwhile).toBeInstanceOf(GatewayUnavailableError);
    expect(String(meanwhile)).toContain('409 idempotency_error/idempotency_key_in_use');

    await restartSandbox();
    await expect(inFlight).resolves.toBeInstanceOf(GatewayUnavailableError);

    const retried = await gateway.charge(charge);
    const taken = await chargesFor(charge.idempotencyKey);
    expect(taken).toHaveLength(1);
    expect(retried).toEqual({ status: 'succeeded', chargeId: taken[0].id });
  });

  test('answers, declines and the flaky count survive a restart', async () => {
    const paid = newCharge();
    const declined = newCharge({ cardNumber: TEST_CARDS.declined });
    const flaky = newCharge({ cardNumber: TEST_CARDS.flaky });
    const first = await gateway.charge(paid);
    await gateway.charge(declined);
    await expect(gateway.charge(flaky)).rejects.toBeInstanceOf(GatewayUnavailableError);

    await restartSandbox();
    await expect(gateway.charge(paid)).resolves.toEqual(first);
    await expect(gateway.charge(declined)).resolves.toEqual({ status: 'declined', reason: 'card_declined' });
    // One transient failure is left for this key, not two.
    await expect(gateway.charge(flaky)).rejects.toBeInstanceOf(GatewayUnavailableError);
    await expect(gateway.charge(flaky)).resolves.toMatchObject({ status: 'succeeded' });
    expect(await chargesFor(paid.idempotencyKey)).toHaveLength(1);
  });
});

describe('the raw API', () => {
  test('a charge needs an Idempotency-Key, a well-formed JSON body and the key', async () => {
    const body = providerBody(newCharge());
    await expect(call('POST', '/v1/charges', { body })).resolves.toMatchObject({
      status: 400,
      body: { error: { type: 'invalid_request_error', code: 'idempotency_key_missing' } },
    });
    await expect(
      call('POST', '/v1/charges', {
        rawBody: `{"amount":1,"card":{"number":"${CARD}"`,
        idempotencyKey: 'k-bad-json',
      }),
    ).resolves.toMatchObject({ status: 400, body: { error: { type: 'invalid_request_error' } } });
    const unknownField = await call('POST', '/v1/charges', {
      body: { ...body, card: { ...body.card, holder: 'A' } },
      idempotencyKey: 'k-unknown-field',
    });
    expect(unknownField).toMatchObject({ status: 400 });
    expect(unknownField.body.error.message).toContain('holder');
    const fractional = await call('POST', '/v1/charges', {
      body: { ...body, amount: 12.5 },
      idempotencyKey: 'k-fraction',
    });
    expect(fractional).toMatchObject({ status: 400 });
    expect(fractional.body.error.message).toContain('amount');

    const unauthorised = await call('POST', '/v1/charges', {
      body,
      idempotencyKey: 'k-no-key',
      key: 'wrong',
    });
    expect(unauthorised).toMatchObject({ status: 401, body: { error: { type: 'authentication_error' } } });
    expect(unauthorised.headers.get('www-authenticate')).toBe('Bearer');
    // Nothing was recorded under the refused requests' keys.
    for (const key of ['k-bad-json', 'k-unknown-field', 'k-fraction', 'k-no-key']) {
      expect(await chargesFor(key)).toEqual([]);
    }
  });

  test('charges page oldest first from created_gte, resuming after starting_after', async () => {
    const since = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5)); // a later millisecond than anything before
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const result = await gateway.charge(newCharge({ amount: 100 + i }));
      ids.push((result as { chargeId: string }).chargeId);
    }
    const seen: string[] = [];
    let startingAfter: string | undefined;
    for (;;) {
      const query = new URLSearchParams({ created_gte: since, limit: '2' });
      if (startingAfter) query.set('starting_after', startingAfter);
      const page = await call('GET', `/v1/charges?${query.toString()}`);
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((charge: { id: string }) => charge.id));
      if (!page.body.has_more) break;
      startingAfter = page.body.data.at(-1).id;
    }
    expect(seen).toEqual(ids);

    await expect(
      call('GET', '/v1/charges?starting_after=ch_000000000000000000000000'),
    ).resolves.toMatchObject({
      status: 400,
      body: { error: { code: 'resource_missing' } },
    });
    await expect(call('GET', '/v1/charges?limit=1000')).resolves.toMatchObject({ status: 400 });
    await expect(call('GET', '/v1/charges?created_gte=yesterday')).resolves.toMatchObject({ status: 400 });
  });
});

describe('card data', () => {
  test('neither the sandbox tables nor its log hold a card number or a CVC', async () => {
    // Every path that sees a card: success, declines, a drop, a 422, a refused body.
    await gateway.charge(newCharge());
    await gateway.charge(newCharge({ cvc: '000' }));
    await call('POST', '/sandbox/faults', { body: { dropResponseRate: 1 } });
    await gateway.charge(newCharge()).catch(() => undefined);
    await call('DELETE', '/sandbox/faults');
    const reused = newCharge();
    await gateway.charge(reused);
    await gateway.charge({ ...reused, amount: 1 }).catch(() => undefined);
    await gateway.charge(newCharge({ expMonth: undefined })).catch(() => undefined);

    for (const table of ['charges', 'idempotency_keys']) {
      const columns = (await database.db(table).columnInfo()) as Record<string, unknown>;
      expect(Object.keys(columns).filter((name) => /number|cvc|cvv|pan/i.test(name))).toEqual([]);
      const rows = await database.db(table).select();
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) {
        for (const value of Object.values(row)) {
          expect(String(value)).not.toContain(CARD.slice(0, 12));
          expect(String(value)).not.toBe(CVC);
          expect(String(value)).not.toBe('000');
        }
      }
    }
    const log = sandbox.output.join('');
    expect(log).toContain('"msg":"request"');
    expect(log).not.toContain(CARD);
    expect(log).not.toMatch(/cvc/i);
  });
});
