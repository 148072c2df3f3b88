import { identify, isRetryOf, orderScopeOf, requireRole } from '../../../src/api/auth/access';
import { parseApiKeys, type Principal } from '../../../src/api/auth/api-keys';
import { Problem } from '../../../src/api/http/problem';

const KEY = 'alice-key-0123456789abcdefgh';
const keys = parseApiKeys(`${KEY}:client:alice`, 'test');
const alice: Principal = { id: 'alice', role: 'client' };
const ops: Principal = { id: 'ops', role: 'operator' };

function problemOf(run: () => unknown): Problem {
  try {
    run();
  } catch (error) {
    if (error instanceof Problem) return error;
    throw error;
  }
  throw new Error('expected a Problem');
}

describe('identify', () => {
  it.each([`Bearer ${KEY}`, `bearer ${KEY}`, `Bearer  ${KEY} `])('finds the caller of %j', (header) => {
    expect(identify(keys, header)).toEqual(alice);
  });

  it('answers a missing key with 401 and a Bearer challenge', () => {
    const problem = problemOf(() => identify(keys, ''));
    expect(problem).toMatchObject({ status: 401, headers: { 'WWW-Authenticate': 'Bearer realm="durapay"' } });
    expect(problem.detail).toMatch(/Authorization: Bearer <key>/);
  });

  it.each([
    ['an unknown key', 'Bearer unknown-key-0123456789abcdef'],
    ['another scheme', `Basic ${Buffer.from(`alice:${KEY}`).toString('base64')}`],
    ['the bare key', KEY],
    ['two keys', `Bearer ${KEY} ${KEY}`],
    ['no key after the scheme', 'Bearer '],
  ])('answers %s with 401 invalid_token, without echoing it', (_what, header) => {
    const problem = problemOf(() => identify(keys, header));
    expect(problem.status).toBe(401);
    expect(problem.headers['WWW-Authenticate']).toBe('Bearer realm="durapay", error="invalid_token"');
    expect(problem.detail).not.toContain(KEY);
  });
});

describe('requireRole', () => {
  it('lets the listed roles through and refuses the others with 403', () => {
    expect(() => requireRole(ops, ['operator'])).not.toThrow();
    expect(() => requireRole(alice, ['client', 'operator'])).not.toThrow();
    expect(problemOf(() => requireRole(alice, ['operator']))).toMatchObject({
      status: 403,
      detail: 'this operation is for the operator role',
    });
  });
});

describe('orderScopeOf', () => {
  it('shows operators every order and a client only its own', () => {
    expect(orderScopeOf(ops)).toEqual({});
    expect(orderScopeOf(alice)).toEqual({ ownerPrincipal: 'alice' });
  });
});

describe('isRetryOf', () => {
  const order = { owner_principal: 'alice', request_hash: 'h1' };

  it('is a retry only for the same caller with the same body', () => {
    expect(isRetryOf(order, alice, 'h1')).toBe(true);
    expect(isRetryOf(order, alice, 'h2')).toBe(false);
    expect(isRetryOf(order, { id: 'bob', role: 'client' }, 'h1')).toBe(false);
    // An imported order has no owner: a create under its ID is a conflict for everyone.
    expect(isRetryOf({ owner_principal: null, request_hash: null }, ops, 'h1')).toBe(false);
  });
});
