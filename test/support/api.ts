import type { Connection } from '@temporalio/client';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type Koa from 'koa';
import { createApp } from '../../src/api/app';
import type { ApiMetrics } from '../../src/api/http/metrics';
import { API_ROUTES, openApiPath, openApiSpec } from '../../src/api/docs/openapi';
import { parseApiKeys } from '../../src/api/auth/api-keys';
import type { CardFingerprinter } from '../../src/crypto/card-fingerprint';
import type { FieldCipher } from '../../src/crypto/field-cipher';
import { loadConfig, type Config } from '../../src/config';
import type { Db } from '../../src/db/knex';
import { createLogger } from '../../src/logging/logger';
import { listen, type RunningApp } from './http';
import { testPayloadKeyRing } from './temporal';
import { testCipher, testFingerprinter } from './orders';

/** The test API's callers: principal `ops` (operator) and the clients `alice` and `bob`. */
export const TEST_API_KEYS = {
  operator: 'test-key-operator-ops-0000000000',
  alice: 'test-key-client-alice-000000000',
  bob: 'test-key-client-bob-00000000000',
} as const;
export type TestCaller = keyof typeof TEST_API_KEYS;

const TEST_API_KEYS_SPEC = [
  `${TEST_API_KEYS.operator}:operator:ops`,
  `${TEST_API_KEYS.alice}:client:alice`,
  `${TEST_API_KEYS.bob}:client:bob`,
].join(',');

/** `Authorization: Bearer <key>` of a test caller, to spread into a request's headers. */
export function authHeaders(caller: TestCaller): { authorization: string } {
  return { authorization: `Bearer ${TEST_API_KEYS[caller]}` };
}

export interface TestApi extends RunningApp {
  config: Config;
  keys: typeof TEST_API_KEYS;
  headers: typeof authHeaders;
  /** Every line the API logged, for tests that prove what never reaches a log. */
  logLines: string[];
}

/**
 * The real Koa app on a free port, wired to the given database and Temporal connection. It knows the
 * TEST_API_KEYS and, unless `env` says otherwise, limits each caller so generously that no test meets it.
 */
