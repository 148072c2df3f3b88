/**
 * What every bench entry shares: settings from flags over BENCH_* variables over defaults, the loopback-only
 * API URL, the clean-up registry run on exit or Ctrl-C, and the command line that repeats a run.
 */
import { parseArgs } from 'node:util';

export interface Setting {
  flag: string;
  env: string;
  default: string;
  help: string;
}

/** The settings both benches have, spelt once. */
export const SHARED_SETTINGS = {
  apiUrl: {
    flag: 'url',
    env: 'BENCH_API_URL',
    default: 'http://127.0.0.1:3000',
    help: 'API base URL (loopback only)',
  },
  stackTimeoutS: {
    flag: 'stack-timeout',
    env: 'BENCH_STACK_TIMEOUT',
    default: '180',
    help: 'longest wait for a stack the bench starts, seconds',
  },
} satisfies Record<string, Setting>;

export function phasesSetting(env: string, phases: readonly string[]): Setting {
  return {
    flag: 'phases',
    env,
    default: phases.join(','),
    help: `comma-separated subset of ${phases.join(',')}`,
  };
}

export function jsonFileSetting(env: string): Setting {
  return { flag: 'json', env, default: '', help: 'also write the results as JSON to this file' };
}

/** The options of a run, or undefined after printing the usage when --help was asked for. */
export function optionsOrHelp<T>(
  parse: (argv: string[], env: NodeJS.ProcessEnv) => T | 'help',
  usage: () => string,
): T | undefined {
  const parsed = parse(process.argv.slice(2), process.env);
  if (parsed !== 'help') return parsed;
  console.log(usage());
  return undefined;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export function usageText(script: string, settings: Record<string, Setting>): string {
  const all = Object.values(settings);
  const flagWidth = Math.max(...all.map((s) => s.flag.length)) + 2;
  const envWidth = Math.max(...all.map((s) => s.env.length)) + 2;
  const rows = all.map(
    (s) =>
      `  --${s.flag.padEnd(flagWidth)} ${s.env.padEnd(envWidth)} ${s.help} (default: ${s.default || 'none'})`,
  );
  return [
    `usage: npm run ${script} -- [flags]   (each flag also reads the environment variable shown)`,
    ...rows,
  ].join('\n');
}

export interface SettingReader {
  raw(setting: Setting): string;
  int(setting: Setting, min: number, max: number): number;
  loopbackUrl(setting: Setting): URL;
  phases<P extends string>(setting: Setting, allowed: readonly P[]): Set<P>;
}

/** Reads the given settings from argv and env; 'help' when --help was asked for. */
export function readSettings(
  settings: Record<string, Setting>,
  argv: string[],
  env: NodeJS.ProcessEnv,
): SettingReader | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(Object.values(settings).map((s) => [s.flag, { type: 'string' as const }])),
      },
      strict: true,
    }).values;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return 'help';
  const raw = (setting: Setting): string => {
    const fromFlag = values[setting.flag];
    return typeof fromFlag === 'string' ? fromFlag : (env[setting.env] ?? setting.default);
  };
  return {
    raw,
    int(setting, min, max) {
      const text = raw(setting).replace(/_/g, '');
      const value = Number(text);
      if (!/^\d+$/.test(text) || value < min || value > max) {
        throw new UsageError(
          `--${setting.flag} / ${setting.env} must be a whole number from ${min} to ${max}, not "${raw(setting)}"`,
        );
      }
      return value;
    },
    loopbackUrl(setting) {
      let url: URL;
      try {
        url = new URL(raw(setting));
      } catch {
        throw new UsageError(`--${setting.flag} is not a URL: "${raw(setting)}"`);
      }
      if (!isLoopback(url.hostname)) {
        throw new UsageError(
          `--${setting.flag} must point at this machine (127.0.0.1, localhost or [::1]), not ${url.hostname}`,
        );
      }
      return url;
    },
    phases<P extends string>(setting: Setting, allowed: readonly P[]) {
      const phases = new Set<P>();
      for (const name of raw(setting)
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean)) {
        if (!(allowed as readonly string[]).includes(name)) {
          throw new UsageError(`unknown phase "${name}"; choose from ${allowed.join(',')}`);
        }
        phases.add(name as P);
      }
      return phases;
    },
  };
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** Clean-ups run once, newest first, at the end of the run or on SIGINT/SIGTERM. */
export function cleanUpRegistry(log: (line: string) => void) {
  const cleanups: (() => Promise<void>)[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanUp = (): Promise<void> => {
    cleaning ??= (async () => {
      for (const cleanup of cleanups.reverse()) {
        try {
          await cleanup();
        } catch (error) {
          log(`clean-up failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    })();
    return cleaning;
  };
  return {
    add: (cleanup: () => Promise<void>) => void cleanups.push(cleanup),
    cleanUp,
    onStopSignals: () => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.once(signal, () => {
          log(`${signal}: stopping what the bench started`);
          void cleanUp().then(() => process.exit(130));
        });
      }
    },
  };
}

/** How this run was started, to repeat it: the npm script, its flags and the relevant environment settings. */
export function commandLine(script: string, relevantEnv: (name: string) => boolean): string {
  const settings = Object.entries(process.env)
    .filter(([name]) => name.startsWith('BENCH_') || relevantEnv(name))
    .map(([name, value]) => `${name}=${value}`);
  const args = process.argv.slice(2);
  return [...settings, `npm run ${script}`, ...(args.length ? ['--', ...args] : [])].join(' ');
}
