import path from 'node:path';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { ClientConnectConfig } from '@temporalio/envconfig';
import { z } from 'zod';
import { parseIsoDuration } from '../domain/durations';
import { LOG_LEVELS, type LogLevel } from '../logging/logger';

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
    /** Longest wait of the API for Temporal to take a call (order writes, upload starts, key rotations); then 503. */
    callDeadlineMs: number;
    /** Temporal calls one API process lets wait at once; past it, 503 at once. */
    maxCallsInFlight: number;
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
  };
  /** The payment provider's HTTP API; undefined when DURAPAY_GATEWAY_URL is unset (see selectGateway). */
  gateway: GatewayConfig | undefined;
  /** Simulated payment gateway latency, to make local runs and benchmarks realistic. */
  gatewayLatencyMs: number;
  reconciliation: {
    /** How often the schedule runs the reconciliation workflow. */
    intervalMs: number;
    /** Payments and charges younger than this at a run's start wait for the next run: they may be in flight. */
    graceMs: number;
  };
  uploads: {
    /** Largest upload file; above it the API answers 413. */
    maxBytes: number;
    /** Rows per chunk (one child workflow, one transaction). */
    chunkRows: number;
    /** Chunk workflows in flight at once. */
    window: number;
    /** Chunks per run of the upload workflow before it continues as new. */
    chunksPerRun: number;
    /** Threads of the worker that import chunks, each with its own database connections. */
    threads: number;
  };
  keyRotation: {
    /** Rows per re-encryption batch (one activity, one transaction). */
    batchRows: number;
    /** Batches per run of the key-rotation workflow before it continues as new. */
    batchesPerRun: number;
  };
  /** Prometheus endpoints, each on a port of its own: off the public API and outside its authentication; 0 is none. */
  metrics: {
    /** The API process's `/metrics`. */
    apiPort: number;
    /** The worker process's `/metrics`: the Temporal SDK's exporter, with the business counters. */
    workerPort: number;
  };
  logLevel: LogLevel;
  /** What `npm start` runs itself when the environment names no server of its own. */
  localStack: {
    /** DATABASE_URL is set: a database that does not answer is an error, not a reason to start MariaDB. */
    databaseGiven: boolean;
    /** TEMPORAL_ADDRESS is set: use that cluster and start no dev server. */
    temporalGiven: boolean;
    /** The dev server's SQLite file, or `memory` for a server that forgets everything when it stops. */
    devTemporalDb: string;
    /** SQLite's `synchronous` for that file, in WAL mode (scripts/lib/dev-server-store.ts says what each risks). */
    devTemporalSynchronous: SqliteSynchronous;
  };
}

export interface GatewayConfig {
  /** Base URL; `v1/charges` is resolved against it. */
  url: string;
  /** Sent as a Bearer token. */
  apiKey: string;
  connectTimeoutMs: number;
  /** Below the charge activity's 30 s start-to-close timeout, so a slow provider fails the attempt here. */
  responseTimeoutMs: number;
}

/** SQLite `synchronous` settings the dev server's file may use (scripts/lib/dev-server-store.ts says what each risks). */
export const SQLITE_SYNCHRONOUS = ['NORMAL', 'OFF', 'FULL'] as const;
export type SqliteSynchronous = (typeof SQLITE_SYNCHRONOUS)[number];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const REPO_ROOT = path.resolve(__dirname, '../..');
export const DEFAULT_DATA_DIR = path.join(REPO_ROOT, '.data');
/** The project-local MariaDB that `npm start` and `npm test` run when DATABASE_URL is not set. */
export const LOCAL_DATABASE_URL = 'mysql://durapay:durapay@127.0.0.1:3307/durapay';

type Env = Record<string, string | undefined>;

/** The error of a bad value: what to write instead, then what was written. */
function fix(expected: string) {
  return { error: (issue: { input?: unknown }) => `${expected}, not "${String(issue.input)}"` };
}

function wholeNumber(min: number, max: number, expected: string) {
  const error = fix(expected);
  return z
    .string()
    .regex(/^\d{1,10}$/, error)
    .transform(Number)
    .pipe(z.int().min(min, error).max(max, error));
}

