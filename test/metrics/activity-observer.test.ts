import type { Context } from '@temporalio/activity';
import type { MetricMeter, MetricTags } from '@temporalio/common';
import { activityObserver } from '../../src/workers/activity-observer';

/** A meter that remembers what was added, by metric and tags. */
function recordingMeter() {
  const added: Record<string, number> = {};
  const meter = {
    createCounter: (name: string) => ({
      add: (value: number, tags: MetricTags = {}) => {
        const key = `${name}${JSON.stringify(tags)}`;
        added[key] = (added[key] ?? 0) + value;
      },
    }),
  } as unknown as MetricMeter;
  return { added, meter };
}

/** Runs one activity execution through the observer, the activity answering `result`. */
async function run(
  observe: ReturnType<typeof activityObserver>,
  activityType: string,
  input: unknown,
  result: unknown,
  attempt = 1,
) {
  const interceptors = observe({ info: { activityType, attempt } } as unknown as Context);
  const answer = await interceptors.inbound!.execute!({ args: [input], headers: {} }, () =>
    Promise.resolve(result),
  );
  return { answer, logAttributes: interceptors.outbound!.getLogAttributes!({ activityType }, (a) => a) };
}

describe('activityObserver', () => {
  it('counts payments by outcome, charge retries, upload rows and key-rotation progress', async () => {
    const { added, meter } = recordingMeter();
    const observe = activityObserver(meter);
    const payment = { paymentId: 'pay_1', amount: 100, status: 'FAILED' };
    await run(observe, 'recordPaymentResult', { orderId: 'ORD-1', payment }, undefined);
    await run(observe, 'chargePayment', { orderId: 'ORD-1', paymentId: 'pay_1' }, 'ch_1', 1);
    await run(observe, 'chargePayment', { orderId: 'ORD-1', paymentId: 'pay_1' }, 'ch_1', 3);
    await run(observe, 'importChunk', { uploadId: 'u1', chunk: 0 }, { rowsImported: 7, rowsRejected: 2 });
    await run(observe, 'reencryptBatch', { column: 'orders.customer_email' }, { scanned: 5, rewritten: 4 });
    await run(observe, 'finishRotation', { keyId: 'k2' }, undefined);
    await run(observe, 'recordOrderStatus', { orderId: 'ORD-1', status: 'PAID' }, undefined);

    expect(added).toEqual({
      'durapay_payments{"outcome":"FAILED"}': 1,
      'durapay_charge_retries{}': 1,
      'durapay_upload_rows{"result":"imported"}': 7,
      'durapay_upload_rows{"result":"rejected"}': 2,
      'durapay_key_rotation_values{"result":"scanned","column":"orders.customer_email"}': 5,
      'durapay_key_rotation_values{"result":"rewritten","column":"orders.customer_email"}': 4,
      'durapay_key_rotations_finished{}': 1,
    });
  });

  it("returns the activity's result and adds the IDs it works on to its log lines", async () => {
    const { meter } = recordingMeter();
    const payment = { paymentId: 'pay_1', amount: 100, status: 'COMPLETED' };
    expect(
      await run(activityObserver(meter), 'recordPaymentResult', { orderId: 'ORD-1', payment }, 'done'),
    ).toEqual({
      answer: 'done',
      logAttributes: { activityType: 'recordPaymentResult', orderId: 'ORD-1', paymentId: 'pay_1' },
    });
  });
});
