// /system/functions and the dashboard over several processes: each worker counts its own calls; a reader
// asks the primary, which collects every worker's counts, and reads the sum.

import type { FunctionSnapshot, FunctionStats } from '../function-stats.js';

export type StatsByName = Record<string, FunctionSnapshot>;

/** Every function one process has seen, as plain data (it crosses the IPC channel). */
export function snapshotAll(stats: FunctionStats): StatsByName {
  const out: StatsByName = {};
  for (const name of stats.names()) {
    const s = stats.get(name);
    if (s !== undefined) out[name] = s;
  }
  return out;
}

/** Counts summed over processes; health and last status from the process that saw the function last. */
export function mergeStats(parts: readonly StatsByName[]): StatsByName {
  const out: Record<string, { invocationCount: number; inflight: number; byCode: Record<string, number>; latest?: FunctionSnapshot }> = {};
  for (const part of parts) {
    for (const [name, s] of Object.entries(part)) {
      const m = (out[name] ??= { invocationCount: 0, inflight: 0, byCode: {} });
      m.invocationCount += s.invocationCount;
      m.inflight += s.inflight;
      for (const [code, n] of Object.entries(s.byCode)) m.byCode[code] = (m.byCode[code] ?? 0) + n;
      if (m.latest === undefined || (s.lastSeen ?? '') > (m.latest.lastSeen ?? '')) m.latest = s;
    }
  }
  const merged: StatsByName = {};
  for (const [name, m] of Object.entries(out)) {
    merged[name] = {
      invocationCount: m.invocationCount, inflight: m.inflight, byCode: m.byCode, health: m.latest?.health ?? 'unknown',
      ...(m.latest?.lastStatus === undefined ? {} : { lastStatus: m.latest.lastStatus }),
      ...(m.latest?.lastSeen === undefined ? {} : { lastSeen: m.latest.lastSeen }),
    };
  }
  return merged;
}

/** FunctionStats whose reads show every process's counts as of the last refresh() (this process's alone before it). */
export interface SharedStats extends FunctionStats {
  refresh(): Promise<void>;
  /** This process's own counts, for the primary's collect. */
  own(): StatsByName;
}

/** Count into `local`; read the whole router's counts, fetched by `gather` at each refresh(). */
export function createSharedStats(local: FunctionStats, gather: () => Promise<StatsByName | undefined>): SharedStats {
  let merged: StatsByName | undefined;
  return {
    started: (name) => local.started(name),
    completed: (name, status, health) => local.completed(name, status, health),
    get: (name) => (merged === undefined ? local.get(name) : merged[name]),
    names: () => (merged === undefined ? local.names() : Object.keys(merged)),
    own: () => snapshotAll(local),
    async refresh() {
      // Unanswered (the primary is stopping): this process's own counts, which are a lower bound.
      merged = await gather();
    },
  };
}
