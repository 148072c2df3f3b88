import type Koa from 'koa';
import { Problem } from '../http/problem';
import type { ApiKeys, Principal, Role } from './api-keys';
import { identify, requireRole } from './access';
import type { RateLimiter } from './rate-limit';

/*
 * These middlewares return `next()` instead of awaiting it: they do nothing after it, and a plain function saves
 * the promise and microtask an async one adds to every request.
 */

/** Every route mounted after this one needs an API key; the caller is then `principalOf(ctx)`. */
export function authenticate(keys: ApiKeys): Koa.Middleware {
  return (ctx, next) => {
    ctx.state.principal = identify(keys, ctx.get('Authorization'));
    return next();
  };
}

/** One bucket per principal, so a busy client cannot starve the others. */
export function rateLimit(limiter: RateLimiter): Koa.Middleware {
  return (ctx, next) => {
    const decision = limiter.take(principalOf(ctx).id);
    if (!decision.allowed) {
      const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
      throw new Problem(
        429,
        'Too Many Requests',
        `too many requests for this API key; retry in ${seconds} s`,
        {},
        { 'Retry-After': String(seconds) },
      );
    }
    return next();
  };
}

/** Route middleware: only these roles may call the route (403 otherwise). */
export function allowRoles(...roles: Role[]): Koa.Middleware {
  return (ctx, next) => {
    requireRole(principalOf(ctx), roles);
    return next();
  };
}

export function principalOf(ctx: Koa.Context): Principal {
  const principal = (ctx.state as { principal?: Principal }).principal;
  // A protected route mounted before authenticate() is a wiring bug, never an anonymous caller.
  if (!principal) throw new Error(`${ctx.method} ${ctx.path} was reached without authentication`);
  return principal;
}
