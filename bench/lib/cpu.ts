/**
 * Where the CPU goes during a phase: CPU time of every process on the machine from /proc, grouped into the
 * parts of the stack, divided by the phase's wall time (so 1.0 is one core busy all along). Linux only;
 * elsewhere the snapshots are empty and the report says so.
 */
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';

export interface CpuSnapshot {
  at: number;
  /** CPU seconds used so far, per process, with the role it plays. */
  processes: Map<number, { role: string; name: string; seconds: number }>;
  machine?: { busyTicks: number; stolenTicks: number; totalTicks: number };
}

export interface CpuUsage {
  wallS: number;
  /** Cores used on average, per role, biggest first. */
  byRole: [string, number][];
  /** Busy share of all cores, from /proc/stat, time stolen by the hypervisor included. */
  machineBusy?: number;
  /**
   * Share of all cores the hypervisor gave to other machines (steal time): a shared virtual machine can lose
   * half its CPU this way, and every timing of the phase then reads slower than the code is.
   */
  machineStolen?: number;
  /** The biggest users among processes of no known role. */
  topOther: [string, number][];
}

const TICKS_PER_SECOND = clockTicks();

function clockTicks(): number {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
}

export const LOAD_GENERATOR = 'bench: load generator';
/** The floor's worker and clients in one process (bench/engine-floor/main.ts). */
export const ENGINE_FLOOR = 'bench: engine floor';
export const LOG_RELAY = 'npm start supervisor (log relay)';
/** The sandbox payment provider `npm start` runs; a real provider's cost would be on its side. */
export const SANDBOX = 'sandbox provider';
export const TEMPORAL_DEV_SERVER = 'temporal dev server';

/** The part of the stack a process belongs to, from its command line. */
export function roleOf(pid: number, cmdline: string): string {
  if (pid === process.pid || cmdline.includes('bench/orders')) return LOAD_GENERATOR;
  if (cmdline.includes('bench/lib/baseline-server')) return 'bench: baseline server';
  if (cmdline.includes('bench/engine-floor')) return ENGINE_FLOOR;
  if (cmdline.includes('src/api/main')) return 'api';
  if (cmdline.includes('src/workers/main')) return 'worker';
  if (cmdline.includes('src/sandbox/main')) return SANDBOX;
  if (cmdline.includes('scripts/start')) return LOG_RELAY;
  if (/(^|\/)(mariadbd|mysqld)(\s|$)/.test(cmdline)) return 'mariadb';
  if (/temporal\S*\s+server\s+start-dev/.test(cmdline)) return TEMPORAL_DEV_SERVER;
  return 'other';
}

/**
 * On a shared machine another stack (someone else's `npm start`, a test's dev server) matches the same command
 * lines. Once the bench has started a stack, only that stack's descendants (and the bench's own) take a role.
 */
let ownRoots: Set<number> | undefined;

export function attributeOnlyDescendantsOf(pid: number): void {
  ownRoots = new Set([process.pid, pid]);
}

function isOwn(pid: number, parents: Map<number, number>, roots: Set<number>): boolean {
  for (let at: number | undefined = pid, hops = 0; at !== undefined && at > 1 && hops < 64; hops++) {
    if (roots.has(at)) return true;
    at = parents.get(at);
  }
  return false;
}

export function cpuSnapshot(): CpuSnapshot {
  const processes: CpuSnapshot['processes'] = new Map();
  const parents = new Map<number, number>();
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return { at: performance.now(), processes };
  }
  for (const entry of entries) {
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat
        .slice(close + 2)
        .split(' ')
        .map(Number);
      // Fields 14 and 15 of stat (utime, stime); 0-based here after "pid (comm) ".
      const seconds = ((fields[11] ?? 0) + (fields[12] ?? 0)) / TICKS_PER_SECOND;
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      const pid = Number(entry);
      // Field 4 of stat, the parent's PID.
      parents.set(pid, fields[1] ?? 0);
      processes.set(pid, { role: roleOf(pid, cmdline), name, seconds });
    } catch {
      // the process ended while we looked
    }
  }
  const roots = ownRoots;
  if (roots) {
    for (const [pid, entry] of processes) {
      if (entry.role !== 'other' && !isOwn(pid, parents, roots)) entry.role = 'other';
    }
  }
  return { at: performance.now(), processes, machine: machineTicks() };
}

