/**
 * The engine's share of a paid order, and nothing else: the commands `orderWorkflowV2` gives Temporal for an
 * order created and paid in full by one update (a deadline timer, the charge as an activity, the read-model
 * write as a local activity, one status upsert), with activities that do nothing. Bundled by the floor's
 * own worker (bench/engine-floor/main.ts).
 */
import {
  allHandlersFinished,
  condition,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { ORDER_STATUS } from '../../src/workflows/search-attributes';
import type { floorActivities } from './activities';
import { payUpdate } from './messages';

const { charge } = proxyActivities<typeof floorActivities>({ startToCloseTimeout: '30s' });
const { recordPayment } = proxyLocalActivities<typeof floorActivities>({ startToCloseTimeout: '10s' });

export async function floorOrderWorkflow(deadlineMs: number): Promise<string> {
  let paid = false;
  let deadlineReached = false;
  setHandler(payUpdate, async (amount) => {
    await charge(amount);
    await recordPayment(amount);
    upsertSearchAttributes([{ key: ORDER_STATUS, value: 'COMPLETED' }]);
    paid = true;
    return 'COMPLETED';
  });
  void sleep(deadlineMs).then(() => void (deadlineReached = true));
  await condition(() => (paid && allHandlersFinished()) || deadlineReached);
  return paid ? 'COMPLETED' : 'EXPIRED';
}
