/** The payment gateway seen by the charge activity. A real provider's adapter implements the same interface. */
export interface ChargeRequest {
  /** The same key for every retry of one payment, so the provider charges at most once. */
  idempotencyKey: string;
  /** Integer minor units. */
  amount: number;
  currency: string;
  cardNumber: string;
  /** Expiry, four-digit year. A provider refuses a charge without it; the simulator ignores its absence. */
  expMonth?: number;
  expYear?: number;
  /**
   * Sent only while the payment awaits its outcome: the CVC is erased once it has one (PCI DSS 3.3.2), so a
   * retry after that sends none, and a provider must not count its absence as a different request.
   */
  cvc?: string;
  /** Lets the provider's charges be matched with durapay's payments when reconciling. */
  metadata?: { orderId: string; paymentId: string };
}

/** A decline's reason is the provider's code, such as `card_declined` or `insufficient_funds`. */
export type ChargeResult = { status: 'succeeded'; chargeId: string } | { status: 'declined'; reason: string };

/** A charge the provider took. */
export interface TakenCharge {
  chargeId: string;
  /** The payment the charge names in its metadata, if any. */
  paymentId: string | undefined;
  /** Integer minor units. */
  amount: number;
  currency: string;
}

export interface PaymentGateway {
  /**
   * Resolves with the provider's answer; throws GatewayUnavailableError when it is worth retrying, and
   * GatewayRequestError when the provider refused the request itself, which no retry can fix.
   */
  charge(request: ChargeRequest): Promise<ChargeResult>;
  /**
   * The charge taken under an idempotency key, if any: what settles an attempt whose every answer was lost.
   * Throws like `charge`.
   */
  findCharge(idempotencyKey: string): Promise<TakenCharge | undefined>;
}

export class GatewayUnavailableError extends Error {
  override name = 'GatewayUnavailableError';
}

/**
 * The provider refused the request as such: bad credentials, a malformed body, or an idempotency key
 * reused with a different body. A bug or a misconfiguration, so retrying is pointless.
 */
export class GatewayRequestError extends Error {
  override name = 'GatewayRequestError';
  constructor(
    message: string,
    readonly status: number,
    /** The provider's error code, when it gave one. */
    readonly code?: string,
  ) {
    super(message);
  }
}
