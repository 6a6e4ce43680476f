// The NATS JetStream backend: a work-queue stream of call messages (subject per function), one durable
// pull consumer shared by every worker, and the call records in a KV bucket. The message is only a
// wake-up (body + call key + round); the record is the truth, and every record change is a
// compare-and-set fenced by the delivery that makes it (jetstream-lease.ts).
//
// Enqueue = KV create (permanent idempotency: the same id twice is stored once, for as long as the
// record exists, unlike the 2-minute Nats-Msg-Id window) + publish with Nats-Msg-Id `<key>:<round>`.
// next() skips messages that have nothing left to do (cancelled, stale rounds, duplicates).
// While NATS is away every call fails fast with QueueUnavailableError; the client reconnects forever.

import { setMaxListeners } from 'node:events';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import type { JetStreamOptions } from './backend.js';
import { CallTooLargeError, QueueUnavailableError } from '../errors.js';
import { NatsLink } from './jetstream-link.js';
import { JetStreamWatch } from './jetstream-watch.js';
import { encodeEnvelope, type Envelope } from './jetstream-envelope.js';
import { JetStreamLease, type LeaseStore, type Versioned } from './jetstream-lease.js';
import { callSubject, jetStreamNames, messageId, recordKey, type JetStreamNames } from './jetstream-names.js';
import { ackConfirmed, nakDelivery, pullOne, workingDelivery, type Delivery } from './jetstream-puller.js';
import {
  changeRecord, countRecords, isWrongLastSequence, listRecords, readEnvelope, sweepRecords, writeEnvelope,
  type RecordContext,
} from './jetstream-records.js';
import { connectNats, ensureJetStream, type Conn, type SetupOptions } from './jetstream-setup.js';
import {
  resolveQueueOptions, type CallChange, type DepthEntry, type EnqueueResult, type Lease, type ListFilter, type NextOptions,
  type Queue, type QueueHealth, type QueueOptions, type ResolvedQueueOptions,
} from '../queue.js';
import { isFinal, newRecord, requestDifferences, type CallRecord, type NewCall } from '../record.js';
import * as step from '../transitions.js';

/** Room left in one NATS message for protocol and KV headers. */
const HEADER_ROOM = 8 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/**
 * Longest wait of one pull request. A waiting pull is held by the consumer's leader; when that node
 * dies (a cluster fails over) the request is gone without a word, and the worker would sit idle until
 * the expiry. Short pulls bound that stall, for one idle request every few seconds per waiting worker.
 */
const MAX_PULL_MS = 5_000;
/** How long a message whose record is missing is kept for a client retry: the Nats-Msg-Id window (2 min). */
const ORPHAN_WAIT_MS = 120_000;

/** The shared settings and jetstream's own. */
export type JetStreamQueueOptions = QueueOptions & JetStreamOptions;

/** Open the jetstream queue on `servers` (see JetStreamOptions for name, replicas, timeouts). */
export async function createJetStreamQueue(servers: readonly string[], options: JetStreamQueueOptions = {}): Promise<Queue> {
  const queue = new JetStreamQueue(servers, options);
  const started = queue.start();
  if (options.connectInBackground === true) { started.catch(() => { /* health() reports it */ }); return queue; }
  await started;
  return queue;
}

/** The jetstream Queue; exported for its extra `maxBodyBytes`. */
export class JetStreamQueue implements Queue, LeaseStore {
  readonly backend = 'jetstream';
  readonly maxEventAgeMs: number;
  private readonly opts: ResolvedQueueOptions;
  private readonly names: JetStreamNames;
  private readonly setup: SetupOptions;
  private readonly link = new NatsLink();
  private readonly closing = new AbortController();
  private depthCache: { readonly at: number; readonly value: Promise<DepthEntry[]> } | null = null;
  private sweeper: NodeJS.Timeout | null = null;
  private watcher: JetStreamWatch | undefined;

  constructor(private readonly servers: readonly string[], private readonly options: JetStreamQueueOptions) {
    this.opts = resolveQueueOptions(options);
    setMaxListeners(0, this.closing.signal); // every waiting next() listens for close
    this.maxEventAgeMs = this.opts.maxEventAgeMs;
    this.names = jetStreamNames(options.name ?? 'whippet');
    const ttl = this.opts.maxEventAgeMs > 0 ? this.opts.callRetentionMs + this.opts.maxEventAgeMs + 86_400_000 : 0;
    this.setup = {
      servers, names: this.names, replicas: options.replicas ?? 1, ackWaitMs: this.opts.ackWaitMs, recordTtlMs: ttl,
      timeoutMs: options.requestTimeoutMs ?? 5_000, waitOnFirstConnect: options.connectInBackground === true,
    };
  }

