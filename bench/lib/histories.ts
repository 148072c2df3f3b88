/**
 * What a paid order costs Temporal: the workflow histories of a sample of paid orders, read through the
 * Temporal client, with their events counted by type. Workflow tasks are counted as WorkflowTaskScheduled
 * events and activity tasks as ActivityTaskScheduled events (local activities leave neither, only a marker).
 */
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { loadConfig } from '../../src/config';
import { inPool } from './api';
import { bump } from './stats';

const { EventType } = temporal.api.enums.v1;

export interface HistoryStats {
  /** Orders whose history was read, and how many of those workflows had closed. */
  sampled: number;
  closed: number;
  /** Per order: min, mean and max. */
  events: Spread;
  workflowTasks: Spread;
  activityTasks: Spread;
  /** Mean events per order by type (WorkflowTaskScheduled, …), most frequent first. */
  byType: [string, number][];
  /** Orders whose history could not be read, by reason. */
  failures: Map<string, number>;
}

export interface Spread {
  min: number;
  mean: number;
  max: number;
}

/** Reads the histories of `sampleSize` workflows spread evenly over `workflowIds`. */
export async function historyStats(workflowIds: string[], sampleSize: number): Promise<HistoryStats> {
  const step = Math.max(1, workflowIds.length / sampleSize);
  const sample = Array.from(
    { length: Math.min(sampleSize, workflowIds.length) },
    (_, i) => workflowIds[Math.floor(i * step)]!,
  );
  const config = loadConfig();
  const connection = await Connection.connect(config.temporal.connection);
  const perOrder: Map<string, number>[] = [];
  const failures = new Map<string, number>();
  let closed = 0;
  try {
    await inPool(sample.length, 5, async (index) => {
      try {
        const types = await eventTypes(connection, config.temporal.namespace, sample[index]!);
        if (CLOSING_EVENTS.has(types.at(-1) ?? '')) closed += 1;
        const counts = new Map<string, number>();
        for (const type of types) bump(counts, type);
        perOrder.push(counts);
      } catch (error) {
        bump(failures, error instanceof Error ? error.message : String(error));
      }
    });
  } finally {
    await connection.close();
  }

  const spread = (count: (counts: Map<string, number>) => number): Spread => {
    const values = perOrder.map(count);
    return values.length === 0
      ? { min: NaN, mean: NaN, max: NaN }
      : {
          min: Math.min(...values),
          mean: values.reduce((sum, value) => sum + value, 0) / values.length,
          max: Math.max(...values),
        };
  };
  const totals = new Map<string, number>();
  for (const counts of perOrder) for (const [type, n] of counts) bump(totals, type, n);
  return {
    sampled: perOrder.length,
    closed,
    events: spread((counts) => [...counts.values()].reduce((sum, n) => sum + n, 0)),
    workflowTasks: spread((counts) => counts.get('WorkflowTaskScheduled') ?? 0),
    activityTasks: spread((counts) => counts.get('ActivityTaskScheduled') ?? 0),
    byType: [...totals]
      .map(([type, n]): [string, number] => [type, n / perOrder.length])
      .sort((a, b) => b[1] - a[1]),
    failures,
  };
}

const CLOSING_EVENTS = new Set(
  ['Completed', 'Failed', 'TimedOut', 'Canceled', 'Terminated', 'ContinuedAsNew'].map(
    (end) => `WorkflowExecution${end}`,
  ),
);

/**
 * The event types of a workflow's history, page by page, straight from the service: the client's handle would
 * decode the order's memo, which only the stack's payload keys can.
 */
async function eventTypes(connection: Connection, namespace: string, workflowId: string): Promise<string[]> {
  const types: string[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await connection.workflowService.getWorkflowExecutionHistory({
      namespace,
      execution: { workflowId },
      nextPageToken,
    });
    for (const event of page.history?.events ?? []) types.push(eventTypeName(event.eventType));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return types;
}

/** EVENT_TYPE_WORKFLOW_TASK_SCHEDULED → WorkflowTaskScheduled, as the Web UI and `temporal workflow show` say. */
function eventTypeName(type: number | null | undefined): string {
  const name = EventType[type ?? 0] ?? `EVENT_TYPE_${type}`;
  return name
    .replace(/^EVENT_TYPE_/, '')
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}
