/** Request schemas and the ZodError mapping, without a server: each refusal names the field and the fix. */
import { CodecPayloads } from '../../../src/api/codec/schemas';
import { ExportQuery } from '../../../src/api/exports/schemas';
import { Problem } from '../../../src/api/http/problem';
import { problemFromZod, type RequestPart } from '../../../src/api/http/validation';
import { CreateOrderRequest, CreatePaymentRequest, ListOrdersQuery } from '../../../src/api/orders/schemas';
import type { z } from 'zod';

function refusal(schema: z.ZodType, value: unknown, part: RequestPart) {
  const result = schema.safeParse(value);
  if (result.success) throw new Error(`${JSON.stringify(value)} was accepted`);
  const problem = problemFromZod(result.error, part);
  return { status: problem.status, title: problem.title, detail: problem.detail };
}

const order = { body: 'order' } as const;
const payment = { body: 'payment' } as const;
const card = { type: 'card', number: '4242424242424242', expMonth: 12, expYear: 2099, cvc: '123' };

describe('request bodies', () => {
  it.each([
    [null, 'order must be a JSON object'],
    [[], 'order must be a JSON object'],
    [{ amount: '1.00', currency: 'USD', colour: 'red', size: 1 }, 'order has unknown field colour, size'],
    [{ amount: 10, currency: 'USD' }, 'amount is required and must be a string such as "125.50"'],
    [{ amount: '1.00', currency: 'XYZ' }, 'currency "XYZ" is not a supported ISO 4217 code'],
    [{ amount: '1.00' }, 'currency is required and must be a string'],
    [
      { orderId: '-x', amount: '1.00', currency: 'USD' },
      "orderId must be 1 to 64 characters of letters, digits, '.', '_', ':' or '-', starting with a letter or digit",
    ],
    [{ amount: '1.00', currency: 'USD', customer: 'alice' }, 'customer must be a JSON object'],
    [{ amount: '1.00', currency: 'USD', customer: { phone: '1' } }, 'customer has unknown field phone'],
    [
      { amount: '1.00', currency: 'USD', customer: { email: 'nobody' } },
      'customer.email is not an email address',
    ],
    [
      { amount: '1.00', currency: 'USD', customer: { name: '' } },
      'customer.name must be a string of 1 to 200 characters',
    ],
    [
      { amount: '1.00', currency: 'USD', paymentDeadline: 'P400D' },
      'paymentDeadline must be longer than zero and at most 366 days',
    ],
  ])('refuses the order %j: "%s"', (body, detail) => {
    expect(refusal(CreateOrderRequest, body, order)).toEqual({
      status: 422,
      title: 'Unprocessable Content',
      detail,
    });
  });

  it('lets a domain rule answer with its code (a duration in months)', () => {
    expect(() =>
      CreateOrderRequest.safeParse({ amount: '1.00', currency: 'USD', paymentDeadline: 'P1M' }),
    ).toThrow(expect.objectContaining({ code: 'DURATION_AMBIGUOUS_UNIT' }));
  });

  it.each([
    [{ amount: '1.00', method: { type: 'crypto' } }, 'method.type must be "card", not "crypto"'],
    [{ amount: '1.00', method: { ...card, pin: '0' } }, 'method has unknown field pin'],
    [{ amount: '1.00', method: { ...card, expMonth: 'May' } }, 'method.expMonth must be a whole number'],
    [{ amount: '1.00', method: { ...card, cvc: 123 } }, 'method.cvc is required and must be a string'],
    [{ amount: '1.00', method: card, tip: '1' }, 'payment has unknown field tip'],
  ])('refuses the payment %j: "%s"', (body, detail) => {
    expect(refusal(CreatePaymentRequest, body, payment).detail).toBe(detail);
  });

  it('reads card months and years given as digit strings', () => {
    const parsed = CreatePaymentRequest.parse({
      amount: '1.00',
      method: { ...card, expMonth: '07', expYear: '2099' },
    });
    expect(parsed.method).toMatchObject({ expMonth: 7, expYear: 2099 });
  });
});

describe('query parameters', () => {
  it.each([
    [{ limit: '0' }, 'limit must be a whole number from 1 to 100'],
    [{ limit: '1.5' }, 'limit must be a whole number from 1 to 100'],
    [{ limit: ['1', '2'] }, 'limit must be a whole number from 1 to 100'],
    [{ status: 'PAID' }, 'status must be one of PENDING, COMPLETED, CANCELLED, EXPIRED'],
    [{ cursor: 'garbage' }, 'cursor is not one this API returned'],
    [{ sort: 'asc', colour: 'red' }, 'unknown query parameter sort, colour'],
  ])('refuses the order list query %j: "%s"', (query, detail) => {
    expect(refusal(ListOrdersQuery, query, 'query')).toEqual({ status: 400, title: 'Bad Request', detail });
  });

  it('defaults the page size', () => {
    expect(ListOrdersQuery.parse({})).toEqual({ limit: 20 });
  });

  it.each([
    [{}, 'format is required and must be one of csv, xml'],
    [{ format: ['csv', 'xml'] }, 'format must be given at most once'],
    [{ format: 'csv', from: '2026-03-01T00:00:00 01:00' }, /encode "\+" in a UTC offset as %2B$/],
    [
      { format: 'csv', from: '2026-03-02T00:00:00Z', to: '2026-03-01T00:00:00Z' },
      'from must be earlier than to',
    ],
  ])('refuses the export query %j', (query, detail) => {
    expect(refusal(ExportQuery, query, 'query').detail).toMatch(detail);
  });
});

describe('the codec body', () => {
  it('is refused with 400, naming the payload that is wrong', () => {
    const refused = refusal(
      CodecPayloads,
      { payloads: [{ data: 'AA==' }, { data: '%%' }] },
      { body: 'body', status: 400 },
    );
    expect(refused).toEqual({
      status: 400,
      title: 'Bad Request',
      detail: 'payloads[1].data must be a base64 string',
    });
    expect(problemFromZod(CodecPayloads.safeParse({}).error!, { body: 'body', status: 400 })).toBeInstanceOf(
      Problem,
    );
  });
});
