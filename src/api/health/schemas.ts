/** `GET /health`: its answer and route definition. */
import { apiRoute } from '../http/route';
import { jsonResponse } from '../http/schemas';
import { z } from '../http/zod';

const HealthCheck = z
  .strictObject({
    status: z.enum(['up', 'down']),
    latencyMs: z.number().int().min(0),
    error: z.string().optional().openapi({ description: 'Why the check failed, when down' }),
  })
  .openapi('HealthCheck');
export type HealthCheck = z.input<typeof HealthCheck>;

export const Health = z
  .strictObject({
    status: z.enum(['ok', 'unavailable']),
    checks: z.strictObject({ database: HealthCheck, temporal: HealthCheck }),
  })
  .openapi('Health');
export type Health = z.input<typeof Health>;

export const healthApi = {
  getHealth: apiRoute({
    method: 'get',
    path: '/health',
    operationId: 'getHealth',
    summary: 'Health of the API and its dependencies',
    description:
      '200 when both the database and Temporal answer, 503 (naming the one that failed) otherwise.',
    tags: ['operations'],
    request: {},
    responses: {
      200: jsonResponse('Healthy', Health),
      503: jsonResponse('A dependency is down', Health),
    },
  }),
};
