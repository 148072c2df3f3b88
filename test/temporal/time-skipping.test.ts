import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTimeSkippingEnv, testDataConverter } from '../support/temporal';
import { sleeper } from '../support/workflows/sleeper';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('time-skipping test server', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });

  afterAll(async () => {
    await env?.teardown();
  });

  it('completes a workflow that sleeps for 30 days by skipping time', async () => {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'time-skipping',
      workflowsPath: require.resolve('../support/workflows/sleeper'),
      dataConverter: testDataConverter,
    });
    const serverTimeBefore = await env.currentTimeMs();

    const slept = await worker.runUntil(
      env.client.workflow.execute(sleeper, {
        taskQueue: 'time-skipping',
        workflowId: 'sleeper-30d',
        args: [30],
      }),
    );

    expect(slept).toBeGreaterThanOrEqual(30 * DAY_MS);
    expect((await env.currentTimeMs()) - serverTimeBefore).toBeGreaterThanOrEqual(30 * DAY_MS);
  });
});
