// The last log lines of each function under `whippet up`, for the dashboard's live tail. `up` adds
// every (tagged) watchdog line; a router started on its own has no ring, and the dashboard says so.

/** Lines kept per function. */
const DEFAULT_LINES = 500;

/** One log line as the dashboard shows it. */
export interface LogLine {
  readonly at: number;
  readonly line: string;
}

export interface LogRing {
  /** Keep `line` of function `name` and pass it to the tails of that function. */
  add(name: string, line: string): void;
  /** The kept lines of a function, oldest first. */
  lines(name: string): readonly LogLine[];
  /** Functions that logged anything, sorted. */
  functions(): string[];
  /** Follow new lines of a function; returns the unsubscribe. */
  follow(name: string, onLine: (line: LogLine) => void): () => void;
}

/** An in-memory ring of `perFunction` lines per function. */
export function createLogRing(perFunction = DEFAULT_LINES, now: () => number = Date.now): LogRing {
  const rings = new Map<string, LogLine[]>();
  const tails = new Map<string, Set<(line: LogLine) => void>>();
  return {
    add(name, line) {
      let ring = rings.get(name);
      if (ring === undefined) { ring = []; rings.set(name, ring); }
      const entry = { at: now(), line };
      ring.push(entry);
      if (ring.length > perFunction) ring.splice(0, ring.length - perFunction);
      for (const fn of tails.get(name) ?? []) fn(entry);
    },
    lines: (name) => [...(rings.get(name) ?? [])],
    functions: () => [...rings.keys()].sort(),
    follow(name, onLine) {
      let set = tails.get(name);
      if (set === undefined) { set = new Set(); tails.set(name, set); }
      set.add(onLine);
      return () => { set!.delete(onLine); };
    },
  };
}
