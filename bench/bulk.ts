/**
 * `npm run bench:bulk`: bulk upload and export on the whole local stack, then a results table (see
 * BENCHMARKS.md, "Bulk upload and export").
 *
 * Phases, in order:
 *   baseline  one connection: the CSV stream-parsed as the project read it when issue #12 was filed
 *             (bench/bulk/baseline-reader.ts), the card column sealed with the FieldCipher, multi-row INSERTs
 *             into a scratch table; no API, no Temporal
 *   floor     MariaDB alone writing what an upload writes (an order and a payment per row) into scratch copies
 *             of the real tables, from two connections, with ready-made values (bench/bulk/floor.ts)
 *   hashFloor
 *             the same, with the rows in order of the order id's hash, as uploads chunked by hash (SLOT_RANGES,
 *             src/db/uploads.ts) inserted them: what that key order costs MariaDB
 *   csv       POST /uploads of a generated CSV (--rows orders, one COMPLETED card payment each), timed to a final status
 *   xml       the same orders as XML (another id prefix, so they are imported, not matched), timed the same way
 *   exportBaseline
 *             the export's yardstick: one mysql2 connection streams the export's joined query, decrypts the
 *             emails and writes the same CSV to nowhere; no API (bench/bulk/export-baseline.ts)
 *   export    GET /exports/orders?format=csv, everything in the database, streamed and counted
 * API and worker peak RSS (VmRSS) are sampled during each phase, and CPU per part of the stack is measured.
 * The stack at --url is used when /health answers 200; otherwise `scripts/start.ts` is started and, at the end,
 * stopped. Generated files go to a temporary folder that is removed at the end.
 */
import { cleanUpRegistry, optionsOrHelp, UsageError } from './lib/cli';
import { loadConfig } from '../src/config';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cpuSnapshot, cpuUsage, pidsOf, waitForQuiet, type CpuUsage } from './lib/cpu';
import { describeRun, ensureStack, healthStatus, type StackHandle } from './lib/processes';
import { formatRate, markdownTable } from './lib/stats';
import { runBaseline, type BaselineResult } from './bulk/baseline';
import { runExportBaseline, type ExportBaselineResult } from './bulk/export-baseline';
import { hashKeyOrder, FILE_ORDER, runFloor, type FloorResult } from './bulk/floor';
import { writeCsv, writeXml } from './bulk/data';
import { timeExport, timeUpload, type ExportResult, type UploadResult } from './bulk/http';
import { bulkUsage, parseBulkOptions, type BulkOptions } from './bulk/options';
import { formatMiB, sampleRss, type RssPeaks } from './bulk/rss';

/** The targets of the upload pipeline, as ratios within one run. */
const CSV_VS_BASELINE_TARGET = 2;
const POST_VS_UPLOAD_TARGET = 0.3;
const XML_VS_CSV_TARGET = 1.3;
const EXPORT_VS_BASELINE_TARGET = 0.8;
const RSS_TARGET = 512 * 2 ** 20;

const log = (line: string) => console.log(`bench | ${line}`);

interface Measured<T> {
  result: T;
  rss: RssPeaks;
  cpu: CpuUsage;
}

interface Results {
  options: BulkOptions;
  runId: string;
  environment: Record<string, string>;
  files: { csvBytes?: number; xmlBytes?: number; generateS?: number };
  baseline?: Measured<BaselineResult>;
  floor?: Measured<FloorResult>;
  hashFloor?: Measured<FloorResult>;
  csv?: Measured<UploadResult>;
  xml?: Measured<UploadResult>;
  exportBaseline?: Measured<ExportBaselineResult>;
  export?: Measured<ExportResult>;
}

const { add: onCleanUp, cleanUp, onStopSignals } = cleanUpRegistry(log);

async function measure<T>(run: () => Promise<T>): Promise<Measured<T>> {
  const sampler = sampleRss();
  const before = cpuSnapshot();
  try {
    const result = await run();
    return { result, cpu: cpuUsage(before, cpuSnapshot()), rss: sampler.stop() };
  } catch (error) {
    sampler.stop();
    throw error;
  }
}

