// JetStream queue benchmark, one run, side by side on one local nats-server (JetStream, temp store,
// free port; started here):
// - enqueue: nats.js `js.publish` with Nats-Msg-Id (the engine alone) against whippet's enqueue, in
//   alternating rounds, 32 concurrent producers; the ratio is what whippet adds to the engine;
// - lease → attempt → finish → ack at the queue API (16 slots), jetstream beside sqlite; and the queue's part of
//   `whippet worker`'s turn (64 slots, no function called) with its CPU per call, nats-server's included;
// - drain: `whippet worker` processes (1, 2, 3) working off a backlog into an http-mode function whose
//   direct capacity (sync POSTs to its watchdog) is measured in the same run as the ceiling; then one worker
//   again with the function on a core of its own (the rest on the others).
// Run alone: node dist/bench/jetstream.js

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { createQueue, type Queue } from '../router/queue/index.js';
import { startFastFunction } from './drain.js';
import { median } from './load.js';
import { BODY, benchCall, concurrently, drainAll, drainLikeWorker, enqueueAll } from './queue-load.js';
import { CLI, benchEnv, onSeparateCores, phaseCpu, processCpuMs, startServer, stopServer, type PhaseCpu } from './server-process.js';
import { freePort } from '../common/free-port.js';

const PRODUCERS = 32;
const WORKER_SLOTS = 16;
const ENQUEUES = 4_000;
const ROUNDS = 3;
const DRAIN = 3_000;
const BACKLOG = 20_000;
// Calls drained the worker's way at the queue API, no function called.
const ALONE = 10_000;
const WORKER_INFLIGHT = 64;

interface Row {
  readonly name: string; readonly calls: number; readonly ms: number;
  /** CPU per drained call (µs): the worker processes together, nats-server, the function's side (whole drain); the machine's busy cores. */
  readonly cpu?: { readonly workers: number; readonly nats: number; readonly fn: number; readonly cores: number };
  /** The queue API driven in this process: its CPU per call (µs), and nats-server's (jetstream). */
  readonly alone?: { readonly clientUs: number; readonly natsUs?: number };
}

/** One reading of the function called directly: calls/s and where the CPU went. */
interface Direct {
  readonly rps: number;
  readonly cpu: PhaseCpu;
}

// The drain's goal (issue #18) on this backend: a share of the function's direct capacity; the budget line says what it leaves the worker.
const DRAIN_GOAL = 0.5;
const rate = (r: Row): number => r.calls / (r.ms / 1000);

/** Run the benchmark and return its Markdown section (a note instead when nats-server is missing). */
export async function benchJetStream(): Promise<string> {
  if (spawnSync('nats-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    return '### Queue (jetstream backend)\n\nSkipped: no nats-server binary on this machine.\n';
  }
  const dir = mkdtempSync(join(tmpdir(), 'whippet-bench-js-'));
  const port = await freePort();
  const server = await startNats(port, join(dir, 'nats'));
  const url = `nats://127.0.0.1:${port}`;
  const procs: ChildProcess[] = [];
  try {
    const load = loadavg().map((l) => l.toFixed(2)).join(' ');
    const { raw, whippet } = await enqueueRounds(url);
    const js = await createQueue(url, { ackWaitMs: 30_000, jetstream: { name: 'api' } });
    const sq = await createQueue(`sqlite:${join(dir, 'queue.db')}`);
    await enqueueAll(js, DRAIN, PRODUCERS, 'd');
    await enqueueAll(sq, DRAIN, PRODUCERS, 'd');
    const jsDrain = await drain('jetstream', js, DRAIN);
    const sqDrain = await drain('sqlite', sq, DRAIN);
    await Promise.all([js.close(), sq.close()]);
    const jsAlone = await drainAsWorker('jetstream', await createQueue(url, { ackWaitMs: 30_000, jetstream: { name: 'alone' } }), server.pid!);
    const sqAlone = await drainAsWorker('sqlite', await createQueue(`sqlite:${join(dir, 'alone.db')}`));

    const fn = await startFastFunction();
    procs.push(fn.proc);
    // The ceiling is read before each drain and once after the last, and its median used: one 4 s reading on a
    // shared host moved 5,000-21,000 calls/s between runs (6 Dec 2026), more than any change to the drain did.
    const direct = fn.read;
    const readings: Direct[] = [];
    const workers: Row[] = [];
    for (const count of [1, 2, 3]) {
      readings.push(await direct());
      workers.push(await workerDrain(url, server.pid!, fn.proc.pid!, `w${count}`, count, fn.functions));
    }
    readings.push(await direct());
    await stopServer(fn.proc, 'SIGINT');
    const separate = await separateCoresDrain(url, server.pid!);
    return render({ raw, whippet, jsDrain, sqDrain, jsAlone, sqAlone, direct: readings, workers, load, separate });
  } finally {
    for (const p of procs) await stopServer(p, 'SIGINT');
    server.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Alternating rounds of the raw publish and whippet's enqueue (after one warm-up of each); medians. */
async function enqueueRounds(url: string): Promise<{ raw: Row; whippet: Row }> {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: 'raw', subjects: ['raw.>'], retention: RetentionPolicy.Workqueue, storage: StorageType.File, duplicate_window: 120e9,
  });
  const js = jetstream(nc);
  const queue = await createQueue(url, { ackWaitMs: 30_000, jetstream: { name: 'enq' } });
  const rawMs: number[] = [];
  const whippetMs: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const a = await concurrently(ENQUEUES, PRODUCERS, (i) => js.publish(`raw.echo.${round}-${i}`, BODY, { msgID: `raw-${round}-${i}` }));
    const b = await enqueueAll(queue, ENQUEUES, PRODUCERS, `r${round}`);
    if (round > 0) { rawMs.push(a); whippetMs.push(b); } // round 0 warms both up
  }
  await Promise.all([queue.close(), nc.close()]);
  return {
    raw: { name: 'nats.js `js.publish` (awaited, Nats-Msg-Id), the engine alone', calls: ENQUEUES, ms: median(rawMs) },
    whippet: { name: 'whippet enqueue on jetstream (durable before it resolves)', calls: ENQUEUES, ms: median(whippetMs) },
  };
}

