import { setTimeout as sleep } from 'node:timers/promises';
import { testCardDecline, transientFailuresBeforeAnswer } from '../../domain/payments/test-cards';
import {
  GatewayUnavailableError,
  type ChargeRequest,
  type ChargeResult,
  type PaymentGateway,
  type TakenCharge,
} from './gateway';

export interface SimulatedGateway extends PaymentGateway {
  /** Charges actually taken, by idempotency key: what a test checks to prove nothing was charged twice. */
  readonly charges: ReadonlyMap<string, TakenCharge>;
}

/**
 * The built-in, deterministic gateway, in this process, answering by the shared test cards. It honours
 * idempotency keys the way real providers do: a repeated key returns the first answer and charges nothing
 * more. State lives in this process only; the sandbox provider keeps it durably.
 */
export function createSimulatedGateway(options: { latencyMs?: number } = {}): SimulatedGateway {
  const charges = new Map<string, TakenCharge>();
  const answers = new Map<string, ChargeResult>();
  const transientFailures = new Map<string, number>();

  return {
    charges,
    async findCharge(idempotencyKey: string) {
      if (options.latencyMs) await sleep(options.latencyMs);
      return charges.get(idempotencyKey);
    },
    async charge(request: ChargeRequest): Promise<ChargeResult> {
      if (options.latencyMs) await sleep(options.latencyMs);
      const previous = answers.get(request.idempotencyKey);
      if (previous) return previous;

      const failures = transientFailures.get(request.idempotencyKey) ?? 0;
      if (failures < transientFailuresBeforeAnswer(request.cardNumber)) {
        transientFailures.set(request.idempotencyKey, failures + 1);
        throw new GatewayUnavailableError('simulated gateway timeout');
      }
      const decline = testCardDecline(
        {
          number: request.cardNumber,
          expMonth: request.expMonth,
          expYear: request.expYear,
          cvc: request.cvc,
        },
        new Date(),
      );
      const answer: ChargeResult = decline
        ? { status: 'declined', reason: decline }
        : { status: 'succeeded', chargeId: `sim_${charges.size + 1}` };
      if (answer.status === 'succeeded') {
        charges.set(request.idempotencyKey, {
          paymentId: request.metadata?.paymentId,
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
