/**
 * The sandbox payment provider as its own process: `tsx src/sandbox/main.ts`, or
 * `node dist/src/sandbox/main.js` once built. Configured by DURAPAY_SANDBOX_* (see ./config).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../logging/logger';
import { createSandboxApp } from './app';
import { createChargeService } from './charges';
import { loadSandboxConfig } from './config';
import { createFaults } from './faults';
import { newInstanceId, openSandboxStore, releaseAllKeys } from './store';

async function main(): Promise<void> {
  const config = loadSandboxConfig();
  const logger = createLogger({ service: 'sandbox' });
  const db = await openSandboxStore(config.databaseUrl);
  const released = await releaseAllKeys(db);
  if (released > 0) logger.warn('released idempotency keys left in progress by a previous run', { released });

  const faults = createFaults();
  const charges = createChargeService({
    db,
    instanceId: newInstanceId(),
    apiKey: config.apiKey,
    latency: faults.latency,
  });
  const app = createSandboxApp({ db, apiKey: config.apiKey, charges, faults, logger });
  const handle = app.callback();
  const server = http.createServer((request, response) => void handle(request, response));
  server.listen(config.port, () => {
    logger.info('sandbox listening', { port: (server.address() as AddressInfo).port });
  });

  const shutdown = (signal: string) => {
    logger.info('shutting down', { signal });
    server.close(() => void db.destroy().then(() => process.exit(0)));
    server.closeIdleConnections();
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
