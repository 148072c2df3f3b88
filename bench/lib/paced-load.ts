/**
 * Open-model load: many connections held open, each sending its requests on a fixed schedule, so the offered
 * rate is set by the bench and not by how fast the server answers. This is how a large population of clients
 * behaves (each sends now and then, whether or not others are waiting), and what a latency target at a given
 * number of connections means. autocannon cannot express it: its per-connection rate is at least 1 req/s, so
 * 3000 connections would offer at least 3000 req/s.
 *
 * Each connection is a keep-alive socket of its own (an agent with one socket), sending the steps of its cycle
 * at `connections / ratePerS` second intervals from a random start. When a request is due while the previous
 * one is still unanswered it waits, and its latency counts from when it was due, not from when it went out:
 * a slow server cannot lower the load it is measured at (no coordinated omission).
 */
import http from 'node:http';
import { authHeader } from './auth';
import { bump, LatencyRecorder } from './stats';
import {
  generatorLoopDelayProbe,
  kindStatsTable,
  recordResponse,
  type ConnectionState,
  type KindStats,
  type LoadResult,
  type Step,
} from './load';

export interface PacedLoadOptions {
  title: string;
  url: URL;
  connections: number;
  /** Requests per second offered by all connections together. */
  ratePerS: number;
  durationS: number;
  timeoutS: number;
  steps: Step[];
  onTick?: (elapsedS: number, responses: number) => void;
}

interface Client {
  agent: http.Agent;
  state: ConnectionState;
  position: number;
  busy: boolean;
  /** Due times (performance.now()) of requests waiting for the previous one to be answered. */
  backlog: number[];
  timer?: NodeJS.Timeout;
}

export async function runPacedLoad(options: PacedLoadOptions): Promise<LoadResult> {
  const { kinds, statsOf } = kindStatsTable(options.steps);
  const errorCodes = new Map<string, number>();
  const intervalMs = (options.connections / options.ratePerS) * 1000;
  const started = performance.now();
  const endsAt = started + options.durationS * 1000;
  let responses = 0;
  let inFlight = 0;
  let socketsOpened = 0;
  const openSockets = { now: 0, min: Infinity, max: 0 };
  const loopDelay = generatorLoopDelayProbe();
  let generatorLoopDelay: LoadResult['generatorLoopDelay'];

  const clients: Client[] = Array.from({ length: options.connections }, () => ({
    agent: new http.Agent({ keepAlive: true, maxSockets: 1 }),
    state: {},
    position: Math.floor(Math.random() * options.steps.length),
    busy: false,
    backlog: [],
  }));

  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const maybeFinish = () => {
    if (performance.now() >= endsAt && inFlight === 0) finish();
  };

  const send = (client: Client, dueAt: number) => {
    client.busy = true;
    inFlight += 1;
    const step = options.steps[client.position++ % options.steps.length]!;
    const built = step.build(client.state);
    const kind = built.kind ?? step.kind;
    const body = built.body === undefined ? undefined : JSON.stringify(built.body);
    let settled = false;
    const settle = (record: (stats: KindStats) => void) => {
      if (settled) return;
      settled = true;
      record(statsOf(kind));
      inFlight -= 1;
      client.busy = false;
      const next = client.backlog.shift();
      if (next !== undefined) send(client, next);
      else maybeFinish();
    };
    const request = http.request(
      {
        host: options.url.hostname,
        port: options.url.port,
        method: built.method,
        path: built.path,
        agent: client.agent,
        timeout: options.timeoutS * 1000,
        headers: {
          ...authHeader('client'),
          ...(body === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          settle((stats) => {
            const status = response.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString('utf8');
            recordResponse(stats, performance.now() - dueAt, status, text);
            responses += 1;
            step.onResponse?.(status, text, client.state);
          }),
        );
        response.on('error', (error) => lost(error));
      },
    );
    const lost = (error: Error & { code?: string }) => {
      bump(errorCodes, error.code ?? error.message);
      settle((stats) => (stats.lost += 1));
    };
    request.on('socket', (socket) => {
      if (!request.reusedSocket) {
        socketsOpened += 1;
        openSockets.now += 1;
        socket.once('close', () => (openSockets.now -= 1));
      }
    });
    request.on('timeout', () => request.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    request.on('error', lost);
    request.end(body);
  };

  const due = (client: Client, dueAt: number) => {
    if (dueAt >= endsAt) return maybeFinish();
    if (client.busy) client.backlog.push(dueAt);
    else send(client, dueAt);
    client.timer = setTimeout(() => due(client, dueAt + intervalMs), dueAt + intervalMs - performance.now());
  };
  for (const client of clients) {
    const first = started + Math.random() * intervalMs;
    client.timer = setTimeout(() => due(client, first), first - started);
  }

  // Open connections are sampled once every client has had its first turn.
  const sampler = setInterval(() => {
    if (performance.now() - started < intervalMs + 1000) return;
    openSockets.min = Math.min(openSockets.min, openSockets.now);
    openSockets.max = Math.max(openSockets.max, openSockets.now);
  }, 500);
  const ticker = setInterval(() => options.onTick?.((performance.now() - started) / 1000, responses), 10_000);
  try {
    await finished;
  } finally {
    clearInterval(sampler);
    clearInterval(ticker);
    generatorLoopDelay = loopDelay.stop();
    for (const client of clients) {
      clearTimeout(client.timer);
      client.agent.destroy();
    }
  }

  const elapsedS = (performance.now() - started) / 1000;
  const allLatencies = LatencyRecorder.merge(...[...kinds.values()].map((stats) => stats.latency)).summary();
  return {
    title: options.title,
    connections: options.connections,
    elapsedS,
    kinds,
    generatorLoopDelay,
    errorCodes,
    paced: {
      offeredPerS: options.ratePerS,
      socketsOpened,
      openSockets: {
        min: Number.isFinite(openSockets.min) ? openSockets.min : 0,
        max: openSockets.max,
      },
      latencyP50: allLatencies.p50,
      latencyP99: allLatencies.p99,
    },
  };
}
