import type { MetricsExporterConfig } from '@temporalio/worker';

/**
 * The worker's Prometheus endpoint, served by the Temporal SDK's own exporter at `/metrics`: the SDK's
 * metrics (task latencies, schedule-to-start, slots, polls) and ours (activity-observer.ts). Counters end
 * in `_total` and durations are in seconds, as Prometheus names them, like the API's.
 */
export function workerMetricsExporter(port: number): MetricsExporterConfig {
  return {
    prometheus: {
      bindAddress: `0.0.0.0:${port}`,
      countersTotalSuffix: true,
      useSecondsForDurations: true,
    },
  };
}
