/**
 * `npm run bench:orders`: load on the whole local stack, then a results table (see BENCHMARKS.md).
 *
 * Phases, in order; the load phases all use the same number of connections (default 3000):
 *   baseline  bare Koa + mysql2 `GET /orders/:id` (bench/lib/baseline-server.ts), the read path's yardstick
 *   reads     the API's `GET /orders/:id` alone, over the same pre-created orders
 *             With both, the two take turns for --read-rounds rounds, and the round with the median share of
 *             the baseline's rate is the one the targets use (every round is in the table and the JSON)
 *   lifecycle       closed loop: clients each taking an order from create to paid (pay with ?wait=true), one
 *                   after another; orders/s and create → paid latency at saturation
 *   floor           the engine floor (bench/engine-floor), right after the closed loop and with its orders and
 *                   clients: each order costs Temporal what a paid order does, and nothing else; the lifecycle's
 *                   yardstick
 *   lifecycle-open  open loop: the same orders started at a fixed rate (default: half the closed loop's), with
 *                   create → paid latency counted from when each was due
 *                   Both lifecycle phases and the floor also report CPU-ms per paid order by process, and the
 *                   Temporal history (events, workflow tasks, activity tasks) of a sample of their paid orders.
 *   mixed     reads and writes 5:1. --mix cycle (default): every connection cycles read×5, create order, read×5,
 *             pay that order, so the ratio is exact; --mix split: two instances side by side, 5/6 of the
 *             connections reading and 1/6 alternating create and pay, so reads do not wait behind writes
 * The stack at --url is used when /health answers 200; otherwise `scripts/start.ts` is started and, at the
 * end, stopped. All traffic goes to this machine only, and every phase is bounded in time.
 */
import { cleanUpRegistry, optionsOrHelp } from './lib/cli';
import fs from 'node:fs';
import os from 'node:os';
import { createOrderBody, payInFullBody, seedOrders, waitUntilCompleted } from './lib/api';
import { cpuSnapshot, cpuUsage, openFileLimit, pidsOf, waitForQuiet, type CpuUsage } from './lib/cpu';
import { historyStats } from './lib/histories';
import { orderWorkflowId } from '../src/workflows/orders/messages';
import { runLifecycle, type LifecycleLoad } from './lib/lifecycle';
import { runEngineFloor } from './lib/engine-floor';
import {
  floorJson,
  lifecycleJson,
  lifecycleSections,
  type FloorRun,
  type LifecycleRun,
} from './lib/lifecycle-report';
import {
  countNon2xx,
  countResponses,
  mergeKindStats,
  runLoad,
  type KindStats,
  type LoadResult,
  type Step,
  type StepRequest,
} from './lib/load';
import { runPacedLoad } from './lib/paced-load';
import { parseOptions, usage, UsageError, type BenchOptions } from './lib/options';
import {
  describeRun,
  ensureStack,
  startBaselineServer,
  type OwnedProcess,
  type StackHandle,
} from './lib/processes';
import { formatMs, formatRate, markdownTable } from './lib/stats';

const READ_P99_TARGET_MS = 250;
const WRITE_P99_TARGET_MS = 1000;
const SETTLE_MS = 5000;

const log = (line: string) => console.log(`bench | ${line}`);

interface Results {
  startedAt: Date;
  options: BenchOptions;
  stack?: StackHandle;
  environment: Record<string, string>;
  /** The round of the read path whose API share is the median (all rounds are in readRounds). */
  baseline?: LoadResult;
  reads?: LoadResult;
  readRounds: ReadRound[];
  /** Closed-loop: one instance (cycle) or two side by side (split), sharing the kinds read, create and pay. */
  mixed?: WritingLoad;
  /** Open-model: the cycle of `mixed` at fixed offered rates, one run each (bench/lib/paced-load.ts). */
  paced: WritingLoad[];
  /** Closed loop, then open loop. */
  lifecycles: LifecycleRun[];
  floor?: FloorRun;
  cpu: Map<string, CpuUsage>;
}

/** One round of the read path: the baseline, then the API, each with the CPU it took. */
interface ReadRound {
  baseline?: { load: LoadResult; cpu: CpuUsage };
  reads?: { load: LoadResult; cpu: CpuUsage };
}

/** A load with writes, and what it left behind for the stack to finish. */
interface WritingLoad {
  title: string;
  parts: LoadResult[];
  kinds: Map<string, KindStats>;
  elapsedS: number;
  drain: Awaited<ReturnType<typeof waitUntilCompleted>>;
  /** Seconds from the end of the load until the stack's processes went quiet. */
  backlog: { quiet: boolean; waitedS: number };
}

const { add: onCleanUp, cleanUp, onStopSignals } = cleanUpRegistry(log);

