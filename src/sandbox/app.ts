/**
 * The sandbox provider's HTTP API: a simplified Stripe-style charges API, the one a real provider's adapter
 * speaks, plus fault knobs for tests and demos. Errors are `{error: {type, code?, message}}`, as providers
 * answer; messages never repeat the request body, which holds a card.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Koa from 'koa';
import { z } from 'zod';
import type { Db } from '../db/knex';
import type { Logger } from '../logging/logger';
import {
  chargeRequestSchema,
  chargeView,
  IDEMPOTENCY_KEY_PATTERN,
  type Answer,
  type ChargeService,
} from './charges';
import { faultsSchema, type FaultInjector } from './faults';
import { findChargeByKey, findKey, listCharges } from './store';

export interface SandboxAppDeps {
  db: Db;
  apiKey: string;
  charges: ChargeService;
  faults: FaultInjector;
  logger: Logger;
}

/** An answer given by throwing, from anywhere in a request. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

const invalid = (message: string, code?: string) => new ApiError(400, 'invalid_request_error', message, code);

const FAULTS_PATH = '/sandbox/faults';
const MAX_PAGE = 100;

const listQuerySchema = z
  .strictObject({
    idempotency_key: z
      .string()
      .regex(IDEMPOTENCY_KEY_PATTERN, 'must be 1 to 255 printable characters')
      .optional(),
    created_gte: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }).optional(),
    starting_after: z.string().max(64).optional(),
    limit: z
      .string()
      .regex(/^\d+$/, `must be an integer from 1 to ${MAX_PAGE}`)
      .transform(Number)
      .pipe(z.int().min(1, `must be from 1 to ${MAX_PAGE}`).max(MAX_PAGE, `must be from 1 to ${MAX_PAGE}`))
      .optional(),
  })
  .refine(
    (query) => query.idempotency_key === undefined || Object.keys(query).length === 1,
    'idempotency_key cannot be combined with paging parameters',
  );

export function createSandboxApp({ db, apiKey, charges, faults, logger }: SandboxAppDeps): Koa {
  const app = new Koa();
  app.use(requestLog(logger));
  app.use(errorAnswers(logger));
  app.use(async (ctx, next) => {
    if (faults.get().down && ctx.path !== FAULTS_PATH) {
      throw new ApiError(503, 'api_error', 'The sandbox is down (fault injected).', 'service_unavailable');
    }
    await next();
  });
  app.use(bearerAuth(apiKey));
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: '64kb', encoding: 'utf-8' }));

  const router = new Router();
  router.post('/v1/charges', async (ctx) => {
    const key = ctx.get('Idempotency-Key');
    if (!key) throw invalid('The Idempotency-Key header is required.', 'idempotency_key_missing');
    if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
      throw invalid('The Idempotency-Key header must be 1 to 255 printable characters.');
    }
    const request = parse(chargeRequestSchema, ctx.request.body, 'body');
    if (faults.failNow()) {
      throw new ApiError(
        503,
        'api_error',
        'Temporarily unavailable (fault injected).',
        'service_unavailable',
      );
    }
    const answer = await charges.charge(key, request);
    if (answer.status !== 503 && faults.dropNow()) {
      // Handled, and the caller never hears of it.
      (ctx.state as { dropped?: boolean }).dropped = true;
      ctx.respond = false;
      ctx.req.socket.destroy();
      return;
    }
    send(ctx, answer);
  });

  router.get('/v1/charges', async (ctx) => {
    const query = parse(listQuerySchema, ctx.query, 'query');
    if (query.idempotency_key !== undefined) {
      const charge = await findChargeByKey(db, query.idempotency_key);
      // A request still running under the key may yet charge: "none" would be an answer it can disprove.
      if (!charge && (await findKey(db, query.idempotency_key))?.lockedBy) {
        throw new ApiError(
          409,
          'idempotency_error',
          'A request with this idempotency key is still in progress; retry later.',
          'idempotency_key_in_use',
        );
      }
      ctx.body = { object: 'list', data: charge ? [chargeView(charge)] : [], has_more: false };
      return;
    }
    const page = await listCharges(db, {
      createdGte: query.created_gte === undefined ? undefined : new Date(query.created_gte),
      startingAfter: query.starting_after,
      limit: query.limit ?? 10,
    });
    if (!page) throw invalid('starting_after names no charge.', 'resource_missing');
    ctx.body = { object: 'list', data: page.charges.map(chargeView), has_more: page.hasMore };
  });

  router.post(FAULTS_PATH, (ctx) => {
    ctx.body = faults.set(parse(faultsSchema, ctx.request.body, 'body'));
  });
  router.delete(FAULTS_PATH, (ctx) => {
    ctx.body = faults.reset();
  });

  app.use(router.routes()).use(router.allowedMethods({ throw: true }));
  app.silent = true;
  return app;
}

function send(ctx: Koa.Context, answer: Answer): void {
  ctx.status = answer.status;
  ctx.body = answer.body;
}

function parse<T extends z.ZodType>(schema: T, input: unknown, where: string): z.output<T> {
  const parsed = schema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  // zod's messages name the field and the rule, never the value, so the card never comes back in them.
  const problems = parsed.error.issues.map((issue) =>
    issue.path.length ? `${issue.path.join('.')} ${issue.message}` : issue.message,
  );
  throw invalid(`Invalid ${where}: ${problems.join('; ')}.`);
}

function bearerAuth(apiKey: string): Koa.Middleware {
  const expected = createHash('sha256').update(apiKey).digest();
  return async (ctx, next) => {
    const [scheme, token] = ctx.get('Authorization').split(' ');
    const given = createHash('sha256')
      .update(scheme === 'Bearer' && token ? token : '')
      .digest();
    if (!timingSafeEqual(given, expected)) {
      ctx.set('WWW-Authenticate', 'Bearer');
      throw new ApiError(401, 'authentication_error', 'A valid API key is required as a Bearer token.');
    }
    await next();
  };
}

function errorAnswers(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined && ctx.respond !== false) {
        throw new ApiError(404, 'invalid_request_error', `No route for ${ctx.method} ${ctx.path}.`);
      }
    } catch (error) {
      const answer = toApiError(error);
      if (answer.status >= 500 && !(error instanceof ApiError)) logger.error('request failed', { error });
      if (answer.status === 503) ctx.set('Retry-After', '1');
      ctx.status = answer.status;
      ctx.body = {
        error: { type: answer.type, ...(answer.code ? { code: answer.code } : {}), message: answer.message },
      };
    }
  };
}

/** Koa, its router and the body parser throw errors with a 4xx status; their messages may quote the body. */
function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const status = (error as { status?: unknown } | undefined)?.status;
  if (status === 413) return new ApiError(413, 'invalid_request_error', 'The request body is too large.');
  if (status === 405) return new ApiError(405, 'invalid_request_error', 'Method not allowed.');
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return invalid('The request body must be a JSON object.');
  }
  return new ApiError(500, 'api_error', 'Internal error.');
}

/** One line per request: never the body, and the query only of reads, which hold no card. */
function requestLog(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const { dropped } = ctx.state as { dropped?: boolean };
      logger.info('request', {
        method: ctx.method,
        path: ctx.path,
        ...(ctx.method === 'GET' && ctx.querystring ? { query: ctx.querystring } : {}),
        ...(ctx.get('Idempotency-Key') ? { idempotencyKey: ctx.get('Idempotency-Key') } : {}),
        status: dropped ? 'dropped' : ctx.status,
        ms: Math.round(performance.now() - started),
      });
    }
  };
}
