// A small closed-loop HTTP load generator on undici: `connections` workers, each sending one request after
// another, for `durationMs` or until `requests` are done (always bounded by MAX_RUN_MS).

import { Pool } from 'undici';

/** Hard ceiling of any run, so a stuck server cannot hang the benchmark. */
const MAX_RUN_MS = 120_000;

export interface LoadOptions {
  readonly url: string;
  readonly method?: string;
  readonly body?: string | Buffer;
  readonly headers?: Record<string, string>;
  readonly connections: number;
  /** Stop after this long… */
  readonly durationMs?: number;
  /** …or after this many requests in total. */
  readonly requests?: number;
  /** wrk only: its thread count (1 by default; the OpenFaaS measurements used 2). */
  readonly threads?: number;
}

export interface LoadResult {
  /** Completed requests per second (any status). */
  readonly rps: number;
  /** Latency percentiles in milliseconds. */
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  /** Requests that failed, or answered outside 2xx (bench/load.ts) or with 4xx/5xx (wrk, which counts those). */
  readonly errors: number;
  readonly requests: number;
  readonly elapsedMs: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Run the load and return throughput, latency percentiles and the error count. */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const url = new URL(o.url);
  const pool = new Pool(url.origin, { connections: o.connections, pipelining: 1 });
  const limitMs = Math.min(o.durationMs ?? MAX_RUN_MS, MAX_RUN_MS);
  const latencies: number[] = [];
  let errors = 0;
  let issued = 0;
  const started = performance.now();
  const deadline = started + limitMs;
  const more = (): boolean => performance.now() < deadline && (o.requests === undefined || issued < o.requests);
  const worker = async (): Promise<void> => {
    while (more()) {
      issued++;
      const t0 = performance.now();
      try {
        const res = await pool.request({ path: url.pathname + url.search, method: (o.method ?? 'GET') as 'GET', body: o.body, headers: o.headers });
        await res.body.dump();
        if (res.statusCode < 200 || res.statusCode >= 300) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t0);
    }
  };
  try {
    await Promise.all(Array.from({ length: o.connections }, worker));
  } finally {
    await pool.close();
  }
  const elapsedMs = performance.now() - started;
  const sorted = Float64Array.from(latencies).sort();
  return {
    rps: latencies.length / (elapsedMs / 1000),
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    errors,
    requests: latencies.length,
    elapsedMs,
  };
}

/**
 * One server loaded up to each checkpoint of requests in total, `read` after each (a memory reading): one cell
 * per checkpoint, with the count in brackets where a run hit the time cap first, and the errors of all runs.
 */
export async function readAtCheckpoints(
  o: Omit<LoadOptions, 'durationMs' | 'requests'>, checkpoints: readonly number[], read: () => Promise<string>,
): Promise<{ cells: string[]; errors: number }> {
  const cells: string[] = [];
  let done = 0;
  let errors = 0;
  for (const target of checkpoints) {
    const r = await runLoad({ ...o, requests: target - done });
    done += r.requests;
    errors += r.errors;
    cells.push(`${await read()}${done < target ? ` (${done.toLocaleString('en')} requests)` : ''}`);
  }
  return { cells, errors };
}

/** The median of `xs` (of an even count, the mean of the middle two); NaN for none. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
