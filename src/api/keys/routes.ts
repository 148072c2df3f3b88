import Router from '@koa/router';
import type { Client } from '@temporalio/client';
import type { Config } from '../../config';
import { KEY_ID } from '../../crypto/key-ring';
import type { FieldCipher } from '../../crypto/field-cipher';
import { Problem } from '../http/problem';
import { addRoute } from '../http/route';
import type { TemporalCalls } from '../http/temporal';
import { keyRotationStatus, startKeyRotation } from './rotations';
import { keyApi, type KeyRotation } from './schemas';

export interface KeyRoutesDeps {
  config: Config;
  client: Client;
  temporal: TemporalCalls;
  cipher: FieldCipher;
}

/**
 * Operator endpoints of the key rotation: re-encrypt every column to this process's active key (put the new
 * key first in DURAPAY_FIELD_KEYS of every process before), and follow it.
 */
export function keyRotationRoutes({ config, client, temporal, cipher }: KeyRoutesDeps): Router {
  const router = new Router();

  addRoute(router, keyApi.startKeyRotation, async (ctx) => {
    const { rotationId } = await temporal.call(() =>
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

  addRoute(router, keyApi.getKeyRotation, async (ctx, { params: { rotationId } }) => {
    const view: KeyRotation | undefined = KEY_ID.test(rotationId)
      ? await temporal.call(() => keyRotationStatus(client, rotationId))
      : undefined;
    if (!view) throw new Problem(404, 'Not Found', `no key rotation "${rotationId}"`);
    ctx.body = view;
  });

  return router;
}
