import { ConfigError } from '../../src/config';
import { selectGateway } from '../../src/activities/orders/select-gateway';

describe('selectGateway', () => {
  const provider = {
    url: 'http://127.0.0.1:1',
    apiKey: 'sk_test_key',
    connectTimeoutMs: 100,
    responseTimeoutMs: 100,
  };

  it('speaks HTTP to the provider when one is configured', async () => {
    const warnings: string[] = [];
    const selected = selectGateway({ env: 'production', gateway: provider, gatewayLatencyMs: 0 }, (message) =>
      warnings.push(message),
    );
    // Nothing listens on port 1: the HTTP adapter reports it as transient, which the simulator never would.
    await expect(
      selected.gateway.charge({
        idempotencyKey: 'k',
        amount: 100,
        currency: 'USD',
        cardNumber: '4242424242424242',
      }),
    ).rejects.toThrow('payment gateway unreachable');
    expect(warnings).toEqual([]);
    await selected.close();
  });

  it('refuses to run a production worker without a provider', () => {
    expect(() =>
      selectGateway({ env: 'production', gateway: undefined, gatewayLatencyMs: 0 }, () => {}),
    ).toThrow(ConfigError);
  });

  it('falls back to the simulator elsewhere, and says what that costs', async () => {
    const warnings: string[] = [];
    const selected = selectGateway(
      { env: 'development', gateway: undefined, gatewayLatencyMs: 0 },
      (message) => warnings.push(message),
    );
    await expect(
      selected.gateway.charge({
        idempotencyKey: 'k',
        amount: 100,
        currency: 'USD',
        cardNumber: '4242424242424242',
      }),
    ).resolves.toMatchObject({ status: 'succeeded' });
    expect(warnings).toEqual([expect.stringContaining('DURAPAY_GATEWAY_URL is not set')]);
  });
});
