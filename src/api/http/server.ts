import http from 'node:http';
import type Koa from 'koa';

export interface ServeOptions {
  /** 0 takes a free port. */
  port: number;
  host?: string;
  keepAliveTimeoutMs: number;
  /** Longest time to receive a whole request, body included; past it Node answers 408 and closes. */
  requestTimeoutMs: number;
}

const ACCEPT_BACKLOG = 4096;

/** Serves the app with the API's connection settings. */
export function serveApi(app: Koa, options: ServeOptions, onListening?: () => void): http.Server {
  const handle = app.callback();
  const server = http.createServer(
    {
      keepAliveTimeout: options.keepAliveTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      // Node checks request timeouts on this interval (30 s by default): a short timeout needs a finer one.
      connectionsCheckingInterval: Math.min(30_000, Math.max(50, options.requestTimeoutMs / 4)),
    },
    // Koa answers its own errors; the promise only says the response is done.
    (request, response) => void handle(request, response),
  );
  // Node's default accept queue (511) overflows when a few thousand clients connect at once, and each dropped
  // SYN costs its client a retry 1, 3, 7 … seconds later; the kernel still caps it at net.core.somaxconn.
  return server.listen({ port: options.port, host: options.host, backlog: ACCEPT_BACKLOG }, onListening);
}
