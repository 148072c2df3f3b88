/**
 * The API keys the benches send. A stack the bench starts gets them through DURAPAY_API_KEYS, with a rate
 * limit no bench load reaches: the bench measures the API, not its limiter. A stack that is already running
 * knows other keys: pass two of them as BENCH_CLIENT_KEY and BENCH_OPERATOR_KEY (for `npm start`, they are in
 * .data/durapay_api_keys.dev), and start that stack with a high DURAPAY_RATE_LIMIT.
 */
import { generateApiKey } from '../../src/api/auth/api-keys';

const keys = {
  client: process.env.BENCH_CLIENT_KEY || generateApiKey(),
  operator: process.env.BENCH_OPERATOR_KEY || generateApiKey(),
};

/** Whether the keys came from the environment, so a stack the bench did not start may know them. */
export const keysGiven = Boolean(process.env.BENCH_CLIENT_KEY && process.env.BENCH_OPERATOR_KEY);

/** Environment of a stack the bench starts. */
export const benchStackEnv = {
  DURAPAY_API_KEYS: `${keys.client}:client:bench-client,${keys.operator}:operator:bench-operator`,
  DURAPAY_RATE_LIMIT: '9999999/s',
};

/** Orders are created, read and paid as a client; uploads and exports are for operators. */
export function authHeader(role: 'client' | 'operator'): { authorization: string } {
  return { authorization: `Bearer ${keys[role]}` };
}
