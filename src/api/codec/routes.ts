import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Payload } from '@temporalio/common';
import type { Config } from '../../config';
import type { KeyRing } from '../../crypto/key-ring';
import { createDataConverter } from '../../temporal/data-converter';
import { PayloadDecryptionError } from '../../temporal/payload-codec';
import { identify, requireRole } from '../auth/access';
import type { ApiKeys } from '../auth/api-keys';
import { Problem } from '../http/problem';
import { pageSecurityHeaders } from '../http/security-headers';
import { problemFromZod } from '../http/validation';
import { CodecPayloads } from './schemas';
import { createCodecSessions } from './session';

export interface CodecRoutesDeps {
  config: Config;
  apiKeys: ApiKeys;
  payloadKeys: KeyRing;
}

export const SESSION_COOKIE = 'durapay_codec_session';
const SESSION_TTL_MS = 4 * 60 * 60 * 1000;
const ALLOWED_HEADERS = 'X-Namespace, Content-Type, Authorization';

/**
 * The codec server of the Temporal Web UI: `POST /codec/encode` and `POST /codec/decode` in the UI's JSON
 * shape, for operators only. It does its own authentication, CORS and body parsing, so it behaves the same
 * whatever the app runs for its other routes. A browser cannot send the bearer key from the Web UI, so
 * `/codec/session` trades an operator key for a short HttpOnly cookie valid on `/codec` alone.
 */
export function codecRoutes({ config, apiKeys, payloadKeys }: CodecRoutesDeps): Router {
  const codecs = createDataConverter(payloadKeys).payloadCodecs ?? [];
  const sessions = createCodecSessions(payloadKeys, SESSION_TTL_MS);
  const allowedOrigin = config.security.codecCorsOrigin;
  const limit = config.maxBodyBytes;

  const cors: Middleware = async (ctx, next) => {
    ctx.vary('Origin');
    const origin = ctx.get('Origin');
    // Browsers send Origin on every POST: anything but the Web UI (or this API's own login form) is refused
    // before it can use an operator's cookie, `null` included (what a sandboxed or no-referrer page sends).
    if (origin && origin !== allowedOrigin && origin !== `${ctx.protocol}://${ctx.host}`) {
      throw new Problem(403, 'Forbidden', `origin ${origin} may not call the codec server`);
    }
    if (origin === allowedOrigin) {
      ctx.set('Access-Control-Allow-Origin', allowedOrigin);
      ctx.set('Access-Control-Allow-Credentials', 'true');
    }
    await next();
  };

  const preflight: Middleware = (ctx) => {
    if (ctx.get('Origin') !== allowedOrigin) {
      throw new Problem(403, 'Forbidden', `only ${allowedOrigin} may call the codec server from a browser`);
    }
    ctx.set('Access-Control-Allow-Methods', 'POST');
    ctx.set('Access-Control-Allow-Headers', ALLOWED_HEADERS);
    ctx.set('Access-Control-Max-Age', '600');
    ctx.status = 204;
  };

  const operatorOnly: Middleware = async (ctx, next) => {
    const authorization = ctx.get('Authorization');
    const cookie = ctx.cookies.get(SESSION_COOKIE);
    const principal =
      authorization || !cookie
        ? identify(apiKeys, authorization)
        : (sessions.verify(cookie, new Date()) ?? unauthorized('the codec session is invalid or expired'));
    requireRole(principal, ['operator']);
    await next();
  };

  const codecEndpoint =
    (run: (payloads: Payload[]) => Promise<Payload[]>): Middleware =>
    async (ctx) => {
      if (!ctx.request.is('application/json')) {
        throw new Problem(415, 'Unsupported Media Type', 'codec requests must be application/json');
      }
      const payloads = parsePayloads(await readJson(ctx, limit));
      try {
        ctx.body = { payloads: (await run(payloads)).map(toJsonPayload) };
      } catch (error) {
        if (!(error instanceof PayloadDecryptionError)) throw error;
        throw new Problem(422, 'Unprocessable Content', error.message);
      }
    };

  const router = new Router({ prefix: '/codec' });
  // The sign-in pages are pages a browser renders; htmlPage sets their own CSP and Referrer-Policy.
  router.use('/session', pageSecurityHeaders());
  router.options(['/encode', '/decode'], cors, preflight);
  router.post(
    '/encode',
    cors,
    operatorOnly,
    codecEndpoint(async (payloads) => {
      for (const codec of codecs) payloads = await codec.encode(payloads);
      return payloads;
    }),
  );
  router.post(
    '/decode',
    cors,
    operatorOnly,
    codecEndpoint(async (payloads) => {
      for (const codec of [...codecs].reverse()) payloads = await codec.decode(payloads);
      return payloads;
    }),
  );

  router.get('/session', (ctx) => {
    htmlPage(ctx, LOGIN_FORM + webUiSteps(ctx));
  });
  router.post('/session', cors, async (ctx) => {
    const form = ctx.request.is('application/x-www-form-urlencoded');
    const key = form
      ? new URLSearchParams((await readBody(ctx, limit)).toString('utf8')).get('key')
      : undefined;
    const principal = key
      ? (apiKeys.lookup(key.trim()) ?? unauthorized('that is not a valid API key'))
      : identify(apiKeys, ctx.get('Authorization'));
    requireRole(principal, ['operator']);
    const { token, expiresAt } = sessions.issue(principal, new Date());
    const attributes = ['Path=/codec', `Max-Age=${SESSION_TTL_MS / 1000}`, 'HttpOnly', 'SameSite=Strict'];
    ctx.append(
      'Set-Cookie',
      [`${SESSION_COOKIE}=${token}`, ...attributes, ...(ctx.secure ? ['Secure'] : [])].join('; '),
    );
    if (form) {
      htmlPage(
        ctx,
        `<p>Signed in as ${escapeHtml(principal.id)} until ${expiresAt.toISOString()}.</p>${webUiSteps(ctx)}`,
      );
    } else {
      ctx.status = 204;
    }
  });
  return router;
}

