import { Agent, request } from 'undici';
import { GatewayRequestError, GatewayUnavailableError } from '../orders/gateway';

/** A charge as the provider lists it; the card only as brand and last 4, which reconciliation ignores. */
export interface ProviderCharge {
  id: string;
  /** Integer minor units. */
  amount: number;
  currency: string;
  created: Date;
  /** The payment durapay sent with the charge; a charge taken elsewhere may name any or none. */
  paymentId: string | undefined;
  /** The provider's status: only a `succeeded` charge took money. */
  status: string | undefined;
}

export interface ChargePage {
  charges: ProviderCharge[];
  hasMore: boolean;
}

/** The provider's read side: its charges, listed oldest first, or the one taken under an idempotency key. */
export interface ProviderCharges {
  listCharges(query: { createdGte: Date; startingAfter?: string; limit: number }): Promise<ChargePage>;
  findChargeByKey(idempotencyKey: string): Promise<ProviderCharge | undefined>;
  close(): Promise<void>;
}

/**
 * `GET /v1/charges` of the provider API (see the sandbox provider), on the same undici basis and with the
 * same error classes as the charge adapter: GatewayUnavailableError is worth retrying, GatewayRequestError
 * is not. Like the adapter it does not retry itself; the activity's retry policy does.
 */
export function createProviderCharges({
  url,
  apiKey,
  connectTimeoutMs = 2_000,
  responseTimeoutMs = 10_000,
}: {
  url: string;
  apiKey: string;
  connectTimeoutMs?: number;
  responseTimeoutMs?: number;
}): ProviderCharges {
  const chargesUrl = new URL('v1/charges', url.endsWith('/') ? url : `${url}/`);
  const agent = new Agent({
    connect: { timeout: connectTimeoutMs },
    headersTimeout: responseTimeoutMs,
    bodyTimeout: responseTimeoutMs,
  });

  async function list(query: Record<string, string>): Promise<ChargePage> {
    const target = new URL(chargesUrl);
    for (const [name, value] of Object.entries(query)) target.searchParams.set(name, value);
    let status: number;
    let text: string;
    try {
      const response = await request(target, {
        method: 'GET',
        dispatcher: agent,
        headers: { authorization: `Bearer ${apiKey}`, accept: 'application/json' },
      });
      status = response.statusCode;
      text = await response.body.text();
    } catch (error) {
      throw new GatewayUnavailableError(`payment provider unreachable: ${(error as Error).message}`);
    }
    // 409: a request under the key asked for is still in progress, so the answer is not known yet.
    if (status === 409 || status === 429 || status >= 500) {
      throw new GatewayUnavailableError(`payment provider answered ${status} listing charges`);
    }
    if (status !== 200) {
      throw new GatewayRequestError(`payment provider refused to list charges: ${status}`, status);
    }
    return parsePage(text);
  }

  return {
    listCharges: ({ createdGte, startingAfter, limit }) =>
      list({
        created_gte: createdGte.toISOString(),
        ...(startingAfter === undefined ? {} : { starting_after: startingAfter }),
        limit: String(limit),
      }),
    findChargeByKey: async (idempotencyKey) =>
      (await list({ idempotency_key: idempotencyKey })).charges.find(
        (charge) => charge.status === 'succeeded',
      ),
    close: () => agent.close(),
  };
}

function parsePage(text: string): ChargePage {
  const answer = JSON.parse(text) as { data?: unknown; has_more?: unknown };
  if (!Array.isArray(answer.data) || typeof answer.has_more !== 'boolean') {
    throw new GatewayUnavailableError('payment provider answered a charge list without data or has_more');
  }
  return { charges: answer.data.map(parseCharge), hasMore: answer.has_more };
}

function parseCharge(value: unknown): ProviderCharge {
  const charge = value as {
    id?: unknown;
    amount?: unknown;
    currency?: unknown;
    created?: unknown;
    metadata?: { payment_id?: unknown } | null;
    status?: unknown;
  };
  const created = new Date(String(charge.created));
  if (
    typeof charge.id !== 'string' ||
    !Number.isSafeInteger(charge.amount) ||
    typeof charge.currency !== 'string' ||
    Number.isNaN(created.getTime())
  ) {
    throw new GatewayUnavailableError(
      'payment provider listed a charge without id, amount, currency or date',
    );
  }
  const paymentId = charge.metadata?.payment_id;
  return {
    id: charge.id,
    amount: charge.amount as number,
    currency: charge.currency.toUpperCase(),
    created,
    paymentId: typeof paymentId === 'string' ? paymentId : undefined,
    status: typeof charge.status === 'string' ? charge.status : undefined,
  };
}
