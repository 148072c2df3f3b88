/**
 * The API calls Temporal one way: every call has a deadline (past it the client gets a 503 instead of a
 * request that hangs) and waits in a bounded number of calls in flight (past it, a 503 at once). Starts
 * are "start unless started": a retry of a request whose start failed half-way heals it, and one that
 * started already attaches to the workflow instead of failing.
 */
import {
  WorkflowExecutionAlreadyStartedError,
  type Client,
  type WorkflowStartOptions,
} from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import { inFlightLimit } from './in-flight-limit';

export interface TemporalCallOptions {
  /** Longest wait for Temporal to take one call. */
  deadlineMs: number;
  /** Calls waiting on Temporal at once. */
  maxInFlight: number;
  /** Told of each call refused at the limit (the API's metrics). */
  onShed?: () => void;
}

export type TemporalCalls = ReturnType<typeof createTemporalCalls>;

export function createTemporalCalls(client: Client, options: TemporalCallOptions) {
  const limited = inFlightLimit(options.maxInFlight, 'Temporal', options.onShed);
  /** `deadlineMs` shortens the deadline for a call that has a cheaper answer to fall back on. */
  const call = <T>(run: () => Promise<T>, deadlineMs = options.deadlineMs): Promise<T> =>
    limited(() => client.withDeadline(Date.now() + deadlineMs, run));
  return {
    call,
    /** True when this call started the workflow, false when it was started (or ran to its end) before. */
    start: <W extends Workflow>(workflowType: string, startOptions: WorkflowStartOptions<W>) =>
      call(() => startUnlessStarted<W>(client, workflowType, startOptions)),
    inFlight: limited.inFlight,
  };
}

/** The start rule, for callers outside the API (the key-rotation script) too. */
export async function startUnlessStarted<W extends Workflow>(
  client: Client,
  workflowType: string,
  options: WorkflowStartOptions<W>,
): Promise<boolean> {
  try {
    await client.workflow.start<W>(workflowType, options);
    return true;
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw error;
  }
}
