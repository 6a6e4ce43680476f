// The NATS JetStream backend: a work-queue stream of call messages (subject per function), one durable
// pull consumer shared by every worker, and the call records in a KV bucket. The message is only a
// wake-up (body + call key + round); the record is the truth, and every record change is a
// compare-and-set fenced by the delivery that makes it (jetstream-lease.ts).
//
// This class only wires the parts: the shared state (jetstream-store.ts), the accept path
// (jetstream-accept.ts), leases (jetstream-next.ts), record operations (jetstream-records.ts) and
// watch (jetstream-watch.ts). While NATS is away every call fails fast with QueueUnavailableError; the
// client reconnects forever (jetstream-link.ts).

import { JetStreamAccept } from './jetstream-accept.js';
import { JetStreamNext } from './jetstream-next.js';
import { recordKey } from './jetstream-names.js';
import { changeRecord, listRecords, readCall, sweepRecords } from './jetstream-records.js';
import { openJetStream } from './jetstream-setup.js';
import { JetStreamStore, type JetStreamQueueOptions } from './jetstream-store.js';
import { JetStreamWatch } from './jetstream-watch.js';
import type {
  CallChange, DepthEntry, EnqueueResult, Lease, ListFilter, NextOptions, Queue, QueueHealth,
} from '../queue.js';
import type { CallRecord, NewCall } from '../record.js';
import * as step from '../transitions.js';

export type { JetStreamQueueOptions } from './jetstream-store.js';

/** Open the jetstream queue on `servers` (see JetStreamOptions for name, replicas, timeouts). */
export async function createJetStreamQueue(servers: readonly string[], options: JetStreamQueueOptions = {}): Promise<Queue> {
  const queue = new JetStreamQueue(servers, options);
  const started = queue.start();
  if (options.connectInBackground === true) { started.catch(() => { /* health() reports it */ }); return queue; }
  await started;
  return queue;
}

/** The jetstream Queue; exported for its extra `maxBodyBytes`. */
export class JetStreamQueue implements Queue {
  readonly backend = 'jetstream';
  private readonly store: JetStreamStore;
  private readonly accept: JetStreamAccept;
  private readonly leases: JetStreamNext;
  private readonly watcher: JetStreamWatch;
  private sweeper: NodeJS.Timeout | null = null;

  constructor(servers: readonly string[], options: JetStreamQueueOptions) {
    this.store = new JetStreamStore(servers, options);
    this.accept = new JetStreamAccept(this.store);
    this.leases = new JetStreamNext(this.store);
    this.watcher = new JetStreamWatch(this.store.link, this.store.names);
  }

  /** Largest request body one message can carry. */
  get maxBodyBytes(): number {
    return this.store.maxBodyBytes;
  }

  /** Connect and set up; in background mode retry until it works or the queue is closed. */
  async start(): Promise<void> {
    await openJetStream(this.store.link, this.store.setup, this.store.consumers);
    if (this.store.link.closed) return;
    const every = Math.min(600_000, Math.max(1_000, this.store.opts.callRetentionMs / 2));
    this.sweeper = setInterval(() => { this.sweep().catch(() => { /* NATS away: next round */ }); }, every).unref();
    this.store.link.wake();
  }

  enqueue(call: NewCall): Promise<EnqueueResult> {
    return this.accept.enqueue(call);
  }

  next(options: NextOptions = {}): Promise<Lease | null> {
    return this.leases.next(options);
  }

  lookAgain(): void {
    this.leases.lookAgain();
  }

  async get(id: string): Promise<CallRecord | null> {
    const conn = this.store.link.ready();
    return this.store.link.wrap(async () => (await readCall(this.store.ctx(conn), recordKey(id)))?.env.record ?? null);
  }

  async list(filter: ListFilter = {}): Promise<CallRecord[]> {
    const conn = this.store.link.ready();
    return this.store.link.wrap(() => listRecords(this.store.ctx(conn), filter));
  }

  async cancel(id: string): Promise<CallRecord> {
    const conn = this.store.link.ready();
    this.store.changed();
    return this.store.link.wrap(() => changeRecord(this.store.ctx(conn), id, (r) => step.cancel(r, this.store.now()), false));
  }

  async redrive(id: string): Promise<CallRecord> {
    const conn = this.store.link.ready();
    this.store.changed();
    return this.store.link.wrap(async () => {
      const record = await changeRecord(this.store.ctx(conn), id, (r) => step.redrive(r, this.store.now()), true);
      await this.accept.publish(conn, recordKey(id), record, await this.accept.requestBody(conn, recordKey(id)));
      return record;
    });
  }

  async depth(): Promise<DepthEntry[]> {
    return this.store.depth(this.store.link.ready());
  }

  async sweep(): Promise<number> {
    const conn = this.store.link.ready();
    const { opts } = this.store;
    const removed = await this.store.link.wrap(() => sweepRecords(this.store.ctx(conn), this.store.now(), opts.callRetentionMs));
    if (removed > 0) this.store.changed();
    return removed;
  }

  async health(): Promise<QueueHealth> {
    const { link, names, servers } = this.store;
    const detail = `${servers.join(',')} stream ${names.stream}`;
    if (link.closed) return { ok: false, backend: this.backend, detail: 'closed' };
    const conn = link.conn;
    if (conn === null) return { ok: false, backend: this.backend, detail: link.lastError };
    if (!link.connected) return { ok: false, backend: this.backend, detail: `NATS disconnected (${detail})` };
    try {
      await link.bounded(1_500, () => conn.jsm.streams.info(names.stream));
      return { ok: true, backend: this.backend, detail };
    } catch (err) {
      return { ok: false, backend: this.backend, detail: (err as Error).message };
    }
  }

  watch(onChange: (change: CallChange) => void): Promise<() => void> {
    return this.watcher.subscribe(onChange);
  }

  async close(): Promise<void> {
    const { link } = this.store;
    if (link.closed) return;
    link.closed = true;
    this.leases.close();
    this.store.turn.flush(); // acks of this turn go out before the connection closes
    if (this.sweeper !== null) clearInterval(this.sweeper);
    link.wake();
    await link.conn?.nc.close().catch(() => { /* already closed */ });
  }
}
