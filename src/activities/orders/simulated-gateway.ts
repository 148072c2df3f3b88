import { setTimeout as sleep } from 'node:timers/promises';
import {
  GatewayUnavailableError,
  type ChargeRequest,
  type ChargeResult,
  type PaymentGateway,
} from './gateway';

/** Behaviour by card number, like a provider's test cards. Any other valid card succeeds. */
const DECLINES: Record<string, string> = {
  '4000000000000002': 'card_declined',
  '4000000000009995': 'insufficient_funds',
};
const FLAKY_CARD = '4000000000000119';
const FLAKY_FAILURES = 2;

export interface SimulatedGateway extends PaymentGateway {
  /** Charges actually taken, by idempotency key: what a test checks to prove nothing was charged twice. */
  readonly charges: ReadonlyMap<string, { amount: number; currency: string; chargeId: string }>;
}

/**
 * The built-in, deterministic gateway. It honours idempotency keys the way real providers do: a repeated
 * key returns the first answer and charges nothing more. State lives in this process, which is enough
 * for development and tests; a real provider keeps it on its side.
 */
export function createSimulatedGateway(options: { latencyMs?: number } = {}): SimulatedGateway {
  const charges = new Map<string, { amount: number; currency: string; chargeId: string }>();
  const answers = new Map<string, ChargeResult>();
  const transientFailures = new Map<string, number>();

  return {
    charges,
    async charge(request: ChargeRequest): Promise<ChargeResult> {
      if (options.latencyMs) await sleep(options.latencyMs);
      const previous = answers.get(request.idempotencyKey);
      if (previous) return previous;

      if (request.cardNumber === FLAKY_CARD) {
        const failures = transientFailures.get(request.idempotencyKey) ?? 0;
        if (failures < FLAKY_FAILURES) {
          transientFailures.set(request.idempotencyKey, failures + 1);
          throw new GatewayUnavailableError('simulated gateway timeout');
        }
      }
      const decline = DECLINES[request.cardNumber];
      const answer: ChargeResult = decline
        ? { status: 'declined', reason: decline }
        : { status: 'succeeded', chargeId: `sim_${charges.size + 1}` };
      if (answer.status === 'succeeded') {
        charges.set(request.idempotencyKey, {
          amount: request.amount,
          currency: request.currency,
          chargeId: answer.chargeId,
        });
      }
      answers.set(request.idempotencyKey, answer);
      return answer;
    },
  };
}