const milliseconds = () => wholeNumber(0, 999_999_999, 'must be a whole number of milliseconds');
const count = (max: number) => wholeNumber(1, max, `must be a whole number from 1 to ${max}`);
const port = () => wholeNumber(1, 65535, 'must be a port number from 1 to 65535');
/** 0 turns the endpoint off (several workers on one host, or no Prometheus). */
const metricsPort = () => wholeNumber(0, 65535, 'must be a port number from 1 to 65535, or 0 for none');

const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
const BYTE_SIZE = /^(\d+)\s*(b|kb|mb|gb)?$/i;

function byteSize() {
  const error = fix('must be a size such as 512kb or 10mb');
  return z
    .string()
    .regex(BYTE_SIZE, error)
    .refine((value) => parseInt(value, 10) > 0, error)
    .transform((value) => {
      const [, amount, unit = 'b'] = BYTE_SIZE.exec(value)!;
      return Number(amount) * BYTE_UNITS[unit.toLowerCase()]!;
    });
}

const RATE_WINDOWS: Record<string, number> = { s: 1000, min: 60_000, h: 3_600_000 };

function rate() {
  const error = fix('must look like 1200/min (requests per s, min or h)');
  return z
    .string()
    .regex(/^\d{1,7}\/(s|min|h)$/, error)
    .refine((value) => parseInt(value, 10) > 0, error)
    .transform((value) => {
      const [requests, unit] = value.split('/');
      return { requests: Number(requests), windowMs: RATE_WINDOWS[unit!]! };
    });
}

/** An exact browser origin: scheme, host and optional port, no path and no trailing slash. */
function origin() {
  const error = fix('must be an origin like http://localhost:8233 (no path, no trailing slash)');
  return z
    .url({ protocol: /^https?$/, ...error })
    .refine((value) => URL.canParse(value) && new URL(value).origin === value, error);
}

function isoDuration() {
  return z.string().transform((value, ctx) => {
    try {
      return parseIsoDuration(value);
    } catch (error) {
      ctx.issues.push({
        code: 'custom',
        input: value,
        message: `must be an ISO 8601 duration such as P7D: ${(error as Error).message}`,
      });
      return z.NEVER;
    }
  });
}

function mysqlUrl() {
  // The value is not repeated: it holds a password.
  return z.string().refine(
    (url) => {
      try {
        parseDatabaseUrl(url);
        return true;
      } catch {
        return false;
      }
    },
    { error: 'must look like mysql://user:pass@host:port/db' },
  );
}

/** Variables a production process refuses to start without, with the format to write them in. */
const requiredInProduction = z.registry<{ format: string }>();
const KEY_RING = 'comma-separated keyId:base64(32 bytes), the first one encrypts';

/**
 * Every environment variable durapay reads: its name, its default (as it would be written) and what a bad
 * value says. The README's table of variables is checked against it. An empty value counts as unset. The
 * other standard TEMPORAL_* client variables (API key, TLS, profile) are read by @temporalio/envconfig.
 */
