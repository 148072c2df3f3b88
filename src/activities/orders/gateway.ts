/** The payment gateway seen by the charge activity. A real provider's adapter implements the same interface. */
export interface ChargeRequest {
  /** The same key for every retry of one payment, so the provider charges at most once. */
  idempotencyKey: string;
  amount: number;
  currency: string;
  cardNumber: string;
}

export type ChargeResult = { status: 'succeeded'; chargeId: string } | { status: 'declined'; reason: string };

export interface PaymentGateway {
  /** Resolves with the provider's answer; throws GatewayUnavailableError when it is worth retrying. */
  charge(request: ChargeRequest): Promise<ChargeResult>;
}

export class GatewayUnavailableError extends Error {
  override name = 'GatewayUnavailableError';
}
