/**
 * Peak resident memory of the stack's Node processes during a phase: VmRSS from /proc/<pid>/status, sampled
 * every `intervalMs`. Processes are found by command line (src/api/main.ts, src/workers/main.ts, the same
 * roles bench/lib/cpu.ts gives them); the tsx launcher and the node it runs both match, and the peak of a
 * role is the largest single process (the one doing the work). Linux only; elsewhere nothing is sampled.
 */
import fs from 'node:fs';
import { roleOf } from '../lib/cpu';

export const RSS_ROLES = ['api', 'worker'] as const;
export type RssRole = (typeof RSS_ROLES)[number];

export interface RssPeaks {
  /** Bytes at the start of the phase and the highest seen, per role (largest process of the role). */
  byRole: Map<RssRole, { startBytes: number; peakBytes: number }>;
  samples: number;
}

function findPids(): Map<number, RssRole> {
  const pids = new Map<number, RssRole>();
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return pids;
  }
  for (const entry of entries) {
    try {
      const pid = Number(entry);
      const role = roleOf(pid, fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' '));
      if ((RSS_ROLES as readonly string[]).includes(role)) pids.set(pid, role as RssRole);
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

function rssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Starts sampling; `stop()` answers the peaks. Re-scans for processes every few seconds (a restart). */
export function sampleRss(intervalMs = 200): { stop(): RssPeaks; current(): Map<RssRole, number> } {
  let pids = findPids();
  let lastScan = Date.now();
  let samples = 0;
  const byRole: RssPeaks['byRole'] = new Map();
  const current = () => {
    const now = new Map<RssRole, number>();
    for (const [pid, role] of pids) {
      const bytes = rssBytes(pid);
      if (bytes !== undefined) now.set(role, Math.max(now.get(role) ?? 0, bytes));
    }
    return now;
  };
  const sample = () => {
    if (Date.now() - lastScan > 5000) {
      pids = findPids();
      lastScan = Date.now();
    }
    samples++;
    for (const [role, bytes] of current()) {
      const seen = byRole.get(role);
      if (!seen) byRole.set(role, { startBytes: bytes, peakBytes: bytes });
      else seen.peakBytes = Math.max(seen.peakBytes, bytes);
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    current,
    stop() {
      clearInterval(timer);
      sample();
      return { byRole, samples };
    },
  };
}

export function formatMiB(bytes: number | undefined): string {
  return bytes === undefined ? '–' : `${Math.round(bytes / 2 ** 20)} MiB`;
}
