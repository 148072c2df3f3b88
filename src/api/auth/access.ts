/**
 * Who may do what, as plain functions: the middleware and the order service call these, so every rule is
 * in one place and unit-tested without HTTP.
 *
 * - client: creates orders; reads, pays and cancels only the orders it created (and their payments).
 * - operator: reads, pays and cancels every order, imported ones included (they have no owning client);
 *   uploads, exports and the codec server. Operators do not create orders: an order made through the API
 *   always belongs to a client.
 * Another client's order or payment is answered exactly like one that does not exist.
 */
import type { OrderRow, OrderScope } from '../../db/orders';
import { Problem } from '../http/problem';
import type { ApiKeys, Principal, Role } from './api-keys';

const CHALLENGE = 'Bearer realm="durapay"';
// RFC 6750 b64token.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The principal of the `Authorization: Bearer <key>` header; a missing or unknown key is a 401. */
export function identify(keys: ApiKeys, authorization: string): Principal {
  if (authorization === '') {
    throw unauthorized('send an API key as "Authorization: Bearer <key>"', CHALLENGE);
  }
  const key = BEARER.exec(authorization)?.[1];
  const principal = key === undefined ? undefined : keys.lookup(key);
  if (!principal) {
    throw unauthorized(
      'the Authorization header does not carry a valid API key ("Bearer <key>")',
      `${CHALLENGE}, error="invalid_token"`,
    );
  }
  return principal;
}

export function requireRole(principal: Principal, roles: readonly Role[]): void {
  if (!roles.includes(principal.role)) {
    throw new Problem(403, 'Forbidden', `this operation is for the ${roles.join(' or ')} role`);
  }
}

/** Operators see every order; a client sees only the orders it created. */
export function orderScopeOf(principal: Principal): OrderScope {
  return principal.role === 'operator' ? {} : { ownerPrincipal: principal.id };
}

/**
 * A create that repeats an existing order: the same caller with the same body. An ID taken by another caller
 * (or by an import) is a conflict like a different body, so the answer reveals nothing more than that.
 */
export function isRetryOf(
  order: Pick<OrderRow, 'owner_principal' | 'request_hash'>,
  principal: Principal,
  requestHash: string,
): boolean {
  return order.owner_principal === principal.id && order.request_hash === requestHash;
}

function unauthorized(detail: string, challenge: string): Problem {
  return new Problem(401, 'Unauthorized', detail, {}, { 'WWW-Authenticate': challenge });
}
