import { Agent, request } from 'undici';
import { redactText } from '../../logging/redact';
import { createProviderCharges } from '../reconciliation/provider-charges';
import {
  GatewayRequestError,
  GatewayUnavailableError,
  type ChargeRequest,
  type ChargeResult,
  type PaymentGateway,
} from './gateway';

export interface HttpGatewayOptions {
  /** The provider's base URL (DURAPAY_GATEWAY_URL); `v1/charges` is resolved against it. */
  url: string;
  /** Sent as a Bearer token (DURAPAY_GATEWAY_KEY). */
  apiKey: string;
  connectTimeoutMs?: number;
  /**
   * Longest wait for the answer's headers, and then between parts of its body. Keep it below the charge
   * activity's start-to-close timeout, so a slow provider fails the attempt here, with a clear reason.
   */
  responseTimeoutMs?: number;
}

export interface HttpGateway extends PaymentGateway {
  /** Closes the pooled connections. */
  close(): Promise<void>;
}

const MAX_MESSAGE_CHARS = 200;

/**
 * The payment gateway as a provider API over HTTP (`POST /v1/charges`, Stripe-style; see the sandbox
 * provider), and `GET /v1/charges?idempotency_key=K` to find a charge. Every attempt is one request: retries
 * are left to the activity's retry policy, and they are safe because each carries the payment's idempotency
 * key. Nothing here logs, and no error it throws holds the card or the request body.
 */
export function createHttpGateway({
  url,
  apiKey,
  connectTimeoutMs = 2_000,
  responseTimeoutMs = 10_000,
}: HttpGatewayOptions): HttpGateway {
  const chargesUrl = new URL('v1/charges', url.endsWith('/') ? url : `${url}/`);
  const agent = new Agent({
    connect: { timeout: connectTimeoutMs },
    headersTimeout: responseTimeoutMs,
    bodyTimeout: responseTimeoutMs,
  });
  const reads = createProviderCharges({ url, apiKey, connectTimeoutMs, responseTimeoutMs });

  return {
    async findCharge(idempotencyKey: string) {
      const charge = await reads.findChargeByKey(idempotencyKey);
      return (
        charge && {
          chargeId: charge.id,
          paymentId: charge.paymentId,
          amount: charge.amount,
          currency: charge.currency,
        }
      );
    },
    async charge(charge: ChargeRequest): Promise<ChargeResult> {
      let status: number;
      let text: string;
      try {
        const response = await request(chargesUrl, {
          method: 'POST',
          dispatcher: agent,
          headers: {
            authorization: `Bearer ${apiKey}`,
            'content-type': 'application/json',
            accept: 'application/json',
            'idempotency-key': charge.idempotencyKey,
          },
          body: JSON.stringify(providerBody(charge)),
        });
        status = response.statusCode;
        text = await response.body.text();
      } catch (error) {
        // Refused, reset, dropped after sending, or timed out: the charge may or may not have been taken,
        // and only a retry with the same key can tell.
        throw new GatewayUnavailableError(`payment gateway unreachable: ${networkReason(error)}`);
      }
      const answer = parseJson(text);

      if (status === 200) {
        const id = (answer as { id?: unknown } | undefined)?.id;
        // The provider charged but its answer is unreadable: the same key's retry reads it again.
        if (typeof id !== 'string')
          throw new GatewayUnavailableError('payment gateway answered 200 without a charge id');
        return { status: 'succeeded', chargeId: id };
      }
      const error = providerError(answer);
      if (status === 402) return { status: 'declined', reason: error.code ?? 'card_declined' };
      if (status === 409 || status === 429 || status >= 500) {
        throw new GatewayUnavailableError(`payment gateway answered ${status}${describe(error)}`);
      }
      // 400, 401, 422 and the rest: the request itself is wrong, and sending it again changes nothing.
      throw new GatewayRequestError(
        `payment gateway refused the request: ${status}${describe(error)}`,
        status,
        error.code,
      );
    },
    close: async () => {
      await Promise.all([agent.close(), reads.close()]);
    },
  };
}

/** The provider's charge body; the CVC only while durapay still holds it. */
export function providerBody(charge: ChargeRequest) {
  return {
    amount: charge.amount,
    currency: charge.currency,
    card: {
      number: charge.cardNumber,
      exp_month: charge.expMonth,
      exp_year: charge.expYear,
      ...(charge.cvc === undefined ? {} : { cvc: charge.cvc }),
    },
    metadata: charge.metadata && { order_id: charge.metadata.orderId, payment_id: charge.metadata.paymentId },
  };
}

interface ProviderError {
  type?: string;
  code?: string;
  message?: string;
}

function providerError(answer: unknown): ProviderError {
  const error = (answer as { error?: unknown } | undefined)?.error;
  if (typeof error !== 'object' || error === null) return {};
  const { type, code, message } = error as Record<string, unknown>;
  return {
    type: typeof type === 'string' ? type : undefined,
    code: typeof code === 'string' ? code : undefined,
    message: typeof message === 'string' ? message : undefined,
  };
}

/** The provider's own words, scrubbed of anything that looks like card data, in case it quotes the request. */
function describe(error: ProviderError): string {
  const parts = [error.type, error.code].filter(Boolean).join('/');
  const message = error.message && redactText(error.message).slice(0, MAX_MESSAGE_CHARS);
  return `${parts ? ` ${parts}` : ''}${message ? `: ${message}` : ''}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function networkReason(error: unknown): string {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return [typeof code === 'string' ? code : undefined, typeof message === 'string' ? message : undefined]
    .filter(Boolean)
    .join(' ');
}