export async function startTestApi(
  deps: {
    db: Db;
    connection: Connection;
    taskQueue?: string;
    cipher?: FieldCipher;
    fingerprinter?: CardFingerprinter;
    /** Default: a free one. */
    port?: number;
    /** Default: the app's own, unread. */
    metrics?: ApiMetrics;
  },
  env: Record<string, string> = {},
): Promise<TestApi> {
  const config = loadConfig({
    NODE_ENV: 'test',
    DURAPAY_TASK_QUEUE: deps.taskQueue ?? 'durapay-test',
    DURAPAY_API_KEYS: TEST_API_KEYS_SPEC,
    DURAPAY_RATE_LIMIT: '1000000/min',
    ...env,
  });
  const logLines: string[] = [];
  const logger = createLogger({ service: 'api' }, { write: (line) => logLines.push(line) });
  const app = createApp({
    config,
    db: deps.db,
    connection: deps.connection,
    cipher: deps.cipher ?? testCipher(),
    fingerprinter: deps.fingerprinter ?? testFingerprinter(),
    logger,
    apiKeys: parseApiKeys(config.security.apiKeys ?? '', 'DURAPAY_API_KEYS'),
    payloadKeys: testPayloadKeyRing,
    metrics: deps.metrics,
  });
  app.middleware.unshift(checkAgainstSpec);
  return {
    ...(await listen(app, config, deps.port)),
    config,
    keys: TEST_API_KEYS,
    headers: authHeaders,
    logLines,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Every answer a test API gives is checked against the generated OpenAPI document: its status is one the
// operation lists (or `default`), its content type one listed for that status, a JSON body validates
// against that schema, and the required headers are there. A test that saw an answer off the contract
// fails after it runs.

const SPEC_ID = 'durapay-openapi.json';
const violations: string[] = [];

if (typeof afterEach === 'function') {
  afterEach(() => {
    const seen = violations.splice(0);
    if (seen.length > 0) throw new Error(`answers off the OpenAPI document:\n${seen.join('\n')}`);
  });
}

type Json = Record<string, any>;
const spec = openApiSpec as unknown as Json;
let ajv: Ajv2020 | undefined;

/** The schema at a JSON pointer of the document, compiled with the whole document so `$ref`s resolve. */
export function specSchemaAt(pointer: readonly string[]): ValidateFunction {
  if (!ajv) {
    ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
    addFormats(ajv);
    ajv.addFormat('byte', /^[A-Za-z0-9+/_-]*={0,2}$/);
    // The document's top-level members are not JSON Schema keywords; only schemas inside it are compiled.
    ajv.addVocabulary(Object.keys(spec));
    ajv.addSchema(structuredClone(spec), SPEC_ID);
  }
  const encoded = pointer.map((part) => encodeURIComponent(part.replace(/~/g, '~0').replace(/\//g, '~1')));
  const validate = ajv.getSchema(`${SPEC_ID}#/${encoded.join('/')}`);
  if (!validate) throw new Error(`no schema at #/${pointer.join('/')}`);
  return validate;
}

const ROUTE_MATCHERS = API_ROUTES.map((route) => ({
  method: route.method.toUpperCase(),
  path: openApiPath(route.path),
  pattern: new RegExp(`^${route.path.replace(/:[A-Za-z0-9_]+/g, '[^/]+')}$`),
}));

/** The documented response for a status, resolving a `$ref` to `components.responses`, and where it is. */
export function documentedResponse(path: string, method: string, status: number) {
  const responses = (spec.paths[path]?.[method.toLowerCase()]?.responses ?? {}) as Json;
  const key = String(status) in responses ? String(status) : 'default';
  const response = responses[key] as Json | undefined;
  if (!response) return undefined;
  const name = /^#\/components\/responses\/(.+)$/.exec(String(response.$ref))?.[1];
  return name
    ? { response: spec.components.responses[name] as Json, pointer: ['components', 'responses', name] }
    : { response, pointer: ['paths', path, method.toLowerCase(), 'responses', key] };
}

export interface SeenAnswer {
  method: string;
  path: string;
  status: number;
  /** The media type, without parameters. */
  type: string;
  header: (name: string) => string;
  body: unknown;
}

/** What is off the document in an answer; nothing for a path no route has (a 404 for an unknown URL). */
export function offContract(answer: SeenAnswer): string[] {
  const method = answer.method === 'HEAD' ? 'GET' : answer.method;
  const route = ROUTE_MATCHERS.find((each) => each.method === method && each.pattern.test(answer.path));
  if (!route) return [];
  const where = `${answer.method} ${answer.path} → ${answer.status}`;
  const documented = documentedResponse(route.path, method, answer.status);
  if (!documented) return [`${where}: status not documented`];
  const { response, pointer } = documented;
  const content = (response.content ?? {}) as Json;
  if (Object.keys(content).length === 0 ? answer.body != null : !(answer.type in content)) {
    return [`${where}: content type "${answer.type}" is not one of ${Object.keys(content).join(', ')}`];
  }
  const problems: string[] = [];
  for (const [name, header] of Object.entries((response.headers ?? {}) as Json)) {
    if ((header as Json).required && !answer.header(name)) problems.push(`${where}: no ${name} header`);
  }
  const json = /json$/.test(answer.type) && typeof answer.body === 'object' && answer.body !== null;
  if (answer.method !== 'HEAD' && json) {
    const validate = specSchemaAt([...pointer, 'content', answer.type, 'schema']);
    if (!validate(JSON.parse(JSON.stringify(answer.body)))) {
      problems.push(`${where}: ${JSON.stringify(validate.errors)}`);
    }
  }
  return problems;
}

const checkAgainstSpec: Koa.Middleware = async (ctx, next) => {
  await next();
  violations.push(
    ...offContract({
      method: ctx.method,
      path: ctx.path,
      status: ctx.status,
      type: ctx.response.type,
      header: (name) => ctx.response.get(name),
      body: ctx.body,
    }),
  );
};
