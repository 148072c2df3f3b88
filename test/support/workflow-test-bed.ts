import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { bundleWorkflows } from '../../src/workers/workflow-bundle';
import { createTestDatabase, type TestDatabase } from './db';
import { createTimeSkippingEnv } from './temporal';

/** What a workflow test file runs against: the time-skipping server, a database of its own, its workflow code. */
export interface WorkflowTestBed {
  env: TestWorkflowEnvironment;
  database: TestDatabase;
  bundle: WorkflowBundleWithSourceMap;
}

/** Made side by side: the bundle takes longest, and the other two wait on servers. */
export async function createWorkflowTestBed(workflowsPath: string): Promise<WorkflowTestBed> {
  const [env, database, bundle] = await Promise.all([
    createTimeSkippingEnv(),
    createTestDatabase(),
    bundleWorkflows(workflowsPath),
  ]);
  return { env, database, bundle };
}

/** Drops what was made, even when beforeAll failed halfway. */
export async function dropWorkflowTestBed(env?: TestWorkflowEnvironment, database?: TestDatabase) {
  await database?.drop();
  await env?.teardown();
}
