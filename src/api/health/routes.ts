import Router from '@koa/router';
import type { Connection } from '@temporalio/client';
import { pingDb, type Db } from '../../db/knex';
import { addRoute } from '../http/route';
import { healthApi, type Health, type HealthCheck } from './schemas';

export interface HealthDeps {
  db: Db;
  temporal: Connection;
  timeoutMs?: number;
}

/** `GET /health`: 200 when Temporal and the database both answer, 503 (with which one failed) otherwise. */
export function healthRoutes({ db, temporal, timeoutMs = 2000 }: HealthDeps): Router {
  const router = new Router();
  addRoute(router, healthApi.getHealth, async (ctx) => {
    const [database, temporalCheck] = await Promise.all([
      check(() => pingDb(db), timeoutMs),
      check(
        () => temporal.withDeadline(Date.now() + timeoutMs, () => temporal.healthService.check({})),
        timeoutMs,
      ),
    ]);
    const healthy = database.status === 'up' && temporalCheck.status === 'up';
    ctx.status = healthy ? 200 : 503;
    ctx.body = {
      status: healthy ? 'ok' : 'unavailable',
      checks: { database, temporal: temporalCheck },
    } satisfies Health;
  });
  return router;
}

async function check(probe: () => Promise<unknown>, timeoutMs: number): Promise<HealthCheck> {
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([probe(), timeout]);
    return { status: 'up', latencyMs: latency() };
  } catch (error) {
    return {
      status: 'down',
      latencyMs: latency(),
      error: error instanceof Error ? error.message : String(error),
    };
  } finally {
    clearTimeout(timer);
  }
}
