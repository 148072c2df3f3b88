/**
 * How bench:orders and the engine floor's process (main.ts) talk: the settings go as JSON in argv[2]; the
 * process prints WARMED_UP after its warm-up and waits for GO on stdin (the bench first waits for the stack
 * to go quiet), prints MEASURING as the measured orders start, and RESULT followed by the result's JSON.
 */
import type { LatencySummary } from '../lib/stats';

export const WARMED_UP = 'warmed-up';
export const GO = 'go';
export const MEASURING = 'measuring';
export const RESULT = 'result ';

export interface EngineFloorSettings {
  orders: number;
  clients: number;
  warmUpS: number;
  /** No measured order is started after this many seconds (those count as not started). */
  phaseTimeoutS: number;
  /** Distinguishes this run's workflow IDs and task queue from any other's. */
  tag: string;
}

export interface EngineFloorResult {
  orders: number;
  /** Workflow IDs of the orders paid, in the order they were paid. */
  paid: string[];
  notStarted: number;
  elapsedS: number;
  createToPaid: LatencySummary;
  failures: Record<string, number>;
}
