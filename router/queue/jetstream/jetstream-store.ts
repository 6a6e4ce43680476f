// What every part of the jetstream queue shares: the connection (through the link), the names, the
// resolved settings, the record context, and the depth cache that record changes invalidate. It is
// also the LeaseStore a JetStreamLease calls back into.

import type { JetStreamOptions } from './backend.js';
import { FunctionConsumers } from './jetstream-consumers.js';
import type { Envelope } from './jetstream-envelope.js';
import type { LeaseStore, Versioned } from './jetstream-lease.js';
import { NatsLink } from './jetstream-link.js';
import { jetStreamNames, type JetStreamNames } from './jetstream-names.js';
import { ackDelivery, nakDelivery, workingDelivery, type Delivery } from './jetstream-puller.js';
import { countRecords, readEnvelope, writeEnvelope, type RecordContext } from './jetstream-records.js';
import type { Conn, SetupOptions } from './jetstream-setup.js';
import { TurnBatch } from './jetstream-turn.js';
import { resolveQueueOptions, type DepthEntry, type QueueOptions, type ResolvedQueueOptions } from '../queue.js';

/** The shared settings and jetstream's own. */
export type JetStreamQueueOptions = QueueOptions & JetStreamOptions;

/** Room left in one NATS message for protocol and KV headers. */
const HEADER_ROOM = 8 * 1024;

/** The shared state of one jetstream queue. */
export class JetStreamStore implements LeaseStore {
  readonly link: NatsLink;
  readonly names: JetStreamNames;
  readonly opts: ResolvedQueueOptions;
  readonly setup: SetupOptions;
  readonly maxEventAgeMs: number;
  readonly ackWaitMs: number;
  readonly consumers: FunctionConsumers;
  private depthCache: { readonly at: number; readonly value: Promise<DepthEntry[]> } | null = null;
  /** Lease writes, acks and accepts of one turn leave in one socket write (jetstream-turn.ts). */
  readonly turn = new TurnBatch();

  constructor(readonly servers: readonly string[], readonly options: JetStreamQueueOptions) {
    this.opts = resolveQueueOptions(options);
    this.link = new NatsLink(this.opts.log);
    this.maxEventAgeMs = this.opts.maxEventAgeMs;
    this.ackWaitMs = this.opts.ackWaitMs;
    this.names = jetStreamNames(options.name ?? 'whippet');
    const ttl = this.opts.maxEventAgeMs > 0 ? this.opts.callRetentionMs + this.opts.maxEventAgeMs + 86_400_000 : 0;
    this.setup = {
      servers, names: this.names, replicas: options.replicas ?? 1, ackWaitMs: this.opts.ackWaitMs, recordTtlMs: ttl,
      timeoutMs: options.requestTimeoutMs ?? 5_000, waitOnFirstConnect: options.connectInBackground === true,
    };
    this.consumers = new FunctionConsumers(this.names, this.opts.ackWaitMs);
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

  /** What the record operations need, on `conn`. */
  ctx(conn: Conn): RecordContext {
    return { kv: conn.kv, bodies: conn.bodies, pub: conn.pub, jsm: conn.jsm, names: this.names, maxValueBytes: conn.maxPayload - 2 * 1024, onUndecodable: this.onUndecodable };
  }

  /** A record changed: the next depth() counts again. */
  changed(): void {
    this.depthCache = null;
  }

  /** Counts by function and status; scrapes from several collectors within a second share one scan. */
  depth(conn: Conn): Promise<DepthEntry[]> {
    if (this.depthCache === null || Date.now() - this.depthCache.at > 1_000) {
      const value = this.link.wrap(() => countRecords(this.ctx(conn)));
      this.depthCache = { at: Date.now(), value };
      value.catch(() => { this.depthCache = null; });
    }
    return this.depthCache.value;
  }

  // LeaseStore

  async read(key: string): Promise<Versioned | null> {
    const conn = this.link.ready();
    return this.link.wrap(() => readEnvelope(conn.kv, key));
  }

  async write(key: string, env: Envelope, revision: number): Promise<number | null> {
    const conn = this.link.ready();
    this.changed();
    return this.link.wrap(() => this.turn.run(() => writeEnvelope(this.ctx(conn), key, env, revision)));
  }

  async saveBody(key: string, body: Uint8Array): Promise<void> {
    const conn = this.link.ready();
    await this.link.wrap(() => conn.bodies.put(key, body));
  }

  /**
   * A lease acks only a call whose record is final (stored before): the ack is sent without waiting
   * for the server's confirmation. Should it be lost, the message comes back after ack_wait, finds the
   * final record and is acked then without being handed out (jetstream-delivery.ts). It leaves at the
   * end of the turn with the turn's other writes (jetstream-turn.ts); until then the message is still
   * this delivery's (never handed to a pull), and close() sends what is queued before disconnecting.
   */
  async ack(d: Delivery): Promise<void> {
    this.link.ready();
    this.turn.send(() => ackDelivery(d));
  }

  nak(d: Delivery, delayMs: number): void {
    this.link.ready();
    nakDelivery(d, delayMs);
  }

  working(d: Delivery): void {
    this.link.ready();
    workingDelivery(d);
  }

  /** A value in the records bucket that is no call record: skipped by list, depth and sweep, logged each time. */
  private readonly onUndecodable = (key: string, revision: number, reason: string): void => {
    this.opts.log.warn('skipping an undecodable call record', { bucket: this.names.bucket, key, revision, reason });
  };
}
