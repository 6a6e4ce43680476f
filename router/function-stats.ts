// What the router has seen of each function, for /system/functions: counts and health as last seen.
// Passive on purpose: the router does not probe functions, it reports what the last call found.

import { isoTime } from '../common/utc-time.js';

export type FunctionHealth = 'unknown' | 'healthy' | 'unreachable' | 'timeout';

export interface FunctionSnapshot {
  readonly invocationCount: number;
  readonly inflight: number;
  /** Completed calls by status code (as text, like the metrics label). */
  readonly byCode: Readonly<Record<string, number>>;
  readonly health: FunctionHealth;
  readonly lastStatus?: number;
  readonly lastSeen?: string;
}

export interface FunctionStats {
  started(name: string): void;
  completed(name: string, status: number, health: FunctionHealth): void;
  get(name: string): FunctionSnapshot | undefined;
  names(): string[];
}

// With a URL template any valid name resolves, so callers choose the names: cap what we remember.
const MAX_TRACKED_FUNCTIONS = 10_000;

interface Entry {
  invocationCount: number;
  inflight: number;
  byCode: Record<string, number>;
  health: FunctionHealth;
  lastStatus?: number;
  /** The Date of the last completion, formatted only when asked for (a string per call costs every call). */
  lastSeen?: Date;
}

/** In-memory per-function counters; `now` is injectable for tests. */
export function createFunctionStats(now: () => Date = () => new Date()): FunctionStats {
  const entries = new Map<string, Entry>();
  const entry = (name: string): Entry | undefined => {
    let e = entries.get(name);
    if (e === undefined && entries.size < MAX_TRACKED_FUNCTIONS) {
      e = { invocationCount: 0, inflight: 0, byCode: {}, health: 'unknown' };
      entries.set(name, e);
    }
    return e;
  };
  return {
    started(name) {
      const e = entry(name);
      if (e !== undefined) e.inflight++;
    },
    completed(name, status, health) {
      const e = entry(name);
      if (e === undefined) return;
      e.inflight = Math.max(0, e.inflight - 1);
      e.invocationCount++;
      if (status !== 0) e.byCode[status] = (e.byCode[status] ?? 0) + 1;
      e.health = health;
      if (status !== 0) e.lastStatus = status;
      e.lastSeen = now();
    },
    get(name) {
      const e = entries.get(name);
      if (e === undefined) return undefined;
      const { lastSeen, ...rest } = e;
      return { ...rest, byCode: { ...e.byCode }, ...(lastSeen === undefined ? {} : { lastSeen: isoTime(lastSeen) }) };
    },
    names: () => [...entries.keys()],
  };
}
