/** bench:bulk settings: command-line flags win over BENCH_BULK_* environment variables, which win over defaults. */
import {
  jsonFileSetting,
  phasesSetting,
  readSettings,
  SHARED_SETTINGS,
  usageText,
  type Setting,
} from '../lib/cli';

export const BULK_PHASES = [
  'baseline',
  'floor',
  'hashFloor',
  'csv',
  'xml',
  'exportBaseline',
  'export',
] as const;
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

const SETTINGS = {
  apiUrl: SHARED_SETTINGS.apiUrl,
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
  stackTimeoutS: SHARED_SETTINGS.stackTimeoutS,
  phases: phasesSetting('BENCH_BULK_PHASES', BULK_PHASES),
  jsonFile: jsonFileSetting('BENCH_BULK_JSON'),
} satisfies Record<keyof BulkOptions, Setting>;

export function bulkUsage(): string {
  return usageText('bench:bulk', SETTINGS);
}

export function parseBulkOptions(argv: string[], env: NodeJS.ProcessEnv): BulkOptions | 'help' {
  const read = readSettings(SETTINGS, argv, env);
  if (read === 'help') return 'help';
  const whole = (setting: Setting, min: number) => read.int(setting, min, Number.MAX_SAFE_INTEGER);
  return {
    apiUrl: read.loopbackUrl(SETTINGS.apiUrl),
    rows: whole(SETTINGS.rows, 1),
    uploadTimeoutS: whole(SETTINGS.uploadTimeoutS, 1),
    exportTimeoutS: whole(SETTINGS.exportTimeoutS, 1),
    pollMs: whole(SETTINGS.pollMs, 10),
    quietTimeoutS: whole(SETTINGS.quietTimeoutS, 0),
    stackTimeoutS: whole(SETTINGS.stackTimeoutS, 1),
    phases: read.phases(SETTINGS.phases, BULK_PHASES),
    jsonFile: read.raw(SETTINGS.jsonFile) || undefined,
  };
}
