import Router from '@koa/router';
import type { Context } from 'koa';
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

/** HTTP in, HTTP out: parsing lives in requests.ts, behaviour in the order service. */
export function orderRoutes(service: OrderService, options: { defaultDeadlineMs: number }): Router {
  const router = new Router();

  router.post('/orders', async (ctx) => {
    respond(ctx, await service.createOrder(parseCreateOrder(ctx.request.body, options.defaultDeadlineMs)));
  });

  router.get('/orders', async (ctx) => {
    ctx.body = await service.listOrders(parseListOrders(ctx.query));
  });

  router.get('/orders/:orderId', async (ctx) => {
    ctx.body = await service.getOrder(parseId(ctx.params.orderId!, 'order'));
  });

  router.post('/orders/:orderId/payments', async (ctx) => {
    const orderId = parseId(ctx.params.orderId!, 'order');
    const draft = parsePaymentDraft(ctx.request.body);
    const idempotencyKey = parseIdempotencyKey(ctx.get('Idempotency-Key') || undefined);
    respond(
      ctx,
      await service.submitPayment(orderId, draft, { idempotencyKey, wait: parseWait(ctx.query.wait) }),
    );
  });

  router.post('/orders/:orderId/cancel', async (ctx) => {
    respond(ctx, await service.cancelOrder(parseId(ctx.params.orderId!, 'order')));
  });

  router.get('/payments/:paymentId', async (ctx) => {
    ctx.body = await service.getPayment(parseId(ctx.params.paymentId!, 'payment'));
  });

  return router;
}

function respond(ctx: Context, result: OrderServiceResult<unknown>): void {
  ctx.status = result.status;
  ctx.body = result.body;
  if (result.location) ctx.set('Location', result.location);
}
