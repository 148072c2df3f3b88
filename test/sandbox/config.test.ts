import { DEFAULT_SANDBOX_PORT, loadSandboxConfig } from '../../src/sandbox/config';

const KEY = 'sk_test_config_0123456789abcdef';

describe('sandbox configuration', () => {
  test('defaults: port 4010 and a database of its own on the local server', () => {
    expect(loadSandboxConfig({ DURAPAY_SANDBOX_KEY: KEY })).toEqual({
      port: DEFAULT_SANDBOX_PORT,
      apiKey: KEY,
      databaseUrl: 'mysql://durapay:durapay@127.0.0.1:3307/durapay_sandbox',
    });
    expect(DEFAULT_SANDBOX_PORT).toBe(4010);
  });

  test('reads its variables', () => {
    expect(
      loadSandboxConfig({
        DURAPAY_SANDBOX_KEY: KEY,
        DURAPAY_SANDBOX_PORT: '0',
        DURAPAY_SANDBOX_DATABASE_URL: 'mysql://u:p@db:3306/provider',
      }),
    ).toEqual({ port: 0, apiKey: KEY, databaseUrl: 'mysql://u:p@db:3306/provider' });
  });

  test.each([
    [{}, 'DURAPAY_SANDBOX_KEY is required'],
    [{ DURAPAY_SANDBOX_KEY: 'short-secret' }, 'DURAPAY_SANDBOX_KEY must be at least 24 characters'],
    [{ DURAPAY_SANDBOX_KEY: KEY, DURAPAY_SANDBOX_PORT: '' }, 'DURAPAY_SANDBOX_PORT must be a port number'],
    [
      { DURAPAY_SANDBOX_KEY: KEY, DURAPAY_SANDBOX_PORT: '70000' },
      'DURAPAY_SANDBOX_PORT must be a port number',
    ],
    [{ DURAPAY_SANDBOX_KEY: KEY, DURAPAY_SANDBOX_DATABASE_URL: 'postgres://h/db' }, 'must be mysql://'],
    [{ DURAPAY_SANDBOX_KEY: KEY, DURAPAY_SANDBOX_DATABASE_URL: 'mysql://h:3306' }, 'must name a database'],
  ])('refuses %j, naming the variable', (env, message) => {
    expect(() => loadSandboxConfig(env)).toThrow(message);
  });

  test('never repeats the key in its message', () => {
    expect(() => loadSandboxConfig({ DURAPAY_SANDBOX_KEY: 'short-secret' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('short-secret') }),
    );
  });
});
