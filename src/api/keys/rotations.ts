/**
 * Starting and following key rotations through the Temporal client: shared by the operator endpoint
 * (routes.ts) and `npm run rotate-keys`, so both name and start the workflow the same way.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  keyRotationProgressQuery,
  keyRotationWorkflowId,
  type ColumnProgress,
} from '../../workflows/keys/messages';
import type { keyRotationWorkflow } from '../../workflows/keys/reencrypt-workflow';

export interface KeyRotationView {
  /** The target key's id: one rotation per key at a time. */
  rotationId: string;
  status: 'RUNNING' | 'COMPLETED' | 'FAILED';
  /** Per column; absent once the rotation failed. */
  columns?: ColumnProgress[];
  /** Why the rotation failed. */
  reason?: string;
}

export interface RotationOptions {
  taskQueue: string;
  /** The key to rotate to: the active key of this process's DURAPAY_FIELD_KEYS. */
  keyId: string;
  batchRows: number;
  batchesPerRun: number;
}

/** Starts the rotation to `keyId`, or attaches to the one running already (`started: false`). */
export async function startKeyRotation(
  client: Client,
  { taskQueue, keyId, batchRows, batchesPerRun }: RotationOptions,
): Promise<{ rotationId: string; started: boolean }> {
  try {
    await client.workflow.start<typeof keyRotationWorkflow>('keyRotationWorkflow', {
      workflowId: keyRotationWorkflowId(keyId),
      taskQueue,
      args: [{ keyId, batchRows, batchesPerRun }],
      staticSummary: `Re-encrypt every column to key ${keyId}`,
    });
    return { rotationId: keyId, started: true };
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    return { rotationId: keyId, started: false };
  }
}

/** Live progress while it runs, the result once done; undefined for a rotation never started. */
export async function keyRotationStatus(
  client: Client,
  rotationId: string,
): Promise<KeyRotationView | undefined> {
  const handle = client.workflow.getHandle<typeof keyRotationWorkflow>(keyRotationWorkflowId(rotationId));
  let status: string;
  try {
    status = (await handle.describe()).status.name;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
  if (status === 'RUNNING' || status === 'CONTINUED_AS_NEW') {
    const { columns } = await handle.query(keyRotationProgressQuery);
    return { rotationId, status: 'RUNNING', columns };
  }
  try {
    const { columns } = await handle.result();
    return { rotationId, status: 'COMPLETED', columns };
  } catch (error) {
    const failure = error as { message?: string; cause?: { message?: string } };
    return { rotationId, status: 'FAILED', reason: failure.cause?.message ?? failure.message ?? status };
  }
}
