// JetStream queue benchmark: accepted enqueues/s (32 concurrent producers) and the lease → attempt →
// finish → ack drain rate, on jetstream beside sqlite, and the raw rate of nats.js publishing the same
// payloads with acknowledgement to the same server: the ratio is what whippet adds on top of the engine.
// Starts its own nats-server (JetStream, temp store, free port). Run alone: node dist/bench/jetstream.js

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { createQueue, type Queue } from '../router/queue/index.js';
import { BODY, concurrently, drainAll, enqueueAll } from './queue-load.js';
import { freePort } from '../common/free-port.js';

const PRODUCERS = 32;
const WORKER_SLOTS = 16;
const ENQUEUES = 5_000;
const DRAIN = 3_000;

interface Row { readonly name: string; readonly calls: number; readonly ms: number }
const rate = (r: Row): number => r.calls / (r.ms / 1000);

/** Run the benchmark and return its Markdown section (a note instead when nats-server is missing). */
export async function benchJetStream(): Promise<string> {
  if (spawnSync('nats-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    return '### Queue (jetstream backend)\n\nSkipped: no nats-server binary on this machine.\n';
  }
  const dir = mkdtempSync(join(tmpdir(), 'whippet-bench-js-'));
  const port = await freePort();
  const server = await startServer(port, join(dir, 'nats'));
  const url = `nats://127.0.0.1:${port}`;
  try {
    const js = await createQueue(url, { ackWaitMs: 30_000, jetstream: { name: 'bench' } });
    const sq = await createQueue(`sqlite:${join(dir, 'queue.db')}`);
    const rows = {
      raw: await rawPublish(url, ENQUEUES),
      jsEnqueue: await enqueues('jetstream', js, ENQUEUES, 'a'),
      sqEnqueue: await enqueues('sqlite', sq, ENQUEUES, 'a'),
      jsDrain: await drain('jetstream', js, DRAIN),
      sqDrain: await drain('sqlite', sq, DRAIN),
    };
    await Promise.all([js.close(), sq.close()]);
    return render(rows);
  } finally {
    server.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function rawPublish(url: string, total: number): Promise<Row> {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'raw', subjects: ['raw.>'], retention: RetentionPolicy.Workqueue, storage: StorageType.File });
  const js = jetstream(nc);
  const ms = await concurrently(total, PRODUCERS, (i) => js.publish('raw.echo', BODY, { msgID: `raw-${i}` }));
  await nc.close();
  return { name: 'nats.js `js.publish` (awaited, Nats-Msg-Id), the engine alone', calls: total, ms };
}

async function enqueues(name: string, q: Queue, total: number, tag: string): Promise<Row> {
  const ms = await enqueueAll(q, total, PRODUCERS, tag);
  return { name: `${name}: enqueue (durable before it resolves)`, calls: total, ms };
}

async function drain(name: string, q: Queue, total: number): Promise<Row> {
  const ms = await drainAll(q, total, WORKER_SLOTS, 2_000);
  return { name: `${name}: lease → attempt → finish → ack, ${WORKER_SLOTS} slots`, calls: total, ms };
}

function render(r: Record<'raw' | 'jsEnqueue' | 'sqEnqueue' | 'jsDrain' | 'sqDrain', Row>): string {
  const line = (x: Row): string => `| ${x.name} | ${x.calls} | ${(x.ms / 1000).toFixed(2)} | ${Math.round(rate(x))} |`;
  return [
    '### Queue (jetstream backend beside sqlite)',
    '',
    `${PRODUCERS} concurrent producers, ${BODY.length}-byte bodies, one local nats-server 2.9 (file store, replicas 1).`,
    '',
    '| case | calls | seconds | calls/s |',
    '|---|---:|---:|---:|',
    line(r.raw), line(r.jsEnqueue), line(r.sqEnqueue), line(r.jsDrain), line(r.sqDrain),
    '',
    `whippet enqueue on jetstream runs at ${(rate(r.jsEnqueue) / rate(r.raw) * 100).toFixed(0)} % of the raw publish rate `
      + '(an enqueue is a KV create of the record, then the body and the message in parallel: two round trips, three writes).',
    '',
  ].join('\n');
}

function startServer(port: number, storeDir: string): Promise<ChildProcess> {
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
