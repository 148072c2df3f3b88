/** Bench settings: command-line flags win over BENCH_* environment variables, which win over defaults. */
import {
  jsonFileSetting,
  phasesSetting,
  readSettings,
  SHARED_SETTINGS,
  usageText,
  UsageError,
  type Setting,
} from './cli';

export { UsageError };

export const PHASES = [
  'baseline',
  'reads',
  'lifecycle',
  'floor',
  'lifecycle-open',
  'mixed',
  'paced',
] as const;
export type Phase = (typeof PHASES)[number];

export interface BenchOptions {
  apiUrl: URL;
  connections: number;
  /** How the mixed load keeps reads:writes at 5:1 (see bench/orders.ts). */
  mix: 'cycle' | 'split';
  /** Mixed and paced loads, seconds each. */
  durationS: number;
  /** Paced load: requests per second offered by all connections together, one paced run per rate. */
  rates: number[];
  /** Baseline and read-only API load, seconds each, in each round. */
  readDurationS: number;
  /** Rounds of baseline then read-only API load, when both phases run. */
  readRounds: number;
  /** Unmeasured load before the baseline, read-only, first lifecycle and floor phases, seconds. */
  warmUpS: number;
  /** Per-request timeout of the load generator, seconds. */
  timeoutS: number;
  seedOrders: number;
  /** Orders of each lifecycle phase. */
  lifecycleOrders: number;
  /** Closed-loop lifecycle: clients, each with one order in progress. */
  lifecycleConcurrency: number;
  /** Open-loop lifecycle: orders started per second; undefined for half the closed loop's rate. */
  lifecycleRate: number | undefined;
  /** Paid orders whose Temporal history is read after each lifecycle phase. */
  historySample: number;
  pollMs: number;
  /** The lifecycle phase starts no order after this many seconds. */
  lifecycleTimeoutS: number;
  /** Longest wait for the mixed load's payments to settle before the lifecycle phase. */
  drainTimeoutS: number;
  stackTimeoutS: number;
  phases: Set<Phase>;
  jsonFile: string | undefined;
}

const SETTINGS = {
  apiUrl: SHARED_SETTINGS.apiUrl,
  connections: {
    flag: 'connections',
    env: 'BENCH_CONNECTIONS',
    default: '3000',
    help: 'concurrent connections of each load phase',
  },
  mix: {
    flag: 'mix',
    env: 'BENCH_MIX',
    default: 'cycle',
    help: 'cycle: each connection does read×5, create, read×5, pay; split: 5/6 of connections read, 1/6 write',
  },
  durationS: {
    flag: 'duration',
    env: 'BENCH_DURATION',
    default: '60',
    help: 'mixed and paced loads, seconds each',
  },
  rates: {
    flag: 'rates',
    env: 'BENCH_RATES',
    default: '60,120,180,240',
    help: 'paced load: offered requests per second of all connections together, one run per rate (open model)',
  },
  readDurationS: {
    flag: 'read-duration',
    env: 'BENCH_READ_DURATION',
    default: '20',
    help: 'baseline and read-only load, seconds each, in each round',
  },
  readRounds: {
    flag: 'read-rounds',
    env: 'BENCH_READ_ROUNDS',
    default: '3',
    help: "baseline and read-only load alternate this many times; the read path's share is the median round's",
  },
  warmUpS: {
    flag: 'warm-up',
    env: 'BENCH_WARMUP',
    default: '5',
    help: 'unmeasured load before the baseline, read-only, first lifecycle and floor phases, seconds',
  },
  timeoutS: {
    flag: 'timeout',
    env: 'BENCH_TIMEOUT',
    default: '10',
    help: 'per-request timeout, seconds (a timeout counts as an error)',
  },
  seedOrders: {
    flag: 'seed-orders',
    env: 'BENCH_SEED_ORDERS',
    default: '1000',
    help: 'orders created before the load, read by GET',
  },
  lifecycleOrders: {
    flag: 'lifecycle-orders',
    env: 'BENCH_LIFECYCLE_ORDERS',
    default: '300',
    help: 'orders taken from creation to paid, in each lifecycle phase',
  },
  lifecycleConcurrency: {
    flag: 'lifecycle-concurrency',
    env: 'BENCH_LIFECYCLE_CONCURRENCY',
    default: '20',
    help: 'closed-loop lifecycle: clients, each paying its order before creating the next',
  },
  lifecycleRate: {
    flag: 'lifecycle-rate',
    env: 'BENCH_LIFECYCLE_RATE',
    default: '',
    help: 'open-loop lifecycle: orders started per second; none: half the closed-loop rate of the same run',
  },
  historySample: {
    flag: 'history-sample',
    env: 'BENCH_HISTORY_SAMPLE',
    default: '20',
    help: 'paid orders of each lifecycle phase whose Temporal history is read and counted',
  },
  lifecycleTimeoutS: {
    flag: 'lifecycle-timeout',
    env: 'BENCH_LIFECYCLE_TIMEOUT',
    default: '300',
    help: 'each lifecycle phase: start no order after this many seconds',
  },
  pollMs: {
    flag: 'poll-ms',
    env: 'BENCH_POLL_MS',
    default: '50',
    help: 'lifecycle: interval between GETs after a payment answered 202 (its wait ran out)',
  },
  drainTimeoutS: {
    flag: 'drain-timeout',
    env: 'BENCH_DRAIN_TIMEOUT',
    default: '180',
    help: 'longest wait for the stack to go quiet before each phase and after the mixed load, seconds',
  },
  stackTimeoutS: SHARED_SETTINGS.stackTimeoutS,
  phases: phasesSetting('BENCH_PHASES', PHASES),
  jsonFile: jsonFileSetting('BENCH_JSON'),
} satisfies Record<keyof BenchOptions, Setting>;

