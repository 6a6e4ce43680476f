// Per-function latency and errors over the last minutes, for the dashboard: read from the router's own
// gateway_functions_seconds histogram (nothing is added to the call path), snapshotted every interval;
// a window is the difference between now and the snapshot taken `windowMs` ago.

import type { RouterMetrics } from '../metrics.js';

/** What the functions page shows of the last minutes. */
export interface FunctionWindow {
  /** Every invocation since the router started (sync and async attempts), whatever the window. */
  readonly total: number;
  readonly seconds: number;
  readonly invocations: number;
  /** Share of completed calls that answered 5xx or failed to answer (0..1); null without calls. */
  readonly errorRate: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

interface Counts {
  /** Cumulative bucket counts by upper bound (ascending, +Inf last). */
  readonly buckets: Map<number, number>;
  readonly count: number;
  readonly errors: number;
}

type Snapshot = { readonly at: number; readonly byFunction: Map<string, Counts> };

export interface FunctionSampler {
  /** The window of every function seen, by name. */
  windows(): Promise<Map<string, FunctionWindow>>;
  close(): void;
}

const DEFAULT_WINDOW_MS = 5 * 60_000;
// Reading the histogram costs microseconds; 10 s keeps a window's edge within 10 s of 5 minutes.
const DEFAULT_INTERVAL_MS = 10_000;

/** Snapshot `metrics` every `intervalMs`; windows span `windowMs` (less until the router ran that long). */
export function createFunctionSampler(metrics: RouterMetrics, windowMs = DEFAULT_WINDOW_MS, intervalMs = DEFAULT_INTERVAL_MS,
  now: () => number = Date.now): FunctionSampler {
  const snapshots: Snapshot[] = [{ at: now(), byFunction: new Map() }];
  const take = async (): Promise<Snapshot> => ({ at: now(), byFunction: read(await metrics.functionSeconds.get()) });
  const timer = setInterval(() => {
    void take().then((s) => {
      snapshots.push(s);
      while (snapshots.length > 2 && snapshots[1]!.at <= s.at - windowMs) snapshots.shift();
    });
  }, intervalMs).unref();
  return {
    async windows() {
      const current = await take();
      const base = snapshots[0]!;
      const out = new Map<string, FunctionWindow>();
      for (const [name, c] of current.byFunction) out.set(name, windowOf(c, base.byFunction.get(name), (current.at - base.at) / 1000));
      return out;
    },
    close: () => clearInterval(timer),
  };
}

type MetricValues = Awaited<ReturnType<RouterMetrics['functionSeconds']['get']>>['values'];

function read(metric: { values: MetricValues }): Map<string, Counts> {
  const out = new Map<string, { buckets: Map<number, number>; count: number; errors: number }>();
  for (const v of metric.values) {
    const name = String(v.labels['function_name'] ?? '');
    let c = out.get(name);
    if (c === undefined) { c = { buckets: new Map(), count: 0, errors: 0 }; out.set(name, c); }
    const labels = v.labels as Record<string, string | number | undefined>;
    const code = String(labels['code'] ?? '');
    if (v.metricName?.endsWith('_bucket') === true) {
      const le = labels['le'] === '+Inf' ? Infinity : Number(labels['le']);
      c.buckets.set(le, (c.buckets.get(le) ?? 0) + v.value);
    } else if (v.metricName?.endsWith('_count') === true) {
      c.count += v.value;
      if (!/^[1-4]\d\d$/.test(code)) c.errors += v.value; // 5xx, and 'aborted' (no answer at all)
    }
  }
  return out;
}

function windowOf(now: Counts, before: Counts | undefined, seconds: number): FunctionWindow {
  const invocations = now.count - (before?.count ?? 0);
  const errors = now.errors - (before?.errors ?? 0);
  const bounds = [...now.buckets.keys()].sort((a, b) => a - b);
  const cumulative = bounds.map((le) => (now.buckets.get(le) ?? 0) - (before?.buckets.get(le) ?? 0));
  return {
    total: now.count, seconds: Math.round(seconds), invocations,
    errorRate: invocations > 0 ? errors / invocations : null,
    p50Ms: quantileMs(0.5, bounds, cumulative), p99Ms: quantileMs(0.99, bounds, cumulative),
  };
}

/** Prometheus' histogram_quantile: linear inside the bucket the rank falls in; the +Inf bucket gives the last bound. */
export function quantileMs(q: number, bounds: readonly number[], cumulative: readonly number[]): number | null {
  const total = cumulative.at(-1) ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  const i = cumulative.findIndex((c) => c >= rank);
  const upper = bounds[i]!;
  if (upper === Infinity) return (bounds[i - 1] ?? 0) * 1000;
  const lower = i === 0 ? 0 : bounds[i - 1]!;
  const below = i === 0 ? 0 : cumulative[i - 1]!;
  const inBucket = cumulative[i]! - below;
  return (lower + (upper - lower) * (inBucket === 0 ? 1 : (rank - below) / inBucket)) * 1000;
}