export const environment = z.object({
  NODE_ENV: z
    .enum(['development', 'test', 'production'], fix('must be development, test or production'))
    .default('development'),
  PORT: port().prefault('3000'),
  DATABASE_URL: mysqlUrl()
    .optional()
    .register(requiredInProduction, { format: 'mysql://user:pass@host:port/db' }),
  TEMPORAL_ADDRESS: z.string().prefault('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().prefault('default'),
  DURAPAY_TASK_QUEUE: z.string().prefault('durapay'),
  DURAPAY_FIELD_KEYS: z.string().optional().register(requiredInProduction, { format: KEY_RING }),
  DURAPAY_CARD_FINGERPRINT_KEY: z
    .string()
    .optional()
    .register(requiredInProduction, { format: 'keyId:base64(32 bytes)' }),
  DURAPAY_PAYLOAD_KEYS: z.string().optional().register(requiredInProduction, { format: KEY_RING }),
  DURAPAY_CODEC_CORS_ORIGIN: origin().prefault('http://localhost:8233'),
  DURAPAY_API_KEYS: z.string().optional(),
  DURAPAY_RATE_LIMIT: rate().prefault('1200/min'),
  DURAPAY_MAX_BODY: byteSize().prefault('1mb'),
  DURAPAY_KEEP_ALIVE_MS: milliseconds().prefault('65000'),
  DURAPAY_REQUEST_TIMEOUT_MS: milliseconds().prefault('1800000'),
  DURAPAY_PAYMENT_DEADLINE: isoDuration().prefault('P7D'),
  DURAPAY_PAYMENT_WAIT_MS: milliseconds().prefault('10000'),
  DURAPAY_TEMPORAL_DEADLINE_MS: milliseconds().prefault('5000'),
  DURAPAY_TEMPORAL_MAX_IN_FLIGHT: count(100_000).prefault('200'),
  DURAPAY_GATEWAY_URL: z
    .url({ protocol: /^https?$/, ...fix('must be an http(s) URL such as https://api.provider.example') })
    .optional(),
  DURAPAY_GATEWAY_KEY: z.string().optional(),
  DURAPAY_GATEWAY_CONNECT_TIMEOUT_MS: milliseconds().prefault('2000'),
  DURAPAY_GATEWAY_TIMEOUT_MS: wholeNumber(
    1,
    25_000,
    'must be a whole number of milliseconds from 1 to 25000',
  ).prefault('10000'),
  DURAPAY_GATEWAY_LATENCY_MS: milliseconds().prefault('0'),
  DURAPAY_RECONCILIATION_INTERVAL: isoDuration()
    .refine((ms) => ms >= 60_000, 'must be at least one minute (PT1M)')
    .prefault('PT1H'),
  DURAPAY_RECONCILIATION_GRACE: isoDuration().prefault('PT10M'),
  DURAPAY_MAX_UPLOAD: byteSize().prefault('1gb'),
  DURAPAY_UPLOAD_CHUNK_ROWS: count(100_000).prefault('10000'),
  DURAPAY_UPLOAD_WINDOW: count(500).prefault('4'),
  DURAPAY_UPLOAD_CHUNKS_PER_RUN: count(1000).prefault('100'),
  DURAPAY_UPLOAD_THREADS: count(64).prefault('2'),
  DURAPAY_ROTATION_BATCH_ROWS: count(10_000).prefault('500'),
  DURAPAY_ROTATION_BATCHES_PER_RUN: count(1000).prefault('200'),
  DURAPAY_DATA_DIR: z.string().prefault('.data'),
  DURAPAY_DEV_TEMPORAL_DB: z.string().prefault('.data/temporal.sqlite'),
  // SQLite ignores a value it does not know, which would silently keep its slow default.
  DURAPAY_DEV_TEMPORAL_SYNCHRONOUS: z
    .enum(SQLITE_SYNCHRONOUS, fix('must be NORMAL, OFF or FULL'))
    .default('NORMAL'),
  DURAPAY_API_METRICS_PORT: metricsPort().prefault('9464'),
  DURAPAY_WORKER_METRICS_PORT: metricsPort().prefault('9465'),
  LOG_LEVEL: z.enum(LOG_LEVELS, fix('must be debug, info, warn or error')).default('info'),
});

const checkedEnvironment = environment.superRefine((env, ctx) => {
  if (env.DURAPAY_GATEWAY_URL !== undefined && env.DURAPAY_GATEWAY_KEY === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['DURAPAY_GATEWAY_KEY'],
      message: 'is required with DURAPAY_GATEWAY_URL: the API key of that provider',
    });
  }
  if (env.NODE_ENV !== 'production') return;
  for (const [name, schema] of Object.entries(environment.shape)) {
    const required = requiredInProduction.get(schema);
    if (required && (env as Record<string, unknown>)[name] === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `is required in production: ${required.format}`,
      });
    }
  }
});

