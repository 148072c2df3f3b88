import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Config } from '../../config';
import {
  RECONCILIATION_SCHEDULE_ID,
  RECONCILIATION_WORKFLOW_ID_PREFIX,
  type ReconciliationInput,
} from '../../workflows/reconciliation/messages';
import type { reconciliationWorkflow } from '../../workflows/reconciliation/reconciliation-workflow';

/** The provider lists at most 100 charges a page. */
const PAGE_SIZE = 100;
const PAGES_PER_RUN = 50;

export type ScheduleOutcome = 'created' | 'updated' | 'unchanged';

/**
 * Creates the schedule of reconciliation runs, or brings an existing one to this configuration (interval,
 * task queue, settings). Safe to call from every process start, concurrently too. A run still going when
 * the next is due makes the schedule skip that one.
 */
export async function ensureReconciliationSchedule(client: Client, config: Config): Promise<ScheduleOutcome> {
  const input: ReconciliationInput = {
    graceMs: config.reconciliation.graceMs,
    pageSize: PAGE_SIZE,
    pagesPerRun: PAGES_PER_RUN,
  };
  const spec = { intervals: [{ every: config.reconciliation.intervalMs }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'reconciliationWorkflow',
    workflowId: RECONCILIATION_WORKFLOW_ID_PREFIX,
    taskQueue: config.temporal.taskQueue,
    args: [input] as Parameters<typeof reconciliationWorkflow>,
  };
  try {
    await client.schedule.create({
      scheduleId: RECONCILIATION_SCHEDULE_ID,
      spec,
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    });
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  const handle = client.schedule.getHandle(RECONCILIATION_SCHEDULE_ID);
  const current = await handle.describe();
  const same =
    current.spec.intervals?.length === 1 &&
    current.spec.intervals[0]!.every === wholeSeconds(config.reconciliation.intervalMs) &&
    current.action.taskQueue === action.taskQueue &&
    JSON.stringify(current.action.args) === JSON.stringify(action.args);
  if (same) return 'unchanged';
  await handle.update((previous) => ({ ...previous, spec, action }));
  return 'updated';
}

/** Temporal keeps an interval in whole seconds. */
const wholeSeconds = (ms: number): number => Math.round(ms / 1000) * 1000;
