import Router from '@koa/router';
import type { Client } from '@temporalio/client';
import type { Config } from '../../config';
import type { FieldCipher } from '../../crypto/field-cipher';
import { allowRoles } from '../auth/middleware';
import { Problem } from '../http/problem';
import { queryParameters } from '../http/query';
import { keyRotationStatus, startKeyRotation } from './rotations';

export interface KeyRoutesDeps {
  config: Config;
  client: Client;
  cipher: FieldCipher;
}

// The key ids DURAPAY_FIELD_KEYS accepts (src/crypto/key-ring.ts).
const ROTATION_ID = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * Operator endpoints of the key rotation: re-encrypt every column to this process's active key (put the new
 * key first in DURAPAY_FIELD_KEYS of every process before), and follow it.
 */
export function keyRotationRoutes({ config, client, cipher }: KeyRoutesDeps): Router {
  const router = new Router();
  const operators = [allowRoles('operator'), queryParameters()];
  const withinDeadline = <T>(call: () => Promise<T>): Promise<T> =>
    client.withDeadline(Date.now() + config.orders.temporalDeadlineMs, call);

  router.post('/admin/key-rotations', ...operators, async (ctx) => {
    const { rotationId } = await withinDeadline(() =>
      startKeyRotation(client, {
        taskQueue: config.temporal.taskQueue,
        keyId: cipher.activeKeyId,
        ...config.keyRotation,
      }),
    );
    ctx.status = 202;
    ctx.set('Location', `/admin/key-rotations/${rotationId}`);
    ctx.body = { rotationId, status: 'RUNNING' };
  });

  router.get('/admin/key-rotations/:rotationId', ...operators, async (ctx) => {
    const rotationId = ctx.params.rotationId!;
    const view = ROTATION_ID.test(rotationId)
      ? await withinDeadline(() => keyRotationStatus(client, rotationId))
      : undefined;
    if (!view) throw new Problem(404, 'Not Found', `no key rotation "${rotationId}"`);
    ctx.body = view;
  });

  return router;
}
