import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import type { LogFields, Logger } from '../../logging/logger';
import { redactText } from '../../logging/redact';
import { orderWorkflowId } from '../../workflows/orders/messages';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** A caller's own request id is kept when it is short and plain; anything else gets a fresh one. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** What beginRequestLog leaves on the request: its id, and the child logger that carries it once asked for. */
interface RequestLogState {
  requestLog?: { requestId: string; base: Logger; logger?: Logger };
}

/**
 * The request's logger (with its request id), for code that logs about this request. Made on first use:
 * most requests log only their one line, and a child logger per request cost more than that line.
 */
export function requestLogger(ctx: Koa.Context, fallback: Logger): Logger {
  const log = (ctx.state as RequestLogState).requestLog;
  if (!log) return fallback;
  return (log.logger ??= log.base.child({ requestId: log.requestId }));
}

/**
 * Gives the request its id (the caller's own when short and plain, else a fresh one), echoed in X-Request-Id
 * so a caller can quote it, and leaves it for requestLogger and logRequest.
 */
export function beginRequestLog(ctx: Koa.Context, logger: Logger): string {
  const given = ctx.get(REQUEST_ID_HEADER);
  const requestId = SANE_REQUEST_ID.test(given) ? given : randomUUID();
  ctx.set(REQUEST_ID_HEADER, requestId);
  (ctx.state as RequestLogState).requestLog = { requestId, base: logger };
  return requestId;
}

/**
 * One line per request, carrying its request id and, on an order's routes, the order's `orderId`,
 * `workflowId` and `paymentId`. The query string and user agent are logged because they help an operator
 * most; the logger's redaction keeps card numbers, emails and keys in them out of the line.
 */
export function logRequest(ctx: Koa.Context, logger: Logger, requestId: string, ms: number): void {
  const principal = (ctx.state as { principal?: { id: string } }).principal;
  logger.info('request', {
    requestId,
    method: ctx.method,
    path: ctx.path,
    ...(ctx.querystring ? { query: ctx.querystring } : {}),
    status: ctx.status,
    ms: Math.round(ms),
    ...(principal ? { principal: principal.id } : {}),
    ...orderFields(ctx),
    userAgent: ctx.get('User-Agent') || undefined,
  });
}

/** The order this request was about, from its route parameters or the order or payment it answered with. */
function orderFields(ctx: Koa.Context): LogFields {
  const params = (ctx as { params?: Record<string, string> }).params ?? {};
  const body = ctx.body !== null && typeof ctx.body === 'object' ? (ctx.body as Record<string, unknown>) : {};
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const orderId = params.orderId ?? text(body.orderId);
  if (!orderId) return {};
  const paymentId = params.paymentId ?? text(body.paymentId);
  // An "order ID" the redaction masks (a card number in the path) must not come back as the workflow ID's tail.
  const workflowId = redactText(orderId) === orderId ? orderWorkflowId(orderId) : undefined;
  return { orderId, ...(workflowId ? { workflowId } : {}), ...(paymentId ? { paymentId } : {}) };
}
