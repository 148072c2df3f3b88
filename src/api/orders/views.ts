/**
 * What clients and operators read of an order: response bodies typed by their schemas, and its workflow's
 * memo and summary in the Web UI. Amounts as decimal strings in the major unit, cards only as brand and last 4.
 */
import type { OrderRow, OrderViewRow, PaymentViewRow } from '../../db/orders';
import type { CardBrand } from '../../domain/cards';
import type { CurrencyCode } from '../../domain/currencies';
import { formatAmount, formatDbDecimal, parseDbDecimal } from '../../domain/money';
import type { Order, Payment } from './schemas';

export function orderView(order: OrderViewRow, payments?: PaymentViewRow[]): Order {
  const amount = parseDbDecimal(order.order_amount, order.currency);
  const amountPaid = parseDbDecimal(order.amount_paid, order.currency);
  return {
    orderId: order.order_id,
    status: order.order_status,
    amount: formatAmount(amount, order.currency),
    currency: order.currency as CurrencyCode,
    amountPaid: formatAmount(amountPaid, order.currency),
    amountDue: formatAmount(amount - amountPaid, order.currency),
    ...(order.customer_id === null ? {} : { customer: { id: order.customer_id } }),
    paymentDeadline: order.payment_deadline?.toISOString() ?? null,
    createdAt: order.created_at.toISOString(),
    updatedAt: order.updated_at.toISOString(),
    ...(payments ? { payments: payments.map((payment) => paymentView(payment, order.currency)) } : {}),
  };
}

export function paymentView(payment: PaymentViewRow, currency: string): Payment {
  return {
    paymentId: payment.payment_id,
    orderId: payment.order_id,
    amount: formatAmount(parseDbDecimal(payment.payment_amount, currency), currency),
    currency: currency as CurrencyCode,
    status: payment.payment_status,
    method: {
      type: payment.payment_method.toLowerCase() as Payment['method']['type'],
      ...(payment.card_brand === null ? {} : { brand: payment.card_brand as CardBrand }),
      ...(payment.card_last4 === null ? {} : { last4: payment.card_last4 }),
    },
    ...(payment.failure_reason === null ? {} : { failureReason: payment.failure_reason }),
    createdAt: payment.created_at.toISOString(),
    updatedAt: payment.updated_at.toISOString(),
  };
}

/** The memo and summary of an order's workflow: the amount as the API shows it ("125.50", not the column's "125.5000"). */
export function orderWorkflowLabels(order: OrderRow) {
  const amount = formatDbDecimal(order.order_amount, order.currency);
  return {
    memo: { currency: order.currency, amount },
    staticSummary: `Order ${order.order_id}: ${amount} ${order.currency}`,
  };
}
