import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import { serveApi, type ServeOptions } from '../../src/api/http/server';

export interface RunningApp {
  baseUrl: string;
  close(): Promise<void>;
}

/** Serves the app on a free loopback port, so tests speak real HTTP to it. */
export async function listen(
  app: Koa,
  { keepAliveTimeoutMs, requestTimeoutMs }: Pick<ServeOptions, 'keepAliveTimeoutMs' | 'requestTimeoutMs'> = {
    keepAliveTimeoutMs: 5000,
    requestTimeoutMs: 300_000,
  },
): Promise<RunningApp> {
  const server = serveApi(app, { port: 0, host: '127.0.0.1', keepAliveTimeoutMs, requestTimeoutMs });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
