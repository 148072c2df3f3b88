import Router from '@koa/router';
import type { Context } from 'koa';
import { allowRoles, principalOf } from '../auth/middleware';
import { queryParameters } from '../http/query';
import type { createOrderService, OrderServiceResult } from './order-service';
import {
  parseCreateOrder,
  parseId,
  parseIdempotencyKey,
  parseListOrders,
  parsePaymentDraft,
  parseWait,
} from './requests';

type OrderService = ReturnType<typeof createOrderService>;

/**
 * HTTP in, HTTP out: parsing lives in requests.ts, behaviour in the order service, which scopes every read
 * and write to what the caller may see (auth/access.ts). Only clients create orders.
 */
export function orderRoutes(service: OrderService, options: { defaultDeadlineMs: number }): Router {
  const router = new Router();

  router.post('/orders', allowRoles('client'), queryParameters(), async (ctx) => {
    const command = parseCreateOrder(ctx.request.body, options.defaultDeadlineMs);
    respond(ctx, await service.createOrder(principalOf(ctx), command));
  });

  router.get('/orders', async (ctx) => {
    ctx.body = await service.listOrders(principalOf(ctx), parseListOrders(ctx.query));
  });

  router.get('/orders/:orderId', queryParameters(), async (ctx) => {
    ctx.body = await service.getOrder(principalOf(ctx), parseId(ctx.params.orderId!, 'order'));
  });

  router.post('/orders/:orderId/payments', queryParameters('wait'), async (ctx) => {
    const orderId = parseId(ctx.params.orderId!, 'order');
    const draft = parsePaymentDraft(ctx.request.body);
    const idempotencyKey = parseIdempotencyKey(ctx.get('Idempotency-Key') || undefined);
    const delivery = { idempotencyKey, wait: parseWait(ctx.query.wait) };
    respond(ctx, await service.submitPayment(principalOf(ctx), orderId, draft, delivery));
  });

  router.post('/orders/:orderId/cancel', queryParameters(), async (ctx) => {
    respond(ctx, await service.cancelOrder(principalOf(ctx), parseId(ctx.params.orderId!, 'order')));
  });

  router.get('/payments/:paymentId', queryParameters(), async (ctx) => {
    ctx.body = await service.getPayment(principalOf(ctx), parseId(ctx.params.paymentId!, 'payment'));
  });

  return router;
}

function respond(ctx: Context, result: OrderServiceResult<unknown>): void {
  ctx.status = result.status;
  ctx.body = result.body;
  if (result.location) ctx.set('Location', result.location);
}
