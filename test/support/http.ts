import net, { type AddressInfo } from 'node:net';
import type Koa from 'koa';
import { serveApi, type ServeOptions } from '../../src/api/http/server';

export interface RunningApp {
  baseUrl: string;
  close(): Promise<void>;
}

/** Serves the app on a loopback port (by default a free one), so tests speak real HTTP to it. */
export async function listen(
  app: Koa,
  { keepAliveTimeoutMs, requestTimeoutMs }: Pick<ServeOptions, 'keepAliveTimeoutMs' | 'requestTimeoutMs'> = {
    keepAliveTimeoutMs: 5000,
    requestTimeoutMs: 300_000,
  },
  port = 0,
): Promise<RunningApp> {
  const server = serveApi(app, { port, host: '127.0.0.1', keepAliveTimeoutMs, requestTimeoutMs });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port: bound } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** A loopback port free right now, for a server whose port others must know before it starts. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
