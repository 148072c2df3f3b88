import pino from 'pino';
import { redactingReplacer, redactText } from './redact';

/**
 * One structured logger, pino underneath: a JSON object per line on stdout, so a supervisor or log shipper
 * can parse it. pino's own `redact` paths cannot see free text, so every part of a line passes through our
 * redaction rules instead: the message (a hook), the fields (a formatter) and a child's bindings. No card
 * number, CVC, email or key is ever written.
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

/**
 * Fields as JSON would write them, with secret fields hidden whole and every string scrubbed. Flat fields
 * (a request line) are scrubbed in place of the JSON round trip nested ones need, which cost more than the
 * rest of the line.
 */
function redactFields(fields: object): LogFields {
  const flat: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    if ((typeof value === 'object' && value !== null) || typeof value === 'bigint') {
      return JSON.parse(JSON.stringify(fields, redactingReplacer)) as LogFields;
    }
    if (value !== undefined) flat[key] = redactingReplacer(key, value);
  }
  return flat;
}

let stdoutDestination: pino.DestinationStream | undefined;

/**
 * The process's stdout, written in batches of 4 KiB or every 100 ms, whichever comes first, and at exit: a
 * write per line cost the `npm start` relay reading the API's output a tenth of a core at 2,000 requests a
 * second (BENCHMARKS.md, "Read path"). Writes stay synchronous, so a slow reader slows the process rather
 * than letting lines pile up in memory.
 */
function stdout(): pino.DestinationStream {
  if (!stdoutDestination) {
    const destination = pino.destination({ sync: true, minLength: 4096, periodicFlush: 100 });
    process.once('exit', () => {
      try {
        destination.flushSync();
      } catch {
        // Nobody reads stdout any more (EPIPE): the lines have nowhere to go.
      }
    });
    stdoutDestination = destination;
  }
  return stdoutDestination;
}

export function createLogger(
  base: LogFields = {},
  options: { level?: LogLevel; write?: (line: string) => void } = {},
): Logger {
  const write = options.write;
  const root = pino(
    {
      level: options.level ?? 'info',
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: redactFields,
      },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((arg) => (typeof arg === 'string' ? redactText(arg) : arg)) as typeof args,
          );
        },
      },
    },
    // pino ends each line with a newline; a caller's writer takes the line without it.
    write ? { write: (line: string) => write(line.replace(/\n$/, '')) } : stdout(),
  );
  return wrap(root.child(redactFields(base)));
}

function wrap(logger: pino.Logger): Logger {
  return {
    debug: (message, fields) => logger.debug(fields ?? {}, message),
    info: (message, fields) => logger.info(fields ?? {}, message),
    warn: (message, fields) => logger.warn(fields ?? {}, message),
    error: (message, fields) => logger.error(fields ?? {}, message),
    // pino serializes a child's bindings once, without the formatters: they are scrubbed here.
    child: (fields) => wrap(logger.child(redactFields(fields))),
  };
}
