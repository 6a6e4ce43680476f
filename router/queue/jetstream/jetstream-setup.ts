// Connecting to NATS and making sure the stream and the buckets exist (the consumers are
// jetstream-consumers.ts'). The first router or worker to start creates them; later ones use what is
// there (a stream or bucket is never rewritten, so two instances with different settings cannot fight
// over it).

import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import {
  jetstream, jetstreamManager, RetentionPolicy, StorageType,
  type JetStreamClient, type JetStreamManager,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { FunctionConsumers } from './jetstream-consumers.js';
import type { NatsLink } from './jetstream-link.js';
import type { JetStreamNames } from './jetstream-names.js';
import { StreamPublisher } from './jetstream-publish.js';
import { QueueUnavailableError } from '../errors.js';

/** A live connection and the handles the queue uses. */
export interface Conn {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly kv: KV;
  /** Request bodies by record key. */
  readonly bodies: KV;
  /** Publishes that wait for the stream's acknowledgement: accepts and record writes (jetstream-publish.ts). */
  readonly pub: StreamPublisher;
  /** The server's max_payload: one message (call body, record) cannot be larger. */
  readonly maxPayload: number;
  /**
   * The core subject on which the records bucket republishes every stored write (names.changes), or
   * null for a bucket made before it did and a server that cannot add it: watch() then follows a KV
   * watch, which can miss a record's value that the next write replaced before it was delivered.
   */
  readonly changes: string | null;
}

/** What setup needs to know. */
export interface SetupOptions {
  readonly servers: readonly string[];
  readonly names: JetStreamNames;
  readonly replicas: number;
  readonly ackWaitMs: number;
  /** Safety-net age of records nobody rewrote (0 = none); sweep() does the real retention. */
  readonly recordTtlMs: number;
  /** Timeout of each JetStream API call. */
  readonly timeoutMs: number;
  /** Keep trying until the first connect succeeds (background start) instead of failing at once. */
  readonly waitOnFirstConnect: boolean;
}

/**
 * Connect, follow the connection on `link`, and set up; with waitOnFirstConnect (background start) the
 * setup is retried every second until it works or the link is closed. QueueUnavailableError otherwise.
 */
export async function openJetStream(link: NatsLink, o: SetupOptions, consumers: FunctionConsumers): Promise<void> {
  let nc: NatsConnection;
  try {
    nc = await connectNats(o);
  } catch (err) {
    link.lastError = `cannot connect to NATS at ${o.servers.join(',')}: ${(err as Error).message}`;
    throw new QueueUnavailableError(link.lastError, { cause: err });
  }
  if (link.closed) { await nc.close(); return; }
  void link.watch(nc);
  for (;;) {
    try {
      link.conn = await ensureJetStream(nc, o, consumers);
      return;
    } catch (err) {
      link.lastError = `JetStream setup failed: ${(err as Error).message}`;
      if (!o.waitOnFirstConnect || link.closed) { await nc.close(); throw new QueueUnavailableError(link.lastError, { cause: err }); }
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

/** Connect (reconnecting forever afterwards). */
async function connectNats(o: SetupOptions): Promise<NatsConnection> {
  return connect({
    servers: [...o.servers], name: 'whippet', reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 250,
    waitOnFirstConnect: o.waitOnFirstConnect, timeout: 2_000, pingInterval: 10_000, maxPingOut: 2,
    // Without it every request (each KV write, each publish) builds an Error up front to keep the
    // caller's stack for a possible failure: ~7 % of a draining process's CPU. Errors keep their code.
    noAsyncTraces: true,
  });
}

/** Create what is missing; returns the handles. */
export async function ensureJetStream(nc: NatsConnection, o: SetupOptions, consumers: FunctionConsumers): Promise<Conn> {
  const js = jetstream(nc, { timeout: o.timeoutMs });
  const jsm = await jetstreamManager(nc, { timeout: o.timeoutMs });
  const { stream, subjects, bucket } = o.names;
  if (!(await exists(() => jsm.streams.info(stream)))) {
    await ignoreExisting(jsm.streams.add({
      name: stream, subjects: [subjects], retention: RetentionPolicy.Workqueue, storage: StorageType.File,
      num_replicas: o.replicas, duplicate_window: nanos(120_000),
    }));
  }
  await consumers.migrate(jsm);
  const republish = { src: `$KV.${bucket}.>`, dest: o.names.changes };
  const kv = await new Kvm(js).create(bucket, {
    history: 1, storage: StorageType.File, replicas: o.replicas, ttl: o.recordTtlMs,
    // Direct gets may be answered by a lagging replica; with replicas the leader answers.
    allow_direct: o.replicas === 1,
    // Every stored write, also on core NATS: what watch() follows (no consumer, nothing skipped).
    republish,
  });
  const bodies = await new Kvm(js).create(o.names.bodies, {
    history: 1, storage: StorageType.File, replicas: o.replicas, ttl: o.recordTtlMs, allow_direct: o.replicas === 1,
  });
  const changes = await republishing(jsm, `KV_${bucket}`, republish);
  return { nc, js, jsm, kv, bodies, pub: new StreamPublisher(nc, o.timeoutMs), maxPayload: nc.info?.max_payload ?? 1024 * 1024, changes };
}

/**
 * The subject the records bucket republishes its writes on, adding `wanted` to a bucket made without it
 * (nats-server 2.10 and later allow that; 2.9 refuses, and such a bucket keeps being followed by a KV
 * watch). A bucket republishing elsewhere, or only headers, is left as it is: null.
 */
async function republishing(jsm: JetStreamManager, stream: string, wanted: { src: string; dest: string }): Promise<string | null> {
  const { config } = await jsm.streams.info(stream);
  const have = config.republish;
  const ours = (r: typeof have): boolean => r?.src === wanted.src && r.dest === wanted.dest && r.headers_only !== true;
  if (ours(have)) return wanted.dest;
  if (have !== undefined && have.dest !== '') return null;
  try {
    const updated = await jsm.streams.update(stream, { ...config, republish: wanted });
    return ours(updated.config.republish) ? wanted.dest : null;
  } catch {
    return null; // "can not change RePublish" (2.9), or no permission: the KV watch it is
  }
}

async function exists<T>(fn: () => Promise<T>): Promise<T | false> {
  try {
    return await fn();
  } catch (err) {
    if (/not found/i.test(String((err as Error).message))) return false;
    throw err;
  }
}

async function ignoreExisting(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    // Another instance created it between our look and our add.
    if (!/already in use|already exists/i.test(String((err as Error).message))) throw err;
  }
}
