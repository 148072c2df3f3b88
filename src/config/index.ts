import path from 'node:path';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { ClientConnectConfig } from '@temporalio/envconfig';
import { parseIsoDuration } from '../domain/durations';

/** The one typed view of the environment. Everything else receives a Config; nothing else reads process.env. */
export interface Config {
  env: 'development' | 'test' | 'production';
  port: number;
  databaseUrl: string;
  dataDir: string;
  maxBodyBytes: number;
  /**
   * How long the API keeps an idle keep-alive connection open. Above a load balancer's idle timeout, so the
   * balancer, not the API, closes idle connections and never sends on one the API has just closed.
   */
  keepAliveTimeoutMs: number;
  /**
   * Longest time to receive a whole request, body included (Node's default is 5 minutes). An upload streams
   * into staging as fast as staging writes, so an upload of the largest allowed size must fit in it.
   */
  requestTimeoutMs: number;
  temporal: {
    connection: ClientConnectConfig['connectionOptions'];
    namespace: string;
    taskQueue: string;
  };
  /** Raw key-ring spec (`id:base64,…`, first is active); undefined means "generate a development key". */
  fieldKeys: string | undefined;
  security: {
    /** Raw `key:role:principal,…` spec; undefined means "generate development keys". Only the API needs it. */
    apiKeys: string | undefined;
    /** Key ring of the Temporal payload codec, same format as fieldKeys. */
    payloadKeys: string | undefined;
    /** `id:base64` HMAC key for card fingerprints, separate from every encryption key. */
    cardFingerprintKey: string | undefined;
    /** Per API key: at most `requests` per `windowMs`, refilled continuously (token bucket). */
    rateLimit: { requests: number; windowMs: number };
    /** The Temporal Web UI origin allowed to call the codec server (CORS), without a trailing slash. */
    codecCorsOrigin: string;
  };
  orders: {
    /** Payment window of a new order unless the request names one. */
    defaultDeadlineMs: number;
    /** How long `POST /orders/:id/payments?wait=true` waits for the outcome before answering 202. */
    paymentWaitMs: number;
    /** Longest wait for Temporal to take a start, signal or update; past it the API answers 503 at once. */
    temporalDeadlineMs: number;
    /** Temporal calls (starts, signals, updates) one API process lets wait at once; past it, 503 at once. */
    maxTemporalCallsInFlight: number;
  };
  /** Simulated payment gateway latency, to make local runs and benchmarks realistic. */
  gatewayLatencyMs: number;
  uploads: {
    /** Largest upload file; above it the API answers 413. */
    maxBytes: number;
    /** Rows per chunk (one child workflow, one transaction). */
    chunkRows: number;
    /** Chunk workflows in flight at once. */
    window: number;
    /** Chunks per run of the upload workflow before it continues as new. */
    chunksPerRun: number;
  };
  keyRotation: {
    /** Rows per re-encryption batch (one activity, one transaction). */
    batchRows: number;
    /** Batches per run of the key-rotation workflow before it continues as new. */
    batchesPerRun: number;
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const REPO_ROOT = path.resolve(__dirname, '../..');
export const DEFAULT_DATA_DIR = path.join(REPO_ROOT, '.data');
/** The project-local MariaDB that `npm start` and `npm test` run when DATABASE_URL is not set. */
export const LOCAL_DATABASE_URL = 'mysql://durapay:durapay@127.0.0.1:3307/durapay';

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = parseNodeEnv(env.NODE_ENV);
  const production = nodeEnv === 'production';
  const temporal = loadClientConnectConfig({ overrideEnvVars: definedOnly(env) });

  const databaseUrl = env.DATABASE_URL ?? (production ? undefined : LOCAL_DATABASE_URL);
  if (!databaseUrl)
    throw new ConfigError('DATABASE_URL is required in production (mysql://user:pass@host:port/db)');
  parseDatabaseUrl(databaseUrl);

  const fieldKeys = nonEmpty(env.DURAPAY_FIELD_KEYS);
  const payloadKeys = nonEmpty(env.DURAPAY_PAYLOAD_KEYS);
  const cardFingerprintKey = nonEmpty(env.DURAPAY_CARD_FINGERPRINT_KEY);
  const apiKeys = nonEmpty(env.DURAPAY_API_KEYS);
  if (production) {
    const keyRing = 'comma-separated keyId:base64(32 bytes), the first one encrypts';
    requireInProduction('DURAPAY_FIELD_KEYS', fieldKeys, keyRing);
    requireInProduction('DURAPAY_PAYLOAD_KEYS', payloadKeys, keyRing);
    requireInProduction('DURAPAY_CARD_FINGERPRINT_KEY', cardFingerprintKey, 'keyId:base64(32 bytes)');
  }

  return {
    env: nodeEnv,
    port: parsePort(env.PORT ?? '3000', 'PORT'),
    databaseUrl,
    dataDir: path.resolve(env.DURAPAY_DATA_DIR ?? DEFAULT_DATA_DIR),
    maxBodyBytes: parseByteSize(env.DURAPAY_MAX_BODY ?? '1mb', 'DURAPAY_MAX_BODY'),
    keepAliveTimeoutMs: parseMillis(env.DURAPAY_KEEP_ALIVE_MS ?? '65000', 'DURAPAY_KEEP_ALIVE_MS'),
    requestTimeoutMs: parseMillis(env.DURAPAY_REQUEST_TIMEOUT_MS ?? '1800000', 'DURAPAY_REQUEST_TIMEOUT_MS'),
    temporal: {
      connection: {
        ...temporal.connectionOptions,
        address: temporal.connectionOptions.address ?? 'localhost:7233',
      },
      namespace: temporal.namespace ?? 'default',
      taskQueue: nonEmpty(env.DURAPAY_TASK_QUEUE) ?? 'durapay',
    },
    fieldKeys,
    security: {
      apiKeys,
      payloadKeys,
      cardFingerprintKey,
      rateLimit: parseRate(env.DURAPAY_RATE_LIMIT ?? '1200/min', 'DURAPAY_RATE_LIMIT'),
      codecCorsOrigin: parseOrigin(
        env.DURAPAY_CODEC_CORS_ORIGIN ?? 'http://localhost:8233',
        'DURAPAY_CODEC_CORS_ORIGIN',
      ),
    },
    orders: {
      defaultDeadlineMs: parseDuration(env.DURAPAY_PAYMENT_DEADLINE ?? 'P7D', 'DURAPAY_PAYMENT_DEADLINE'),
      paymentWaitMs: parseMillis(env.DURAPAY_PAYMENT_WAIT_MS ?? '10000', 'DURAPAY_PAYMENT_WAIT_MS'),
      temporalDeadlineMs: parseMillis(
        env.DURAPAY_TEMPORAL_DEADLINE_MS ?? '5000',
        'DURAPAY_TEMPORAL_DEADLINE_MS',
      ),
      maxTemporalCallsInFlight: parseCount(
        env.DURAPAY_TEMPORAL_MAX_IN_FLIGHT ?? '200',
        'DURAPAY_TEMPORAL_MAX_IN_FLIGHT',
        100_000,
      ),
    },
    gatewayLatencyMs: parseMillis(env.DURAPAY_GATEWAY_LATENCY_MS ?? '0', 'DURAPAY_GATEWAY_LATENCY_MS'),
    uploads: {
      maxBytes: parseByteSize(env.DURAPAY_MAX_UPLOAD ?? '1gb', 'DURAPAY_MAX_UPLOAD'),
      chunkRows: parseCount(env.DURAPAY_UPLOAD_CHUNK_ROWS ?? '2500', 'DURAPAY_UPLOAD_CHUNK_ROWS', 100_000),
      window: parseCount(env.DURAPAY_UPLOAD_WINDOW ?? '8', 'DURAPAY_UPLOAD_WINDOW', 500),
      chunksPerRun: parseCount(
        env.DURAPAY_UPLOAD_CHUNKS_PER_RUN ?? '100',
        'DURAPAY_UPLOAD_CHUNKS_PER_RUN',
        1000,
      ),
    },
    keyRotation: {
      batchRows: parseCount(env.DURAPAY_ROTATION_BATCH_ROWS ?? '500', 'DURAPAY_ROTATION_BATCH_ROWS', 10_000),
      batchesPerRun: parseCount(
        env.DURAPAY_ROTATION_BATCHES_PER_RUN ?? '200',
        'DURAPAY_ROTATION_BATCHES_PER_RUN',
        1000,
      ),
    },
  };
}

function requireInProduction(name: string, value: string | undefined, format: string): void {
  if (!value) throw new ConfigError(`${name} is required in production: ${format}`);
}

const RATE_WINDOWS: Record<string, number> = { s: 1000, min: 60_000, h: 3_600_000 };

/** `<requests>/<s|min|h>`, for example `1200/min`. */
function parseRate(value: string, name: string): { requests: number; windowMs: number } {
  const match = /^(\d{1,7})\/(s|min|h)$/.exec(value.trim());
  const windowMs = match ? RATE_WINDOWS[match[2]!] : undefined;
  if (!match || windowMs === undefined || Number(match[1]) < 1) {
    throw new ConfigError(`${name} must look like 1200/min (requests per s, min or h), not "${value}"`);
  }
  return { requests: Number(match[1]), windowMs };
}

/** An exact browser origin: scheme, host and optional port, no path and no trailing slash. */
function parseOrigin(value: string, name: string): string {
  const origin = value.trim();
  let parsed: URL | undefined;
  try {
    parsed = new URL(origin);
  } catch {
    parsed = undefined;
  }
  if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
    throw new ConfigError(
      `${name} must be an origin like http://localhost:8233 (no path, no trailing slash)`,
    );
  }
  return origin;
}

