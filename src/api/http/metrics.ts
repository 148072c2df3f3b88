/**
 * The API's Prometheus metrics (prom-client), served on a port of their own (DURAPAY_API_METRICS_PORT):
 * a scraper needs no API key, and the public API exposes nothing about its own load.
 */
import http from 'node:http';
import type Koa from 'koa';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type ApiMetrics = ReturnType<typeof createApiMetrics>;

/** What a request that matched no route is labelled with (a 404, or refused before routing: 401, 429). */
export const UNMATCHED_ROUTE = 'unmatched';

export function createApiMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'durapay_api_' });
  const registers = [registry];
  const requestDuration = new Histogram({
    name: 'durapay_api_request_duration_seconds',
    help: 'Time to answer a request, by route template (never the raw path) and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const shed = new Counter({
    name: 'durapay_api_requests_shed_total',
    help: 'Requests answered 503 at once because the Temporal calls in flight reached their limit',
    registers,
  });
  const rateLimited = new Counter({
    name: 'durapay_api_requests_rate_limited_total',
    help: 'Requests refused with 429 by the per-key rate limit',
    registers,
  });

  return {
    registry,
    /** Counts a request the in-flight limit refused (the Temporal calls' onShed). */
    shed: () => shed.inc(),
    /** Records a request's time, by the router's template (`/orders/:orderId`): IDs never become label values. */
    observeRequest(ctx: Koa.Context, seconds: number): void {
      const route = (ctx as { _matchedRoute?: unknown })._matchedRoute;
      requestDuration.observe(
        {
          method: ctx.method,
          route: typeof route === 'string' ? route : UNMATCHED_ROUTE,
          status: String(ctx.status),
        },
        seconds,
      );
      if (ctx.status === 429) rateLimited.inc();
    },
    /** Reports the Temporal calls waiting at each scrape, against their limit. */
    watchTemporalCalls(inFlight: () => number, limit: number): void {
      new Gauge({
        name: 'durapay_api_temporal_calls_in_flight',
        help: 'Calls from the API waiting on Temporal right now',
        registers,
        collect() {
          this.set(inFlight());
        },
      });
      new Gauge({
        name: 'durapay_api_temporal_calls_limit',
        help: 'Temporal calls the API lets wait at once (DURAPAY_TEMPORAL_MAX_IN_FLIGHT)',
        registers,
      }).set(limit);
    },
  };
}

/** `GET /metrics` in Prometheus' text format, on its own server; every other path is 404. */
export function serveMetrics(registry: Registry, port: number, onListening?: () => void): http.Server {
  const server = http.createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
      () => response.writeHead(500).end(),
    );
  });
  return server.listen(port, onListening);
}
