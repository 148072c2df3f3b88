import type { Server } from 'node:http';
import type Koa from 'koa';

/** Serves the app with the API's connection settings; `port` 0 takes a free port. */
export function serveApi(
  app: Koa,
  options: { port: number; host?: string; keepAliveTimeoutMs: number },
  onListening?: () => void,
): Server {
  const server = app.listen(options.port, options.host, onListening);
  server.keepAliveTimeout = options.keepAliveTimeoutMs;
  return server;
}
