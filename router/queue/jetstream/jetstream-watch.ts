// watch() for the jetstream queue, running only while somebody watches: accepts are call messages
// (an accept writes nothing else), seen through a plain subscription on the call subjects; every later
// change is a write to the records bucket, which the bucket republishes on core NATS once it is stored
// (names.changes): a plain subscription sees every stored write in order, also a value the next write
// of its key replaced at once (the bucket keeps one value per key, so a KV watch, a consumer that
// delivers what is still stored, misses it when it lags: a call's `running` under load). A bucket made
// before it republished, on a server that cannot add that, is followed by a KV watch (new values only).
// Every router, worker and machine publishes and writes the same subjects and bucket, so every change
// is seen (but those made while this process's connection is down). The previous status comes from
// what this watcher saw last of the key (null for a call that looks freshly accepted).

import { KvWatchInclude } from '@nats-io/kv';
import type { NatsLink } from './jetstream-link.js';
import type { Conn } from './jetstream-setup.js';
import { decodeEnvelope } from './jetstream-envelope.js';
import { readCallMessage } from './jetstream-message.js';
import { allCallSubjects, type JetStreamNames } from './jetstream-names.js';
import type { CallChange } from '../queue.js';
import type { CallRecord, CallStatus } from '../record.js';

/** Keys whose last status is remembered; beyond it the oldest are forgotten. */
const REMEMBERED = 10_000;
/** Wait between tries while NATS is away or the watch could not be opened. */
const RETRY_MS = 1_000;

/** One watch of the bucket's writes, kept open (reopened after a failure) until stopped. */
interface Run {
  /** Settles once the first watch is open, or its first try failed (the run keeps trying). */
  readonly opened: Promise<void>;
  stop(): void;
}

/** The watchers of one jetstream queue: one watch of the records bucket while there is at least one. */
export class JetStreamWatch {
  private readonly subscribers = new Set<(change: CallChange) => void>();
  private readonly last = new Map<string, CallStatus>();
  private run: Run | null = null;

  constructor(private readonly link: NatsLink, private readonly names: JetStreamNames) {}

  /** Start following changes; resolves with the unsubscribe once the watch is open. */
  async subscribe(onChange: (change: CallChange) => void): Promise<() => void> {
    this.subscribers.add(onChange);
    this.run ??= this.start();
    await this.run.opened;
    return () => {
      this.subscribers.delete(onChange);
      if (this.subscribers.size === 0) { this.run?.stop(); this.run = null; }
    };
  }

  private start(): Run {
    let stopped = false;
    let stopWatch: (() => void) | null = null;
    const opened = new Promise<void>((resolve) => {
      void (async () => {
        while (!stopped && !this.link.closed) {
          try {
            const conn = this.link.conn;
            if (conn === null) throw new Error('not connected yet');
            const accepts = conn.nc.subscribe(allCallSubjects(this.names), {
              callback: (err, msg) => {
                const call = err === null ? readCallMessage(msg) : null;
                // Round 0 only: a redrive's new round is a KV write too. A repeat of an id is no news.
                if (call?.record != null && call.round === 0 && !this.last.has(call.record.id)) this.emit(call.record);
              },
            });
            stopWatch = () => accepts.unsubscribe();
            const writes = await this.writesOf(conn);
            stopWatch = () => { writes.stop(); accepts.unsubscribe(); };
            if (stopped) stopWatch();
            await conn.nc.flush(); // the server knows the subscriptions: every change from now on is seen
            resolve();
            await writes.follow(); // until stopped, or the connection closed
          } catch {
            resolve(); // NATS away or the watch failed: the subscriber goes on, this loop tries again
          } finally {
            stopWatch?.();
            stopWatch = null;
          }
          if (!stopped && !this.link.closed) await new Promise((r) => setTimeout(r, RETRY_MS).unref());
        }
        resolve();
      })();
    });
    return { opened, stop: () => { stopped = true; stopWatch?.(); } };
  }

  /** The records bucket's stored writes from now on: what it republishes, or a KV watch on a bucket made without that. */
  private async writesOf(conn: Conn): Promise<{ stop(): void; follow(): Promise<void> }> {
    if (conn.changes !== null) {
      const sub = conn.nc.subscribe(conn.changes, {
        callback: (err, msg) => {
          // A delete or purge carries KV-Operation; a put (a record written) carries none.
          if (err === null && (msg.headers?.get('KV-Operation') ?? '') === '') this.written(msg.data);
        },
      });
      return { stop: () => sub.unsubscribe(), follow: () => sub.closed.then(() => undefined) };
    }
    const watch = await conn.kv.watch({ include: KvWatchInclude.UpdatesOnly, ignoreDeletes: true });
    let stopped = false;
    return {
      stop: () => { stopped = true; watch.stop(); },
      follow: async () => {
        for await (const entry of watch) {
          if (stopped) break;
          if (entry.operation === 'PUT') this.written(entry.value);
        }
      },
    };
  }

  /** A stored value of the records bucket. */
  private written(value: Uint8Array): void {
    let record: CallRecord;
    try {
      record = decodeEnvelope(value, false).record;
    } catch {
      return; // not a call record: list() and depth() log it; the watch goes on
    }
    this.emit(record);
  }

  private emit(record: CallChange['record'] & object): void {
    const known = this.last.get(record.id);
    const fresh = record.status === 'queued' && record.round === 0 && record.attempts.length === 0;
    const previous = known ?? (fresh ? null : record.status);
    this.last.delete(record.id);
    this.last.set(record.id, record.status);
    if (this.last.size > REMEMBERED) this.last.delete(this.last.keys().next().value!);
    const change: CallChange = { id: record.id, functionName: record.functionName, status: record.status, previous, record };
    for (const fn of this.subscribers) {
      try {
        fn(change);
      } catch {
        // one watcher's bug must not stop the others
      }
    }
  }
}
