/**
 * Starting and following key rotations through the Temporal client: shared by the operator endpoint
 * (routes.ts) and `npm run rotate-keys`, so both name and start the workflow the same way.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { keyRotationProgressQuery, keyRotationWorkflowId } from '../../workflows/keys/messages';
import type { keyRotationWorkflow } from '../../workflows/keys/reencrypt-workflow';
import { startUnlessStarted } from '../http/temporal';
import type { KeyRotation } from './schemas';

/** What GET /admin/key-rotations/{rotationId} answers. */
export type KeyRotationView = KeyRotation;

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
  const started = await startUnlessStarted<typeof keyRotationWorkflow>(client, 'keyRotationWorkflow', {
    workflowId: keyRotationWorkflowId(keyId),
    taskQueue,
    args: [{ keyId, batchRows, batchesPerRun }],
    staticSummary: `Re-encrypt every column to key ${keyId}`,
  });
  return { rotationId: keyId, started };
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
