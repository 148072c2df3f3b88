import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from '../../db/knex';
import {
  CARD_CVC_COLUMN,
  CARD_NUMBER_COLUMN,
  PAYMENTS,
  closeOrderRow,
  findPayment,
  settlePayment,
} from '../../db/orders';
import type { FieldCipher } from '../../crypto/field-cipher';
import { parseDbDecimal } from '../../domain/money';
import type { OrderStatus, PaymentSummary } from '../../domain/orders/order-state';
import { GatewayRequestError, type ChargeResult, type PaymentGateway, type TakenCharge } from './gateway';
import {
  CHARGE_MISMATCH,
  GATEWAY_REFUSED,
  PAYMENT_DECLINED,
  PAYMENT_INVALID,
} from '../../workflows/orders/messages';

export interface OrderActivityDeps {
  db: Db;
  cipher: FieldCipher;
  gateway: PaymentGateway;
  now?: () => Date;
}

export const paymentIdempotencyKey = (paymentId: string): string => `durapay:payment:${paymentId}`;

/** A request the provider refused as such fails the same way every time: not retried. Others pass through. */
const refusedAsSuch = (error: unknown): unknown =>
  error instanceof GatewayRequestError
    ? ApplicationFailure.nonRetryable(error.message, GATEWAY_REFUSED)
    : error;

export function createOrderActivities({ db, cipher, gateway, now = () => new Date() }: OrderActivityDeps) {
  return {
    /**
     * Charges the card stored (encrypted) on the payment row. Its number and CVC are decrypted here only, so
     * they never enter a workflow payload. Throws PaymentDeclined for declines, PaymentInvalid for a record
     * that cannot be charged and GatewayRefused for a request the provider refuses as such; other errors are
     * retried.
     */
    async chargePayment(input: {
      orderId: string;
      paymentId: string;
      amount: number;
      currency: string;
    }): Promise<string> {
      const payment = await findPayment(db, input.paymentId);
      if (!payment || payment.order_id !== input.orderId || !payment.card_number_enc) {
        throw ApplicationFailure.nonRetryable(
          `payment ${input.paymentId} has no card on record`,
          PAYMENT_INVALID,
        );
      }
      if (parseDbDecimal(payment.payment_amount, input.currency) !== input.amount) {
        throw ApplicationFailure.nonRetryable(
          `payment ${input.paymentId} amount differs from its record`,
          PAYMENT_INVALID,
        );
      }
      const cell = (column: string) => ({ table: PAYMENTS, column, rowId: payment.payment_id });
      const cardNumber = cipher.decrypt(payment.card_number_enc, cell(CARD_NUMBER_COLUMN));
      // Gone once the payment has an outcome; a retry after that is still the same request to the provider.
      const cvc = payment.card_cvc_enc
        ? cipher.decrypt(payment.card_cvc_enc, cell(CARD_CVC_COLUMN))
        : undefined;
      let result: ChargeResult;
      try {
        result = await gateway.charge({
          idempotencyKey: paymentIdempotencyKey(input.paymentId),
          amount: input.amount,
          currency: input.currency,
          cardNumber,
          ...(payment.card_exp_month === null || payment.card_exp_year === null
            ? {}
            : { expMonth: payment.card_exp_month, expYear: payment.card_exp_year }),
          ...(cvc === undefined ? {} : { cvc }),
          metadata: { orderId: input.orderId, paymentId: input.paymentId },
        });
      } catch (error) {
        // The provider refused the request itself (credentials, body, a key reused with another body): the
        // same request fails the same way every time, so the payment fails now instead of after 10 minutes.
        throw refusedAsSuch(error);
      }
      if (result.status === 'declined')
        throw ApplicationFailure.nonRetryable(result.reason, PAYMENT_DECLINED);
      return result.chargeId;
    },

    /**
     * The id of the charge the provider took under the payment's idempotency key, or null if none. Asked when
     * the charge's retries ran out without an answer: the provider may have charged, and every answer lost.
     */
    async lookUpCharge(input: {
      paymentId: string;
      amount: number;
      currency: string;
    }): Promise<string | null> {
      let charge: TakenCharge | undefined;
      try {
        charge = await gateway.findCharge(paymentIdempotencyKey(input.paymentId));
      } catch (error) {
        throw refusedAsSuch(error);
      }
      if (!charge) return null;
      // Only this payment's charge, for its amount, settles it; anything else is for reconciliation to report.
      if (
        (charge.paymentId !== undefined && charge.paymentId !== input.paymentId) ||
        charge.amount !== input.amount ||
        charge.currency.toUpperCase() !== input.currency.toUpperCase()
      ) {
        throw ApplicationFailure.nonRetryable(
          `charge ${charge.chargeId} under payment ${input.paymentId}'s key does not match it ` +
            `(${charge.amount} ${charge.currency} for payment ${charge.paymentId ?? 'none'})`,
          CHARGE_MISMATCH,
        );
      }
      return charge.chargeId;
    },

    /** Settles the payment and erases its CVC, whatever the outcome; repeating it changes nothing. */
    async recordPaymentResult(input: { orderId: string; payment: PaymentSummary }): Promise<void> {
      const { status, failureReason } = input.payment;
      if (status === 'PENDING') throw ApplicationFailure.nonRetryable('only final payments are recorded');
      await settlePayment(
        db,
        { orderId: input.orderId, paymentId: input.payment.paymentId, status, failureReason },
        now(),
      );
    },

    async recordOrderStatus(input: { orderId: string; status: OrderStatus }): Promise<void> {
      await closeOrderRow(db, input.orderId, input.status, now());
    },
  };
}