  /** Largest request body one message can carry: the server's max_payload minus room for headers. */
  get maxBodyBytes(): number {
    return (this.link.conn?.maxPayload ?? 1024 * 1024) - HEADER_ROOM;
  }

  /** Result bodies are kept up to maxResultBytes, but never past what fits in one KV value. */
  get maxResultBytes(): number {
    return Math.min(this.opts.maxResultBytes, this.maxBodyBytes - 56 * 1024);
  }

  now(): number {
    return this.opts.now();
  }

  /** Connect and set up; in background mode retry until it works or the queue is closed. */
  async start(): Promise<void> {
    const background = this.setup.waitOnFirstConnect;
    let nc: NatsConnection;
    try {
      nc = await connectNats(this.setup);
    } catch (err) {
      this.link.lastError = `cannot connect to NATS at ${this.servers.join(',')}: ${(err as Error).message}`;
      throw new QueueUnavailableError(this.link.lastError, { cause: err });
    }
    if (this.link.closed) { await nc.close(); return; }
    void this.link.watch(nc);
    for (;;) {
      try {
        this.link.conn = await ensureJetStream(nc, this.setup);
        break;
      } catch (err) {
        this.link.lastError = `JetStream setup failed: ${(err as Error).message}`;
        if (!background || this.link.closed) { await nc.close(); throw new QueueUnavailableError(this.link.lastError, { cause: err }); }
        await sleep(1_000);
      }
    }
    const every = Math.min(600_000, Math.max(1_000, this.opts.callRetentionMs / 2));
    this.sweeper = setInterval(() => { this.sweep().catch(() => { /* NATS away: next round */ }); }, every).unref();
    this.link.wake();
  }

  async enqueue(call: NewCall): Promise<EnqueueResult> {
    const conn = this.link.ready();
    if (call.body.byteLength > this.maxBodyBytes) throw new CallTooLargeError(call.body.byteLength, this.maxBodyBytes);
    return this.link.bounded(this.options.enqueueTimeoutMs ?? 1_500, async () => {
      const key = recordKey(call.id);
      for (let tries = 0; tries < 10; tries++) {
        const record = newRecord(call, this.now());
        const revision = await this.create(conn, key, record);
        if (revision === null) { // the id exists (or did a moment ago: then look again)
          const existing = await this.duplicate(conn, key, call);
          if (existing !== null) return existing;
          continue;
        }
        try {
          // The body is kept beside the record for redrives (the message leaves the stream on ack).
          await Promise.all([conn.bodies.put(key, call.body), this.publish(conn, key, record, call.body)]);
        } catch (err) {
          // Not accepted after all: take the record back so a retry with the same id is a new call. Only
          // at the revision created here: a retry that published since has claimed the record (see
          // duplicate()), or a worker holds it, and then the delete fails, as it must.
          conn.kv.delete(key, { previousSeq: revision }).catch(() => { /* NATS away: stays queued, see docs/queues.md, "A lost enqueue midway" */ });
          throw err;
        }
        this.depthCache = null;
        return { duplicate: false, record };
      }
      throw new QueueUnavailableError('the call kept changing while being enqueued; try again');
    });
  }

