import { randomUUID } from 'node:crypto';
import { startTestStack, type TestStack } from '../../support/stack';

const card = {
  type: 'card',
  number: '4242424242424242',
  expMonth: 12,
  expYear: new Date().getUTCFullYear() + 2,
  cvc: '731',
};

/**
 * What one paid order costs the Temporal server, read from a real order's history: created and paid
 * through the API, run by the real worker on the dev server.
 */
describe('a paid order’s history (API, worker, dev server, MariaDB)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const call = async (method: string, path: string, body: unknown) => {
    const response = await fetch(`${stack.api.baseUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...stack.api.headers('alice') },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };

  async function paidOrderHistory(wait: boolean) {
    const orderId = `ORD-${randomUUID()}`;
    expect((await call('POST', '/orders', { orderId, amount: '25.00', currency: 'USD' })).status).toBe(201);
    const paid = await call('POST', `/orders/${orderId}/payments${wait ? '?wait=true' : ''}`, {
      amount: '25.00',
      method: card,
    });
    expect(paid.status).toBe(wait ? 200 : 202);
    if (wait) expect(paid.body).toMatchObject({ status: 'COMPLETED', order: { status: 'COMPLETED' } });
    const handle = stack.env.client.workflow.getHandle(`order:${orderId}`);
    expect(await handle.result()).toMatchObject({ status: 'COMPLETED', amountPaid: 2_500 });
    const events = (await handle.fetchHistory()).events ?? [];
    const count = (has: (event: (typeof events)[number]) => unknown) => events.filter(has).length;
    return {
      events: events.length,
      workflowTasks: count((event) => event.workflowTaskCompletedEventAttributes),
      activityTasks: count((event) => event.activityTaskScheduledEventAttributes),
      orderStatusUpserts: count(
        (event) =>
          event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.OrderStatus,
      ),
    };
  }

  // Orders the previous API started run the orderWorkflow type; today's API sends their payments with the
  // V2 type's update-with-start and signal-with-start, which must reach the running workflow as it is.
  it.each([
    ['?wait=true (update)', true],
    ['asynchronous (signal)', false],
  ])('pays %s an order still running the orderWorkflow type', async (_path, wait) => {
    const orderId = `ORD-${randomUUID()}`;
    expect((await call('POST', '/orders', { orderId, amount: '25.00', currency: 'USD' })).status).toBe(201);
    const workflowId = `order:${orderId}`;
    const started = stack.env.client.workflow.getHandle(workflowId);
    const { taskQueue } = await started.describe();
    await started.terminate('replaced by a run of the previous workflow type');
    await stack.env.client.workflow.start('orderWorkflow', {
      workflowId,
      taskQueue,
      args: [
        {
          orderId,
          currency: 'USD',
          amount: 2_500,
          amountPaid: 0,
          paymentDeadline: new Date(Date.now() + 60 * 60 * 1000).toISOString(),
        },
      ],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    });

    const paid = await call('POST', `/orders/${orderId}/payments${wait ? '?wait=true' : ''}`, {
      amount: '25.00',
      method: card,
    });
    expect(paid.status).toBe(wait ? 200 : 202);
    const handle = stack.env.client.workflow.getHandle(workflowId);
    expect(await handle.result()).toMatchObject({ status: 'COMPLETED', amountPaid: 2_500 });
    expect((await handle.describe()).type).toBe('orderWorkflow');
    expect((await call('GET', `/orders/${orderId}`, undefined)).body).toMatchObject({
      status: 'COMPLETED',
      amountPaid: '25.00',
    });
  });

  it.each([
    ['?wait=true (update)', true],
    ['asynchronous (signal)', false],
  ])('paid %s: at most 3 workflow tasks, one activity task, a bounded history', async (_path, wait) => {
    const cost = await paidOrderHistory(wait);
    expect(cost.workflowTasks).toBeLessThanOrEqual(3);
    expect(cost.activityTasks).toBe(1);
    expect(cost.orderStatusUpserts).toBe(1);
    // The update path takes one event more than the signal path (accepted and completed, against one
    // signal). New orders run orderWorkflowV2, so no patch marker or TemporalChangeVersion upsert is among them.
    expect(cost.events).toBeLessThanOrEqual(wait ? 19 : 18);
  });
});
