import v8 from 'node:v8';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { loadConfig } from '../config';
import { createDb } from '../db/knex';
import { createLogger } from '../logging/logger';
import { sdkLogger } from '../logging/sdk-logger';
import { createActivities } from '../activities';
import { createProviderCharges } from '../activities/reconciliation/provider-charges';
import { ChunkImportThreads } from '../activities/uploads/chunk-threads';
import { selectGateway } from '../activities/orders/select-gateway';
import { createCardFingerprinter, createFieldCipher, createPayloadKeyRing } from '../crypto';
import { createDataConverter } from '../temporal/data-converter';
import { activityObserver } from './activity-observer';
import { workerMetricsExporter } from './metrics';
import { bundleWorkflowsInChildProcess } from './workflow-bundle';

/**
 * The worker process. On SIGINT/SIGTERM the SDK stops polling, lets in-flight activities finish for up to
 * `shutdownGraceTime`, then cancels them so the server hands them to another worker; only then do we close
 * the database pool and the connection.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ service: 'worker' }, { level: config.logLevel });
  const runtime = Runtime.install({
    shutdownSignals: ['SIGINT', 'SIGTERM'],
    logger: sdkLogger(logger.child({ sdk: true })),
    ...(config.metrics.workerPort > 0 && {
      telemetryOptions: { metrics: workerMetricsExporter(config.metrics.workerPort) },
    }),
  });

  const payments = selectGateway(config, (message) => logger.warn(message));
  const db = createDb(config.databaseUrl);
  const cipher = createFieldCipher(config, (message) => logger.warn(message));
  const fingerprinter = createCardFingerprinter(config, (message) => logger.warn(message));
  const chunkThreads = new ChunkImportThreads({
    threads: config.uploads.threads,
    databaseUrl: config.databaseUrl,
    cipher,
    fingerprinter,
  });
  chunkThreads.startThreads();
  const connection = await NativeConnection.connect(config.temporal.connection);
  try {
    const worker = await Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      workflowBundle: await bundleWorkflowsInChildProcess(),
      dataConverter: createDataConverter(createPayloadKeyRing(config, (message) => logger.warn(message))),
      activities: createActivities({
        db,
        cipher,
        fingerprinter,
        chunkImporter: chunkThreads.importChunk,
        gateway: payments.gateway,
        providerCharges: config.gateway && createProviderCharges(config.gateway),
      }),
      interceptors: { activity: [activityObserver(runtime.metricMeter)] },
      shutdownGraceTime: '30s',
    });
    logger.info('worker started', {
      taskQueue: config.temporal.taskQueue,
      namespace: config.temporal.namespace,
      heapLimitMiB: Math.round(v8.getHeapStatistics().heap_size_limit / 2 ** 20),
      maxCachedWorkflows: worker.options.maxCachedWorkflows,
      metricsPort: config.metrics.workerPort,
    });
    await worker.run();
    logger.info('worker stopped');
  } finally {
    await payments.close();
    await chunkThreads.close();
    await db.destroy();
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
