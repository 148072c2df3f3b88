/** bench:bulk settings: command-line flags win over BENCH_BULK_* environment variables, which win over defaults. */
import { parseArgs } from 'node:util';

export const BULK_PHASES = ['baseline', 'csv', 'xml', 'export'] as const;
export type BulkPhase = (typeof BULK_PHASES)[number];

export interface BulkOptions {
  apiUrl: URL;
  rows: number;
  /** Longest wait for one upload, from the POST to a final status, seconds. */
  uploadTimeoutS: number;
  exportTimeoutS: number;
  pollMs: number;
  /** Longest wait for the stack to go quiet before each phase, seconds. */
  quietTimeoutS: number;
  stackTimeoutS: number;
  phases: Set<BulkPhase>;
  jsonFile: string | undefined;
}

interface Setting {
  flag: string;
  env: string;
  default: string;
  help: string;
}

const SETTINGS = {
  apiUrl: {
    flag: 'url',
    env: 'BENCH_API_URL',
    default: 'http://127.0.0.1:3000',
    help: 'API base URL (loopback only)',
  },
  rows: {
    flag: 'rows',
    env: 'BENCH_BULK_ROWS',
    default: '1000000',
    help: 'orders (= rows) in each generated file',
  },
  uploadTimeoutS: {
    flag: 'upload-timeout',
    env: 'BENCH_BULK_UPLOAD_TIMEOUT',
    default: '900',
    help: 'longest wait for one upload, POST to final status, seconds',
  },
  exportTimeoutS: {
    flag: 'export-timeout',
    env: 'BENCH_BULK_EXPORT_TIMEOUT',
    default: '600',
    help: 'longest wait for the export, seconds',
  },
  pollMs: {
    flag: 'poll-ms',
    env: 'BENCH_BULK_POLL_MS',
    default: '500',
    help: 'interval between upload status GETs',
  },
  quietTimeoutS: {
    flag: 'quiet-timeout',
    env: 'BENCH_BULK_QUIET_TIMEOUT',
    default: '60',
    help: 'longest wait for the stack to go quiet before each phase, seconds',
  },
  stackTimeoutS: {
    flag: 'stack-timeout',
    env: 'BENCH_STACK_TIMEOUT',
    default: '180',
    help: 'longest wait for a stack the bench starts, seconds',
  },
  phases: {
    flag: 'phases',
    env: 'BENCH_BULK_PHASES',
    default: BULK_PHASES.join(','),
    help: `comma-separated subset of ${BULK_PHASES.join(',')}`,
  },
  jsonFile: {
    flag: 'json',
    env: 'BENCH_BULK_JSON',
    default: '',
    help: 'also write the results as JSON to this file',
  },
} satisfies Record<keyof BulkOptions, Setting>;

export function bulkUsage(): string {
  const rows = Object.values(SETTINGS).map(
    (s: Setting) =>
      `  --${s.flag.padEnd(16)} ${s.env.padEnd(26)} ${s.help} (default: ${s.default || 'none'})`,
  );
  return [
    'usage: npm run bench:bulk -- [flags]   (each flag also reads the environment variable shown)',
    ...rows,
  ].join('\n');
}

export function parseBulkOptions(argv: string[], env: NodeJS.ProcessEnv): BulkOptions | 'help' {
  const settings: Record<string, Setting> = SETTINGS;
  const { values } = parseArgs({
    args: argv,
    options: {
      help: { type: 'boolean', short: 'h' },
      ...Object.fromEntries(Object.values(settings).map((s) => [s.flag, { type: 'string' as const }])),
    },
    strict: true,
  });
  if (values.help) return 'help';
  const raw = (key: keyof BulkOptions): string => {
    const setting = settings[key]!;
    const flag = (values as Record<string, string | boolean | undefined>)[setting.flag];
    return typeof flag === 'string' ? flag : (env[setting.env] ?? setting.default);
  };
  const whole = (key: keyof BulkOptions, min: number): number => {
    const text = raw(key).replace(/_/g, '');
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min) {
      throw new Error(`--${settings[key]!.flag} must be a whole number ≥ ${min}, not "${raw(key)}"`);
    }
    return value;
  };

  const apiUrl = new URL(raw('apiUrl'));
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(apiUrl.hostname)) {
    throw new Error(`--url must be a loopback address, not ${apiUrl.hostname}`);
  }
  const phases = new Set<BulkPhase>();
  for (const name of raw('phases')
    .split(',')
    .map((part) => part.trim())) {
    if (!(BULK_PHASES as readonly string[]).includes(name)) {
      throw new Error(`unknown phase "${name}"; choose from ${BULK_PHASES.join(',')}`);
    }
    phases.add(name as BulkPhase);
  }
  return {
    apiUrl,
    rows: whole('rows', 1),
    uploadTimeoutS: whole('uploadTimeoutS', 1),
    exportTimeoutS: whole('exportTimeoutS', 1),
    pollMs: whole('pollMs', 10),
    quietTimeoutS: whole('quietTimeoutS', 0),
    stackTimeoutS: whole('stackTimeoutS', 1),
    phases,
    jsonFile: raw('jsonFile') || undefined,
  };
}
