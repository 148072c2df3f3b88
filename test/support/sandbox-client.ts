import { request } from 'undici';
import { paymentIdempotencyKey } from '../../src/activities/orders';
import { TEST_SANDBOX_KEY } from './sandbox-process';

/** A charge as the sandbox provider lists it. */
export interface SandboxCharge {
  id: string;
  amount: number;
  currency: string;
  metadata: { order_id: string; payment_id: string };
}

export interface SandboxFaults {
  latencyMs?: number;
  errorRate?: number;
  dropResponseRate?: number;
  down?: boolean;
}

/** The sandbox provider's own API, as a test reads and steers it: its charges and its fault knobs. */
export function sandboxClient(url: string, apiKey = TEST_SANDBOX_KEY) {
  async function call(method: string, path: string, body?: unknown, inProgress?: unknown): Promise<unknown> {
    const response = await request(new URL(path, url), {
      method: method as 'GET',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.body.text();
    // The key's first request is still running: nothing is charged under it yet, as far as a reader can tell.
    if (inProgress !== undefined && response.statusCode === 409 && text.includes('"idempotency_key_in_use"'))
      return inProgress;
    if (response.statusCode !== 200)
      throw new Error(`sandbox ${method} ${path}: ${response.statusCode} ${text}`);
    return JSON.parse(text) as unknown;
  }
  return {
    /**
     * The charges taken for a payment, by its idempotency key: at most one when all is well, none while the
     * key's first request is still in progress.
     */
    async chargesFor(paymentId: string): Promise<SandboxCharge[]> {
      const key = encodeURIComponent(paymentIdempotencyKey(paymentId));
      const page = (await call('GET', `/v1/charges?idempotency_key=${key}`, undefined, { data: [] })) as {
        data: SandboxCharge[];
      };
      return page.data;
    },
    /** Every charge, oldest first. */
    async allCharges(): Promise<SandboxCharge[]> {
      const charges: SandboxCharge[] = [];
      for (;;) {
        const after = charges.length ? `&starting_after=${charges.at(-1)!.id}` : '';
        const page = (await call('GET', `/v1/charges?limit=100${after}`)) as {
          data: SandboxCharge[];
          has_more: boolean;
        };
        charges.push(...page.data);
        if (!page.has_more) return charges;
      }
    },
    setFaults: (faults: SandboxFaults) => call('POST', '/sandbox/faults', faults),
    resetFaults: () => call('DELETE', '/sandbox/faults'),
  };
}

export type SandboxClient = ReturnType<typeof sandboxClient>;
