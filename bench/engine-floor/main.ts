/**
 * The engine floor of `npm run bench:orders` (its `floor` phase): orders that cost Temporal what a paid order
 * costs it, and nothing else. This one process holds a worker of the floor's workflow on a task queue of its
 * own and `clients` closed-loop clients, each starting an order as the API does (start with its search
 * attribute), then paying it as `?wait=true` does (update-with-start, accepted, then its result). No API, no
 * database, no payload codec, no provider. Started by bench/lib/engine-floor.ts (protocol.ts).
 */
import readline from 'node:readline';
import { Client, Connection, WithStartWorkflowOperation, WorkflowUpdateStage } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { loadConfig } from '../../src/config';
import { ORDER_STATUS } from '../../src/workflows/search-attributes';
import { inPool } from '../lib/api';
import { LatencyRecorder } from '../lib/stats';
import { floorActivities } from './activities';
import { FLOOR_WORKFLOW, payUpdate } from './messages';
import {
  GO,
  MEASURING,
  RESULT,
  WARMED_UP,
  type EngineFloorResult,
  type EngineFloorSettings,
} from './protocol';
import type { floorOrderWorkflow } from './workflow';

/** Unpaid floor orders end on their own, as bench orders do. */
const DEADLINE_MS = 60 * 60 * 1000;
const AMOUNT = 12550;

async function main(settings: EngineFloorSettings): Promise<void> {
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
    await client.workflow.start<typeof floorOrderWorkflow>(FLOOR_WORKFLOW, options);
    const update = await client.workflow.startUpdateWithStart(payUpdate, {
      args: [AMOUNT],
      waitForStage: WorkflowUpdateStage.ACCEPTED,
      startWorkflowOperation: new WithStartWorkflowOperation<typeof floorOrderWorkflow>(
        FLOOR_WORKFLOW,
        options,
      ),
    });
    const status = await update.result();
    if (status !== 'COMPLETED') throw new Error(`order ${status}`);
  };

  /** Closed loop: `clients` clients, each starting its next order when its last one is paid, until `untilMs`. */
  const run = async (prefix: string, orders: number, untilMs: number) => {
    const createToPaid = new LatencyRecorder();
    const paid: string[] = [];
    const failures: Record<string, number> = {};
    let notStarted = 0;
    const started = performance.now();
    await inPool(orders, settings.clients, async (index) => {
      if (performance.now() > untilMs) {
        notStarted += 1;
        return;
      }
      const workflowId = `bench-floor-${settings.tag}-${prefix}${index}`;
      const t0 = performance.now();
      try {
        await payOne(workflowId);
        createToPaid.record(performance.now() - t0);
        paid.push(workflowId);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        failures[reason] = (failures[reason] ?? 0) + 1;
      }
    });
    return { createToPaid, paid, failures, notStarted, elapsedS: (performance.now() - started) / 1000 };
  };

  await worker.runUntil(async () => {
    if (settings.warmUpS > 0) {
      // As many orders as the clients get through in the warm-up; the rest count as not started.
      await run('w', settings.clients * settings.warmUpS * 100, performance.now() + settings.warmUpS * 1000);
    }
    console.log(WARMED_UP);
    await nextLine(GO);
    console.log(MEASURING);
    const measured = await run('m', settings.orders, performance.now() + settings.phaseTimeoutS * 1000);
    const result: EngineFloorResult = {
      orders: settings.orders,
      paid: measured.paid,
      notStarted: measured.notStarted,
      elapsedS: measured.elapsedS,
      createToPaid: measured.createToPaid.summary(),
      failures: measured.failures,
    };
    console.log(`${RESULT}${JSON.stringify(result)}`);
  });
  await connection.close();
  await workerConnection.close();
}

/** Waits for `expected` on stdin; its end first means the bench is gone. */
async function nextLine(expected: string): Promise<void> {
  const lines = readline.createInterface({ input: process.stdin });
  try {
    for await (const line of lines) if (line === expected) return;
    throw new Error(`stdin ended before "${expected}"`);
  } finally {
    lines.close();
  }
}

main(JSON.parse(process.argv[2] ?? '{}') as EngineFloorSettings).catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