function machineTicks(): CpuSnapshot['machine'] {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const [, user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    const busyTicks = user! + nice! + system! + irq! + softirq! + (steal ?? 0);
    return { busyTicks, stolenTicks: steal ?? 0, totalTicks: busyTicks + idle! + iowait! };
  } catch {
    return undefined;
  }
}

export function cpuUsage(before: CpuSnapshot, after: CpuSnapshot): CpuUsage {
  const wallS = (after.at - before.at) / 1000;
  const byRole = new Map<string, number>();
  const other = new Map<string, number>();
  for (const [pid, now] of after.processes) {
    const used = now.seconds - (before.processes.get(pid)?.seconds ?? 0);
    if (used <= 0) continue;
    byRole.set(now.role, (byRole.get(now.role) ?? 0) + used / wallS);
    if (now.role === 'other') other.set(now.name, (other.get(now.name) ?? 0) + used / wallS);
  }
  const sorted = (map: Map<string, number>) => [...map.entries()].sort((a, b) => b[1] - a[1]);
  const share = (ticks: 'busyTicks' | 'stolenTicks') =>
    before.machine && after.machine
      ? (after.machine[ticks] - before.machine[ticks]) /
        Math.max(1, after.machine.totalTicks - before.machine.totalTicks)
      : undefined;
  return {
    wallS,
    byRole: sorted(byRole),
    topOther: sorted(other).slice(0, 3),
    machineBusy: share('busyTicks'),
    machineStolen: share('stolenTicks'),
  };
}

/** The soft open-file limit of a process (`ulimit -n` as it sees it), when /proc tells. */
export function openFileLimit(pid: number | 'self' = 'self'): number | undefined {
  try {
    const line = fs
      .readFileSync(`/proc/${pid}/limits`, 'utf8')
      .split('\n')
      .find((row) => row.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    if (soft === 'unlimited') return Infinity;
    return soft === undefined ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}

/** The PIDs of processes with a role, from a snapshot: to ask their limits. */
export function pidsOf(snapshot: CpuSnapshot, role: string): number[] {
  return [...snapshot.processes.entries()].filter(([, p]) => p.role === role).map(([pid]) => pid);
}

/** The stack's own processes: what must go quiet before a phase starts on a settled system. */
export const STACK_ROLES = ['api', 'worker', TEMPORAL_DEV_SERVER, 'mariadb', SANDBOX];

/**
 * Waits until the stack's processes together use less than `maxCores` for `quietS` seconds in a row (the
 * work queued by the previous phase is done), or `timeoutS` passes. Answers whether it went quiet, and when.
 */
export async function waitForQuiet(options: {
  maxCores?: number;
  quietS?: number;
  timeoutS: number;
}): Promise<{ quiet: boolean; waitedS: number }> {
  const { maxCores = 0.15, quietS = 3, timeoutS } = options;
  const started = performance.now();
  let quietFor = 0;
  let previous = cpuSnapshot();
  if (previous.processes.size === 0) return { quiet: false, waitedS: 0 };
  while ((performance.now() - started) / 1000 < timeoutS) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = cpuSnapshot();
    const usage = cpuUsage(previous, now);
    previous = now;
    const busy = usage.byRole
      .filter(([role]) => STACK_ROLES.includes(role))
      .reduce((sum, [, cores]) => sum + cores, 0);
    quietFor = busy < maxCores ? quietFor + 1 : 0;
    if (quietFor >= quietS) return { quiet: true, waitedS: (performance.now() - started) / 1000 };
  }
  return { quiet: false, waitedS: (performance.now() - started) / 1000 };
}
