/**
 * The orders API, once: request schemas (parsed and typed for the handlers), response schemas (the views'
 * types) and the route definitions the router enforces and docs/openapi.ts documents. Rules come from
 * src/domain; amounts and cards are checked there once the order's currency is known (commands.ts).
 */
import { CARD_BRANDS, CARD_NUMBER_RULE } from '../../domain/cards';
import { parseIsoDuration } from '../../domain/durations';
import { ORDER_STATUSES, PAYMENT_STATUSES } from '../../domain/orders/order-state';
import type { PaymentMethod } from '../../domain/uploads/rows';
import { ROLES } from '../auth/api-keys';
import { nextCursorField, pageQuery } from '../http/pages';
import { apiRoute } from '../http/route';
import {
  Amount,
  amountField,
  bodyObject,
  boundedText,
  Currency,
  Id,
  idField,
  jsonContent,
  jsonResponse,
  NoQuery,
  problem,
  shared,
  Timestamp,
} from '../http/schemas';
import { z } from '../http/zod';

const MAX_DEADLINE_MS = 366 * 24 * 60 * 60 * 1000;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

export const orderStatus = () =>
  z.enum(ORDER_STATUSES, { error: `must be one of ${ORDER_STATUSES.join(', ')}` });
export const OrderStatus = orderStatus().openapi('OrderStatus');
export const PaymentStatus = z.enum(PAYMENT_STATUSES).openapi('PaymentStatus');

// ---------------------------------------------------------------------------------------------------------
// Requests

export const CreateOrderRequest = bodyObject({
  orderId: idField('Client-chosen ID, which makes the create idempotent').optional(),
  currency: Currency,
  amount: amountField('Greater than zero'),
  customer: bodyObject({
    id: Id.optional(),
    email: boundedText(254).regex(EMAIL, { error: 'is not an email address' }).optional(),
    name: boundedText(200).optional(),
  }).optional(),
  paymentDeadline: z
    .string({ error: 'must be a string' })
    .transform((text, ctx) => {
      const ms = parseIsoDuration(text);
      if (ms > 0 && ms <= MAX_DEADLINE_MS) return ms;
      ctx.addIssue({ code: 'custom', message: 'must be longer than zero and at most 366 days' });
      return z.NEVER;
    })
    .optional()
    .openapi({
      description:
        'ISO 8601 duration from now, longer than zero and at most 366 days, in weeks, days, hours, minutes ' +
        'and seconds (years and months have no fixed length and are refused). Defaults to a ' +
        'server-configured window.',
      examples: ['P7D', 'PT36H', 'P1DT12H30M'],
    }),
}).openapi('CreateOrderRequest');
export type CreateOrderBody = z.output<typeof CreateOrderRequest>;

/** Card months and years may arrive as numbers or digit strings. */
const cardDate = (description: string) =>
  z
    .union(
      [
        z.number().int(),
        z
          .string()
          .regex(/^\d{1,4}$/)
          .transform(Number),
      ],
      {
        error: 'must be a whole number',
      },
    )
    .openapi({ description: `${description}, as a JSON integer or a string of digits` });

export const CreatePaymentRequest = bodyObject({
  paymentId: idField('Client-chosen ID, which makes the payment idempotent').optional(),
  amount: amountField('Greater than zero and at most the amount due'),
  method: bodyObject({
    type: z.literal('card', {
      error: (issue) => `must be "card"${typeof issue.input === 'string' ? `, not "${issue.input}"` : ''}`,
    }),
    number: z.string({ error: 'is required and must be a string' }).openapi({
      description: `The card number: it ${CARD_NUMBER_RULE}, and passes the Luhn check`,
      examples: ['4242 4242 4242 4242'],
    }),
    expMonth: cardDate('Expiry month 1 to 12'),
    expYear: cardDate('Expiry year, four digits or two meaning 20YY'),
    cvc: z
      .string({ error: 'is required and must be a string' })
      .openapi({ description: '3 digits, or 4 for American Express; checked and never stored' }),
    holder: boundedText(128).optional(),
  }).openapi({ writeOnly: true }),
}).openapi('CreatePaymentRequest');
export type CreatePaymentBody = z.output<typeof CreatePaymentRequest>;

