import { randomUUID } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { ENCRYPTED_ENCODING, KEY_ID_METADATA } from '../../src/temporal/payload-codec';
import { startTestStack, type TestStack } from '../support/stack';
import { testDataConverter } from '../support/temporal';

const CARD = '4242424242424242';
const DECLINED_CARD = '4000000000000002';
const EMAIL = 'zoe.history@example.com';
const AMOUNT = '123.45';
const AMOUNT_MINOR_UNITS = '12345';

type Found = { path: string; payload: Payload };

const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const isPayload = (value: object): value is Payload =>
  'metadata' in value && (value as Payload).metadata?.encoding instanceof Uint8Array;

const SDK_MARKER_DATA = new Set(['patch-data', 'data']);

/**
 * Every payload in a raw history, by path, except search attributes, which Temporal must index in clear, and
 * the bookkeeping the SDK writes itself on markers: a patch's name, a local activity's type, attempt and times
 * (the local activity's result is a payload like any other, and checked).
 */
function payloadsIn(value: unknown, path = 'history'): Found[] {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return [];
  if (isPayload(value)) return [{ path, payload: value }];
  return Object.entries(value).flatMap(([key, child]) =>
    key === 'searchAttributes' ||
    (path.endsWith('markerRecordedEventAttributes.details') && SDK_MARKER_DATA.has(key))
      ? []
      : payloadsIn(child, `${path}.${key}`),
  );
}

function failuresIn(value: unknown): { message?: string | null; stackTrace?: string | null }[] {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return [];
  return Object.entries(value).flatMap(([key, child]) => [
    ...(key === 'failure' && child ? [child as { message?: string | null }] : []),
    ...failuresIn(child),
  ]);
}

/**
 * On the real stack: what Temporal stores of an order holds no card number, contact detail or amount in
 * clear, failures included, and the codec (the workers', the clients' and the codec server's) reads it back.
 */
describe('Temporal history encryption', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const call = async (path: string, body: unknown, caller: 'alice' | 'operator' = 'alice') => {
    const response = await fetch(`${stack.api.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...stack.api.headers(caller) },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  const card = (number: string) => ({ type: 'card', number, expMonth: 12, expYear: 2099, cvc: '123' });

  it('keeps card numbers, emails and amounts out of the raw history, and decodes with the codec', async () => {
    const orderId = `ORD-${randomUUID()}`;
    const workflowId = `order:${orderId}`;
    const created = await call('/orders', {
      orderId,
      amount: AMOUNT,
      currency: 'USD',
      customer: { id: 'cust-history', email: EMAIL },
    });
    expect(created.status).toBe(201);
    const declined = await call(`/orders/${orderId}/payments?wait=true`, {
      amount: AMOUNT,
      method: card(DECLINED_CARD),
    });
    expect(declined.body.status).toBe('FAILED');
    const paid = await call(`/orders/${orderId}/payments?wait=true`, { amount: AMOUNT, method: card(CARD) });
    expect(paid.body.status).toBe('COMPLETED');
    const handle = stack.env.client.workflow.getHandle(workflowId);
    await handle.result();

    // Raw, as Temporal stores it: no data converter, no codec.
    const { history } = await stack.env.connection.workflowService.getWorkflowExecutionHistory({
      namespace: stack.env.namespace ?? 'default',
      execution: { workflowId },
    });
    const raw = JSON.stringify(history, (_key, value: unknown) =>
      value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : value,
    );
    expect(raw).toContain(orderId);
    for (const secret of [CARD, DECLINED_CARD, EMAIL, AMOUNT]) expect(raw).not.toContain(secret);

    const payloads = payloadsIn(history);
    const paths = payloads.map(({ path }) => path).join('\n');
    expect(paths).toMatch(/workflowExecutionStartedEventAttributes\.input/);
    expect(paths).toMatch(/workflowExecutionStartedEventAttributes\.memo/);
    expect(paths).toMatch(/userMetadata\.summary/);
    expect(paths).toMatch(/activityTaskCompletedEventAttributes\.result/);
    expect(paths).toMatch(/markerRecordedEventAttributes\.details\.result/);
    expect(paths).toMatch(/failure\.encodedAttributes/);
    for (const { path, payload } of payloads) {
      expect({ path, encoding: text(payload.metadata!.encoding) }).toEqual({
        path,
        encoding: ENCRYPTED_ENCODING,
      });
      expect(text(payload.metadata![KEY_ID_METADATA])).toBe('test1');
      const data = Buffer.from(payload.data!);
      for (const clear of [AMOUNT, AMOUNT_MINOR_UNITS, EMAIL, CARD, orderId]) {
        expect(data.toString('latin1')).not.toContain(clear);
      }
    }
    // Failure messages and stack traces travel encrypted too; only a placeholder stays in clear.
    const failures = failuresIn(history);
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) {
      expect(failure.message).toBe('Encoded failure');
      expect(failure.stackTrace ?? '').toBe('');
    }

    // Through the codec: the workers' and clients' data converter.
    const started = history!.events![0]!.workflowExecutionStartedEventAttributes!;
    const [input] = await testDataConverter.payloadCodecs![0]!.decode(started.input!.payloads!);
    expect(defaultPayloadConverter.fromPayload(input!)).toMatchObject({
      orderId,
      currency: 'USD',
      amount: Number(AMOUNT_MINOR_UNITS),
    });
    const description = await handle.describe();
    expect(description.memo).toEqual({ currency: 'USD', amount: expect.stringMatching(/^123\.450*$/) });
    expect(await description.staticSummary()).toContain(AMOUNT);

    // And through the codec server, as the Web UI reads it.
    const summary = history!.events![0]!.userMetadata!.summary!;
    const decoded = await call(
      '/codec/decode',
      {
        payloads: [summary].map((payload) => ({
          metadata: Object.fromEntries(
            Object.entries(payload.metadata!).map(([name, value]) => [
              name,
              Buffer.from(value).toString('base64'),
            ]),
          ),
          data: Buffer.from(payload.data!).toString('base64'),
        })),
      },
      'operator',
    );
    expect(decoded.status).toBe(200);
    expect(Buffer.from(decoded.body.payloads[0].data, 'base64').toString('utf8')).toContain(AMOUNT);
  });
});
