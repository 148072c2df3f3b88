/**
 * One autocannon instance whose connections each cycle through a fixed list of steps (for example five reads
 * then a write), with latency, status codes and lost requests kept per kind of step. Each connection starts
 * at a random step of the cycle, so the mix holds at every moment instead of in bursts.
 *
 * autocannon's own histogram mixes every request of an instance, so each step measures itself: its
 * setupRequest runs right before the request is written and its onResponse when the response is parsed,
 * both on the load generator's event loop, exactly where autocannon takes its own timings. A request that
 * never gets an answer (timeout, reset or refused socket) is noticed when its connection builds the next one
 * and is counted as lost for its kind.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { authHeader } from './auth';
import { bump, LatencyRecorder } from './stats';

export interface StepRequest {
  /** Counts the request under another kind than its step's (a step that had to do something else). */
  kind?: string;
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
}

/** What one connection remembers between its requests (autocannon's context is reset every cycle). */
export interface ConnectionState {
  inFlight?: { kind: string; step: Step; startedAt: number };
  [key: string]: unknown;
}

export interface Step {
  kind: string;
  build(connection: ConnectionState): StepRequest;
  /** Sees every answer of this step, for example to remember an ID for a later step. */
  onResponse?(status: number, body: string, connection: ConnectionState): void;
}

export interface KindStats {
  latency: LatencyRecorder;
  statuses: Map<number, number>;
  /** Requests sent that got no response: timeouts and socket errors. */
  lost: number;
  /** A few response bodies per unexpected status, to say what went wrong. */
  errorSamples: Map<number, string[]>;
}

export interface LoadResult {
  title: string;
  connections: number;
  elapsedS: number;
  kinds: Map<string, KindStats>;
  /**
   * Event-loop delay of the load generator while it ran, ms: time a response waited for the generator, which
   * is counted in every latency here (and in autocannon's).
   */
  generatorLoopDelay: { p50: number; p99: number; max: number };
  /** Socket errors and timeouts by error code, as autocannon reports them. */
  errorCodes: Map<string, number>;
  /** autocannon's own totals for the whole instance, as a cross-check of the per-kind numbers. */
  totals?: {
    responses: number;
    requestsPerSecondMean: number;
    latencyP50: number;
    latencyP99: number;
    non2xx: number;
    errors: number;
    timeouts: number;
  };
  /** Open-model runs (bench/lib/paced-load.ts): the offered rate and the connections actually held open. */
  paced?: {
    offeredPerS: number;
    socketsOpened: number;
    /** Open sockets, sampled every 0.5 s once every connection had its first turn. */
    openSockets: { min: number; max: number };
    latencyP50: number;
    latencyP99: number;
  };
}

export interface LoadOptions {
  title: string;
  url: URL;
  connections: number;
  durationS: number;
  timeoutS: number;
  steps: Step[];
  onTick?: (elapsedS: number, responses: number) => void;
}

export const emptyKindStats = (): KindStats => ({
  latency: new LatencyRecorder(),
  statuses: new Map(),
  lost: 0,
  errorSamples: new Map(),
});

/** One set of stats for several kinds, e.g. all writes. */
export function mergeKindStats(...all: KindStats[]): KindStats {
  const merged = emptyKindStats();
  merged.latency = LatencyRecorder.merge(...all.map((stats) => stats.latency));
  for (const stats of all) {
    merged.lost += stats.lost;
    for (const [status, n] of stats.statuses) bump(merged.statuses, status, n);
    for (const [status, samples] of stats.errorSamples) {
      merged.errorSamples.set(status, [...(merged.errorSamples.get(status) ?? []), ...samples].slice(0, 3));
    }
  }
  return merged;
}

export function countNon2xx(stats: KindStats): number {
  let count = 0;
  for (const [status, n] of stats.statuses) if (status < 200 || status > 299) count += n;
  return count;
}

export function countResponses(stats: KindStats): number {
  let count = 0;
  for (const n of stats.statuses.values()) count += n;
  return count;
}

/** Stats per kind of request, one entry for each step's kind from the start. */
export function kindStatsTable(steps: Step[]) {
  const kinds = new Map<string, KindStats>();
  const statsOf = (kind: string) => {
    let stats = kinds.get(kind);
    if (!stats) kinds.set(kind, (stats = emptyKindStats()));
    return stats;
  };
  for (const step of steps) statsOf(step.kind);
  return { kinds, statsOf };
}

