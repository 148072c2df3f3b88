import type Koa from 'koa';
import { Problem } from './problem';

/** A misspelt parameter is refused rather than silently ignored (a filter the caller believes applies). */
export function allowQueryParameters(query: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(query).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new Problem(400, 'Bad Request', `unknown query parameter ${unknown.join(', ')}`);
  }
}

/** Route middleware: the route takes only these query parameters (none when called without any). */
export function queryParameters(...allowed: string[]): Koa.Middleware {
  return async (ctx, next) => {
    allowQueryParameters(ctx.query, allowed);
    await next();
  };
}
