import { Format, SingleBar } from 'cli-progress';

/**
 * Where a command's output goes. The result goes to stdout: JSON with --json, else plain lines. Progress
 * goes to stderr: a live bar on a terminal, an occasional plain line elsewhere, nothing with --json.
 */
export interface Output {
  readonly json: boolean;
  /** The command's result: `value` as JSON, or the lines describing it. */
  result(value: unknown, lines: () => string[]): void;
  /** A message to the person at the terminal (stderr); never with --json. */
  note(line: string): void;
  progress(spec: ProgressSpec): Progress;
}

export interface ProgressSpec {
  label: string;
  /** Values of the bar; without it the line shows only the details (a download of unknown size). */
  total?: number;
}

export interface Progress {
  /** `details` is the text after the bar: counts, rate. */
  update(value: number, details: string, total?: number): void;
  stop(): void;
}

/** Plain progress lines at most this often, so a log is not flooded. */
const PLAIN_INTERVAL_MS = 2000;

export function createOutput(options: {
  json: boolean;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
}): Output {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const { json } = options;
  return {
    json,
    result(value, lines) {
      stdout.write(
        json
          ? `${JSON.stringify(value, null, 2)}\n`
          : lines()
              .map((line) => `${line}\n`)
              .join(''),
      );
    },
    note(line) {
      if (!json) stderr.write(`${line}\n`);
    },
    progress(spec) {
      if (json) return { update: () => undefined, stop: () => undefined };
      return stderr.isTTY ? barProgress(spec, stderr) : plainProgress(spec, stderr);
    },
  };
}

function barProgress(spec: ProgressSpec, stream: NodeJS.WriteStream): Progress {
  const bounded = spec.total !== undefined;
  const bar = new SingleBar({
    stream,
    format: bounded
      ? `${spec.label} {bar} {percentage}% | {details} | ETA {eta_formatted}`
      : `${spec.label} {details} | {duration_formatted}`,
    barCompleteChar: '█',
    barIncompleteChar: '░',
    hideCursor: true,
    // Before anything has moved the ETA is unknown: cli-progress then passes "INF" or "NULL".
    formatTime: (time, options, roundTo) =>
      typeof time === 'number' ? Format.TimeFormat(time, options, roundTo) : '?',
    etaBuffer: 20,
    fps: 5,
  });
  bar.start(spec.total ?? 1, 0, { details: '' });
  // The bar hides the cursor: give it back on Ctrl-C.
  const interrupted = () => {
    bar.stop();
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  return {
    update(value, details, total) {
      if (total !== undefined && total !== bar.getTotal()) bar.setTotal(total);
      if (bounded) bar.update(value, { details });
      else bar.update({ details });
    },
    stop() {
      process.off('SIGINT', interrupted);
      bar.stop();
    },
  };
}

function plainProgress(spec: ProgressSpec, stream: NodeJS.WriteStream): Progress {
  let last = 0;
  let pending: string | undefined;
  let total = spec.total;
  const line = (value: number, details: string) =>
    total ? `${spec.label} ${Math.floor((value / total) * 100)}% ${details}` : `${spec.label} ${details}`;
  return {
    update(value, details, newTotal) {
      if (newTotal !== undefined) total = newTotal;
      pending = line(value, details);
      if (Date.now() - last < PLAIN_INTERVAL_MS) return;
      last = Date.now();
      stream.write(`${pending}\n`);
      pending = undefined;
    },
    stop() {
      if (pending) stream.write(`${pending}\n`);
    },
  };
}

export function megabytes(bytes: number): string {
  return bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

/** `n` per second over `ms`, rounded for reading. */
export function perSecond(n: number, ms: number): number {
  return ms > 0 ? n / (ms / 1000) : 0;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
