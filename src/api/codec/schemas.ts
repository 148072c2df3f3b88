/** The codec server's payloads and route definitions (it authenticates and reads its bodies itself). */
import { apiRoute } from '../http/route';
import { jsonContent, jsonResponse, problem, shared } from '../http/schemas';
import { z } from '../http/zod';

const base64 = z
  .string({ error: 'must be a base64 string' })
  .regex(/^[A-Za-z0-9+/_-]*={0,2}$/, { error: 'must be a base64 string' })
  .transform((text) => new Uint8Array(Buffer.from(text, 'base64')))
  .openapi({ format: 'byte' });

/** `{"payloads":[{"metadata":{"encoding":"<base64>"},"data":"<base64>"}]}`, the Web UI's shape (proto3 JSON). */
export const CodecPayloads = z
  .object(
    {
      payloads: z.array(
        z
          .object(
            {
              metadata: z.record(z.string(), base64, { error: 'must be an object' }).default({}),
              data: base64.default(new Uint8Array()),
            },
            { error: 'must be an object' },
          )
          .openapi({ description: 'A Temporal payload in proto3 JSON: metadata values and data are base64' }),
        { error: 'must be an array of {"metadata":{…},"data":"…"}' },
      ),
    },
    { error: 'must be {"payloads":[{"metadata":{…},"data":"…"}]}' },
  )
  .openapi('CodecPayloads');
/** The JSON shape, as answers carry it. */
export type CodecPayloads = z.input<typeof CodecPayloads>;

const codecRoute = (operation: 'encode' | 'decode') =>
  apiRoute({
    method: 'post',
    path: `/codec/${operation}`,
    operationId: `codec${operation === 'encode' ? 'Encode' : 'Decode'}`,
    summary: operation === 'encode' ? 'Encrypt payloads' : 'Decrypt payloads',
    description:
      "The Temporal Web UI's remote codec. Operators only: a bearer key, or the cookie of " +
      '`POST /codec/session`. CORS allows only DURAPAY_CODEC_CORS_ORIGIN; any other `Origin` is 403.' +
      (operation === 'decode' ? ' Payloads that are not `binary/encrypted` come back unchanged.' : ''),
    tags: ['codec'],
    roles: ['operator'],
    authenticatesItself: true,
    request: {},
    documentedBody: { required: true, content: jsonContent(CodecPayloads) },
    responses: {
      200: jsonResponse(`The ${operation}d payloads, in order`, CodecPayloads),
      400: shared('BadRequest'),
      403: problem('Not an operator, or a request from an origin other than the Web UI'),
      413: shared('ContentTooLarge'),
      415: shared('UnsupportedMediaType'),
      ...(operation === 'decode'
        ? { 422: problem('A payload does not decrypt: tampered, or under a key no longer configured') }
        : {}),
    },
  });

const preflightRoute = (operation: 'encode' | 'decode') =>
  apiRoute({
    method: 'options',
    path: `/codec/${operation}`,
    operationId: `codec${operation === 'encode' ? 'Encode' : 'Decode'}Preflight`,
    summary: 'CORS preflight',
    description: 'Needs no credentials. Allowed only from DURAPAY_CODEC_CORS_ORIGIN (403 otherwise).',
    tags: ['codec'],
    request: {},
    responses: {
      204: { description: 'The Web UI may POST with `X-Namespace`, `Content-Type` and `Authorization`' },
      403: problem('A preflight from another origin'),
    },
  });

const html = { 'text/html': { schema: z.string() } };

export const codecApi = {
  encode: codecRoute('encode'),
  decode: codecRoute('decode'),
  encodePreflight: preflightRoute('encode'),
  decodePreflight: preflightRoute('decode'),
  loginForm: apiRoute({
    method: 'get',
    path: '/codec/session',
    operationId: 'codecLoginForm',
    summary: 'Operator sign-in form for the codec server',
    tags: ['codec'],
    request: {},
    responses: { 200: { description: 'An HTML form', content: html } },
  }),
  login: apiRoute({
    method: 'post',
    path: '/codec/session',
    operationId: 'codecLogin',
    summary: 'Sign in to the codec server',
    description:
      'Takes an operator key (form field `key`, or a bearer key) and sets an HttpOnly, SameSite=Strict ' +
      'cookie for `/codec` that lasts 4 hours, so the Web UI can decode with "Include cross-origin ' +
      'credentials" on.',
    tags: ['codec'],
    request: {},
    documentedBody: {
      content: {
        'application/x-www-form-urlencoded': {
          schema: z.object({ key: z.string().optional().openapi({ writeOnly: true }) }),
        },
      },
    },
    responses: {
      200: { description: 'Signed in (form): a confirmation page, and the cookie', content: html },
      204: { description: 'Signed in (bearer key): the cookie' },
      401: shared('Unauthorized'),
      403: problem('Not an operator key, or a form posted from another origin'),
      413: shared('ContentTooLarge'),
    },
  }),
};