/** A setting the bench cannot use: said in one line, without a stack trace. */
export function usage(): string {
  return usageText('bench:orders', SETTINGS);
}

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions | 'help' {
  const read = readSettings(SETTINGS, argv, env);
  if (read === 'help') return 'help';
  const int = read.int.bind(read);
  const mix = read.raw(SETTINGS.mix);
  if (mix !== 'cycle' && mix !== 'split') throw new UsageError(`--mix must be cycle or split, not "${mix}"`);

  return {
    apiUrl: read.loopbackUrl(SETTINGS.apiUrl),
    mix,
    connections: int(SETTINGS.connections, 1, 20_000),
    durationS: int(SETTINGS.durationS, 1, 3600),
    rates: read
      .raw(SETTINGS.rates)
      .split(',')
      .map((rate) => {
        if (!/^\d{1,6}$/.test(rate.trim()) || Number(rate) < 1)
          throw new UsageError(`--rates must be whole numbers of requests per second, not "${rate}"`);
        return Number(rate);
      }),
    readDurationS: int(SETTINGS.readDurationS, 1, 3600),
    readRounds: int(SETTINGS.readRounds, 1, 20),
    warmUpS: int(SETTINGS.warmUpS, 0, 600),
    timeoutS: int(SETTINGS.timeoutS, 1, 120),
    seedOrders: int(SETTINGS.seedOrders, 1, 100_000),
    lifecycleOrders: int(SETTINGS.lifecycleOrders, 1, 100_000),
    lifecycleConcurrency: int(SETTINGS.lifecycleConcurrency, 1, 1000),
    lifecycleRate: read.raw(SETTINGS.lifecycleRate) ? int(SETTINGS.lifecycleRate, 1, 10_000) : undefined,
    historySample: int(SETTINGS.historySample, 0, 1000),
    pollMs: int(SETTINGS.pollMs, 1, 10_000),
    lifecycleTimeoutS: int(SETTINGS.lifecycleTimeoutS, 1, 3600),
    drainTimeoutS: int(SETTINGS.drainTimeoutS, 0, 3600),
    stackTimeoutS: int(SETTINGS.stackTimeoutS, 10, 3600),
    phases: read.phases(SETTINGS.phases, PHASES),
    jsonFile: read.raw(SETTINGS.jsonFile) || undefined,
  };
}
