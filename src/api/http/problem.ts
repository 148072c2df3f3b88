import type { Context, Next } from 'koa';
import { DomainError } from '../../domain/errors';
import type { Logger } from '../../logging/logger';
import { requestLogger } from './request-log';

/**
 * RFC 9457 problem details. Handlers throw a Problem; the middleware below is the one place that turns
 * any error into an `application/problem+json` response, so no route can leak a stack trace or a 500
 * for bad input.
 */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
    /** Response headers the problem needs, such as `WWW-Authenticate` on a 401 or `Retry-After` on a 429. */
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function problemMiddleware(logger: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new Problem(404, 'Not Found', `no route for ${ctx.method} ${ctx.path}`);
      }
    } catch (error) {
      const problem = toProblem(error);
      // A Problem thrown on purpose (a shed request) is an answer, not a failure to investigate.
      if (problem.status >= 500 && !(error instanceof Problem))
        requestLogger(ctx, logger).error('request failed', { method: ctx.method, path: ctx.path, error });
      ctx.status = problem.status;
      ctx.type = PROBLEM_CONTENT_TYPE;
      if (problem.status === 503) ctx.set('Retry-After', '5');
      ctx.set(problem.headers);
      ctx.body = {
        type: 'about:blank',
        title: problem.title,
        status: problem.status,
        detail: problem.detail,
        instance: ctx.path,
        ...problem.extensions,
      };
    }
  };
}

/** Koa, its router and the body parser throw errors carrying a 4xx status (413, 400 for bad JSON, 405 …) or 501. */
function toProblem(error: unknown): Problem {
  if (error instanceof Problem) return error;
  if (error instanceof DomainError) {
    return new Problem(422, 'Unprocessable Content', error.message, { code: error.code });
  }
  const status = (error as { status?: unknown } | undefined)?.status;
  if (typeof status === 'number' && ((status >= 400 && status < 500) || status === 501)) {
    return new Problem(
      status,
      HTTP_TITLES[status] ?? 'Bad Request',
      describeClientError(status, error as Error),
    );
  }
  if (isDependencyUnavailable(error)) {
    return new Problem(503, 'Service Unavailable', 'the database or Temporal is unavailable; retry later');
  }
  return new Problem(
    500,
    'Internal Server Error',
    'the server failed to handle the request; it has been logged',
  );
}

const UNAVAILABLE_CODES = new Set<unknown>([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
  // gRPC, from Temporal: a busy or unreachable server, or our own deadline cutting a call short.
  1, // CANCELLED
  4, // DEADLINE_EXCEEDED
  8, // RESOURCE_EXHAUSTED
  10, // ABORTED
  14, // UNAVAILABLE
]);

/** A refused, lost or overloaded connection, or a pool wait timeout, anywhere in the cause chain: retrying may work. */
function isDependencyUnavailable(error: unknown): boolean {
  // Duck-typed, not instanceof: errors from Node's net layer may come from another realm (as under jest).
  let cause = error as { name?: unknown; code?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; cause && typeof cause === 'object' && depth < 10; depth += 1) {
    if (cause.name === 'KnexTimeoutError' || UNAVAILABLE_CODES.has(cause.code)) return true;
    cause = cause.cause as typeof cause;
  }
  return false;
}

function describeClientError(status: number, error: Error): string {
  if (status === 413) return 'request body is larger than the configured limit';
  if (error instanceof SyntaxError) return `malformed JSON: ${error.message}`;
  return error.message;
}

const HTTP_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  501: 'Not Implemented',
};
