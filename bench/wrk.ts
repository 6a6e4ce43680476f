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

const UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };
const ms = (text: string): number => {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  return m ? Number(m[1]) * UNITS[m[2]!]! : NaN;
};

/** One wrk run: `threads` threads (default 1), `connections` connections, for `durationMs`. */
export async function runWrk(o: LoadOptions): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'whippet-wrk-'));
  const script = join(dir, 'req.lua');
  const lines = [`wrk.method = ${JSON.stringify(o.method ?? 'GET')}`];
  if (o.body !== undefined) lines.push(`wrk.body = ${JSON.stringify(String(o.body))}`);
  for (const [k, v] of Object.entries(o.headers ?? {})) lines.push(`wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`);
  // Count non-2xx answers as errors, as bench/load.ts does.
  lines.push('bad = 0', 'response = function(status) if status < 200 or status > 299 then bad = bad + 1 end end');
  lines.push('done = function() io.write(string.format("bad %d\\n", bad)) end');
  writeFileSync(script, `${lines.join('\n')}\n`);
  const seconds = Math.max(1, Math.round((o.durationMs ?? 5000) / 1000));
  try {
    const out = await new Promise<string>((resolve, reject) => {
      const p = spawn('wrk', [`-t${o.threads ?? 1}`, `-c${o.connections}`, `-d${seconds}s`, '--latency', '-s', script, o.url], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      p.stdout.on('data', (c: Buffer) => { text += c.toString(); });
      p.stderr.on('data', (c: Buffer) => { text += c.toString(); });
      p.once('error', reject);
      p.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}: ${text}`))));
    });
    const requests = Number(/(\d+) requests in ([\d.]+)(\w+)/.exec(out)?.[1]);
    const elapsed = /\d+ requests in ([\d.]+\w+)/.exec(out)?.[1];
    const p50 = /\s50%\s+([\d.]+\w+)/.exec(out)?.[1];
    const p99 = /\s99%\s+([\d.]+\w+)/.exec(out)?.[1];
    const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
    const bad = Number(/bad (\d+)/.exec(out)?.[1] ?? 0);
    const errors = bad + (socketErrors ? socketErrors.slice(1).reduce((n, x) => n + Number(x), 0) : 0);
    const elapsedMs = ms(elapsed ?? '');
    if (!Number.isFinite(requests) || !Number.isFinite(elapsedMs)) throw new Error(`cannot parse wrk output: ${out}`);
    return { rps: requests / (elapsedMs / 1000), p50: ms(p50 ?? ''), p99: ms(p99 ?? ''), errors, requests, elapsedMs };
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