/** The typed configuration, or a ConfigError naming every bad variable and what to write instead. */
export function loadConfig(env: Env = process.env): Config {
  const given = withoutBlanks(env);
  const parsed = checkedEnvironment.safeParse(given);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('\n'),
    );
  }
  const e = parsed.data;
  const temporal = loadTemporalClientConfig(given);
  const fromRepo = (file: string) => path.resolve(REPO_ROOT, file);

  return {
    env: e.NODE_ENV,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL ?? LOCAL_DATABASE_URL,
    dataDir: fromRepo(e.DURAPAY_DATA_DIR),
    maxBodyBytes: e.DURAPAY_MAX_BODY,
    keepAliveTimeoutMs: e.DURAPAY_KEEP_ALIVE_MS,
    requestTimeoutMs: e.DURAPAY_REQUEST_TIMEOUT_MS,
    temporal: {
      // A TEMPORAL_* variable wins over a profile in the config file, which wins over our default.
      connection: {
        ...temporal.connectionOptions,
        address: temporal.connectionOptions.address ?? e.TEMPORAL_ADDRESS,
      },
      namespace: temporal.namespace ?? e.TEMPORAL_NAMESPACE,
      taskQueue: e.DURAPAY_TASK_QUEUE,
      callDeadlineMs: e.DURAPAY_TEMPORAL_DEADLINE_MS,
      maxCallsInFlight: e.DURAPAY_TEMPORAL_MAX_IN_FLIGHT,
    },
    fieldKeys: e.DURAPAY_FIELD_KEYS,
    security: {
      apiKeys: e.DURAPAY_API_KEYS,
      payloadKeys: e.DURAPAY_PAYLOAD_KEYS,
      cardFingerprintKey: e.DURAPAY_CARD_FINGERPRINT_KEY,
      rateLimit: e.DURAPAY_RATE_LIMIT,
      codecCorsOrigin: e.DURAPAY_CODEC_CORS_ORIGIN,
    },
    orders: {
      defaultDeadlineMs: e.DURAPAY_PAYMENT_DEADLINE,
      paymentWaitMs: e.DURAPAY_PAYMENT_WAIT_MS,
    },
    gateway:
      e.DURAPAY_GATEWAY_URL === undefined
        ? undefined
        : {
            url: e.DURAPAY_GATEWAY_URL,
            apiKey: e.DURAPAY_GATEWAY_KEY!,
            connectTimeoutMs: e.DURAPAY_GATEWAY_CONNECT_TIMEOUT_MS,
            responseTimeoutMs: e.DURAPAY_GATEWAY_TIMEOUT_MS,
          },
    gatewayLatencyMs: e.DURAPAY_GATEWAY_LATENCY_MS,
    reconciliation: {
      intervalMs: e.DURAPAY_RECONCILIATION_INTERVAL,
      graceMs: e.DURAPAY_RECONCILIATION_GRACE,
    },
    uploads: {
      maxBytes: e.DURAPAY_MAX_UPLOAD,
      chunkRows: e.DURAPAY_UPLOAD_CHUNK_ROWS,
      window: e.DURAPAY_UPLOAD_WINDOW,
      chunksPerRun: e.DURAPAY_UPLOAD_CHUNKS_PER_RUN,
      threads: e.DURAPAY_UPLOAD_THREADS,
    },
    keyRotation: {
      batchRows: e.DURAPAY_ROTATION_BATCH_ROWS,
      batchesPerRun: e.DURAPAY_ROTATION_BATCHES_PER_RUN,
    },
    metrics: { apiPort: e.DURAPAY_API_METRICS_PORT, workerPort: e.DURAPAY_WORKER_METRICS_PORT },
    logLevel: e.LOG_LEVEL,
    localStack: {
      databaseGiven: e.DATABASE_URL !== undefined,
      temporalGiven: given.TEMPORAL_ADDRESS !== undefined,
      devTemporalDb: e.DURAPAY_DEV_TEMPORAL_DB === 'memory' ? 'memory' : fromRepo(e.DURAPAY_DEV_TEMPORAL_DB),
      devTemporalSynchronous: e.DURAPAY_DEV_TEMPORAL_SYNCHRONOUS,
    },
  };
}

function loadTemporalClientConfig(env: Record<string, string>): ClientConnectConfig {
  try {
    return loadClientConnectConfig({ overrideEnvVars: env });
  } catch (error) {
    throw new ConfigError(`Temporal client configuration (TEMPORAL_*): ${(error as Error).message}`);
  }
}

/** Trimmed values, without the unset and the blank ones. */
function withoutBlanks(env: Env): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env)
      .map(([name, value]) => [name, value?.trim()] as const)
      .filter((entry): entry is readonly [string, string] => Boolean(entry[1])),
  );
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
  const port = parsed.port ? Number(parsed.port) : 3306;
  if (parsed.protocol !== 'mysql:' || !parsed.hostname || !database || port < 1) {
    throw new ConfigError('DATABASE_URL must look like mysql://user:pass@host:port/db');
  }
  return {
    host: parsed.hostname,
    port,
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database,
  };
}
