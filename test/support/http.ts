import type { AddressInfo } from 'node:net';
import type Koa from 'koa';

export interface RunningApp {
  baseUrl: string;
  close(): Promise<void>;
}

/** Serves the app on a free loopback port, so tests speak real HTTP to it. */
export async function listen(app: Koa): Promise<RunningApp> {
  const server = app.listen(0, '127.0.0.1');
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