const orderParams = z.object({ orderId: Id });

export const ListOrdersQuery = z.strictObject({
  status: orderStatus().optional().openapi({ description: 'Only orders in this status' }),
  ...pageQuery,
});
export type ListOrdersQuery = z.output<typeof ListOrdersQuery>;

const PaymentQuery = z.strictObject({
  wait: z
    .enum(['true', 'false'], { error: 'must be "true" or "false"' })
    .optional()
    .transform((wait) => wait === 'true')
    .openapi({ description: 'Wait for the outcome of the payment (up to a server-configured time)' }),
});

const PaymentHeaders = z.object({
  'Idempotency-Key': z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, { error: 'must be 1 to 255 visible ASCII characters' })
    .optional()
    .openapi({ description: 'Makes retries safe: 1 to 255 visible ASCII characters, unique per order' }),
});

// ---------------------------------------------------------------------------------------------------------
// Responses

/** The payment methods of domain/uploads, as the API spells them. */
const PAYMENT_METHODS = ['card', 'bank_transfer'] as const satisfies readonly Lowercase<PaymentMethod>[];

export const Payment = z
  .strictObject({
    paymentId: Id,
    orderId: Id,
    amount: Amount,
    currency: Currency,
    status: PaymentStatus,
    method: z
      .strictObject({
        type: z.enum(PAYMENT_METHODS),
        brand: z.enum(CARD_BRANDS).optional(),
        last4: z
          .string()
          .regex(/^\d{4}$/)
          .optional(),
      })
      .openapi('PaymentMethod'),
    failureReason: z
      .string()
      .optional()
      .openapi({
        description: 'Why a FAILED payment failed',
        examples: ['card_declined', 'insufficient_funds', 'order_not_pending'],
      }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    order: z
      .strictObject({ status: OrderStatus, amountPaid: Amount })
      .optional()
      .openapi({ description: 'The order right after this payment; present on `wait=true` answers' }),
  })
  .openapi('Payment');
export type Payment = z.input<typeof Payment>;

export const Order = z
  .strictObject({
    orderId: Id,
    status: OrderStatus,
    amount: Amount,
    currency: Currency,
    amountPaid: amountField('Sum of the completed payments'),
    amountDue: amountField('amount − amountPaid'),
    customer: z
      .strictObject({ id: Id })
      .optional()
      .openapi({ description: 'Only the customer ID is returned; contact details are stored encrypted' }),
    paymentDeadline: Timestamp.nullable().openapi({
      description: 'When a still PENDING order expires; null for an imported order not yet used',
    }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    payments: z
      .array(Payment)
      .optional()
      .openapi({ description: 'Present on a single order (oldest first), absent in lists' }),
  })
  .openapi('Order');
export type Order = z.input<typeof Order>;

export const OrderList = z
  .strictObject({
    items: z.array(Order),
    nextCursor: nextCursorField(),
  })
  .openapi('OrderList');

export const CancelAccepted = z
  .strictObject({ orderId: Id, status: z.literal('CANCELLING') })
  .openapi('CancelAccepted');
export type CancelAccepted = z.input<typeof CancelAccepted>;

// ---------------------------------------------------------------------------------------------------------
// Routes

const location = { location: true };

export const orderApi = {
  createOrder: apiRoute({
    method: 'post',
    path: '/orders',
    operationId: 'createOrder',
    summary: 'Create an order',
    description:
      'Creates a PENDING order and starts its workflow. With a client-chosen `orderId` the call is ' +
      'idempotent: repeating the same body answers 200 with the order, a different body 409.',
    tags: ['orders'],
    roles: ['client'],
    request: { query: NoQuery, body: CreateOrderRequest },
    bodyName: 'order',
    responses: {
      201: jsonResponse('Created', Order, location),
      200: jsonResponse('The order already existed with this same body (a retry)', Order, location),
      400: shared('BadRequest'),
      409: problem('An order with this `orderId` exists with a different body'),
      413: shared('ContentTooLarge'),
      415: shared('UnsupportedMediaType'),
      422: shared('UnprocessableContent'),
    },
  }),
  listOrders: apiRoute({
    method: 'get',
    path: '/orders',
    operationId: 'listOrders',
    summary: 'List orders, newest first',
    description:
      'Keyset pagination: pass `nextCursor` back as `cursor` for the next page. Unknown query parameters are refused.',
    tags: ['orders'],
    roles: ROLES,
    request: { query: ListOrdersQuery },
    responses: {
      200: jsonResponse('A page of orders (without their payments)', OrderList),
      400: shared('BadRequest'),
    },
  }),
  getOrder: apiRoute({
    method: 'get',
    path: '/orders/:orderId',
    operationId: 'getOrder',
    summary: 'Get an order with its payments',
    tags: ['orders'],
    roles: ROLES,
    request: { params: orderParams, query: NoQuery },
    responses: {
      200: jsonResponse('The order', Order),
      400: shared('BadRequest'),
      404: shared('NotFound'),
    },
  }),
  submitPayment: apiRoute({
    method: 'post',
    path: '/orders/:orderId/payments',
    operationId: 'submitPayment',
    summary: 'Pay (part of) an order by card',
    description:
      'Records the payment and hands it to the order workflow. Without `wait` the answer is 202 at ' +
      'once; with `wait=true` it is 200 with the outcome, or 202 if the outcome takes longer than the ' +
      'configured wait. A retry with the same `Idempotency-Key` (or the same `paymentId`) and body ' +
      'answers with the payment recorded the first time (200 once settled, 202 while pending) and ' +
      'charges nothing more; with a different body it is refused with 422.',
    tags: ['orders'],
    roles: ROLES,
    request: {
      params: orderParams,
      query: PaymentQuery,
      headers: PaymentHeaders,
      body: CreatePaymentRequest,
    },
    bodyName: 'payment',
    responses: {
      200: jsonResponse(
        'Settled: the outcome after `wait=true` (with `order`), or the final payment a retry repeats',
        Payment,
        location,
      ),
      202: jsonResponse(
        'Accepted and still PENDING (or `wait=true` ran out of time): follow `Location`',
        Payment,
        location,
      ),
      400: shared('BadRequest'),
      404: shared('NotFound'),
      409: problem(
        'The order is not PENDING (completed, cancelled or expired); may carry the `paymentId` that was refused',
      ),
      413: shared('ContentTooLarge'),
      415: shared('UnsupportedMediaType'),
      422: shared('UnprocessableContent'),
    },
  }),
  cancelOrder: apiRoute({
    method: 'post',
    path: '/orders/:orderId/cancel',
    operationId: 'cancelOrder',
    summary: 'Cancel a pending order',
    description:
      'Asks the order workflow to cancel; a payment already in flight finishes first. Cancelling a ' +
      'cancelled order is accepted again. The request body, if any, is ignored.',
    tags: ['orders'],
    roles: ROLES,
    request: { params: orderParams, query: NoQuery },
    responses: {
      202: jsonResponse('Cancellation accepted', CancelAccepted, location),
      400: shared('BadRequest'),
      404: shared('NotFound'),
      409: problem('The order is COMPLETED or EXPIRED'),
      413: shared('ContentTooLarge'),
      415: shared('UnsupportedMediaType'),
    },
  }),
  getPayment: apiRoute({
    method: 'get',
    path: '/payments/:paymentId',
    operationId: 'getPayment',
    summary: 'Get a payment',
    tags: ['payments'],
    roles: ROLES,
    request: { params: z.object({ paymentId: Id }), query: NoQuery },
    responses: {
      200: { description: 'The payment', content: jsonContent(Payment) },
      400: shared('BadRequest'),
      404: shared('NotFound'),
    },
  }),
};
