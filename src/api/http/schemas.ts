/** Schemas shared by every domain's API: IDs, amounts, timestamps, problem details, common answers. */
import type { ResponseConfig } from '@asteasolutions/zod-to-openapi';
import { CURRENCY_CODES, type CurrencyCode } from '../../domain/currencies';
import { ID_PATTERN, ID_RULE } from '../../domain/ids';
import { PROBLEM_CONTENT_TYPE } from './problem';
import { z } from './zod';

export const JSON_CONTENT_TYPE = 'application/json';

// A field that describes a named schema gets its own copy: metadata on a wrapper of a named schema would
// rewrite the named one's.

const idSchema = () => z.string({ error: ID_RULE }).regex(ID_PATTERN, { error: ID_RULE });

/** An order, payment, customer or upload ID (domain/ids.ts). */
export const Id = idSchema().openapi('Id', {
  description: `An ID, case-sensitive: ${ID_RULE.replace(/^must be /, '')}`,
  examples: ['ord_3f2c9a', 'INV-2026-0042'],
});
export const idField = (description: string) => idSchema().openapi({ description });

/** A route that takes no query parameters refuses any. */
export const NoQuery = z.strictObject({});

export const Currency = z
  .enum(CURRENCY_CODES as [CurrencyCode, ...CurrencyCode[]], {
    error: (issue) =>
      typeof issue.input === 'string'
        ? `"${issue.input}" is not a supported ISO 4217 code`
        : 'is required and must be a string',
  })
  .openapi('Currency', { description: 'ISO 4217 code, upper case', examples: ['USD', 'EUR', 'JPY'] });

const AMOUNT_RULE =
  "Decimal string in the major unit with at most the currency's decimals; no sign, exponent or separators";
/** Parsed against its currency by domain/money.ts, once the currency is known. */
const amountSchema = () => z.string({ error: 'is required and must be a string such as "125.50"' });
export const Amount = amountSchema().openapi('Amount', {
  description: AMOUNT_RULE,
  examples: ['125.50', '1000'],
});
export const amountField = (description: string) =>
  amountSchema().openapi({ description: `${description}. ${AMOUNT_RULE}`, examples: ['125.50', '1000'] });

export const Timestamp = z.iso.datetime({ offset: true });

/** A string of 1 to `max` characters. */
export const boundedText = (max: number) => {
  const rule = `must be a string of 1 to ${max} characters`;
  return z.string({ error: rule }).min(1, { error: rule }).max(max, { error: rule });
};

/** An object in a request body: not an object, or an unknown field, is refused with what it is. */
export const bodyObject = <T extends z.ZodRawShape>(shape: T) =>
  z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? undefined : 'must be a JSON object'),
  });

export const ProblemDetails = z
  .looseObject({
    type: z.string().openapi({ description: 'Always `about:blank`: the status says what kind of problem' }),
    title: z.string().openapi({ examples: ['Unprocessable Content'] }),
    status: z.number().int().min(400).max(599),
    detail: z.string().openapi({ description: 'What was wrong, for a human to act on' }),
    instance: z.string().openapi({ description: 'The request path' }),
    code: z
      .string()
      .optional()
      .openapi({
        description: 'Machine-readable reason of a 422 from a domain rule',
        examples: ['AMOUNT_TOO_PRECISE', 'CARD_NUMBER_INVALID', 'CURRENCY_UNKNOWN'],
      }),
    paymentId: idField('The payment a 409 or 422 refused, when one was recorded').optional(),
  })
  .openapi('Problem', {
    description: 'RFC 9457 problem details; extension members such as `code` or `paymentId` may be present',
  });

export const jsonContent = (schema: z.ZodType) => ({ [JSON_CONTENT_TYPE]: { schema } });

export const problem = (description: string): ResponseConfig => ({
  description,
  content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemDetails } },
});

const LocationHeader = z.object({
  Location: z.string().openapi({ description: 'Where the resource can be read' }),
});

/** A JSON answer; with `location`, it names where the resource can be read. */
export const jsonResponse = (
  description: string,
  schema: z.ZodType,
  options: { location?: boolean } = {},
): ResponseConfig => ({
  description,
  ...(options.location ? { headers: LocationHeader } : {}),
  content: jsonContent(schema),
});

const problemRef = { $ref: '#/components/schemas/Problem' };

/** A problem answer as a plain OpenAPI object, for `components.responses`. */
const sharedProblem = (description: string, headers?: Record<string, string>) => ({
  description,
  ...(headers && {
    headers: Object.fromEntries(
      Object.entries(headers).map(([name, about]) => [
        name,
        { description: about, required: true, schema: { type: 'string' as const } },
      ]),
    ),
  }),
  content: { [PROBLEM_CONTENT_TYPE]: { schema: problemRef } },
});

/** Answers shared by many routes, as `components.responses`. */
export const SHARED_RESPONSES = {
  BadRequest: sharedProblem(
    'Malformed request: a malformed ID in the path, JSON that does not parse, a bad query parameter or ' +
      'header, or an unknown query parameter',
  ),
  NotFound: sharedProblem(
    "No such resource, or one the caller may not see (another client's order or payment): both are " +
      'answered alike',
  ),
  Unauthorized: sharedProblem('No API key, or one the API does not know', {
    'WWW-Authenticate': '`Bearer realm="durapay"`, with `error="invalid_token"` for an unknown key',
  }),
  Forbidden: sharedProblem('The API key is valid but its role may not call this operation'),
  TooManyRequests: sharedProblem(
    'This API key made more requests than its rate limit allows; retry after `Retry-After`',
    { 'Retry-After': 'Seconds until the key may make a request again' },
  ),
  ContentTooLarge: sharedProblem('The request body is larger than the configured limit'),
  UnsupportedMediaType: sharedProblem('The request has a body that is not application/json'),
  UnprocessableContent: sharedProblem(
    'The body is well-formed JSON but not a valid request: missing or unknown fields, a bad amount, ' +
      'currency or card, an amount above what is due, or an idempotency key or ID reused with a ' +
      'different body. Domain rule violations carry a `code`, e.g. `AMOUNT_TOO_PRECISE`, `CARD_EXPIRED`.',
  ),
  Error: sharedProblem('Any other error (405 wrong method, 500, 503 …), as problem details'),
};

export const shared = (name: keyof typeof SHARED_RESPONSES) => ({
  $ref: `#/components/responses/${name}`,
});
