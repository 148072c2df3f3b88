import path from 'node:path';
import { ConfigError, LOCAL_DATABASE_URL, REPO_ROOT, loadConfig } from '../../src/config';
import { generateKeySpec } from '../../src/crypto/key-ring';

const production = {
  NODE_ENV: 'production',
  DATABASE_URL: 'mysql://app:secret@db.internal:3306/durapay',
  DURAPAY_FIELD_KEYS: generateKeySpec('k1'),
  DURAPAY_PAYLOAD_KEYS: generateKeySpec('p1'),
  DURAPAY_CARD_FINGERPRINT_KEY: generateKeySpec('f1'),
};

describe('loadConfig', () => {
  it('gives development defaults that point at the local stack', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: 'development',
      port: 3000,
      databaseUrl: LOCAL_DATABASE_URL,
      temporal: { namespace: 'default', taskQueue: 'durapay', connection: { address: 'localhost:7233' } },
      fieldKeys: undefined,
    });
  });

  it('reads the standard TEMPORAL_* variables for any cluster, including Temporal Cloud', () => {
    const config = loadConfig({
      ...production,
      TEMPORAL_ADDRESS: 'acme.a1b2c.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'acme.a1b2c',
      TEMPORAL_API_KEY: 'secret-api-key',
    });
    expect(config.temporal.namespace).toBe('acme.a1b2c');
    expect(config.temporal.connection).toMatchObject({
      address: 'acme.a1b2c.tmprl.cloud:7233',
      apiKey: 'secret-api-key',
      tls: true,
    });
  });

  it.each([
    [{ ...production, DURAPAY_FIELD_KEYS: undefined }, 'DURAPAY_FIELD_KEYS is required in production'],
    [{ ...production, DURAPAY_PAYLOAD_KEYS: undefined }, 'DURAPAY_PAYLOAD_KEYS is required in production'],
    [
      { ...production, DURAPAY_CARD_FINGERPRINT_KEY: '' },
      'DURAPAY_CARD_FINGERPRINT_KEY is required in production',
    ],
    [{ ...production, DATABASE_URL: undefined }, 'DATABASE_URL is required in production'],
    [{ DURAPAY_RATE_LIMIT: '10 per second' }, 'DURAPAY_RATE_LIMIT must look like 1200/min'],
    [{ DURAPAY_RATE_LIMIT: '0/s' }, 'DURAPAY_RATE_LIMIT must look like 1200/min'],
    [{ DURAPAY_CODEC_CORS_ORIGIN: 'http://localhost:8233/' }, 'DURAPAY_CODEC_CORS_ORIGIN must be an origin'],
    [{ DURAPAY_CODEC_CORS_ORIGIN: '*' }, 'DURAPAY_CODEC_CORS_ORIGIN must be an origin'],
    [{ DATABASE_URL: 'postgres://x@y/z' }, 'DATABASE_URL must look like mysql://'],
    [
      { DURAPAY_GATEWAY_URL: 'http://127.0.0.1:4010' },
      'DURAPAY_GATEWAY_KEY is required with DURAPAY_GATEWAY_URL',
    ],
    [
      { DURAPAY_GATEWAY_URL: 'ftp://provider.example', DURAPAY_GATEWAY_KEY: 'k' },
      'DURAPAY_GATEWAY_URL must be an http(s) URL',
    ],
    [
      { DURAPAY_GATEWAY_TIMEOUT_MS: '30000' },
      'DURAPAY_GATEWAY_TIMEOUT_MS must be a whole number of milliseconds from 1 to 25000',
    ],
    [{ PORT: '70000' }, 'PORT must be a port number'],
    [{ PORT: 'abc' }, 'PORT must be a port number'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV must be development, test or production'],
    [{ DURAPAY_MAX_BODY: 'lots' }, 'DURAPAY_MAX_BODY must be a size'],
    [{ DURAPAY_KEEP_ALIVE_MS: '65s' }, 'DURAPAY_KEEP_ALIVE_MS must be a whole number of milliseconds'],
    [
      { DURAPAY_REQUEST_TIMEOUT_MS: '-1' },
      'DURAPAY_REQUEST_TIMEOUT_MS must be a whole number of milliseconds',
    ],
    [
      { DURAPAY_UPLOAD_WINDOW: '501' },
      'DURAPAY_UPLOAD_WINDOW must be a whole number from 1 to 500, not "501"',
    ],
    [{ DURAPAY_UPLOAD_CHUNK_ROWS: '0' }, 'DURAPAY_UPLOAD_CHUNK_ROWS must be a whole number from 1 to 100000'],
    [{ DURAPAY_MAX_UPLOAD: '0gb' }, 'DURAPAY_MAX_UPLOAD must be a size such as 512kb or 10mb, not "0gb"'],
    [{ DURAPAY_PAYMENT_DEADLINE: '7 days' }, 'DURAPAY_PAYMENT_DEADLINE must be an ISO 8601 duration'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL must be debug, info, warn or error, not "verbose"'],
  ])('fails fast on %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('reads the security settings: rate limit and the codec server origin', () => {
    const config = loadConfig({
      DURAPAY_RATE_LIMIT: '50/s',
      DURAPAY_CODEC_CORS_ORIGIN: 'https://ui.example.com',
    });
    expect(config.security).toMatchObject({
      rateLimit: { requests: 50, windowMs: 1000 },
      codecCorsOrigin: 'https://ui.example.com',
    });
    expect(loadConfig({}).security.rateLimit).toEqual({ requests: 1200, windowMs: 60_000 });
  });

  it('parses body size limits', () => {
    expect(loadConfig({ DURAPAY_MAX_BODY: '64kb' }).maxBodyBytes).toBe(65536);
  });

  it('keeps idle connections 65 s by default, longer than common load-balancer idle timeouts', () => {
    expect(loadConfig({}).keepAliveTimeoutMs).toBe(65_000);
    expect(loadConfig({ DURAPAY_KEEP_ALIVE_MS: '120000' }).keepAliveTimeoutMs).toBe(120_000);
  });

  it('reads the payment provider, with timeouts below the charge activity timeout', () => {
    expect(loadConfig({}).gateway).toBeUndefined();
    expect(
      loadConfig({ DURAPAY_GATEWAY_URL: 'https://api.provider.example', DURAPAY_GATEWAY_KEY: 'sk_live_x' })
        .gateway,
    ).toEqual({
      url: 'https://api.provider.example',
      apiKey: 'sk_live_x',
      connectTimeoutMs: 2_000,
      responseTimeoutMs: 10_000,
    });
  });

  it('gives a request 30 minutes by default, room for an upload of the largest allowed size', () => {
    expect(loadConfig({}).requestTimeoutMs).toBe(1_800_000);
    expect(loadConfig({ DURAPAY_REQUEST_TIMEOUT_MS: '60000' }).requestTimeoutMs).toBe(60_000);
  });

  it('names every wrong variable at once, so one restart fixes them all', () => {
    expect(() => loadConfig({ PORT: 'abc', DURAPAY_MAX_BODY: 'lots' })).toThrow(
      'PORT must be a port number from 1 to 65535, not "abc"\nDURAPAY_MAX_BODY must be a size such as 512kb or 10mb, not "lots"',
    );
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(
      [
        'DATABASE_URL is required in production: mysql://user:pass@host:port/db',
        'DURAPAY_FIELD_KEYS is required in production: comma-separated keyId:base64(32 bytes), the first one encrypts',
        'DURAPAY_CARD_FINGERPRINT_KEY is required in production: keyId:base64(32 bytes)',
        'DURAPAY_PAYLOAD_KEYS is required in production: comma-separated keyId:base64(32 bytes), the first one encrypts',
      ].join('\n'),
    );
  });

  it('never repeats a wrong DATABASE_URL, which holds a password', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://app:hunter2@db.internal:3306/' })).toThrow(
      /^DATABASE_URL must look like mysql:\/\/user:pass@host:port\/db$/,
    );
  });

  it('takes an empty or blank value as unset, and trims the others', () => {
    const config = loadConfig({ PORT: '', DURAPAY_FIELD_KEYS: '  ', DURAPAY_TASK_QUEUE: ' orders ' });
    expect(config.port).toBe(3000);
    expect(config.fieldKeys).toBeUndefined();
    expect(config.temporal.taskQueue).toBe('orders');
  });

  it('reads the log level, info unless told otherwise', () => {
    expect(loadConfig({}).logLevel).toBe('info');
    expect(loadConfig({ LOG_LEVEL: 'debug' }).logLevel).toBe('debug');
  });

  it('resolves relative paths against the repository, wherever the process was started', () => {
    expect(loadConfig({}).dataDir).toBe(path.join(REPO_ROOT, '.data'));
    expect(loadConfig({ DURAPAY_DATA_DIR: '/var/lib/durapay' }).dataDir).toBe('/var/lib/durapay');
    expect(loadConfig({}).localStack.devTemporalDb).toBe(path.join(REPO_ROOT, '.data', 'temporal.sqlite'));
    expect(loadConfig({ DURAPAY_DEV_TEMPORAL_DB: 'memory' }).localStack.devTemporalDb).toBe('memory');
  });

  it('tells npm start which servers the environment names, so it starts only the others', () => {
    expect(loadConfig({}).localStack).toMatchObject({ databaseGiven: false, temporalGiven: false });
    expect(
      loadConfig({ DATABASE_URL: LOCAL_DATABASE_URL, TEMPORAL_ADDRESS: 'localhost:7233' }).localStack,
    ).toMatchObject({ databaseGiven: true, temporalGiven: true });
  });
});