/** One answered request: its latency, its status and, for an unexpected status, a sample of its body. */
export function recordResponse(stats: KindStats, latencyMs: number, status: number, body: string): void {
  stats.latency.record(latencyMs);
  bump(stats.statuses, status);
  if (status < 200 || status > 299) {
    const samples = stats.errorSamples.get(status) ?? [];
    if (samples.length < 3) stats.errorSamples.set(status, [...samples, body.slice(0, 300)]);
  }
}

/** Measures the load generator's own event-loop delay, which every latency it takes includes. */
export function generatorLoopDelayProbe() {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  return {
    /** Stops measuring and answers the delay in milliseconds. */
    stop(): LoadResult['generatorLoopDelay'] {
      histogram.disable();
      return {
        p50: histogram.percentile(50) / 1e6,
        p99: histogram.percentile(99) / 1e6,
        max: histogram.max / 1e6,
      };
    },
  };
}

interface Context {
  connection?: ConnectionState;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { kinds, statsOf } = kindStatsTable(options.steps);

  // autocannon deep-clones the request list for every connection, keeping shared references shared: each
  // connection gets its own copy of this object, seen by all of its steps.
  const perConnection: ConnectionState = {};
  // Each connection starts its cycle at a random step, so 3000 connections do not write in lockstep.
  const steps = options.steps;
  const requests = steps.map((_, position) => ({
    connection: perConnection,
    setupRequest: (request: autocannon.Request & { connection?: ConnectionState }, context: object) => {
      const connection = request.connection!;
      (context as Context).connection = connection;
      if (connection.inFlight) statsOf(connection.inFlight.kind).lost += 1;
      const offset = (connection.offset ??= Math.floor(Math.random() * steps.length)) as number;
      const step = steps[(position + offset) % steps.length]!;
      const built = step.build(connection);
      connection.inFlight = { kind: built.kind ?? step.kind, step, startedAt: performance.now() };
      const body = built.body === undefined ? undefined : JSON.stringify(built.body);
      return {
        ...request,
        method: built.method,
        path: built.path,
        body,
        headers: {
          ...authHeader('client'),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
      };
    },
    onResponse: (status: number, body: string, context: object) => {
      const connection = (context as Context).connection;
      const inFlight = connection?.inFlight;
      if (!connection || !inFlight) return;
      connection.inFlight = undefined;
      recordResponse(statsOf(inFlight.kind), performance.now() - inFlight.startedAt, status, body);
      inFlight.step.onResponse?.(status, body, connection);
    },
  }));

  const started = performance.now();
  let responses = 0;
  const errorCodes = new Map<string, number>();
  let ticker: NodeJS.Timeout | undefined;
  let result: autocannon.Result;
  const loopDelay = generatorLoopDelayProbe();
  let generatorLoopDelay: LoadResult['generatorLoopDelay'];
  try {
    result = await new Promise<autocannon.Result>((resolve, reject) => {
      const instance = autocannon(
        {
          title: options.title,
          url: options.url.origin,
          connections: options.connections,
          duration: options.durationS,
          timeout: options.timeoutS,
          requests,
        },
        (error: unknown, done: autocannon.Result) =>
          error
            ? reject(error instanceof Error ? error : new Error('autocannon failed', { cause: error }))
            : resolve(done),
      );
      instance.on('response', () => (responses += 1));
      instance.on('reqError', (error: unknown) => {
        const { code, message } = (error ?? {}) as { code?: string; message?: string };
        bump(errorCodes, code ?? message ?? 'unknown');
      });
      ticker = setInterval(() => options.onTick?.((performance.now() - started) / 1000, responses), 10_000);
    });
  } finally {
    clearInterval(ticker);
    generatorLoopDelay = loopDelay.stop();
  }
  const elapsedS = (performance.now() - started) / 1000;

  return {
    title: options.title,
    connections: options.connections,
    elapsedS,
    kinds,
    generatorLoopDelay,
    errorCodes,
    totals: {
      responses,
      requestsPerSecondMean: result.requests.average,
      latencyP50: result.latency.p50,
      latencyP99: result.latency.p99,
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
    },
  };
}