async function main(): Promise<void> {
  const options = optionsOrHelp(parseBulkOptions, bulkUsage);
  if (!options) return;
  onStopSignals();
  const runId = `bb${Date.now().toString(36)}`;
  const results: Results = { options, runId, environment: {}, files: {} };

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'durapay-bench-bulk-'));
  onCleanUp(async () => fs.promises.rm(dir, { recursive: true, force: true }));
  const csvFile = path.join(dir, 'orders.csv');
  const xmlFile = path.join(dir, 'orders.xml');
  const needCsv = options.phases.has('baseline') || options.phases.has('csv');
  const needXml = options.phases.has('xml');
  const generated = performance.now();
  if (needCsv) {
    log(`writing ${options.rows} rows of CSV to a temporary folder`);
    results.files.csvBytes = await writeCsv(csvFile, `${runId}c`, options.rows);
  }
  if (needXml) {
    log(`writing ${options.rows} orders of XML`);
    results.files.xmlBytes = await writeXml(xmlFile, `${runId}x`, options.rows);
  }
  results.files.generateS = (performance.now() - generated) / 1000;

  const stack = await useOrStartStack(options);
  onCleanUp(async () => {
    if (stack.startedByBench) log('stopping the stack the bench started');
    await stack.stop();
  });
  results.environment = describeEnvironment(options, stack);

  const quiet = async (phase: string) => {
    if (options.quietTimeoutS === 0) return;
    const { quiet: isQuiet, waitedS } = await waitForQuiet({ timeoutS: options.quietTimeoutS });
    log(
      isQuiet
        ? `stack quiet after ${waitedS.toFixed(0)} s; starting ${phase}`
        : `stack still busy after ${waitedS.toFixed(0)} s; starting ${phase} anyway (other load on the machine?)`,
    );
  };

  if (options.phases.has('baseline')) {
    await quiet('baseline');
    log(`baseline: ${options.rows} rows, one connection, parse + FieldCipher + INSERT × 1000 rows`);
    results.baseline = await measure(() => runBaseline(csvFile, runId, log));
    log(`baseline: ${results.baseline.result.elapsedS.toFixed(1)} s`);
  }
  if (options.phases.has('floor')) {
    await quiet('floor');
    log(`floor: ${options.rows} orders and payments, MariaDB alone, INSERT × 1000 rows on 2 connections`);
    results.floor = await measure(() => runFloor(options.rows, runId, log, FILE_ORDER));
  }
  if (options.phases.has('hashFloor')) {
    await quiet('hashFloor');
    log(`hashFloor: the floor's rows in order of the order id's hash`);
    const order = hashKeyOrder(options.rows);
    results.hashFloor = await measure(() => runFloor(options.rows, runId, log, order));
  }
  const upload = async (label: 'csv' | 'xml', file: string, contentType: string) => {
    await quiet(`${label} upload`);
    log(`${label}: POST /uploads (${formatMiB(fs.statSync(file).size)}), then polling to a final status`);
    const measured = await measure(() =>
      timeUpload({
        base: options.apiUrl,
        file,
        contentType,
        pollMs: options.pollMs,
        timeoutS: options.uploadTimeoutS,
        log,
        label,
      }),
    );
    const { result } = measured;
    log(
      `${label}: ${result.final?.status ?? 'no status'} after ${result.elapsedS.toFixed(1)} s` +
        (result.seenS === undefined ? '' : ` (seen at ${result.seenS.toFixed(1)} s)`) +
        (result.problem ? ` (${result.problem})` : ''),
    );
    return measured;
  };
  if (options.phases.has('csv')) results.csv = await upload('csv', csvFile, 'text/csv');
  if (options.phases.has('xml')) results.xml = await upload('xml', xmlFile, 'application/xml');
  // The files are no longer needed; free the disk before the export.
  await fs.promises.rm(dir, { recursive: true, force: true });

  if (options.phases.has('exportBaseline')) {
    await quiet('export baseline');
    log(
      'export baseline: the export query streamed on one mysql2 connection, emails decrypted, CSV to nowhere',
    );
    results.exportBaseline = await measure(() => runExportBaseline(log));
    const b = results.exportBaseline.result;
    log(`export baseline: ${b.rows} rows in ${b.elapsedS.toFixed(1)} s`);
  }
  if (options.phases.has('export')) {
    await quiet('export');
    log('export: GET /exports/orders?format=csv (every order in the database)');
    results.export = await measure(() => timeExport(options.apiUrl, options.exportTimeoutS, log));
    log(`export: ${results.export.result.rows} rows in ${results.export.result.elapsedS.toFixed(1)} s`);
  }

  console.log(`\n${report(results)}`);
  if (options.jsonFile) {
    fs.writeFileSync(options.jsonFile, `${JSON.stringify(toJson(results), null, 2)}\n`);
    log(`results written to ${options.jsonFile}`);
  }
}

/**
 * A stack whose processes are running is used even when its /health is slow (another bench loading it):
 * starting a second one would only fail on its ports. Otherwise `ensureStack` starts one.
 */