function unauthorized(reason: string): never {
  throw new Problem(
    401,
    'Unauthorized',
    `${reason}: sign in again at /codec/session, or send "Authorization: Bearer <operator key>"`,
    {},
    { 'WWW-Authenticate': 'Bearer realm="durapay"' },
  );
}

type JsonPayload = CodecPayloads['payloads'][number];

function parsePayloads(body: unknown): Payload[] {
  const parsed = CodecPayloads.safeParse(body);
  if (!parsed.success) throw problemFromZod(parsed.error, { body: 'body', status: 400 });
  return parsed.data.payloads;
}

function toJsonPayload(payload: Payload): JsonPayload {
  const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([name, value]) => [name, base64(value)]),
    ),
    data: base64(payload.data ?? new Uint8Array()),
  };
}

async function readJson(ctx: Context, limit: number): Promise<unknown> {
  const text = (await readBody(ctx, limit)).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Problem(400, 'Bad Request', `malformed JSON: ${(error as Error).message}`);
  }
}

/** The raw body, refused with 413 as soon as it grows past the configured limit. */
async function readBody(ctx: Context, limit: number): Promise<Buffer> {
  const tooLarge = () =>
    new Problem(413, 'Content Too Large', 'request body is larger than the configured limit');
  if ((ctx.request.length ?? 0) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function htmlPage(ctx: Context, body: string): void {
  // Nothing on these pages runs script or may be framed (no clickjacking of the login form).
  ctx.set(
    'Content-Security-Policy',
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  );
  // Under the API-wide no-referrer, a browser posts the login form with `Origin: null`, which the origin
  // check must refuse (any sandboxed or no-referrer page can send it). same-origin sends the real Origin
  // to this server only, and these pages link nowhere else.
  ctx.set('Referrer-Policy', 'same-origin');
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>durapay codec server</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto}input{width:100%}</style></head>
<body><h1>durapay codec server</h1>${body}</body></html>`;
}

const LOGIN_FORM = `<p>Sign in with an operator API key so the Temporal Web UI can decode payloads.</p>
<form method="post" action="/codec/session">
<p><label>Operator API key <input name="key" type="password" autocomplete="off" required></label></p>
<p><button type="submit">Sign in</button></p>
</form>`;

/**
 * `temporal server start-dev` cannot turn on credentials for its cluster-level codec endpoint, so an operator
 * sets a browser endpoint that sends the cookie (Web UI 2.54). It starts empty, hence the URL here.
 */
function webUiSteps(ctx: Context): string {
  const endpoint = escapeHtml(`${ctx.protocol}://${ctx.host}/codec`);
  return `<p>In the Temporal Web UI, open the Codec Server settings (top bar), choose
"Use my browser setting and ignore Cluster-level setting", enter <code>${endpoint}</code> as the
browser endpoint, turn on "Include cross-origin credentials", apply and reload the page.</p>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
