import type { Config } from '../../config';
import { ConfigError } from '../../config';
import { createHttpGateway } from './http-gateway';
import type { PaymentGateway } from './gateway';
import { createSimulatedGateway } from './simulated-gateway';

export interface SelectedGateway {
  gateway: PaymentGateway;
  /** Closes its pooled connections; the worker calls it once it has stopped. */
  close(): Promise<void>;
}

/**
 * The worker's gateway: the provider's HTTP API when DURAPAY_GATEWAY_URL is set. Production refuses to start
 * without it. Elsewhere (a worker started by hand, without `npm start`) the in-process simulator stands in,
 * with a warning: its idempotency keys die with the process, so it cannot keep the exactly-once promise.
 */
export function selectGateway(
  config: Pick<Config, 'env' | 'gateway' | 'gatewayLatencyMs'>,
  warn: (message: string) => void,
): SelectedGateway {
  if (config.gateway) {
    const gateway = createHttpGateway(config.gateway);
    return { gateway, close: () => gateway.close() };
  }
  if (config.env === 'production') {
    throw new ConfigError(
      "DURAPAY_GATEWAY_URL is required in production: the payment provider's base URL (and DURAPAY_GATEWAY_KEY)",
    );
  }
  warn(
    'DURAPAY_GATEWAY_URL is not set: charging through the in-process simulator, which forgets its idempotency keys when the worker stops',
  );
  return {
    gateway: createSimulatedGateway({ latencyMs: config.gatewayLatencyMs }),
    close: () => Promise.resolve(),
  };
}
