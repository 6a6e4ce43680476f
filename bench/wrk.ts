// Runs `wrk` (a C load generator: far less CPU per request than an in-process Node client on these 2 cores)
// with the same closed-loop shape as bench/load.ts, and parses its report into a LoadResult.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad, type LoadOptions, type LoadResult } from './load.js';

let available: boolean | undefined;

/** Whether timed runs use wrk: when it is installed, unless WHIPPET_BENCH_LOAD=undici asks for bench/load.ts. */
export function useWrk(): boolean {
  return hasWrk() && process.env.WHIPPET_BENCH_LOAD !== 'undici';
}

/** True when a `wrk` binary is on PATH. */
export function hasWrk(): boolean {
  if (available === undefined) {
    try {
      execFileSync('wrk', ['--version'], { stdio: 'ignore' });
      available = true;
    } catch (err) {
      // wrk --version exits 1 after printing its version; only a missing binary is ENOENT.
      available = (err as NodeJS.ErrnoException).code !== 'ENOENT';
    }
  }
  return available;
}

/**
 * One wrk run: `threads` threads (default 1), `connections` connections, for `durationMs`. Its Lua `done` hook
 * prints the figures (in µs): the --latency table has no p99.9.
 */
export async function runWrk(o: LoadOptions): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'whippet-wrk-'));
  const script = join(dir, 'req.lua');
  const lines = [`wrk.method = ${JSON.stringify(o.method ?? 'GET')}`];
  if (o.body !== undefined) lines.push(`wrk.body = ${JSON.stringify(String(o.body))}`);
  for (const [k, v] of Object.entries(o.headers ?? {})) lines.push(`wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`);
  // Errors: wrk's own count of answers ≥ 400 and of socket errors. (A Lua `response` hook cannot count them:
  // it runs in each thread's Lua state, `done` in another, and it costs wrk a Lua call per answer.)
  lines.push(
    'done = function(summary, latency, requests)',
    '  local e = summary.errors',
    '  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration, latency:percentile(50),',
    '    latency:percentile(99), latency:percentile(99.9), e.status + e.connect + e.read + e.write + e.timeout))',
    'end',
  );
  writeFileSync(script, `${lines.join('\n')}\n`);
  const seconds = Math.max(1, Math.round((o.durationMs ?? 5000) / 1000));
  try {
    const out = await new Promise<string>((resolve, reject) => {
      const p = spawn('wrk', [`-t${o.threads ?? 1}`, `-c${o.connections}`, `-d${seconds}s`, '-s', script, o.url], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      p.stdout.on('data', (c: Buffer) => { text += c.toString(); });
      p.stderr.on('data', (c: Buffer) => { text += c.toString(); });
      p.once('error', reject);
      p.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}: ${text}`))));
    });
    const m = /RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)/.exec(out);
    if (m === null) throw new Error(`cannot parse wrk output: ${out}`);
    const [requests, durationUs, p50, p99, p999, errors] = m.slice(1).map(Number) as [number, number, number, number, number, number];
    return { rps: requests / (durationUs / 1e6), p50: p50 / 1000, p99: p99 / 1000, p999: p999 / 1000, errors, requests, elapsedMs: durationUs / 1000 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One timed run on wrk when useWrk(), on bench/load.ts (undici, in this process) otherwise. */
export function runGenerator(o: LoadOptions): Promise<LoadResult> {
  return useWrk() ? runWrk(o) : runLoad(o);
}

/** How a section names the load generator it used. */
export function generatorText(threads: number, connections: number): string {
  return useWrk()
    ? `\`wrk -t${threads} -c${connections}\` (C, little CPU of its own)`
    : 'bench/load.ts (undici, in the benchmark process: wrk is not installed, or WHIPPET_BENCH_LOAD=undici)';
}