async function drain(name: string, q: Queue, total: number): Promise<Row> {
  const ms = await drainAll(q, total, WORKER_SLOTS, 2_000);
  return { name: `${name}: lease → attempt → finish → ack, ${WORKER_SLOTS} slots (queue API)`, calls: total, ms };
}

/**
 * The queue's part of `whippet worker`'s turn (bench/queue-load.ts), 64 slots, nothing called in between: this
 * process's CPU per call and, on jetstream, nats-server's over the same time.
 */
async function drainAsWorker(name: string, q: Queue, natsPid?: number): Promise<Row> {
  try {
    await enqueueAll(q, ALONE, PRODUCERS, 'alone');
    const natsBefore = natsPid === undefined ? 0 : processCpuMs(natsPid).own;
    const { ms, cpuUs } = await drainLikeWorker(q, ALONE, WORKER_INFLIGHT, 2_000);
    const natsUs = natsPid === undefined ? undefined : Math.round((processCpuMs(natsPid).own - natsBefore) * 1000 / ALONE);
    return {
      name: `${name}: the worker's way, lease with the attempt begun → result and ack in one write, ${WORKER_INFLIGHT} slots, no function called`,
      calls: ALONE, ms, alone: { clientUs: Math.round(cpuUs), ...(natsUs === undefined ? {} : { natsUs }) },
    };
  } finally {
    await q.close();
  }
}

/**
 * `count` worker processes drain a backlog of BACKLOG calls to the function; timed from their start
 * until the stream is empty (every call acked, which comes after its result was stored).
 */
