import { z } from 'zod';

/** The sandbox provider's settings. It is a service of its own, so it reads its own variables only. */
export interface SandboxConfig {
  /** 0 takes a free port (the tests do; the log line `sandbox listening` names it). */
  port: number;
  /** The Bearer key every endpoint requires; durapay sends it as DURAPAY_GATEWAY_KEY. */
  apiKey: string;
  /** A database of its own, created at start if missing, for charges and idempotency records. */
  databaseUrl: string;
}

export const DEFAULT_SANDBOX_PORT = 4010;
const DEFAULT_DATABASE_URL = 'mysql://durapay:durapay@127.0.0.1:3307/durapay_sandbox';

const environment = z.object({
  DURAPAY_SANDBOX_PORT: z
    .string()
    .regex(/^\d{1,5}$/, 'must be a port number from 0 to 65535')
    .transform(Number)
    .pipe(z.number().max(65535, 'must be a port number from 0 to 65535'))
    .default(DEFAULT_SANDBOX_PORT),
  DURAPAY_SANDBOX_KEY: z
    .string({ error: 'is required: the Bearer key callers must send' })
    .min(24, 'must be at least 24 characters'),
  DURAPAY_SANDBOX_DATABASE_URL: z
    .url({ protocol: /^mysql$/, error: 'must be mysql://user:pass@host:port/database' })
    .refine((url) => new URL(url).pathname.length > 1, 'must name a database')
    .default(DEFAULT_DATABASE_URL),
});

export class SandboxConfigError extends Error {
  override name = 'SandboxConfigError';
}

export function loadSandboxConfig(env: NodeJS.ProcessEnv = process.env): SandboxConfig {
  const parsed = environment.safeParse(env);
  if (!parsed.success) {
    // Names the variable and the rule, never the value: the key is a secret.
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`);
    throw new SandboxConfigError(`sandbox configuration: ${problems.join('; ')}`);
  }
  return {
    port: parsed.data.DURAPAY_SANDBOX_PORT,
    apiKey: parsed.data.DURAPAY_SANDBOX_KEY,
    databaseUrl: parsed.data.DURAPAY_SANDBOX_DATABASE_URL,
  };
}
