// The lines each function's watchdog wrote, for GET /system/logs: a small ring per function that
// `whippet up` fills from its supervisors and the gateway API reads and follows. A router without one
// answers /system/logs with 501 (it never sees the watchdogs' output).

import { isoTime } from '../common/utc-time.js';

/** One log line in the provider's shape (faas-provider LogEntry). */
export interface LogEntry {
  readonly name: string;
  readonly namespace: string;
  readonly instance: string;
  /** RFC 3339. */
  readonly timestamp: string;
  readonly text: string;
}

export interface FunctionLogs {
  /** Record a line `instance` (the watchdog's pid) of function `name` wrote. */
  append(name: string, instance: string, text: string): void;
  /** The kept lines of `name`, oldest first: after `sinceMs` (epoch ms), the last `tail` (≤ 0 = all). */
  read(name: string, opts?: { readonly sinceMs?: number; readonly tail?: number }): LogEntry[];
  /** Call `onLine` for every new line of `name`, and `onEnd` once when the logs close; returns an unsubscribe. */
  follow(name: string, onLine: (entry: LogEntry) => void, onEnd: () => void): () => void;
  /** The functions that wrote anything, sorted. */
  functions(): string[];
  /** End every follower (the stack is stopping: open `follow=true` streams must not hold the drain). */
  close(): void;
}

// 1,000 lines a function: enough for `faas-cli logs` after a test run, small enough for many functions.
const DEFAULT_LINES_KEPT = 1000;

/** A FunctionLogs keeping the last `linesKept` lines of each function; `now` is injectable for tests. */
export function createFunctionLogs(namespace: string, linesKept = DEFAULT_LINES_KEPT, now: () => Date = () => new Date()): FunctionLogs {
  const rings = new Map<string, LogEntry[]>();
  const followers = new Map<string, Set<{ onLine: (entry: LogEntry) => void; onEnd: () => void }>>();
  let closed = false;
  return {
    append(name, instance, text) {
      const entry = Object.freeze({ name, namespace, instance, timestamp: isoTime(now()), text });
      let ring = rings.get(name);
      if (ring === undefined) rings.set(name, ring = []);
      ring.push(entry);
      if (ring.length > linesKept) ring.splice(0, ring.length - linesKept);
      for (const f of followers.get(name) ?? []) f.onLine(entry);
    },
    read(name, opts = {}) {
      let lines = rings.get(name) ?? [];
      if (opts.sinceMs !== undefined) lines = lines.filter((e) => Date.parse(e.timestamp) >= opts.sinceMs!);
      const tail = opts.tail ?? 0;
      return tail > 0 ? lines.slice(-tail) : [...lines];
    },
    follow(name, onLine, onEnd) {
      const follower = { onLine, onEnd };
      if (closed) { onEnd(); return () => {}; }
      let set = followers.get(name);
      if (set === undefined) followers.set(name, set = new Set());
      set.add(follower);
      return () => { set.delete(follower); };
    },
    functions: () => [...rings.keys()].sort(),
    close() {
      closed = true;
      for (const set of followers.values()) for (const f of set) f.onEnd();
      followers.clear();
    },
  };
}
