import type Koa from 'koa';
import { Problem } from '../http/problem';
import type { ApiKeys, Principal, Role } from './api-keys';
import { identify, requireRole } from './access';
import type { RateLimiter } from './rate-limit';

/** Every route mounted after this one needs an API key; the caller is then `principalOf(ctx)`. */
export function authenticate(keys: ApiKeys): Koa.Middleware {
  return async (ctx, next) => {
    ctx.state.principal = identify(keys, ctx.get('Authorization'));
    await next();
  };
}

/** One bucket per principal, so a busy client cannot starve the others. */
export function rateLimit(limiter: RateLimiter): Koa.Middleware {
  return async (ctx, next) => {
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
    await next();
  };
}

/** Route middleware: only these roles may call the route (403 otherwise). */
export function allowRoles(...roles: Role[]): Koa.Middleware {
  return async (ctx, next) => {
    requireRole(principalOf(ctx), roles);
    await next();
  };
}

export function principalOf(ctx: Koa.Context): Principal {
  const principal = (ctx.state as { principal?: Principal }).principal;
  // A protected route mounted before authenticate() is a wiring bug, never an anonymous caller.
  if (!principal) throw new Error(`${ctx.method} ${ctx.path} was reached without authentication`);
  return principal;
}
