// whippet beside a Go anchor: fresh starts alternated one by one (start → first answer, idle RSS), and the
// table row of a throughput comparison run in alternating rounds (whippet, Go, whippet, Go…), with the ratio
// of each round and their median.

import { setTimeout as delay } from 'node:timers/promises';
import { halt, launch, median, rssMb, type Launch } from './go-anchors.js';
import type { LoadOptions, LoadResult } from './load.js';
import { runGenerator } from './wrk.js';

/** Fresh starts of each side; odd, so the median is one of them. */
export const STARTS = 9;
/** RSS is read this long after the first answer, as in the watchdog's own memory table. */
const IDLE_MS = 500;

/** Rounds of every throughput comparison with an anchor (WHIPPET_BENCH_ROUNDS overrides). */
export const ROUNDS = Number(process.env.WHIPPET_BENCH_ROUNDS ?? 5);
export const WARMUP_MS = 1_000;
export const LOAD_MS = Number(process.env.WHIPPET_BENCH_SECONDS ?? 10) * 1000;

const f = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

/** Header of the rows startupRow() writes. */
export const STARTUP_HEADER = [
  `| what | whippet: start → first answer, median ms (range) | Go: median ms (range) | whippet idle RSS MB (median) | Go idle RSS MB (median) |`,
  '|---|---|---|---:|---:|',
].join('\n');

/**
 * `STARTS` fresh starts of each, alternating (whippet, Go, whippet…): spawn → first 200 of its ready request
 * (polled every ms), and VmRSS 0.5 s later.
 */
export async function startupRow(what: string, whippet: () => Promise<Launch>, anchor: () => Promise<Launch>): Promise<string> {
  const w: { ms: number; mb: number }[] = [];
  const g: { ms: number; mb: number }[] = [];
  for (let i = 0; i < STARTS; i++) {
    w.push(await startOnce(await whippet()));
    g.push(await startOnce(await anchor()));
  }
  const ms = (xs: { ms: number }[]): string => {
    const v = xs.map((x) => x.ms);
    return `${f(median(v))} (${f(Math.min(...v))} – ${f(Math.max(...v))})`;
  };
  return `| ${what} | ${ms(w)} | ${ms(g)} | ${f(median(w.map((x) => x.mb)))} | ${f(median(g.map((x) => x.mb)))} |`;
}

async function startOnce(l: Launch): Promise<{ ms: number; mb: number }> {
  const r = await launch(l);
  try {
    await delay(IDLE_MS);
    return { ms: r.startMs, mb: rssMb(r.proc.pid!) };
  } finally {
    await halt(r);
  }
}

/** A warm-up, then the measured run. */
export async function warmAndMeasure(o: LoadOptions): Promise<LoadResult> {
  await runGenerator({ ...o, durationMs: WARMUP_MS });
  return runGenerator({ ...o, durationMs: LOAD_MS });
}

/** Header of the rows pairRow() writes; `extra` names extra columns. */
export function pairHeader(extra: readonly string[] = []): string {
  const cols = ['hop', 'whippet req/s', 'Go req/s', 'whippet ÷ Go, per round', 'median', 'p50 ms, whippet / Go', 'p99 ms, whippet / Go', 'p99.9 ms, whippet / Go', ...extra, 'errors, whippet / Go'];
  return [`| ${cols.join(' | ')} |`, `|${cols.map(() => '---').join('|')}|`].join('\n');
}

/** One row: rps per round, ratio per round (round i of whippet ÷ round i of Go), median ratio, median latencies. */
export function pairRow(hop: string, whippet: readonly LoadResult[], anchor: readonly LoadResult[], extra: readonly string[] = []): string {
  const ratios = whippet.map((r, i) => r.rps / anchor[i]!.rps);
  const rps = (rs: readonly LoadResult[]): string => rs.map((r) => f(r.rps, 0)).join(' / ');
  const lat = (k: 'p50' | 'p99' | 'p999'): string => `${f(median(whippet.map((r) => r[k])), 2)} / ${f(median(anchor.map((r) => r[k])), 2)}`;
  const errors = (rs: readonly LoadResult[]): number => rs.reduce((n, r) => n + r.errors, 0);
  return `| ${hop} | ${rps(whippet)} | ${rps(anchor)} | ${ratios.map((x) => f(x, 2)).join(' / ')} | **${f(median(ratios), 2)}x** | ` +
    `${lat('p50')} | ${lat('p99')} | ${lat('p999')} | ${extra.map((e) => `${e} | `).join('')}${errors(whippet)} / ${errors(anchor)} |`;
}

/**
 * `measure()`, or one line when it fails (a port the anchor always binds is taken, it does not start): the rest of
 * the section is still written.
 */
export async function orLine(name: string, measure: () => Promise<string>): Promise<string> {
  try {
    return await measure();
  } catch (err) {
    return `${name} not measured: ${(err as Error).message.split('\n')[0]}\n`;
  }
}