function parseDuration(value: string, name: string): number {
  try {
    return parseIsoDuration(value);
  } catch (error) {
    throw new ConfigError(`${name}: ${(error as Error).message}`);
  }
}

function parseCount(value: string, name: string, max: number): number {
  if (!/^\d{1,7}$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw new ConfigError(`${name} must be a whole number from 1 to ${max}, not "${value}"`);
  }
  return Number(value);
}

function parseMillis(value: string, name: string): number {
  if (!/^\d{1,9}$/.test(value))
    throw new ConfigError(`${name} must be a whole number of milliseconds, not "${value}"`);
  return Number(value);
}

function parseNodeEnv(value: string | undefined): Config['env'] {
  const nodeEnv = value ?? 'development';
  if (nodeEnv === 'development' || nodeEnv === 'test' || nodeEnv === 'production') return nodeEnv;
  throw new ConfigError(`NODE_ENV must be development, test or production, not "${nodeEnv}"`);
}

function definedOnly(env: Env): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function parsePort(value: string, name: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) {
    throw new ConfigError(`${name} must be a port number from 1 to 65535, not "${value}"`);
  }
  return port;
}

export interface DatabaseAddress {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export function parseDatabaseUrl(url: string): DatabaseAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('DATABASE_URL is not a URL; expected mysql://user:pass@host:port/db');
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (parsed.protocol !== 'mysql:' || !parsed.hostname || !database) {
    throw new ConfigError('DATABASE_URL must look like mysql://user:pass@host:port/db');
  }
  return {
    host: parsed.hostname,
    port: parsed.port ? parsePort(parsed.port, 'DATABASE_URL port') : 3306,
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database,
  };
}

const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

export function parseByteSize(value: string, name: string): number {
  const match = /^(\d+)\s*(b|kb|mb|gb)?$/i.exec(value.trim());
  const unit = BYTE_UNITS[(match?.[2] ?? 'b').toLowerCase()];
  if (!match || unit === undefined || Number(match[1]) === 0) {
    throw new ConfigError(`${name} must be a size such as 512kb or 10mb, not "${value}"`);
  }
  return Number(match[1]) * unit;
}
