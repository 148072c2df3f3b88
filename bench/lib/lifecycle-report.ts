/** The lifecycle phases' part of the bench:orders report: throughput, latency, and cost per paid order. */
import os from 'node:os';
import type { EngineFloorResult } from '../engine-floor/protocol';
import {
  ENGINE_FLOOR,
  LOAD_GENERATOR,
  LOG_RELAY,
  STACK_ROLES,
  TEMPORAL_DEV_SERVER,
  type CpuUsage,
} from './cpu';
import type { HistoryStats, Spread } from './histories';
import type { LifecycleResult } from './lifecycle';
import { formatMs, formatRate, markdownTable } from './stats';

export interface LifecycleRun {
  phase: string;
  result: LifecycleResult;
  cpu?: CpuUsage;
  history?: HistoryStats;
}

/** The engine floor's run (bench/engine-floor): Temporal's cost of a paid order with nothing else around it. */
export interface FloorRun {
  result: EngineFloorResult;
  cpu: CpuUsage;
  history?: HistoryStats;
}

const TARGETS = {
  closedOrdersPerS: 30,
  openP99Ms: 500,
  events: 20,
  workflowTasks: 3,
  activityTasks: 1,
  readShare: 0.6,
};

/**
 * Report sections for the lifecycle runs and the engine floor, and the targets, with the read path's share of
 * the baseline.
 */
export function lifecycleSections(
  runs: LifecycleRun[],
  floor: FloorRun | undefined,
  readShare: number | undefined,
): string[] {
  const sections: string[] = [];
  for (const run of runs) sections.push(...runSections(run));
  if (runs.length > 0) sections.push(...perOrderSections(runs));
  if (floor)
    sections.push(
      ...floorSections(
        floor,
        runs.find((run) => run.result.load.kind === 'closed'),
      ),
    );
  sections.push(...targetSections(runs, readShare));
  return sections;
}

function describeLoad({ result }: LifecycleRun): string {
  return result.load.kind === 'closed'
    ? `closed loop, ${result.load.clients} clients`
    : `open loop, one order every ${(1000 / result.load.ratePerS).toFixed(0)} ms (${formatRate(result.load.ratePerS)}/s)`;
}

const ordersPerS = (result: LifecycleResult) => result.paid.length / result.elapsedS;

function runSections(run: LifecycleRun): string[] {
  const { result } = run;
  const failed = result.orders - result.paid.length - result.notStarted;
  const failures = [...result.failures].map(([reason, n]) => `${reason} ×${n}`).join('; ');
  const latencyRow = (label: string, recorder: LifecycleResult['create']) => {
    const s = recorder.summary();
    return [label, s.count, formatMs(s.p50), formatMs(s.p90), formatMs(s.p99), formatMs(s.max)];
  };
  return [
    `## Lifecycle (${run.phase}): ${result.orders} orders, ${describeLoad(run)}, create → pay ?wait=true`,
    markdownTable(
      [
        'paid',
        'failed',
        'not started (time limit)',
        'elapsed',
        'orders/s',
        'most in flight',
        'pay answered 202',
      ],
      [
        [
          result.paid.length,
          failed,
          result.notStarted,
          `${result.elapsedS.toFixed(1)} s`,
          formatRate(ordersPerS(result)),
          result.maxInFlight,
          `${result.answered202} (then polled: ${result.polls} GETs)`,
        ],
      ],
    ),
    markdownTable(
      ['latency', 'count', 'p50', 'p90', 'p99', 'max'],
      [
        latencyRow(
          result.load.kind === 'open' ? 'create → paid (from when the order was due)' : 'create → paid',
          result.createToPaid,
        ),
        latencyRow('POST /orders (201)', result.create),
        latencyRow('POST /orders/:id/payments?wait=true', result.pay),
      ],
    ),
    ...(failures ? [`Failures: ${failures}`] : []),
  ];
}

/** CPU-ms per paid order of the processes in `roles` together. */
const msPerOrder = (cpu: CpuUsage, paid: number, roles: string[]) =>
  (cpu.byRole.filter(([role]) => roles.includes(role)).reduce((sum, [, cores]) => sum + cores, 0) *
    cpu.wallS *
    1000) /
  paid;

