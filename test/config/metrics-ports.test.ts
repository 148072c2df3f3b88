import { ConfigError, loadConfig } from '../../src/config';

describe('metrics ports', () => {
  it('default to 9464 for the API and 9465 for the worker', () => {
    expect(loadConfig({}).metrics).toEqual({ apiPort: 9464, workerPort: 9465 });
  });

  it('take 0 for no endpoint and refuse what is not a port', () => {
    expect(loadConfig({ DURAPAY_WORKER_METRICS_PORT: '0' }).metrics.workerPort).toBe(0);
    expect(() => loadConfig({ DURAPAY_API_METRICS_PORT: '70000' })).toThrow(ConfigError);
    expect(() => loadConfig({ DURAPAY_API_METRICS_PORT: '70000' })).toThrow(
      'DURAPAY_API_METRICS_PORT must be a port number from 1 to 65535, or 0 for none, not "70000"',
    );
  });
});
