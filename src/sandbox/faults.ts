import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';

/**
 * Faults to inject, for tests and demos. They live in the process: a restarted sandbox starts healthy.
 * - `latencyMs`: each charge waits this long after it is taken, its key still in progress, before answering.
 * - `errorRate`: this share of charge requests is answered 503 at once, charging nothing.
 * - `dropResponseRate`: this share of charge requests is handled (charged, declined or replayed), then the
 *   connection is destroyed without an answer: the case that double-charges a client without idempotency.
 * - `down`: every request except `/sandbox/faults` is answered 503.
 */
export const faultsSchema = z.strictObject({
  latencyMs: z.int().min(0).max(600_000).optional(),
  errorRate: z.number().min(0).max(1).optional(),
  dropResponseRate: z.number().min(0).max(1).optional(),
  down: z.boolean().optional(),
});
export type Faults = Required<z.infer<typeof faultsSchema>>;

export const NO_FAULTS: Readonly<Faults> = { latencyMs: 0, errorRate: 0, dropResponseRate: 0, down: false };

export function createFaults(random: () => number = Math.random) {
  let current: Faults = { ...NO_FAULTS };
  return {
    get: (): Faults => current,
    /** Sets the given knobs and keeps the others. */
    set: (changes: z.infer<typeof faultsSchema>): Faults => (current = { ...current, ...changes }),
    reset: (): Faults => (current = { ...NO_FAULTS }),
    latency: async (): Promise<void> => {
      if (current.latencyMs > 0) await sleep(current.latencyMs);
    },
    failNow: (): boolean => random() < current.errorRate,
    dropNow: (): boolean => random() < current.dropResponseRate,
  };
}
export type FaultInjector = ReturnType<typeof createFaults>;
