import { redactingReplacer } from './redact';

/**
 * One structured logger: a JSON object per line on stdout, so a supervisor or log shipper can parse it.
 * Every line passes through the redaction rules, so no card number, CVC, email or key is ever written.
 */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(
  base: LogFields = {},
  options: { level?: LogLevel; write?: (line: string) => void } = {},
): Logger {
  const threshold = RANK[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (RANK[level] < threshold) return;
    write(
      JSON.stringify(
        { time: new Date().toISOString(), level, msg: message, ...base, ...fields },
        redactingReplacer,
      ),
    );
  };
  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
    child: (fields) => createLogger({ ...base, ...fields }, options),
  };
}