  async next(options: NextOptions = {}): Promise<Lease | null> {
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    const signal = options.signal === undefined ? this.closing.signal : AbortSignal.any([options.signal, this.closing.signal]);
    while (!signal.aborted) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return null;
      const conn = this.link.conn;
      if (conn === null || !this.link.connected) { await this.link.waitConnected(Math.min(remaining, 1_000), signal); continue; }
      const started = Date.now();
      const pull = AbortSignal.any([signal, this.link.lostSignal]);
      const got = await pullOne(conn.nc, this.names.stream, this.names.consumer, Math.min(remaining, MAX_PULL_MS), pull);
      if (got === 'aborted') continue; // closed or aborted (the loop ends), or the connection dropped (pull again)
      if (got === 'expired' || got === 'refused') {
        if (Date.now() - started < 100) await sleep(100); // a refusal (409) must not spin
        continue;
      }
      const lease = await this.toLease(conn, got).catch(() => {
        nakDelivery(got, 1_000); // could not read the record (NATS trouble): hand it back
        return null;
      });
      if (lease !== null) return lease;
    }
    return null;
  }

  async get(id: string): Promise<CallRecord | null> {
    const conn = this.link.ready();
    return this.link.wrap(async () => (await readEnvelope(conn.kv, recordKey(id)))?.env.record ?? null);
  }

  async list(filter: ListFilter = {}): Promise<CallRecord[]> {
    const conn = this.link.ready();
    return this.link.wrap(() => listRecords(this.ctx(conn), filter));
  }

  async cancel(id: string): Promise<CallRecord> {
    const conn = this.link.ready();
    this.depthCache = null;
    return this.link.wrap(() => changeRecord(this.ctx(conn), id, (r) => step.cancel(r, this.now()), false));
  }

  async redrive(id: string): Promise<CallRecord> {
    const conn = this.link.ready();
    this.depthCache = null;
    return this.link.wrap(async () => {
      const record = await changeRecord(this.ctx(conn), id, (r) => step.redrive(r, this.now()), true);
      await this.publish(conn, recordKey(id), record, await this.requestBody(conn, recordKey(id)));
      return record;
    });
  }

  async depth(): Promise<DepthEntry[]> {
    const conn = this.link.ready();
    // Scrapes from several collectors within a second share one scan.
    if (this.depthCache === null || Date.now() - this.depthCache.at > 1_000) {
      const value = this.link.wrap(() => countRecords(this.ctx(conn)));
      this.depthCache = { at: Date.now(), value };
      value.catch(() => { this.depthCache = null; });
    }
    return this.depthCache.value;
  }

  async sweep(): Promise<number> {
    const conn = this.link.ready();
    const removed = await this.link.wrap(() => sweepRecords(this.ctx(conn), this.now(), this.opts.callRetentionMs));
    if (removed > 0) this.depthCache = null;
    return removed;
  }

  async health(): Promise<QueueHealth> {
    const detail = `${this.servers.join(',')} stream ${this.names.stream}`;
    if (this.link.closed) return { ok: false, backend: this.backend, detail: 'closed' };
    const conn = this.link.conn;
    if (conn === null) return { ok: false, backend: this.backend, detail: this.link.lastError };
    if (!this.link.connected) return { ok: false, backend: this.backend, detail: `NATS disconnected (${detail})` };
    try {
      await this.link.bounded(1_500, () => conn.jsm.streams.info(this.names.stream));
      return { ok: true, backend: this.backend, detail };
    } catch (err) {
      return { ok: false, backend: this.backend, detail: (err as Error).message };
    }
  }

  watch(onChange: (change: CallChange) => void): Promise<() => void> {
    return (this.watcher ??= new JetStreamWatch(this.link)).subscribe(onChange);
  }

  async close(): Promise<void> {
    if (this.link.closed) return;
    this.link.closed = true;
    this.closing.abort();
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.link.wake();
    await this.link.conn?.nc.close().catch(() => { /* already closed */ });
  }

  // LeaseStore: what a JetStreamLease calls back into.

  async read(key: string): Promise<Versioned | null> {
    const conn = this.link.ready();
    return this.link.wrap(() => readEnvelope(conn.kv, key));
  }

  async write(key: string, env: Envelope, revision: number): Promise<number | null> {
    const conn = this.link.ready();
    this.depthCache = null;
    return this.link.wrap(() => writeEnvelope(this.ctx(conn), key, env, revision));
  }

  async ack(d: Delivery): Promise<void> {
    const conn = this.link.ready();
    await this.link.wrap(() => ackConfirmed(conn.nc, d, this.setup.timeoutMs));
  }

  nak(d: Delivery, delayMs: number): void {
    this.link.ready();
    nakDelivery(d, delayMs);
  }

  working(d: Delivery): void {
    this.link.ready();
    workingDelivery(d);
  }

  /** Turn a delivery into a lease, or settle it quietly when its call has nothing left to do. */
  private async toLease(conn: Conn, d: Delivery): Promise<Lease | null> {
    const key = d.msg.headers?.get('Whippet-Call') ?? '';
    const round = Number(d.msg.headers?.get('Whippet-Round') ?? '0');
    const stored = key === '' ? null : await readEnvelope(conn.kv, key);
    const record = stored?.env.record;
    const lease = stored?.env.lease;
    if (record === undefined && key !== '' && Date.now() - (d.publishedAt ?? 0) < ORPHAN_WAIT_MS) {
      // No record for a fresh message: an enqueue that timed out took its record back after the publish
      // had in fact landed. The client's retry re-creates the record and its publish (same Nats-Msg-Id)
      // is de-duplicated into this very message, so dropping it would lose the call: look again later.
      nakDelivery(d, 2_000);
      return null;
    }
    const stale = record === undefined // removed (or never a call of ours)
      || record.round !== round // an earlier round's message, redriven since
      || (isFinal(record.status) && record.callback.state !== 'pending') // nothing left to deliver
      || (lease != null && lease.seq !== d.streamSeq); // a duplicate publish: another message owns the call
    if (stale) {
      await ackConfirmed(conn.nc, d, this.setup.timeoutMs);
      return null;
    }
    const request: NewCall = {
      id: record.id, functionName: record.functionName, method: record.method, path: record.path,
      query: record.query, headers: record.headers, body: d.msg.data, callbackUrl: record.callbackUrl,
    };
    const expired = step.isExpired(record, this.now(), this.opts.maxEventAgeMs);
    return new JetStreamLease(this, key, d, round, request, stored!, expired);
  }

  /**
   * An existing id: the stored call, published again first if it may never have been (an earlier
   * attempt failed midway). Before that publish the record is rewritten unchanged: the claim moves its
   * revision, so the rollback of the attempt that created it (a delete at that revision, which may land
   * late) can no longer remove a call this retry answers 202 for. A claim never rolls back. Null when
   * the record changed under the claim or is gone: the caller starts over.
   */
  private async duplicate(conn: Conn, key: string, call: NewCall): Promise<EnqueueResult | null> {
    const stored = await readEnvelope(conn.kv, key);
    if (stored === null) return null;
    const r = stored.env.record;
    const neverLeased = r.status === 'queued' && stored.env.lease === null && !r.attempts.some((a) => a.round === r.round);
    // Another request under this id (the router answers 409) must not replace the stored body.
    if (!neverLeased || requestDifferences(r, call).length > 0) return { duplicate: true, record: r };
    if ((await writeEnvelope(this.ctx(conn), key, stored.env, stored.revision)) === null) return null;
    // Nats-Msg-Id de-duplicates this inside the 2-minute window; later, next() drops the twin. The body is
    // stored again too: the attempt that failed midway may not have stored it, and a redrive needs it.
    await Promise.all([conn.bodies.put(key, call.body), this.publish(conn, key, r, call.body)]);
    return { duplicate: true, record: r };
  }

  /** KV create; the new revision, or null when the key exists. */
  private async create(conn: Conn, key: string, record: CallRecord): Promise<number | null> {
    try {
      return await conn.kv.create(key, this.encode({ record, lease: null }));
    } catch (err) {
      if (isWrongLastSequence(err)) return null;
      throw err;
    }
  }

  private async publish(conn: Conn, key: string, record: CallRecord, body: Uint8Array): Promise<void> {
    const h = headers();
    h.set('Whippet-Call', key);
    h.set('Whippet-Round', String(record.round));
    await conn.js.publish(callSubject(this.names, record.functionName), body, { msgID: messageId(key, record.round), headers: h });
  }

  /** A redrive needs the request body again; the first message left the stream when it was acked. */
  private async requestBody(conn: Conn, key: string): Promise<Uint8Array> {
    const entry = await conn.bodies.get(key);
    return entry !== null && entry.operation === 'PUT' ? entry.value : new Uint8Array();
  }

  /** A value in the records bucket that is no call record: skipped by list, depth and sweep, logged each time. */
  private readonly onUndecodable = (key: string, revision: number, reason: string): void => {
    this.opts.log.warn('skipping an undecodable call record', { bucket: this.names.bucket, key, revision, reason });
  };

  private encode(env: Envelope): Uint8Array {
    return encodeEnvelope(env, this.ctx(this.link.conn!).maxValueBytes);
  }

  private ctx(conn: Conn): RecordContext {
    return { kv: conn.kv, bodies: conn.bodies, maxValueBytes: conn.maxPayload - 2 * 1024, onUndecodable: this.onUndecodable };
  }


}