function perOrderSections(runs: LifecycleRun[]): string[] {
  const sections = ['## Per paid order: CPU by process, and the Temporal history'];
  const measured = runs.filter((run) => run.cpu && run.result.paid.length > 0);
  if (measured.length > 0) {
    const rows = [...STACK_ROLES, LOG_RELAY, LOAD_GENERATOR].map((role) => [
      role,
      ...measured.map((run) => msPerOrder(run.cpu!, run.result.paid.length, [role]).toFixed(1)),
    ]);
    rows.push([
      'the stack in all',
      ...measured.map((run) =>
        msPerOrder(run.cpu!, run.result.paid.length, [...STACK_ROLES, LOG_RELAY]).toFixed(1),
      ),
    ]);
    sections.push(
      'CPU-ms per paid order: CPU time of each process during the phase ÷ orders paid in it (processes of other ' +
        'stacks on the machine are left out).',
      markdownTable(['process', ...measured.map((run) => `${run.phase} (ms/order)`)], rows),
    );
  }
  const withHistory = runs.filter((run) => run.history && run.history.sampled > 0);
  if (withHistory.length > 0) {
    sections.push(
      'Temporal history per paid order, mean (min–max) over a sample read through the Temporal client ' +
        '(workflow tasks = WorkflowTaskScheduled events, activity tasks = ActivityTaskScheduled events):',
      markdownTable(
        ['per paid order', ...withHistory.map((run) => run.phase)],
        [
          [
            'orders sampled (workflows closed)',
            ...withHistory.map((run) => `${run.history!.sampled} (${run.history!.closed})`),
          ],
          ['history events', ...withHistory.map((run) => spread(run.history!.events))],
          ['workflow tasks', ...withHistory.map((run) => spread(run.history!.workflowTasks))],
          ['activity tasks', ...withHistory.map((run) => spread(run.history!.activityTasks))],
        ],
      ),
    );
  }
  for (const run of runs) {
    if (!run.history) continue;
    const types = run.history.byType.map(([type, n]) => `${type} ${formatCount(n)}`).join(', ');
    const failures = [...run.history.failures].map(([reason, n]) => `${reason} ×${n}`).join('; ');
    if (types) sections.push(`Events by type per paid order, ${run.phase}: ${types}.`);
    if (failures) sections.push(`Histories not read, ${run.phase}: ${failures}.`);
  }
  return sections;
}

function floorSections({ result, cpu, history }: FloorRun, closed: LifecycleRun | undefined): string[] {
  const paid = result.paid.length;
  const rate = paid / result.elapsedS;
  const historyFailures = history
    ? [...history.failures].map(([reason, n]) => `${reason} ×${n}`).join('; ')
    : '';
  const latency = result.createToPaid;
  const failures = Object.entries(result.failures)
    .map(([reason, n]) => `${reason} ×${n}`)
    .join('; ');
  const perOrder = (roles: string[]) => (paid > 0 ? msPerOrder(cpu, paid, roles).toFixed(1) : '–');
  const rows: (string | number)[][] = [
    [
      'orders paid, of started (not started: time limit)',
      `${paid} of ${result.orders - result.notStarted} (${result.notStarted})`,
    ],
    ['orders/s', formatRate(rate)],
    [
      'create → paid p50 / p90 / p99 / max',
      [latency.p50, latency.p90, latency.p99, latency.max].map(formatMs).join(' / '),
    ],
    ['CPU-ms per order: Temporal dev server', perOrder([TEMPORAL_DEV_SERVER])],
    ['CPU-ms per order: the floor (its worker and clients)', perOrder([ENGINE_FLOOR])],
  ];
  if (history && history.sampled > 0) {
    rows.push([
      `history events, mean (min–max) of ${history.sampled} (${history.closed} closed)`,
      spread(history.events),
    ]);
  }
  if (closed && closed.result.paid.length > 0 && paid > 0) {
    const lifecycleRate = ordersPerS(closed.result);
    rows.push([
      `the closed-loop lifecycle's orders/s ÷ the floor's`,
      `${(lifecycleRate / rate).toFixed(2)}×`,
    ]);
  }
  return [
    `## Engine floor: ${result.orders} orders, the engine alone, closed loop (same clients as the lifecycle)`,
    'The same Temporal commands as a paid order (start, deadline timer, update, charge activity, local ' +
      'activity, status upsert) from one process holding its own worker and clients: no API, database, ' +
      `payload codec or provider. What the machine's ${os.cpus().length} cores carry of Temporal alone.`,
    markdownTable(['floor', 'value'], rows),
    ...(failures ? [`Failures: ${failures}`] : []),
    ...(historyFailures ? [`Histories not read, floor: ${historyFailures}.`] : []),
  ];
}

