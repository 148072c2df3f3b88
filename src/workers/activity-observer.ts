/**
 * Business metrics and log attributes of the worker, read in one place from what activities take and
 * return, so no activity carries metrics code: an activity interceptor sees each execution's input and
 * result. The counters go to the SDK's metric meter, so they are served by the same Prometheus endpoint as
 * the SDK's own metrics. They count completed executions: an activity retried after a failure that
 * followed its commit (its idempotent re-run returns the committed result) counts again.
 */
import type { MetricMeter } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

type Input = Record<string, unknown> | undefined;
type Observer = (result: unknown, input: Input) => void;

const count = (value: unknown): number => (typeof value === 'number' && value > 0 ? value : 0);
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

export function activityObserver(meter: MetricMeter): ActivityInterceptorsFactory {
  const payments = meter.createCounter('durapay_payments', '', 'Payments settled, by outcome');
  const chargeRetries = meter.createCounter(
    'durapay_charge_retries',
    '',
    'Charge attempts after the first (the gateway failed or timed out)',
  );
  const uploadRows = meter.createCounter(
    'durapay_upload_rows',
    '',
    'Upload rows imported or rejected, by result',
  );
  const rotationValues = meter.createCounter(
    'durapay_key_rotation_values',
    '',
    'Encrypted values read (scanned) and moved to the target key (rewritten) by key rotations',
  );
  const rotationsFinished = meter.createCounter(
    'durapay_key_rotations_finished',
    '',
    'Key rotations finished',
  );

  const observers: Record<string, Observer> = {
    recordPaymentResult: (_, input) => {
      const outcome = text((input?.payment as Input)?.status);
      if (outcome) payments.add(1, { outcome });
    },
    importChunk: (result) => {
      const counts = result as Input;
      uploadRows.add(count(counts?.rowsImported), { result: 'imported' });
      uploadRows.add(count(counts?.rowsRejected), { result: 'rejected' });
    },
    reencryptBatch: (result, input) => {
      const counts = result as Input;
      const column = text(input?.column) ?? 'unknown';
      rotationValues.add(count(counts?.scanned), { result: 'scanned', column });
      rotationValues.add(count(counts?.rewritten), { result: 'rewritten', column });
    },
    finishRotation: () => rotationsFinished.add(1),
  };

  return (context) => {
    let input: Input;
    return {
      inbound: {
        async execute(call, next) {
          input = call.args[0] as Input;
          const { activityType, attempt } = context.info;
          if (activityType === 'chargePayment' && attempt > 1) chargeRetries.add(1);
          const result = await next(call);
          observers[activityType]?.(result, input);
          return result;
        },
      },
      outbound: {
        // The SDK adds the workflow and activity; these name the order, payment or upload it works on.
        getLogAttributes: (attributes, next) => next({ ...attributes, ...businessIds(input) }),
      },
    };
  };
}

function businessIds(input: Input): Record<string, string> {
  const ids: Record<string, string | undefined> = {
    orderId: text(input?.orderId),
    paymentId: text(input?.paymentId) ?? text((input?.payment as Input)?.paymentId),
    uploadId: text(input?.uploadId),
  };
  return Object.fromEntries(Object.entries(ids).filter(([, id]) => id !== undefined)) as Record<
    string,
    string
  >;
}
