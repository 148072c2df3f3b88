/**
 * The engine floor of `npm run bench:orders` (its `floor` phase): orders that cost Temporal what a paid order
 * costs it, and nothing else. This one process holds a worker of the floor's workflow on a task queue of its
 * own and `clients` closed-loop clients, each starting an order as the API does (start with its search
 * attribute), then paying it as `?wait=true` does (update-with-start, accepted, then its result). No API, no
 * database, no payload codec, no provider.
 *
 * Run by bench/lib/engine-floor.ts with its settings as JSON in argv[2]. It warms up unmeasured, prints
 * `measuring` as the measured orders start and `result <json>` when they are done.
 */
import { Client, Connection, WithStartWorkflowOperation, WorkflowUpdateStage } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { loadConfig } from '../../src/config';
import { ORDER_STATUS } from '../../src/workflows/search-attributes';
import { inPool } from '../lib/api';
import { LatencyRecorder, type LatencySummary } from '../lib/stats';
import { floorActivities } from './activities';
import { floorOrderWorkflow, payUpdate } from './workflow';

export interface FloorSettings {
  orders: number;
  clients: number;
  warmUpS: number;
  /** Distinguishes this run's workflow IDs and task queue from any other's. */
  tag: string;
}

export interface FloorResult {
  orders: number;
  /** Workflow IDs of the orders paid, in the order they were started. */
  paid: string[];
  elapsedS: number;
  createToPaid: LatencySummary;
  failures: Record<string, number>;
}

/** Unpaid floor orders end on their own, as bench orders do. */
const DEADLINE_MS = 60 * 60 * 1000;

async function main(settings: FloorSettings): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const config = loadConfig();
  const { namespace } = config.temporal;
  const taskQueue = `bench-engine-floor-${settings.tag}`;
  const workerConnection = await NativeConnection.connect(config.temporal.connection);
  const worker = await Worker.create({
    connection: workerConnection,
    namespace,
    taskQueue,
    workflowsPath: require.resolve('./workflow'),
    activities: floorActivities,
  });
  const connection = await Connection.connect(config.temporal.connection);
  const client = new Client({ connection, namespace });

  const payOne = async (workflowId: string): Promise<void> => {
    const options = {
      workflowId,
      taskQueue,
      args: [DEADLINE_MS] as [number],
      typedSearchAttributes: [{ key: ORDER_STATUS, value: 'PENDING' }],
      workflowIdConflictPolicy: 'USE_EXISTING' as const,
    };
    await client.workflow.start(floorOrderWorkflow, options);
    const update = await client.workflow.startUpdateWithStart(payUpdate, {
      args: [12550],
      waitForStage: WorkflowUpdateStage.ACCEPTED,
      startWorkflowOperation: new WithStartWorkflowOperation(floorOrderWorkflow, options),
    });
    const status = await update.result();
    if (status !== 'COMPLETED') throw new Error(`order ${status}`);
  };

  const run = async (prefix: string, orders: number, untilMs = Infinity) => {
    const createToPaid = new LatencyRecorder();
    const paid: string[] = [];
    const failures: Record<string, number> = {};
    const started = performance.now();
    await inPool(orders, settings.clients, async (index) => {
      if (performance.now() > untilMs) return;
      const t0 = performance.now();
      const workflowId = `bench-floor-${settings.tag}-${prefix}${index}`;
      try {
        await payOne(workflowId);
        createToPaid.record(performance.now() - t0);
        paid.push(workflowId);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        failures[reason] = (failures[reason] ?? 0) + 1;
      }
    });
    return { createToPaid, paid, failures, elapsedS: (performance.now() - started) / 1000 };
  };

  await worker.runUntil(async () => {
    if (settings.warmUpS > 0) await run('w', 1_000_000, performance.now() + settings.warmUpS * 1000);
    console.log('measuring');
    const measured = await run('m', settings.orders);
    const result: FloorResult = {
      orders: settings.orders,
      paid: measured.paid,
      elapsedS: measured.elapsedS,
      createToPaid: measured.createToPaid.summary(),
      failures: measured.failures,
    };
    console.log(`result ${JSON.stringify(result)}`);
  });
  await connection.close();
  await workerConnection.close();
}

main(JSON.parse(process.argv[2] ?? '{}') as FloorSettings).catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