async function useOrStartStack(options: BulkOptions): Promise<StackHandle> {
  const snapshot = cpuSnapshot();
  const running = ['api', 'npm start supervisor (log relay)'].some(
    (role) => pidsOf(snapshot, role).length > 0,
  );
  if (!running) return ensureStack(options.apiUrl, options.stackTimeoutS * 1000, log);
  log(
    `a stack is already running; waiting up to ${options.stackTimeoutS} s for ${options.apiUrl.origin}/health`,
  );
  const deadline = Date.now() + options.stackTimeoutS * 1000;
  while ((await healthStatus(options.apiUrl, 30_000)) !== 200) {
    if (Date.now() > deadline) throw new Error(`the running stack's /health did not answer 200 in time`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  log(`using the stack already running at ${options.apiUrl.origin}`);
  return { startedByBench: false, stop: async () => {} };
}

function describeEnvironment(options: BulkOptions, stack: StackHandle): Record<string, string> {
  const { fields, stackSetting } = describeRun(
    'bench:bulk',
    (name) => name.startsWith('DURAPAY_UPLOAD') || name === 'DURAPAY_MAX_UPLOAD',
    stack,
    options.apiUrl,
  );
  // The stack's own defaults, so this table cannot drift from them.
  const defaults = loadConfig({}).uploads;
  const byDefault = (value: number) => `${value} (default)`;
  return {
    ...fields,
    'rows per file': String(options.rows),
    'chunk rows (DURAPAY_UPLOAD_CHUNK_ROWS)': stackSetting(
      'DURAPAY_UPLOAD_CHUNK_ROWS',
      byDefault(defaults.chunkRows),
    ),
    'window (DURAPAY_UPLOAD_WINDOW)': stackSetting('DURAPAY_UPLOAD_WINDOW', byDefault(defaults.window)),
    'chunks per run (DURAPAY_UPLOAD_CHUNKS_PER_RUN)': stackSetting(
      'DURAPAY_UPLOAD_CHUNKS_PER_RUN',
      byDefault(defaults.chunksPerRun),
    ),
    'max upload (DURAPAY_MAX_UPLOAD)': stackSetting(
      'DURAPAY_MAX_UPLOAD',
      `${defaults.maxBytes} bytes (default)`,
    ),
    'log level (LOG_LEVEL)': stackSetting('LOG_LEVEL', 'info (default)'),
  };
}

const seconds = (s: number | undefined) =>
  s === undefined || !Number.isFinite(s) ? '–' : `${s.toFixed(1)} s`;
const cores = (usage: CpuUsage) =>
  [
    ...(usage.machineBusy === undefined ? [] : [`machine ${Math.round(usage.machineBusy * 100)} % busy`]),
    ...(usage.machineStolen === undefined ? [] : [`${Math.round(usage.machineStolen * 100)} % stolen`]),
    ...usage.byRole
      .filter(([, used]) => used >= 0.05)
      .slice(0, 5)
      .map(([role, used]) => `${role.replace(/^bench: .*/, 'bench')} ${used.toFixed(2)}`),
  ].join(', ');
const peak = (rss: RssPeaks, role: 'api' | 'worker') => {
  const seen = rss.byRole.get(role);
  return seen ? `${formatMiB(seen.peakBytes)} (from ${formatMiB(seen.startBytes)})` : '–';
};

function uploadRow(label: string, measured: Measured<UploadResult> | undefined, results: Results) {
  if (!measured) return undefined;
  const { result } = measured;
  const rows = result.final?.rowsImported ?? 0;
  const ratio = results.baseline ? result.elapsedS / results.baseline.result.elapsedS : NaN;
  return [
    label,
    `${rows} imported, ${result.final?.rowsRejected ?? '–'} rejected`,
    `${seconds(result.elapsedS)} (POST→202 ${seconds(result.postS)})`,
    result.final && !result.problem ? formatRate(rows / result.elapsedS) : '–',
    Number.isFinite(ratio) ? `${ratio.toFixed(1)}×` : '–',
    peak(measured.rss, 'api'),
    peak(measured.rss, 'worker'),
    `${result.final?.status ?? 'none'}${result.problem ? `: ${result.problem}` : ''}`,
    cores(measured.cpu),
  ];
}

function report(results: Results): string {
  const sections: string[] = [
    '## Run',
    markdownTable(['setting', 'value'], Object.entries(results.environment)),
  ];
  const { files } = results;
  sections.push(
    `Generated files: CSV ${formatMiB(files.csvBytes)}, XML ${formatMiB(files.xmlBytes)}, in ${seconds(files.generateS)} (not measured).`,
  );

  const rows: (string | number)[][] = [];
  const baseline = results.baseline;
  if (baseline) {
    const b = baseline.result;
    rows.push([
      'baseline (1 conn, parse + encrypt + INSERT)',
      `${b.rows} inserted`,
      `${seconds(b.elapsedS)} (INSERT ${seconds(b.insertS)}, encrypt ${seconds(b.encryptS)})`,
      formatRate(b.rows / b.elapsedS),
      '1.0×',
      peak(baseline.rss, 'api'),
      peak(baseline.rss, 'worker'),
      'done',
      cores(baseline.cpu),
    ]);
  }
  for (const floor of [results.floor, results.hashFloor]) {
    if (!floor) continue;
    const f = floor.result;
    const ratio = baseline ? f.elapsedS / baseline.result.elapsedS : NaN;
    rows.push([
      `floor (MariaDB alone, ${f.connections} conns, INSERT only${f.keyOrder === 'hash' ? ', in hash key order' : ''})`,
      `${f.rows} orders + ${f.rows} payments`,
      seconds(f.elapsedS),
      formatRate(f.rows / f.elapsedS),
      Number.isFinite(ratio) ? `${ratio.toFixed(1)}×` : '–',
      '–',
      '–',
      'done',
      cores(floor.cpu),
    ]);
  }
  for (const row of [
    uploadRow('CSV upload', results.csv, results),
    uploadRow('XML upload', results.xml, results),
  ]) {
    if (row) rows.push(row);
  }
  if (results.exportBaseline) {
    const b = results.exportBaseline.result;
    rows.push([
      'export baseline (1 conn, query + decrypt + CSV)',
      `${b.rows} rows, ${formatMiB(b.bytes)}`,
      seconds(b.elapsedS),
      formatRate(b.rows / b.elapsedS),
      '–',
      '–',
      '–',
      'done',
      cores(results.exportBaseline.cpu),
    ]);
  }
  if (results.export) {
    const e = results.export.result;
    const ofBaseline = exportVsBaseline(results);
    rows.push([
      'CSV export (whole database)',
      `${e.rows} rows, ${formatMiB(e.bytes)}`,
      `${seconds(e.elapsedS)} (first byte ${seconds(e.firstByteS)})`,
      formatRate(e.rows / e.elapsedS) +
        (ofBaseline === undefined ? '' : ` (${ofBaseline.toFixed(2)}× the export baseline's)`),
      '–',
      peak(results.export.rss, 'api'),
      peak(results.export.rss, 'worker'),
      e.problem ?? `HTTP ${e.status}`,
      cores(results.export.cpu),
    ]);
  }
  sections.push(
    '## Results',
    markdownTable(
      [
        'phase',
        'rows',
        'time',
        'rows/s',
        'time vs baseline',
        'API peak RSS',
        'worker peak RSS',
        'outcome',
        'CPU (cores) by part',
      ],
      rows,
    ),
  );

  sections.push(...cpuPerRowSections(results));
  sections.push('## Targets', markdownTable(['target', 'measured', 'met'], targets(results)));
  return sections.join('\n\n');
}

/** CPU-µs per row of each process, for every phase that ran: what each part of the stack spends on a row. */
function cpuPerRowSections(results: Results): string[] {
  const phases: [string, Measured<unknown> | undefined, number | undefined][] = [
    ['baseline', results.baseline, results.baseline?.result.rows],
    ['floor', results.floor, results.floor?.result.rows],
    ['hashFloor', results.hashFloor, results.hashFloor?.result.rows],
    ['csv', results.csv, results.csv?.result.final?.rowsImported],
    ['xml', results.xml, results.xml?.result.final?.rowsImported],
    ['exportBaseline', results.exportBaseline, results.exportBaseline?.result.rows],
    ['export', results.export, results.export?.result.rows],
  ];
  const ran = phases.filter(
    (phase): phase is [string, Measured<unknown>, number] => phase[1] !== undefined && (phase[2] ?? 0) > 0,
  );
  if (ran.length === 0) return [];
  const usPerRow = ([, measured, rows]: (typeof ran)[number], role: string) =>
    ((measured.cpu.byRole.find(([r]) => r === role)?.[1] ?? 0) * measured.cpu.wallS * 1e6) / rows;
  const roles = [...new Set(ran.flatMap(([, measured]) => measured.cpu.byRole.map(([role]) => role)))].filter(
    (role) => ran.some((phase) => usPerRow(phase, role) >= 0.5),
  );
  const table = roles.map((role) => [role, ...ran.map((phase) => usPerRow(phase, role).toFixed(1))]);
  table.push([
    'in all (other work on the machine left out)',
    ...ran.map((phase) =>
      phase[1].cpu.byRole
        .filter(([role]) => role !== 'other')
        .reduce((sum, [role]) => sum + usPerRow(phase, role), 0)
        .toFixed(1),
    ),
  ]);
  return [
    '## CPU per row',
    "CPU-µs per row: CPU time of each process during the phase ÷ the phase's rows (imported, inserted or exported).",
    markdownTable(['process', ...ran.map(([phase]) => phase)], table),
  ];
}

/** The export's rows/s as a share of the export baseline's, when both ran. */
function exportVsBaseline(results: Results): number | undefined {
  const exp = results.export?.result;
  const bare = results.exportBaseline?.result;
  if (!exp || !bare || exp.problem) return undefined;
  return exp.rows / exp.elapsedS / (bare.rows / bare.elapsedS);
}

function targets(results: Results): string[][] {
  const rows: string[][] = [];
  const verdict = (met: boolean | undefined) => (met === undefined ? 'not measured' : met ? 'yes' : 'NO');
  const csv = results.csv?.result;
  const csvOk = csv?.final !== undefined && !csv.problem && csv.final.rowsImported === results.options.rows;
  const baseline = results.baseline?.result;
  if (csv && baseline) {
    const ratio = csv.elapsedS / baseline.elapsedS;
    rows.push([
      `CSV upload within ${CSV_VS_BASELINE_TARGET}× of the baseline`,
      `${ratio.toFixed(2)}× (${seconds(csv.elapsedS)} against ${seconds(baseline.elapsedS)})`,
      verdict(csvOk && ratio <= CSV_VS_BASELINE_TARGET),
    ]);
  }
  for (const [label, upload] of [
    ['CSV', csv],
    ['XML', results.xml?.result],
  ] as const) {
    if (!upload?.final) continue;
    const ratio = upload.postS / upload.elapsedS;
    rows.push([
      `${label} POST→202 ≤ ${POST_VS_UPLOAD_TARGET}× of the upload`,
      `${ratio.toFixed(2)}× (${seconds(upload.postS)} of ${seconds(upload.elapsedS)})`,
      verdict(ratio <= POST_VS_UPLOAD_TARGET),
    ]);
  }
  const xml = results.xml?.result;
  if (xml && csv) {
    const ratio = xml.elapsedS / csv.elapsedS;
    rows.push([
      `XML upload within ${XML_VS_CSV_TARGET}× of CSV`,
      `${ratio.toFixed(2)}× (${seconds(xml.elapsedS)})`,
      verdict(csvOk && xml.final !== undefined && !xml.problem ? ratio <= XML_VS_CSV_TARGET : false),
    ]);
  }
  const exp = results.export?.result;
  if (exp && results.exportBaseline) {
    const ratio = exportVsBaseline(results);
    rows.push([
      `export ≥ ${EXPORT_VS_BASELINE_TARGET}× the export baseline's rows/s`,
      ratio === undefined
        ? (exp.problem ?? '–')
        : `${ratio.toFixed(2)}× (${formatRate(exp.rows / exp.elapsedS)} rows/s)`,
      verdict(ratio !== undefined && ratio >= EXPORT_VS_BASELINE_TARGET),
    ]);
  }
  for (const role of ['api', 'worker'] as const) {
    const peaks = [results.csv, results.xml, results.export]
      .map((m) => m?.rss.byRole.get(role)?.peakBytes)
      .filter((value): value is number => value !== undefined);
    if (peaks.length === 0) continue;
    const max = Math.max(...peaks);
    rows.push([`${role} peak RSS < ${formatMiB(RSS_TARGET)}`, formatMiB(max), verdict(max < RSS_TARGET)]);
  }
  return rows;
}

function toJson(results: Results) {
  const measured = <T>(m: Measured<T> | undefined) =>
    m && {
      ...m.result,
      rss: Object.fromEntries(m.rss.byRole),
      cpu: {
        wallS: m.cpu.wallS,
        machineBusy: m.cpu.machineBusy,
        machineStolen: m.cpu.machineStolen,
        byRole: Object.fromEntries(m.cpu.byRole),
      },
    };
  return {
    runId: results.runId,
    environment: results.environment,
    files: results.files,
    baseline: measured(results.baseline),
    floor: measured(results.floor),
    hashFloor: measured(results.hashFloor),
    csv: measured(results.csv),
    xml: measured(results.xml),
    exportBaseline: measured(results.exportBaseline),
    export: measured(results.export),
    targets: targets(results),
  };
}

main()
  .catch((error: unknown) => {
    if (error instanceof UsageError) log(`${error.message} (see --help)`);
    else log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  })
  .finally(() => cleanUp());
