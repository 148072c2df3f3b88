import Router from '@koa/router';
import type { Context } from 'koa';
import { principalOf } from '../auth/middleware';
import { addRoute } from '../http/route';
import { createOrderCommand } from './commands';
import type { createOrderService, OrderServiceResult } from './order-service';
import { orderApi } from './schemas';

type OrderService = ReturnType<typeof createOrderService>;

/**
 * HTTP in, HTTP out: requests are parsed by their schemas (schemas.ts), behaviour lives in the order
 * service, which scopes every read and write to what the caller may see (auth/access.ts).
 */
export function orderRoutes(service: OrderService, options: { defaultDeadlineMs: number }): Router {
  const router = new Router();

  addRoute(router, orderApi.createOrder, async (ctx, { body }) => {
    const command = createOrderCommand(body, options.defaultDeadlineMs);
    respond(ctx, await service.createOrder(principalOf(ctx), command));
  });

  addRoute(router, orderApi.listOrders, async (ctx, { query }) => {
    ctx.body = await service.listOrders(principalOf(ctx), query);
  });

  addRoute(router, orderApi.getOrder, async (ctx, { params }) => {
    ctx.body = await service.getOrder(principalOf(ctx), params.orderId);
  });

  addRoute(router, orderApi.submitPayment, async (ctx, { params, query, headers, body }) => {
    const delivery = { idempotencyKey: headers['Idempotency-Key'], wait: query.wait };
    respond(ctx, await service.submitPayment(principalOf(ctx), params.orderId, body, delivery));
  });

  addRoute(router, orderApi.cancelOrder, async (ctx, { params }) => {
    respond(ctx, await service.cancelOrder(principalOf(ctx), params.orderId));
  });

  addRoute(router, orderApi.getPayment, async (ctx, { params }) => {
    ctx.body = await service.getPayment(principalOf(ctx), params.paymentId);
  });

  return router;
}

function respond(ctx: Context, result: OrderServiceResult<unknown>): void {
  ctx.status = result.status;
  ctx.body = result.body;
  if (result.location) ctx.set('Location', result.location);
}
