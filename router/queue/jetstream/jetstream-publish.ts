// Publishing to a stream and waiting for the stream's acknowledgement, done by hand: one reply
// subscription per connection (`<inbox>.<n>`) answers every publish, and one timer sweeps the publishes
// whose answer is late. nats.js's `js.publish` (and the KV writes built on it) makes a request per call:
// a mux entry, a timer, a deferred, and an Error built to reject that deferred after the answer has
// resolved it; that is 40-55 µs of the client's CPU per publish against 11-16 µs here (docs/performance.md,
// "JetStream worker: the publishes"). Every call makes three of them: its accept, the lease's first
// record write and the record write with the result.
// The wire protocol is the one the library speaks: a PUB with a reply subject and headers (Nats-Msg-Id,
// Nats-Expected-Last-Subject-Sequence for a KV compare-and-set); the stream answers a PubAck JSON
// (`{stream, seq, duplicate?}`) or `{error: {code, err_code, description}}`, and the server a 503 status
// when nothing listens on the subject.

import { createInbox, headers as newHeaders, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';

/** What the stream said it stored. */
export interface PublishAck {
  readonly stream: string;
  /** The message's sequence in the stream (a KV key's new revision). */
  readonly seq: number;
  /** True when the stream had a message with this Nats-Msg-Id within its duplicate window (nothing stored). */
  readonly duplicate: boolean;
}

/** A publish the stream refused; `code` is the JetStream API error code (10071: wrong last sequence). */
export class PublishRefusedError extends Error {
  constructor(message: string, readonly code: number) {
    super(message);
    this.name = 'PublishRefusedError';
  }
}

/** Header of a KV compare-and-set: the key's latest revision must be this one (0: the key holds nothing). */
export const EXPECTED_LAST_SUBJECT_SEQUENCE = 'Nats-Expected-Last-Subject-Sequence';
/** Header the stream deduplicates on within its duplicate window. */
export const MSG_ID = 'Nats-Msg-Id';

interface Waiting {
  readonly subject: string;
  readonly deadline: number;
  readonly resolve: (ack: PublishAck) => void;
  readonly reject: (err: Error) => void;
}

const decoder = new TextDecoder();

/** Publishes on one connection and matches each stream acknowledgement to its publish. */
export class StreamPublisher {
  private readonly prefix = `${createInbox()}.`;
  private readonly sub: Subscription;
  /** In publish order, so in deadline order: the sweep stops at the first that is not late. */
  private readonly waiting = new Map<number, Waiting>();
  private counter = 0;
  private sweeper: NodeJS.Timeout | null = null;

  constructor(private readonly nc: NatsConnection, private readonly timeoutMs: number) {
    this.sub = nc.subscribe(`${this.prefix}*`, { callback: (err, m) => this.answer(err, m) });
    void nc.closed().then(() => this.failAll(new Error('the NATS connection closed before the stream acknowledged the publish')));
  }

  /** Publish and resolve once the stream stored it (or had it already: `duplicate`). */
  publish(subject: string, data: Uint8Array, headers?: MsgHdrs): Promise<PublishAck> {
    return new Promise((resolve, reject) => {
      const token = ++this.counter;
      try {
        this.nc.publish(subject, data, { reply: this.prefix + token, headers });
      } catch (err) {
        reject(err as Error); // the connection is closed or draining
        return;
      }
      this.waiting.set(token, { subject, deadline: Date.now() + this.timeoutMs, resolve, reject });
      this.sweeper ??= setInterval(this.sweep, Math.max(50, Math.min(1_000, this.timeoutMs / 10))).unref();
    });
  }

  /** Stop listening; publishes still waiting fail. */
  close(): void {
    this.sub.unsubscribe();
    this.failAll(new Error('the queue closed before the stream acknowledged the publish'));
  }

  private answer(err: Error | null, m: Msg): void {
    if (err !== null) { this.failAll(err); return; } // the subscription itself failed (permissions)
    const token = Number(m.subject.slice(this.prefix.length));
    const waiting = this.waiting.get(token);
    if (waiting === undefined) return; // late: its publish already timed out
    this.waiting.delete(token);
    const status = m.headers?.code ?? 0;
    if (status === 503) {
      waiting.reject(new PublishRefusedError(`no stream listens on ${waiting.subject} (is JetStream enabled?)`, 503));
      return;
    }
    let ack: { stream?: string; seq?: number; duplicate?: boolean; error?: { err_code?: number; code?: number; description?: string } };
    try {
      ack = JSON.parse(decoder.decode(m.data)) as typeof ack;
    } catch {
      waiting.reject(new PublishRefusedError(`undecodable acknowledgement for a publish to ${waiting.subject}`, status));
      return;
    }
    if (ack.error !== undefined) {
      const code = ack.error.err_code ?? ack.error.code ?? 0;
      waiting.reject(new PublishRefusedError(ack.error.description ?? `publish to ${waiting.subject} refused`, code));
      return;
    }
    if (typeof ack.stream !== 'string' || typeof ack.seq !== 'number') {
      waiting.reject(new PublishRefusedError(`invalid acknowledgement for a publish to ${waiting.subject}`, status));
      return;
    }
    waiting.resolve({ stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate === true });
  }

  private readonly sweep = (): void => {
    const now = Date.now();
    for (const [token, w] of this.waiting) {
      if (w.deadline > now) break;
      this.waiting.delete(token);
      w.reject(new Error(`the stream did not acknowledge a publish to ${w.subject} within ${this.timeoutMs} ms`));
    }
    if (this.waiting.size === 0 && this.sweeper !== null) { clearInterval(this.sweeper); this.sweeper = null; }
  };

  private failAll(err: Error): void {
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of waiting) w.reject(err);
    if (this.sweeper !== null) { clearInterval(this.sweeper); this.sweeper = null; }
  }
}

/** Headers of a KV compare-and-set at `revision` (0: create). */
export function expectRevision(revision: number): MsgHdrs {
  const h = newHeaders();
  h.set(EXPECTED_LAST_SUBJECT_SEQUENCE, String(revision));
  return h;
}
