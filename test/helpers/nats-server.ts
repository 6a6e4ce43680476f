// Starts real nats-server processes (JetStream, temp store, free ports) for tests, and stops them in teardown.
// Without a nats-server binary the test is skipped with the reason, unless REQUIRE_NATS=1 (CI), where it fails.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Test } from 'tap';
import { freePort } from '../../common/free-port.js';
import { waitFor } from './wait.js';

export { freePort };

type Tap = Test;

export interface NatsNode {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  readonly process: ChildProcess;
  /** Stop gracefully (SIGTERM) and wait for exit. */
  stop(): Promise<void>;
  /** Kill with SIGKILL and wait for exit. */
  kill(): Promise<void>;
  /** Start again on the same ports and store (after stop or kill). */
  restart(): Promise<void>;
}

const BINARY = process.env.NATS_SERVER_BIN ?? 'nats-server';

/** True when a nats-server binary can be run. */
export function natsAvailable(): boolean {
  return spawnSync(BINARY, ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Returns false (and marks the test skipped or failed) when nats-server is missing.
 * Call first in every test that needs NATS: `if (!requireNats(t)) return`.
 */
export function requireNats(t: Tap): boolean {
  if (natsAvailable()) return true;
  const reason = `nats-server binary not found (${BINARY}); install Debian's nats-server`;
  if (process.env.REQUIRE_NATS === '1') t.fail(`${reason} -- REQUIRE_NATS=1 makes this a failure`);
  else t.pass('nats tests skipped', { skip: reason });
  return false;
}

interface NodeSpec { name: string; port: number; clusterPort?: number; routes?: number[]; storeDir: string }

function launch(spec: NodeSpec): Promise<ChildProcess> {
  const args = ['-a', '127.0.0.1', '-p', String(spec.port), '-js', '-sd', spec.storeDir, '--server_name', spec.name];
  if (spec.clusterPort !== undefined) {
    args.push('--cluster_name', 'whippet-test', '--cluster', `nats://127.0.0.1:${spec.clusterPort}`);
    args.push('--routes', (spec.routes ?? []).map((p) => `nats://127.0.0.1:${p}`).join(','));
  }
  const child = spawn(BINARY, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`nats-server did not start in 10s:\n${log}`)); }, 10_000);
    const onData = (chunk: Buffer): void => {
      log += chunk.toString();
      if (log.includes('Server is ready')) {
        clearTimeout(timer);
        child.stderr!.off('data', onData);
        child.stderr!.resume();
        resolve(child);
      }
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`nats-server exited early (code ${code}, signal ${signal}):\n${log}`));
    });
  });
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function startNode(spec: NodeSpec): Promise<NatsNode> {
  let child = await launch(spec);
  const node: NatsNode = {
    url: `nats://127.0.0.1:${spec.port}`,
    port: spec.port,
    storeDir: spec.storeDir,
    get process() { return child; },
    async stop() { child.kill('SIGTERM'); await waitExit(child); },
    async kill() { child.kill('SIGKILL'); await waitExit(child); },
    async restart() { await node.kill(); child = await launch(spec); },
  };
  return node;
}

/** One JetStream server on a free port with a temporary store; stopped and removed in teardown. */
export async function startNats(t: Tap): Promise<NatsNode> {
  const storeDir = mkdtempSync(join(tmpdir(), 'whippet-nats-'));
  const node = await startNode({ name: 'n1', port: await freePort(), storeDir });
  t.teardown(async () => { await node.kill(); rmSync(storeDir, { recursive: true, force: true }); });
  return node;
}

/** A JetStream cluster of `size` servers on loopback (free ports, temporary stores). */
export async function startNatsCluster(t: Tap, size = 3): Promise<NatsNode[]> {
  // A port freePort found can be taken by a parallel test before nats-server binds it: start again on fresh
  // ports (bounded), stopping whatever nodes did start, instead of failing or leaving them running.
  for (let attempt = 1; ; attempt++) {
    const ports = await Promise.all(Array.from({ length: size }, () => freePort()));
    const clusterPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
    const dirs = ports.map(() => mkdtempSync(join(tmpdir(), 'whippet-nats-')));
    const started = await Promise.allSettled(ports.map((port, i) => startNode({
      name: `n${i + 1}`, port, clusterPort: clusterPorts[i]!, routes: clusterPorts.filter((_, j) => j !== i), storeDir: dirs[i]!,
    })));
    const nodes = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failure = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    const cleanup = async (): Promise<void> => {
      await Promise.all(nodes.map((n) => n.kill()));
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    };
    if (failure === undefined) {
      t.teardown(cleanup);
      await waitJetStreamReady(nodes.map((n) => n.url));
      return nodes;
    }
    await cleanup();
    if (attempt >= 3 || !/address already in use/.test(String(failure.reason))) throw failure.reason;
  }
}

/** Wait until JetStream answers account info (a cluster first has to elect its meta leader). */
export async function waitJetStreamReady(servers: string[], timeoutMs = 20_000): Promise<void> {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers });
  try {
    await waitFor(async () => { await jetstreamManager(nc, { timeout: 1000 }); return true; },
      timeoutMs, 'JetStream to answer account info', { intervalMs: 250, checkMayThrow: true });
  } finally {
    await nc.close();
  }
}