function targetSections(runs: LifecycleRun[], readShare: number | undefined): string[] {
  const verdict = (met: boolean) => (met ? 'met' : 'MISSED');
  const rows: (string | number)[][] = [];
  const closed = runs.find((run) => run.result.load.kind === 'closed');
  const open = runs.find((run) => run.result.load.kind === 'open');
  if (closed) {
    const rate = ordersPerS(closed.result);
    rows.push([
      `closed-loop lifecycle ≥ ${TARGETS.closedOrdersPerS} orders/s`,
      formatRate(rate),
      verdict(rate >= TARGETS.closedOrdersPerS),
    ]);
  }
  if (open) {
    const p99 = open.result.createToPaid.summary().p99;
    rows.push([
      `open-loop create → paid p99 ≤ ${TARGETS.openP99Ms} ms`,
      formatMs(p99),
      verdict(p99 <= TARGETS.openP99Ms && open.result.paid.length === open.result.orders),
    ]);
  }
  const history = closed?.history ?? open?.history;
  if (history && history.sampled > 0) {
    rows.push(
      [
        `history events ≤ ${TARGETS.events} per paid order`,
        `max ${history.events.max}`,
        verdict(history.events.max <= TARGETS.events),
      ],
      [
        `workflow tasks ≤ ${TARGETS.workflowTasks} per paid order`,
        `max ${history.workflowTasks.max}`,
        verdict(history.workflowTasks.max <= TARGETS.workflowTasks),
      ],
      [
        `activity tasks ≤ ${TARGETS.activityTasks} per paid order`,
        `max ${history.activityTasks.max}`,
        verdict(history.activityTasks.max <= TARGETS.activityTasks),
      ],
    );
  }
  if (readShare !== undefined) {
    rows.push([
      `API reads ≥ ${TARGETS.readShare}× the baseline`,
      `${readShare.toFixed(2)}×`,
      verdict(readShare >= TARGETS.readShare),
    ]);
  }
  return rows.length === 0
    ? []
    : [
        '## Targets: throughput, latency, history, read path',
        markdownTable(['target', 'measured', 'verdict'], rows),
      ];
}

function formatCount(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

const spread = (s: Spread) => `${formatCount(s.mean)} (${s.min}–${s.max})`;

const historyJson = (history: HistoryStats | undefined) =>
  history && {
    ...history,
    byType: Object.fromEntries(history.byType),
    failures: Object.fromEntries(history.failures),
  };

export function floorJson({ result, cpu, history }: FloorRun) {
  return {
    orders: result.orders,
    paid: result.paid.length,
    notStarted: result.notStarted,
    elapsedS: result.elapsedS,
    ordersPerSecond: result.paid.length / result.elapsedS,
    createToPaid: result.createToPaid,
    failures: result.failures,
    cpu,
    history: historyJson(history),
  };
}

export function lifecycleJson(run: LifecycleRun) {
  const { result, history } = run;
  return {
    phase: run.phase,
    load: result.load,
    orders: result.orders,
    paid: result.paid.length,
    notStarted: result.notStarted,
    elapsedS: result.elapsedS,
    ordersPerSecond: ordersPerS(result),
    maxInFlight: result.maxInFlight,
    answered202: result.answered202,
    polls: result.polls,
    createToPaid: result.createToPaid.summary(),
    create: result.create.summary(),
    pay: result.pay.summary(),
    failures: Object.fromEntries(result.failures),
    cpu: run.cpu,
    history: historyJson(history),
  };
}
