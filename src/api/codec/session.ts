import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { KeyRing } from '../../crypto/key-ring';
import { ROLES, type Principal } from '../auth/api-keys';

/** Signed, expiring codec-server logins. Stateless, so every API instance accepts what another issued. */
export interface CodecSessions {
  issue(principal: Principal, now: Date): { token: string; expiresAt: Date };
  verify(token: string, now: Date): Principal | undefined;
}

const VERSION = 'v1';

/**
 * The signing key is derived (HKDF) from the active payload key: API instances that can decrypt payloads
 * agree on it without another secret, and rotating the payload key signs every operator out.
 */
export function createCodecSessions(keyRing: KeyRing, ttlMs: number): CodecSessions {
  const activeKey = keyRing.keys.get(keyRing.activeKeyId)!;
  const signingKey = Buffer.from(hkdfSync('sha256', activeKey, '', 'durapay codec session v1', 32));
  const sign = (body: string) => createHmac('sha256', signingKey).update(body).digest('base64url');

  return {
    issue(principal, now) {
      const expiresAt = new Date(now.getTime() + ttlMs);
      const claims = { sub: principal.id, role: principal.role, exp: expiresAt.getTime() };
      const body = `${VERSION}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
      return { token: `${body}.${sign(body)}`, expiresAt };
    },
    verify(token, now) {
      const [version, claimsPart, signature, ...rest] = token.split('.');
      if (version !== VERSION || !claimsPart || !signature || rest.length > 0) return undefined;
      const expected = Buffer.from(sign(`${version}.${claimsPart}`));
      const presented = Buffer.from(signature);
      if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return undefined;
      const claims = JSON.parse(Buffer.from(claimsPart, 'base64url').toString('utf8')) as {
        sub: string;
        role: Principal['role'];
        exp: number;
      };
      if (!(claims.exp > now.getTime()) || !ROLES.includes(claims.role)) return undefined;
      return { id: claims.sub, role: claims.role };
    },
  };
}