async function main(): Promise<void> {
  const options = optionsOrHelp(parseOptions, usage);
  if (!options) return;
  onStopSignals();

  const results: Results = {
    startedAt: new Date(),
    options,
    environment: {},
    paced: [],
    lifecycles: [],
    readRounds: [],
    cpu: new Map(),
  };
  if (options.phases.has('lifecycle-open') && !options.phases.has('lifecycle') && !options.lifecycleRate) {
    throw new UsageError('the lifecycle-open phase without the lifecycle phase needs --lifecycle-rate');
  }
  const limit = openFileLimit();
  if (limit !== undefined && limit < options.connections + 200) {
    log(
      `WARNING: the open-file limit (ulimit -n) is ${limit}, too low for ${options.connections} sockets plus the ` +
        `server side; expect EMFILE socket errors. Raise it (ulimit -n 65536) and run again.`,
    );
  }

  const stack = await ensureStack(options.apiUrl, options.stackTimeoutS * 1000, log);
  results.stack = stack;
  onCleanUp(async () => {
    if (stack.startedByBench) log('stopping the stack the bench started');
    await stack.stop();
  });
  results.environment = describeEnvironment(options, stack, limit);

  const tag = Date.now().toString(36);
  // The API answers /health before the worker has bundled its workflows: one paid order proves the whole path.
  // Until the worker polls, a payment's ?wait=true runs into the API's Temporal deadline (503): try a new order.
  log('checking that an order goes through to COMPLETED (the worker may still be starting)');
  const probeDeadline = performance.now() + options.stackTimeoutS * 1000;
  for (let attempt = 0; ; attempt++) {
    const probe = await runLifecycle({
      base: options.apiUrl,
      orderIds: [`bench-${tag}-probe${attempt}`],
      load: { kind: 'closed', clients: 1 },
      pollMs: 200,
      orderTimeoutMs: options.stackTimeoutS * 1000,
      phaseTimeoutMs: options.stackTimeoutS * 1000,
    });
    if (probe.paid.length === 1) break;
    const failures = [...probe.failures.keys()].join('; ');
    if (failures !== 'payment answered 503' || performance.now() > probeDeadline) {
      throw new Error(`a probe order did not complete: ${failures}`);
    }
  }

  const readIds = Array.from({ length: options.seedOrders }, (_, i) => `bench-${tag}-r${i}`);
  log(`creating ${readIds.length} orders for the reads`);
  await seedOrders(options.apiUrl, readIds, 20);
  const pickRead = () => readIds[Math.floor(Math.random() * readIds.length)]!;
  const read = (kind: string): Step => ({
    kind,
    build: () => ({ method: 'GET', path: `/orders/${pickRead()}` }),
  });

  const measured = async <T>(run: () => Promise<T>): Promise<{ result: T; cpu: CpuUsage }> => {
    const before = cpuSnapshot();
    const result = await run();
    return { result, cpu: cpuUsage(before, cpuSnapshot()) };
  };
  const measure = async <T>(phase: string, run: () => Promise<T>): Promise<T> => {
    const { result, cpu } = await measured(run);
    // A phase of a moment (nothing to wait for) says nothing about CPU shares.
    if (cpu.wallS >= 2) results.cpu.set(phase, cpu);
    return result;
  };
  const load = (
    title: string,
    url: URL,
    durationS: number,
    steps: Step[],
    connections = options.connections,
  ) =>
    runLoad({
      title,
      url,
      connections,
      durationS,
      timeoutS: options.timeoutS,
      steps,
      onTick: (elapsed, responses) => log(`${title}: ${Math.round(elapsed)} s, ${responses} responses`),
    });
  const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  // Work queued in Temporal by the previous phase (workflow starts of seeded orders) must not be measured.
  const quiet = async (phase: string) => {
    const { quiet: isQuiet, waitedS } = await waitForQuiet({ timeoutS: options.drainTimeoutS });
    log(
      isQuiet
        ? `stack quiet after ${waitedS.toFixed(0)} s; starting ${phase}`
        : `stack still busy after ${waitedS.toFixed(0)} s; starting ${phase} anyway`,
    );
  };
  // Both read servers get the same short warm-up (JIT, pools, first connects), which is not measured.
  const warmUp = async (url: URL) => {
    if (options.warmUpS === 0) return;
    log(`warming up ${url.origin} for ${options.warmUpS} s (not measured)`);
    await runLoad({
      title: 'warm-up',
      url,
      connections: options.connections,
      durationS: options.warmUpS,
      timeoutS: options.timeoutS,
      steps: [read('read')],
    });
    await settle();
  };

  // The baseline and the API take turns, round after round: the machine's speed drifts within minutes, and a
  // ratio of two phases measured minutes apart follows that drift more than the code.
  if (options.phases.has('baseline') || options.phases.has('reads')) {
    let baseline: (OwnedProcess & { url: URL }) | undefined;
    if (options.phases.has('baseline')) {
      await quiet('baseline');
      const server = await startBaselineServer();
      onCleanUp(() => server.stop());
      await warmUp(server.url);
      baseline = server;
    }
    if (options.phases.has('reads')) {
      await quiet('reads');
      await warmUp(options.apiUrl);
    }
    const rounds = baseline && options.phases.has('reads') ? options.readRounds : 1;
    for (let round = 1; round <= rounds; round++) {
      const current: ReadRound = {};
      const of = rounds > 1 ? ` (round ${round} of ${rounds})` : '';
      if (baseline) {
        log(
          `baseline${of}: bare Koa + mysql2 on ${baseline.url.origin}, ${options.connections} connections, ${options.readDurationS} s`,
        );
        const url = baseline.url;
        const { result, cpu } = await measured(() =>
          load('baseline', url, options.readDurationS, [read('read')]),
        );
        current.baseline = { load: result, cpu };
        await settle();
      }
      if (options.phases.has('reads')) {
        log(
          `reads${of}: GET /orders/:id only, ${options.connections} connections, ${options.readDurationS} s`,
        );
        const { result, cpu } = await measured(() =>
          load('reads', options.apiUrl, options.readDurationS, [read('read')]),
        );
        current.reads = { load: result, cpu };
        await settle();
      }
      results.readRounds.push(current);
    }
    await baseline?.stop();
    const median = medianRound(results.readRounds);
    if (median.baseline) {
      results.baseline = median.baseline.load;
      results.cpu.set('baseline', median.baseline.cpu);
    }
    if (median.reads) {
      results.reads = median.reads.load;
      results.cpu.set('reads', median.reads.cpu);
    }
  }

  // Like the read phases, the first lifecycle phase is preceded by an unmeasured closed loop: a fresh stack's
  // first orders pay for JIT compilation, pools, first connects and the dev server's first task-queue reads.
  let lifecycleWarm = options.warmUpS === 0;
  const warmUpLifecycle = async () => {
    if (lifecycleWarm) return;
    lifecycleWarm = true;
    log(`warming up the lifecycle for ${options.warmUpS} s (not measured)`);
    await runLifecycle({
      base: options.apiUrl,
      orderIds: Array.from({ length: 100_000 }, (_, i) => `bench-${tag}-w${i}`),
      load: { kind: 'closed', clients: options.lifecycleConcurrency },
      pollMs: options.pollMs,
      orderTimeoutMs: 120_000,
      phaseTimeoutMs: options.warmUpS * 1000,
    });
  };

  const lifecycle = async (phase: string, load: LifecycleLoad, idPrefix: string): Promise<LifecycleRun> => {
    await warmUpLifecycle();
    await quiet(phase);
    const ids = Array.from({ length: options.lifecycleOrders }, (_, i) => `bench-${tag}-${idPrefix}${i}`);
    log(
      `${phase}: ${ids.length} orders, ` +
        (load.kind === 'closed'
          ? `${load.clients} clients, each creating an order and paying it with ?wait=true`
          : `one started every ${(1000 / load.ratePerS).toFixed(0)} ms (${load.ratePerS.toFixed(1)}/s), each created and paid with ?wait=true`),
    );
    const result = await measure(phase, () =>
      runLifecycle({
        base: options.apiUrl,
        orderIds: ids,
        load,
        pollMs: options.pollMs,
        orderTimeoutMs: 120_000,
        phaseTimeoutMs: options.lifecycleTimeoutS * 1000,
      }),
    );
    log(`${phase}: ${result.paid.length} of ${ids.length} orders paid in ${result.elapsedS.toFixed(1)} s`);
    // Histories are read once the workflows have finished, and outside the measured time.
    await quiet(`reading ${options.historySample} histories`);
    const history =
      options.historySample > 0
        ? await historyStats(result.paid.map(orderWorkflowId), options.historySample)
        : undefined;
    return { phase, result, cpu: results.cpu.get(phase), history };
  };

  if (options.phases.has('lifecycle')) {
    results.lifecycles.push(
      await lifecycle('lifecycle', { kind: 'closed', clients: options.lifecycleConcurrency }, 'l'),
    );
  }
  // Right after the closed loop, with its orders and clients: the machine's speed drifts within minutes.
  if (options.phases.has('floor')) {
    await quiet('floor');
    log(
      `floor: ${options.lifecycleOrders} orders of the engine alone, ${options.lifecycleConcurrency} clients, ` +
        `after ${options.warmUpS} s of the same unmeasured`,
    );
    try {
      const { result, cpu } = await runEngineFloor({
        settings: {
          orders: options.lifecycleOrders,
          clients: options.lifecycleConcurrency,
          warmUpS: options.warmUpS,
          phaseTimeoutS: options.lifecycleTimeoutS,
          tag,
        },
        timeoutMs:
          (options.stackTimeoutS + options.warmUpS + options.drainTimeoutS + options.lifecycleTimeoutS) *
          1000,
        afterWarmUp: () => quiet('the measured floor'),
        onCleanUp,
      });
      results.cpu.set('floor', cpu);
      log(`floor: ${result.paid.length} of ${result.orders} orders paid in ${result.elapsedS.toFixed(1)} s`);
      await quiet(`reading ${options.historySample} histories`);
      const history =
        options.historySample > 0 ? await historyStats(result.paid, options.historySample) : undefined;
      results.floor = { result, cpu, history };
    } catch (error) {
      // The phases already measured are still reported.
      log(`floor failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (options.phases.has('lifecycle-open')) {
    const closed = results.lifecycles[0]?.result;
    const ratePerS = options.lifecycleRate ?? (closed ? closed.paid.length / closed.elapsedS / 2 : NaN);
    if (!(ratePerS > 0))
      throw new Error('the closed-loop lifecycle paid no order: no rate for the open loop');
    results.lifecycles.push(await lifecycle('lifecycle-open', { kind: 'open', ratePerS }, 'o'));
  }

  // Every connection of a writing load cycles read×5, create, read×5, pay, from a random start. A pay takes
  // the oldest created order not yet paid, from any connection: a paced connection sends one request every few
  // seconds, and would otherwise rarely reach the pay after its own create within the run.
  const writingCycle = (idPrefix: string) => {
    let created = 0;
    const unpaid: string[] = [];
    const paidOrders: string[] = [];
    const createRequest = (kind?: string): StepRequest => ({
      kind,
      method: 'POST',
      path: '/orders',
      body: createOrderBody(`bench-${tag}-${idPrefix}${created++}`),
    });
    const create: Step = {
      kind: 'create',
      build: () => createRequest(),
      onResponse: (status, body) => {
        if (status === 201) unpaid.push((JSON.parse(body) as { orderId: string }).orderId);
      },
    };
    const pay: Step = {
      kind: 'pay',
      build: (connection) => {
        const orderId = unpaid.shift();
        connection.paying = orderId;
        // No order is waiting to be paid (every create so far failed or was paid): create one instead.
        if (!orderId) return createRequest('create');
        return { method: 'POST', path: `/orders/${orderId}/payments`, body: payInFullBody() };
      },
      onResponse: (status, body, connection) => {
        if (status === 202 && typeof connection.paying === 'string') paidOrders.push(connection.paying);
        else if (status === 201) create.onResponse!(status, body, connection);
      },
    };
    const cycle = [...Array(5).fill(read('read')), create, ...Array(5).fill(read('read')), pay] as Step[];
    return { create, pay, cycle, paidOrders };
  };

  const writingLoad = async (
    /** Names the phase in the log and in the CPU table. */
    phase: string,
    title: string,
    run: (steps: ReturnType<typeof writingCycle>) => Promise<LoadResult[]>,
  ): Promise<WritingLoad> => {
    await quiet(phase);
    // Each load its own order IDs: a create of an ID an earlier load used is a retry, answered 200.
    const steps = writingCycle(`${phase.replace(/\W+/g, '')}-`);
    log(`${phase}: ${title}`);
    const parts = await measure(phase, () => run(steps));
    const kinds = new Map<string, KindStats>();
    for (const part of parts) for (const [kind, stats] of part.kinds) kinds.set(kind, stats);
    const { paidOrders } = steps;
    log(
      `waiting up to ${options.drainTimeoutS} s for the ${paidOrders.length} accepted payments to complete`,
    );
    const drain = await measure(`${phase} drain`, () =>
      waitUntilCompleted(options.apiUrl, paidOrders, options.drainTimeoutS * 1000),
    );
    log(`${drain.completed} of ${drain.total} paid orders COMPLETED after ${formatMs(drain.waitedMs)}`);
    log(`waiting up to ${options.drainTimeoutS} s for the stack to finish the work the load queued`);
    const quietAfter = await waitForQuiet({ timeoutS: options.drainTimeoutS });
    const backlog = { ...quietAfter, waitedS: quietAfter.waitedS + drain.waitedMs / 1000 };
    log(
      backlog.quiet
        ? `stack quiet ${backlog.waitedS.toFixed(0)} s after the load stopped`
        : `stack still busy after ${backlog.waitedS.toFixed(0)} s`,
    );
    return {
      title,
      parts,
      kinds,
      elapsedS: Math.max(...parts.map((part) => part.elapsedS)),
      drain,
      backlog,
    };
  };

  const connections = options.connections;
  if (options.phases.has('mixed')) {
    if (options.mix === 'cycle') {
      results.mixed = await writingLoad(
        'mixed',
        `${connections} connections, closed loop, each cycling read×5, create, read×5, pay (5:1), ${options.durationS} s`,
        async ({ cycle }) => [await load('mixed', options.apiUrl, options.durationS, cycle)],
      );
    } else {
      const writers = Math.max(1, Math.round(connections / 6));
      results.mixed = await writingLoad(
        'mixed',
        `${connections} connections, closed loop, ${connections - writers} reading and ${writers} alternating create and pay, ${options.durationS} s`,
        ({ create, pay }) =>
          Promise.all([
            load('mixed reads', options.apiUrl, options.durationS, [read('read')], connections - writers),
            load('mixed writes', options.apiUrl, options.durationS, [create, pay], writers),
          ]),
      );
    }
  }

  if (options.phases.has('paced')) {
    for (const rate of options.rates) {
      results.paced.push(
        await writingLoad(
          `paced ${rate}/s`,
          `${connections} connections held open, offering ${rate} req/s in all (one request every ` +
            `${(connections / rate).toFixed(1)} s per connection), each cycling read×5, create, read×5, pay ` +
            `(5:1), ${options.durationS} s`,
          async ({ cycle }) => [
            await runPacedLoad({
              title: `paced ${rate} req/s`,
              url: options.apiUrl,
              connections,
              ratePerS: rate,
              durationS: options.durationS,
              timeoutS: options.timeoutS,
              steps: cycle,
              onTick: (elapsed, responses) =>
                log(`paced ${rate} req/s: ${Math.round(elapsed)} s, ${responses} responses`),
            }),
          ],
        ),
      );
    }
  }

  console.log(`\n${report(results)}`);
  if (options.jsonFile) {
    fs.writeFileSync(options.jsonFile, `${JSON.stringify(toJson(results), null, 2)}\n`);
    log(`results written to ${options.jsonFile}`);
  }
}

function describeEnvironment(options: BenchOptions, stack: StackHandle, limit: number | undefined) {
  const snapshot = cpuSnapshot();
  const apiLimits = pidsOf(snapshot, 'api')
    .map((pid) => openFileLimit(pid))
    .filter((value): value is number => value !== undefined);
  const { fields, stackSetting } = describeRun(
    'bench:orders',
    (name) => name === 'DURAPAY_GATEWAY_LATENCY_MS' || name === 'LOG_LEVEL',
    stack,
    options.apiUrl,
  );
  return {
    ...fields,
    'gateway latency (DURAPAY_GATEWAY_LATENCY_MS)': stackSetting('DURAPAY_GATEWAY_LATENCY_MS', '0 (default)'),
    'log level (LOG_LEVEL)': stackSetting('LOG_LEVEL', 'info (default: one line per request)'),
    'open-file limit': `bench ${limit ?? 'unknown'}, api ${apiLimits.length ? Math.min(...apiLimits) : 'unknown'}`,
    'connections per load phase': String(options.connections),
    'mixed load':
      options.mix === 'cycle'
        ? 'cycle: one instance, read×5 + create + read×5 + pay per connection'
        : 'split: two instances, 5/6 of connections read, 1/6 create + pay',
    'per-request timeout': `${options.timeoutS} s`,
    'pre-created orders read': String(options.seedOrders),
    'warm-up before baseline, reads and the first lifecycle phase': `${options.warmUpS} s each, not measured`,
  };
}

function report(results: Results): string {
  const { options } = results;
  const sections: string[] = [];
  const heading = (text: string) => sections.push(`## ${text}`);

  heading('Run');
  sections.push(markdownTable(['setting', 'value'], Object.entries(results.environment)));

  const loadHeaders = [
    'traffic',
    'responses',
    'req/s',
    'p50',
    'p90',
    'p99',
    'max',
    'non-2xx',
    'timeouts/socket',
    'errors',
  ];
  const loadRow = (label: string, stats: KindStats, elapsedS: number) => {
    const summary = stats.latency.summary();
    const responses = countResponses(stats);
    const non2xx = countNon2xx(stats);
    return [
      label,
      responses,
      formatRate(responses / elapsedS),
      formatMs(summary.p50),
      formatMs(summary.p90),
      formatMs(summary.p99),
      formatMs(summary.max),
      non2xx,
      stats.lost,
      non2xx + stats.lost,
    ];
  };

  // One table per writing load, and its targets: reads and writes kept apart.
  const writingLoadSection = (name: string, load: WritingLoad) => {
    const reads = load.kinds.get('read')!;
    const writes = mergeKindStats(load.kinds.get('create')!, load.kinds.get('pay')!);
    heading(`${name}: ${load.title} (measured ${load.elapsedS.toFixed(1)} s)`);
    sections.push(
      markdownTable(loadHeaders, [
        loadRow('reads: GET /orders/:id', reads, load.elapsedS),
        loadRow('writes: all', writes, load.elapsedS),
        loadRow('writes: POST /orders', load.kinds.get('create')!, load.elapsedS),
        loadRow('writes: POST /orders/:id/payments', load.kinds.get('pay')!, load.elapsedS),
      ]),
    );
    const writeResponses = countResponses(writes);
    sections.push(
      `Achieved reads:writes = ${writeResponses ? (countResponses(reads) / writeResponses).toFixed(2) : '–'}:1 (responses).`,
    );
    for (const part of load.parts) sections.push(loadFootnotes(part));
    const { drain: d, backlog } = load;
    const pending = [...d.sampleOfPending].map(([status, n]) => `${status} ×${n}`).join(', ');
    sections.push(
      (d.total === 0
        ? 'After the load: no payment was accepted (202) within the client timeout, so none was waited for. '
        : `After the load: ${d.completed} of ${d.total} orders paid with 202 read COMPLETED within ${formatMs(d.waitedMs)}` +
          (pending ? ` (not completed, sampled: ${pending})` : '') +
          '. ') +
        (backlog.quiet
          ? `The stack's processes went quiet ${backlog.waitedS.toFixed(0)} s after the load stopped (work queued in Temporal and the database).`
          : `The stack's processes were still busy ${backlog.waitedS.toFixed(0)} s after the load stopped.`),
    );
    const errors = countNon2xx(reads) + reads.lost + countNon2xx(writes) + writes.lost;
    const readP99 = reads.latency.summary().p99;
    const writeP99 = writes.latency.summary().p99;
    const verdict = (met: boolean) => (met ? 'met' : 'MISSED');
    sections.push(
      `Targets, ${name.toLowerCase()}:\n\n` +
        markdownTable(
          ['target', 'measured', 'verdict'],
          [
            ['zero errors (non-2xx + timeouts/socket)', errors, verdict(errors === 0)],
            [
              `read p99 ≤ ${READ_P99_TARGET_MS} ms`,
              formatMs(readP99),
              verdict(readP99 <= READ_P99_TARGET_MS),
            ],
            [
              `write-accept p99 ≤ ${WRITE_P99_TARGET_MS} ms`,
              formatMs(writeP99),
              verdict(writeP99 <= WRITE_P99_TARGET_MS),
            ],
          ],
        ),
    );
    return reads;
  };
  const mixed = results.mixed;
  const mixedReads = mixed && writingLoadSection('Mixed load', mixed);
  for (const paced of results.paced) writingLoadSection('Paced mixed load', paced);

  if (results.baseline || results.reads || mixedReads) {
    const baselineStats = results.baseline?.kinds.get('read');
    const baselineRate =
      baselineStats && results.baseline ? countResponses(baselineStats) / results.baseline.elapsedS : NaN;
    // CPU-ms per response of the serving process: on a shared machine the throughput follows whatever else
    // runs, while the CPU each response costs moves much less.
    const baselineCpu = cpuMsPerResponse(
      results.cpu.get('baseline'),
      BASELINE_ROLE,
      readResponses(results.baseline),
    );
    const rows: (string | number)[][] = [];
    const add = (
      label: string,
      stats: KindStats | undefined,
      elapsedS: number | undefined,
      cpu?: { phase: string; role: string },
    ) => {
      if (!stats || !elapsedS) return;
      const row = loadRow(label, stats, elapsedS);
      const rate = countResponses(stats) / elapsedS;
      const cpuMs = cpu ? cpuMsPerResponse(results.cpu.get(cpu.phase), cpu.role, countResponses(stats)) : NaN;
      rows.push([
        ...row,
        percentOrDash(rate / baselineRate),
        Number.isFinite(cpuMs) ? cpuMs.toFixed(3) : '–',
        percentOrDash(baselineCpu / cpuMs),
      ]);
    };
    add('baseline: bare Koa + mysql2, 1 SELECT', baselineStats, results.baseline?.elapsedS, {
      phase: 'baseline',
      role: BASELINE_ROLE,
    });
    add('API GET /orders/:id, reads only', results.reads?.kinds.get('read'), results.reads?.elapsedS, {
      phase: 'reads',
      role: API_ROLE,
    });
    add('API GET /orders/:id, within the mixed load', mixedReads, mixed?.elapsedS);
    const rounds = results.readRounds.length;
    heading(
      `Read path against the baseline: ${options.connections} connections` +
        (rounds > 1 ? `, the median of ${rounds} rounds` : ''),
    );
    sections.push(
      markdownTable(
        [...loadHeaders, 'of baseline', 'server CPU-ms per response', 'of baseline, per CPU-ms'],
        rows,
      ),
    );
    if (rounds > 1) sections.push(readRoundsTable(results.readRounds));
    for (const result of [results.baseline, results.reads]) if (result) sections.push(loadFootnotes(result));
  }

  sections.push(...lifecycleSections(results.lifecycles, results.floor, readShare(results)));

  if (results.cpu.size > 0) {
    heading('CPU by process (cores busy on average; the machine has ' + os.cpus().length + ')');
    const phases = [...results.cpu.keys()];
    const roles = new Set<string>();
    for (const usage of results.cpu.values()) for (const [role] of usage.byRole) roles.add(role);
    const rows = [...roles].map((role) => [
      role,
      ...phases.map((phase) =>
        (results.cpu.get(phase)!.byRole.find(([r]) => r === role)?.[1] ?? 0).toFixed(2),
      ),
    ]);
    rows.push([
      'not attributed (kernel, processes that ended mid-phase)',
      ...phases.map((phase) => {
        const usage = results.cpu.get(phase)!;
        if (usage.machineBusy === undefined) return '–';
        const attributed = usage.byRole.reduce((sum, [, cores]) => sum + cores, 0);
        const ownBusy = usage.machineBusy - (usage.machineStolen ?? 0);
        return Math.max(0, ownBusy * os.cpus().length - attributed).toFixed(2);
      }),
    ]);
    rows.push([
      'machine busy',
      ...phases.map((phase) => {
        const busy = results.cpu.get(phase)!.machineBusy;
        return busy === undefined ? '–' : `${(busy * 100).toFixed(0)} %`;
      }),
    ]);
    rows.push([
      'of which stolen by the hypervisor',
      ...phases.map((phase) => {
        const stolen = results.cpu.get(phase)!.machineStolen;
        return stolen === undefined ? '–' : `${(stolen * 100).toFixed(0)} %`;
      }),
    ]);
    sections.push(markdownTable(['process', ...phases], rows));
    const others = phases
      .map((phase) => {
        const top = results.cpu.get(phase)!.topOther.map(([name, cores]) => `${name} ${cores.toFixed(2)}`);
        return top.length ? `${phase}: ${top.join(', ')}` : '';
      })
      .filter(Boolean);
    if (others.length) sections.push(`"other" is mostly: ${others.join('; ')}`);
  }

  const socketTrouble = [
    results.baseline,
    results.reads,
    ...(results.mixed?.parts ?? []),
    ...results.paced.flatMap((paced) => paced.parts),
  ].some(
    (result) =>
      result && [...result.errorCodes.keys()].some((code) => /EMFILE|ENFILE|EADDRNOTAVAIL/.test(code)),
  );
  if (socketTrouble) {
    sections.push(
      `WARNING: sockets failed for lack of file descriptors or ports (EMFILE/ENFILE/EADDRNOTAVAIL). ` +
        `Check \`ulimit -n\` of the bench and of the stack (${results.environment['open-file limit']}).`,
    );
  }
  return sections.join('\n\n');
}

const BASELINE_ROLE = 'bench: baseline server';
const API_ROLE = 'api';

/** Each round of the read path: both servers' rates and CPU per response, and the API's share of each. */
function readRoundsTable(rounds: ReadRound[]): string {
  const rows = rounds.map((round, index) => {
    const baselineCpu = cpuMsPerResponse(
      round.baseline?.cpu,
      BASELINE_ROLE,
      readResponses(round.baseline?.load),
    );
    const apiCpu = cpuMsPerResponse(round.reads?.cpu, API_ROLE, readResponses(round.reads?.load));
    const share = shareOf(round.baseline?.load, round.reads?.load);
    const rate = (result: LoadResult | undefined) => {
      const perSecond = readRate(result);
      return perSecond === undefined ? '–' : formatRate(perSecond);
    };
    return [
      index + 1,
      rate(round.baseline?.load),
      rate(round.reads?.load),
      percentOrDash(share),
      Number.isFinite(baselineCpu) ? baselineCpu.toFixed(3) : '–',
      Number.isFinite(apiCpu) ? apiCpu.toFixed(3) : '–',
      percentOrDash(baselineCpu / apiCpu),
    ];
  });
  return markdownTable(
    [
      'round',
      'baseline req/s',
      'API req/s',
      'API of baseline',
      'baseline CPU-ms per response',
      'API CPU-ms per response',
      'API of baseline, per CPU-ms',
    ],
    rows,
  );
}

/** A share as the tables show it; '–' when it could not be measured (no CPU attributed, no responses). */
function percentOrDash(share: number | undefined): string {
  return share !== undefined && Number.isFinite(share) ? `${(share * 100).toFixed(0)} %` : '–';
}

/** Responses per second of a read load. */
function readRate(result: LoadResult | undefined): number | undefined {
  const stats = result?.kinds.get('read');
  return stats && result ? countResponses(stats) / result.elapsedS : undefined;
}

/** The API's read-only throughput as a share of the baseline's, when both phases ran. */
function readShare(results: Results): number | undefined {
  return shareOf(results.baseline, results.reads);
}

function shareOf(baseline: LoadResult | undefined, reads: LoadResult | undefined): number | undefined {
  const baselineRate = readRate(baseline);
  const apiRate = readRate(reads);
  return baselineRate && apiRate !== undefined ? apiRate / baselineRate : undefined;
}

/** The round whose API share is the median of all rounds' (the lower middle one of an even count). */
function medianRound(rounds: ReadRound[]): ReadRound {
  const share = (round: ReadRound) => shareOf(round.baseline?.load, round.reads?.load) ?? 0;
  return [...rounds].sort((a, b) => share(a) - share(b))[Math.floor((rounds.length - 1) / 2)]!;
}

/** CPU-ms of one process role per response. */
function cpuMsPerResponse(usage: CpuUsage | undefined, role: string, responses: number): number {
  const cores = usage?.byRole.find(([r]) => r === role)?.[1];
  return usage && cores !== undefined && responses > 0 ? (cores * usage.wallS * 1000) / responses : NaN;
}

const readResponses = (result: LoadResult | undefined) => {
  const stats = result?.kinds.get('read');
  return stats ? countResponses(stats) : 0;
};

function loadFootnotes(result: LoadResult): string {
  const codes = [...result.errorCodes].map(([code, n]) => `${code} ×${n}`).join(', ');
  const samples: string[] = [];
  for (const [kind, stats] of result.kinds) {
    for (const [status, bodies] of stats.errorSamples) samples.push(`${kind} ${status}: ${bodies[0] ?? ''}`);
  }
  const { totals: t, paced: p } = result;
  const cross = t
    ? `autocannon totals ${t.responses} responses, mean ${formatRate(t.requestsPerSecondMean)} req/s, ` +
      `p50 ${t.latencyP50} ms, p99 ${t.latencyP99} ms, non-2xx ${t.non2xx}, errors ${t.errors} (timeouts ${t.timeouts})`
    : p
      ? `offered ${p.offeredPerS} req/s; ${p.socketsOpened} sockets opened, ${p.openSockets.min}–${p.openSockets.max} ` +
        `open once every connection had sent; latency from each request's due time, all kinds p50 ` +
        `${formatMs(p.latencyP50)}, p99 ${formatMs(p.latencyP99)}`
      : '';
  return [
    `${result.title}: ${cross}` +
      (codes ? `; socket errors: ${codes}` : '') +
      `; load generator event-loop delay p50 ${formatMs(result.generatorLoopDelay.p50)}, ` +
      `p99 ${formatMs(result.generatorLoopDelay.p99)}, max ${formatMs(result.generatorLoopDelay.max)}`,
    ...samples.slice(0, 4).map((sample) => `  e.g. ${sample.replace(/\s+/g, ' ')}`),
  ].join('\n');
}

function toJson(results: Results) {
  const load = (result: LoadResult | undefined) =>
    result && {
      connections: result.connections,
      elapsedS: result.elapsedS,
      kinds: Object.fromEntries(
        [...result.kinds].map(([kind, stats]) => [
          kind,
          {
            ...stats.latency.summary(),
            statuses: Object.fromEntries(stats.statuses),
            lost: stats.lost,
          },
        ]),
      ),
      errorCodes: Object.fromEntries(result.errorCodes),
      generatorLoopDelay: result.generatorLoopDelay,
      totals: result.totals,
      paced: result.paced,
    };
  const writing = (result: WritingLoad | undefined) =>
    result && {
      title: result.title,
      parts: result.parts.map(load),
      backlog: result.backlog,
      drain: { ...result.drain, sampleOfPending: Object.fromEntries(result.drain.sampleOfPending) },
    };
  return {
    environment: results.environment,
    baseline: load(results.baseline),
    reads: load(results.reads),
    readRounds: results.readRounds.map((round) => ({
      baseline: round.baseline && { ...load(round.baseline.load), cpu: round.baseline.cpu },
      reads: round.reads && { ...load(round.reads.load), cpu: round.reads.cpu },
      share: shareOf(round.baseline?.load, round.reads?.load),
    })),
    mixed: writing(results.mixed),
    paced: results.paced.map(writing),
    lifecycles: results.lifecycles.map(lifecycleJson),
    floor: results.floor && floorJson(results.floor),
    cpu: Object.fromEntries([...results.cpu].map(([phase, usage]) => [phase, usage])),
  };
}

main()
  .catch((error: unknown) => {
    if (error instanceof UsageError) log(`${error.message} (see --help)`);
    else log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await cleanUp();
    // autocannon and fetch may keep sockets or timers; the bench is done, so it ends here.
    process.exit();
  });
