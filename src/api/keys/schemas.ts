/** The key-rotation API: its responses and route definitions. */
import { KEY_ID } from '../../crypto/key-ring';
import { apiRoute } from '../http/route';
import { jsonResponse, NoQuery, shared } from '../http/schemas';
import { z } from '../http/zod';

const KeyId = z
  .string()
  .regex(KEY_ID)
  .openapi('KeyId', { examples: ['k2'] });

export const KeyRotationAccepted = z
  .strictObject({ rotationId: KeyId, status: z.literal('RUNNING') })
  .openapi('KeyRotationAccepted');

export const KeyRotation = z
  .strictObject({
    rotationId: KeyId,
    status: z.enum(['RUNNING', 'COMPLETED', 'FAILED']),
    columns: z
      .array(
        z.strictObject({
          column: z.string().openapi({ examples: ['payments.card_number_enc'] }),
          scanned: z.number().int().min(0).openapi({ description: 'Values read' }),
          rewritten: z.number().int().min(0).openapi({
            description: 'Values that were under a retired key and are now under the active key',
          }),
          done: z.boolean(),
        }),
      )
      .optional()
      .openapi({ description: 'Each encrypted column; absent once the rotation failed' }),
    reason: z.string().optional().openapi({ description: 'Why the rotation failed' }),
  })
  .openapi('KeyRotation');
export type KeyRotation = z.input<typeof KeyRotation>;

export const keyApi = {
  startKeyRotation: apiRoute({
    method: 'post',
    path: '/admin/key-rotations',
    operationId: 'startKeyRotation',
    summary: 'Re-encrypt every encrypted column to the active key of DURAPAY_FIELD_KEYS',
    description:
      'Starts the key-rotation workflow for the active (first) key of this server, or answers the one ' +
      'already running for it. Values under a retired key are rewritten in batches; values under the ' +
      'active key are left as they are, so running it again is safe and rewrites nothing. Put the new ' +
      'key first in DURAPAY_FIELD_KEYS of every API and worker process before starting it. The request ' +
      'body, if any, is ignored.',
    tags: ['keys'],
    roles: ['operator'],
    request: { query: NoQuery },
    responses: {
      202: jsonResponse('Running; follow `Location`', KeyRotationAccepted, { location: true }),
      400: shared('BadRequest'),
    },
  }),
  getKeyRotation: apiRoute({
    method: 'get',
    path: '/admin/key-rotations/:rotationId',
    operationId: 'getKeyRotation',
    summary: 'Progress of a key rotation per column, or its result once done',
    tags: ['keys'],
    roles: ['operator'],
    request: {
      params: z.object({
        // Not refused as malformed: a rotation ID that cannot exist is answered like an unknown one.
        rotationId: z.string().openapi({
          description:
            'The id of the key the rotation rewrites to; an ID that is not a key id is answered 404',
          examples: ['k2'],
        }),
      }),
      query: NoQuery,
    },
    responses: {
      200: jsonResponse('The rotation', KeyRotation),
      400: shared('BadRequest'),
      404: shared('NotFound'),
    },
  }),
};