async function workerDrain(url: string, natsPid: number, fnPid: number, name: string, count: number, functions: string, cores?: string): Promise<Row> {
  const queue = await createQueue(url, { ackWaitMs: 30_000, jetstream: { name } });
  await concurrently(BACKLOG, PRODUCERS, (i) => queue.enqueue({ ...benchCall(name, i), functionName: 'fast' }));
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  const env = benchEnv({ log_format: 'json', port: '0', queue: `${url}?name=${name}`, functions, max_inflight: String(WORKER_INFLIGHT) });
  const started = performance.now();
  const workers = await Promise.all(Array.from({ length: count }, () => startServer([CLI, 'worker'], env, undefined, cores)));
  // From their start on (module loading is not a drained call's cost): the function's side, the workers as the caller, nats-server.
  const meter = phaseCpu(fnPid, () => workers.reduce((sum, w) => sum + processCpuMs(w.proc.pid!).own, 0));
  const natsBefore = processCpuMs(natsPid).own;
  try {
    for (;;) {
      const left = (await jsm.streams.info(`${name}-calls`)).state.messages; // cheap, unlike depth() during a drain
      if (left === 0 || performance.now() - started > 120_000) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const ms = performance.now() - started;
    const drain = meter(BACKLOG);
    const nats = Math.round((processCpuMs(natsPid).own - natsBefore) * 1000 / BACKLOG);
    return {
      name: `${count} \`whippet worker\` process${count > 1 ? 'es' : ''} (max_inflight ${WORKER_INFLIGHT} each)`, calls: BACKLOG, ms,
      cpu: { workers: Math.round(drain.callerUs), nats, fn: Math.round(drain.fnUs), cores: drain.cores },
    };
  } finally {
    await Promise.all(workers.map((w) => stopServer(w.proc, 'SIGINT')));
    await Promise.all([queue.close(), nc.close()]);
  }
}

/**
 * One worker's drain again with the function on a core of its own (bench/async-cores.ts says why): its watchdog and
 * function on the last core, nats-server, the worker and this process (the load generator) on the others. Markdown
 * lines, or one line saying why it did not run.
 */
function separateCoresDrain(url: string, natsPid: number): Promise<string[]> {
  return onSeparateCores([natsPid], async (split) => {
    const fn = await startFastFunction(split.fn);
    try {
      const direct = fn.read;
      const readings = [await direct()];
      const drain = await workerDrain(url, natsPid, fn.proc.pid!, 'cores', 1, fn.functions, split.rest);
      readings.push(await direct(), await direct());
      const ceiling = median(readings.map((x) => x.rps));
      const budget = 1e6 / (DRAIN_GOAL * ceiling);
      return [
        `One worker again with the function on a core of its own: its watchdog and function on core ${split.fn}; nats-server, the worker and`,
        `this process (the load generator) on core${split.rest.includes('-') ? 's' : ''} ${split.rest} (\`taskset\`), as in a deployment where the function runs in a`,
        'container of its own. The ceiling is what the function serves on its core.',
        '',
        '| case | calls/s | share of the ceiling | function\'s side µs/call | worker µs/call | nats-server µs/call |',
        '|---|---:|---:|---:|---:|---:|',
        `| the function on its own core, called directly (ceiling) | ${Math.round(ceiling)} | | ${Math.round(readings[0]!.cpu.fnUs)} | ${Math.round(readings[0]!.cpu.callerUs)} (the load generator) | |`,
        `| 1 \`whippet worker\` (max_inflight ${WORKER_INFLIGHT}) | ${Math.round(rate(drain))} | **${(rate(drain) / ceiling * 100).toFixed(0)} %** | ${drain.cpu?.fn ?? ''} | ${drain.cpu?.workers ?? ''} | ${drain.cpu?.nats ?? ''} |`,
        '',
        `Ceiling readings ${readings.map((x) => Math.round(x.rps)).join(' / ')} (before the drain and twice after it), the median used. At ${DRAIN_GOAL * 100} % of it the`,
        `core that runs the worker and nats-server leaves them **${Math.round(budget)} µs of CPU per call** together; they spent ${(drain.cpu?.workers ?? Number.NaN) + (drain.cpu?.nats ?? Number.NaN)}.`,
      ];
    } finally {
      await stopServer(fn.proc, 'SIGINT');
    }
  });
}

interface Results {
  readonly raw: Row; readonly whippet: Row; readonly jsDrain: Row; readonly sqDrain: Row; readonly jsAlone: Row; readonly sqAlone: Row;
  readonly direct: readonly Direct[]; readonly workers: readonly Row[]; readonly load: string; readonly separate: readonly string[];
}

function render(r: Results): string {
  const cpu = (x: Row): string => (x.cpu !== undefined ? ` | ${x.cpu.workers} | ${x.cpu.nats}`
    : x.alone !== undefined ? ` | ${x.alone.clientUs} (this process) | ${x.alone.natsUs ?? ''}` : ' | | ');
  const line = (x: Row, note = ''): string => `| ${x.name} | ${x.calls} | ${(x.ms / 1000).toFixed(2)} | ${Math.round(rate(x))} | ${note}${cpu(x)} |`;
  const pct = (a: number, b: number): string => `${(a / b * 100).toFixed(0)} %`;
  const ceiling = median(r.direct.map((x) => x.rps));
  // The CPU of the reading nearest the median (with four readings the median lies between two).
  const middle = [...r.direct].sort((a, b) => Math.abs(a.rps - ceiling) - Math.abs(b.rps - ceiling))[0]!;
  const one = r.workers[0]?.cpu;
  const budget = one === undefined ? Number.NaN : (middle.cpu.cores * 1e6) / (DRAIN_GOAL * ceiling) - one.fn - one.nats;
  const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
  return [
    '### Queue (jetstream backend)',
    '',
    `One local nats-server 2.9 (file store, replicas 1) on the same 2 cores; load average at the start: ${r.load}.`,
    `Enqueue: ${PRODUCERS} concurrent producers, ${BODY.length}-byte bodies, median of ${ROUNDS} alternating rounds after a warm-up round.`,
    `Drain: a backlog of ${BACKLOG} calls worked off by \`whippet worker\` processes into an http-mode function (answers at once),`,
    'timed from the workers\' start until the stream is empty (every call acked after its result was stored); its direct capacity is sync POSTs to its watchdog',
    '(32 connections, 4 s) in the same run, read before each drain and after the last.',
    '',
    '| case | calls | seconds | calls/s | ratio | worker CPU µs/call | nats-server CPU µs/call |',
    '|---|---:|---:|---:|---|---:|---:|',
    line(r.raw, 'the ceiling'),
    line(r.whippet, `${pct(rate(r.whippet), rate(r.raw))} of the raw publish`),
    line(r.jsDrain), line(r.sqDrain), line(r.jsAlone), line(r.sqAlone),
    `| the function called directly (sync POSTs to its watchdog) | | | ${Math.round(ceiling)} | the ceiling: median of ${r.direct.map((x) => Math.round(x.rps)).join(' / ')} (before each drain, after the last) | | |`,
    ...r.workers.map((w) => line(w, `${pct(rate(w), ceiling)} of the function's capacity`)),
    '',
    'CPU per drained call: /proc/<pid>/stat of the worker processes (together) and of nats-server, from the',
    'workers\' start (after their code loaded) to the empty stream, divided by the backlog. The rows "no function called"',
    `drive the queue API in this process as \`whippet worker\` does (${ALONE} calls): this process's CPU (every thread) and nats-server's,`,
    'from the first lease to the last ack: the queue\'s part of a worker\'s CPU per call, without the HTTP call.',
    '',
    'Server messages per call (nats-server `/varz`, 1,000 calls, 16 slots): an enqueue is 1 (one publish; the',
    'earlier layout: 3, a KV create, the body and the message); lease → attempt → finish → ack is about 3.2',
    '(a share of one batch pull, a KV create at the first write, one KV update with the attempt\'s end and',
    'the result (`conclude`), the ack).',
    '',
    'Where the CPU went, per call (each process from /proc/<pid>/stat; the function\'s side is its watchdog and the process the',
    'watchdog runs; the machine from /proc/stat):',
    '',
    '| phase | calls/s | function\'s side µs | nats-server µs | caller µs | machine busy, cores |',
    '|---|---:|---:|---:|---:|---:|',
    `| function read directly (the reading nearest the median) | ${Math.round(middle.rps)} | ${fmt(middle.cpu.fnUs)} | | ${fmt(middle.cpu.callerUs)} (the load generator) | ${fmt(middle.cpu.cores, 2)} |`,
    ...r.workers.map((w) => `| ${w.name} | ${Math.round(rate(w))} | ${w.cpu?.fn ?? ''} | ${w.cpu?.nats ?? ''} | ${w.cpu?.workers ?? ''} (the workers) | ${fmt(w.cpu?.cores ?? Number.NaN, 2)} |`),
    '',
    `The budget this leaves one worker: a drain at ${fmt(DRAIN_GOAL * 100)} % of the ceiling (${fmt(DRAIN_GOAL * ceiling)} calls/s), with the machine as busy as while the`,
    'function was read directly and the function\'s side and nats-server costing what they did in the one-worker drain, leaves the',
    `worker **${fmt(budget)} µs of CPU per call**; it spent ${one?.workers ?? 'n/a'}.`,
    '',
    'What limits the drain: CPU. One worker process spends its CPU per call on the NATS client (two KV',
    'writes, the ack, socket writes) and on the HTTP call to the function, and everything shares 2 cores',
    '(nats-server, the function, its watchdog, the workers and this benchmark): a second or third worker',
    'process adds CPU contention, not capacity, on this machine (see docs/queues.md, "What limits the drain").',
    '',
    ...r.separate,
    '',
  ].join('\n');
}

function startNats(port: number, storeDir: string): Promise<ChildProcess> {
  const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`nats-server did not start:\n${log}`)); }, 10_000);
    child.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.includes('Server is ready')) { clearTimeout(timer); resolve(child); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`nats-server exited (${code}):\n${log}`)); });
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${await benchJetStream()}\n`);
}
