import type { Context, Next } from 'koa';
import { DomainError } from '../../domain/errors';
import type { Logger } from '../../logging/logger';

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
      if (problem.status >= 500)
        logger.error('request failed', { method: ctx.method, path: ctx.path, error });
      ctx.status = problem.status;
      ctx.type = PROBLEM_CONTENT_TYPE;
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

/** Koa, its router and the body parser throw errors carrying a 4xx status (413, 400 for bad JSON, 405 …). */
function toProblem(error: unknown): Problem {
  if (error instanceof Problem) return error;
  if (error instanceof DomainError) {
    return new Problem(422, 'Unprocessable Content', error.message, { code: error.code });
  }
  const status = (error as { status?: unknown } | undefined)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new Problem(
      status,
      HTTP_TITLES[status] ?? 'Bad Request',
      describeClientError(status, error as Error),
    );
  }
  return new Problem(
    500,
    'Internal Server Error',
    'the server failed to handle the request; it has been logged',
  );
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
};
