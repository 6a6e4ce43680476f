// Spawn micro-benchmark: `cat` per spawn (write 33 bytes, read them back, wait for exit), native addon
// vs child_process, sequential and 8 in flight, with this process small and then grown to ~500 MB RSS
// (fork() copies page tables, so its cost grows with the parent; the addon's vfork-style spawn should not).

import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { createChildProcessBackend } from '../watchdog/spawn/child-process.js';
import { benchSpawnEndToEnd } from './spawn-e2e.js';
import { loadNativeBackend } from '../watchdog/spawn/native.js';
import type { SpawnBackend } from '../watchdog/spawn/types.js';

const BODY = 'hello world, this is a small body'; // 33 bytes, the body of the load test
const ENV = { PATH: '/usr/local/bin:/usr/bin:/bin' };
const BIG_RSS_MB = 500;
const TIME_BOX_MS = 2500; // per row; 8 rows per backend keep the whole run well under a minute
const MAX_SPAWNS = 5000;

interface Labelled {
  label: string;
  backend: SpawnBackend;
}

interface Row {
  backend: string;
  rssMb: number;
  inFlight: number;
  spawns: number;
  perSecond: number;
  /** Mean time the event loop was blocked inside spawn() itself. */
  blockedMs: number;
}

async function drain(stream: Readable): Promise<string> {
  let out = '';
  for await (const chunk of stream) out += String(chunk);
  return out;
}

async function catOnce(backend: SpawnBackend, blocked: { ms: number }): Promise<void> {
  const t0 = performance.now();
  const pending = backend.spawn({ file: 'cat', args: [], env: ENV });
  blocked.ms += performance.now() - t0; // both backends spawn synchronously inside the call
  const p = await pending;
  p.stdin.end(BODY);
  const [out, , status] = await Promise.all([drain(p.stdout), drain(p.stderr), p.exited]);
  if (out !== BODY || status.code !== 0) throw new Error(`cat returned ${JSON.stringify(out)} ${JSON.stringify(status)}`);
}

async function measure({ label, backend }: Labelled, inFlight: number): Promise<Row> {
  for (let i = 0; i < 20; i++) await catOnce(backend, { ms: 0 }); // warm-up
  const blocked = { ms: 0 };
  let spawns = 0;
  const start = performance.now();
  const worker = async (): Promise<void> => {
    while (performance.now() - start < TIME_BOX_MS && spawns < MAX_SPAWNS) {
      spawns++;
      await catOnce(backend, blocked);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (performance.now() - start) / 1000;
  return {
    backend: label,
    rssMb: Math.round(process.memoryUsage.rss() / 2 ** 20),
    inFlight,
    spawns,
    perSecond: spawns / seconds,
    blockedMs: blocked.ms / spawns,
  };
}

/** Grows this process to about `mb` MB of resident memory; the pages are touched so fork() must copy them. */
function ballast(mb: number): Buffer | undefined {
  const missing = mb - process.memoryUsage.rss() / 2 ** 20;
  if (missing <= 0) return undefined;
  return Buffer.allocUnsafeSlow(Math.round(missing * 2 ** 20)).fill(0x5a);
}

/** Runs the spawn micro-benchmark, then the end-to-end comparison; returns Markdown. */
export async function benchSpawn(): Promise<string> {
  return `${await benchSpawnCost()}\n${await benchSpawnEndToEnd()}`;
}

/** The spawn micro-benchmark alone, as Markdown. */
export async function benchSpawnCost(): Promise<string> {
  const backends: Labelled[] = [{ label: 'child_process', backend: createChildProcessBackend() }];
  let note = '';
  try {
    backends.unshift(
      { label: 'native (pool thread)', backend: await loadNativeBackend() },
      { label: 'native (loop thread)', backend: await loadNativeBackend({ offLoop: false }) },
    );
  } catch (err) {
    note = `\n> native backend unavailable: ${(err as Error).message}\n`;
  }
  const rows: Row[] = [];
  for (const big of [false, true]) {
    const held = big ? ballast(BIG_RSS_MB) : undefined;
    for (const backend of backends) {
      for (const inFlight of [1, 8]) rows.push(await measure(backend, inFlight));
    }
    held?.fill(0); // keep the ballast alive (and resident) until its rows are done
  }
  return [
    '### Spawn cost: `cat` per spawn (33 bytes in, 33 bytes out, wait for exit)',
    note,
    '| backend | parent RSS | in flight | spawns | spawns/s | event loop blocked per spawn |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) =>
      `| ${r.backend} | ${r.rssMb} MB | ${r.inFlight} | ${r.spawns} | ${r.perSecond.toFixed(0)} | ${r.blockedMs.toFixed(2)} ms |`),
    '',
  ].join('\n');
}
