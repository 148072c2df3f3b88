import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../config';
import { createDb } from '../db/knex';
import { createLogger } from '../logging/logger';
import { createCardFingerprinter, createFieldCipher, createPayloadKeyRing } from '../crypto';
import { createDataConverter } from '../temporal/data-converter';
import { ensureReconciliationSchedule } from './admin/reconciliation-schedule';
import { createApp } from './app';
import { loadOrCreateDevApiKeys } from './auth/api-keys';
import { createApiMetrics, serveMetrics } from './http/metrics';
import { serveApi } from './http/server';

function main(): void {
  const config = loadConfig();
  const logger = createLogger({ service: 'api' }, { level: config.logLevel });
  const db = createDb(config.databaseUrl);
  // lazy: the API starts (and /health reports it) even while Temporal is still coming up
  const temporal = Connection.lazy(config.temporal.connection);
  const cipher = createFieldCipher(config, (message) => logger.warn(message));
  const fingerprinter = createCardFingerprinter(config, (message) => logger.warn(message));
  const payloadKeys = createPayloadKeyRing(config, (message) => logger.warn(message));
  // Printed, not logged: the logger redacts keys, and the generated ones must be readable once.
  const apiKeys = loadOrCreateDevApiKeys(config, (message) => console.log(message));
  const metrics = createApiMetrics();
  const app = createApp({
    config,
    db,
    connection: temporal,
    cipher,
    fingerprinter,
    logger,
    apiKeys,
    payloadKeys,
    metrics,
  });
  const metricsServer =
    config.metrics.apiPort > 0
      ? serveMetrics(metrics.registry, config.metrics.apiPort, () =>
          logger.info('metrics listening', { port: config.metrics.apiPort }),
        ).on('error', (error) => {
          console.error(`metrics port ${config.metrics.apiPort}: ${error.message}`);
          process.exit(1);
        })
      : undefined;
  const server = serveApi(
    app,
    {
      port: config.port,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs,
    },
    () => logger.info('listening', { port: config.port }),
  );

  // In the background and until it works: Temporal may still be starting.
  const client = new Client({
    connection: temporal,
    namespace: config.temporal.namespace,
    dataConverter: createDataConverter(payloadKeys),
  });
  const scheduleReconciliation = (): void => {
    ensureReconciliationSchedule(client, config).then(
      (outcome) => logger.info('reconciliation schedule', { outcome }),
      (error: unknown) => {
        logger.warn('reconciliation schedule not yet in place; retrying in 5 s', { error });
        setTimeout(scheduleReconciliation, 5_000).unref();
      },
    );
  };
  scheduleReconciliation();

  const shutdown = (signal: string) => {
    logger.info('shutting down', { signal });
    metricsServer?.close();
    server.close(() => {
      void Promise.allSettled([db.destroy(), temporal.close()]).then(() => process.exit(0));
    });
    server.closeIdleConnections();
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

try {
  main();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
