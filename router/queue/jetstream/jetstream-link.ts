// The state of the NATS connection as the queue sees it: connected or not, why not, and the rules
// that follow from it: fail fast with QueueUnavailableError while NATS is away, fail operations in
// flight the moment the connection drops, and wake waiting workers when it comes back.

import { setMaxListeners } from 'node:events';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../../../common/log.js';
import { QueueClosedError, QueueError, QueueUnavailableError } from '../errors.js';
import type { Conn } from './jetstream-setup.js';

/** Connection state shared by one queue instance. */
export class NatsLink {
  conn: Conn | null = null;
  connected = false;
  closed = false;
  lastError = 'connecting';
  private readonly onConnect = new Set<() => void>();
  /** Aborted when the connection drops; a fresh one per connection. */
  private lost = unlimited(new AbortController());
  /** Bounded operations in flight: a lost connection fails them at once instead of at their deadline. */
  private readonly inFlight = new Set<(err: Error) => void>();

  /** `log` says when the connection is lost and when it is back (once each, not at every reconnect attempt). */
  constructor(private readonly log?: Logger) {}

  /** Follow disconnects and reconnects until the connection closes. */
  async watch(nc: NatsConnection): Promise<void> {
    this.connected = true;
    let lostAt = 0;
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        if (this.connected) {
          lostAt = Date.now();
          this.log?.warn('lost the connection to NATS: async accepts get 503 and leasing waits until it is back', { server: s.server });
        }
        this.connected = false;
        this.lastError = 'NATS disconnected';
        this.lost.abort();
        for (const fail of this.inFlight) fail(new QueueUnavailableError('lost the connection to NATS'));
      }
      if (s.type === 'reconnect') {
        this.lost = unlimited(new AbortController());
        this.connected = true;
        this.log?.info('connected to NATS again', { server: s.server, awayMs: lostAt === 0 ? undefined : Date.now() - lostAt });
        this.wake();
      }
    }
  }

  /**
   * Aborts when the current connection drops. A pull request lives on the server it was sent to, so a
   * waiting pull must end with the connection instead of waiting out its expiry on a server that is gone.
   */
  get lostSignal(): AbortSignal {
    return this.lost.signal;
  }

  /** Wake everything waiting for a connection (also on close). */
  wake(): void {
    for (const wake of this.onConnect) wake();
  }

  /** Resolve when connected, after `ms`, or on abort, whichever comes first. */
  waitConnected(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => { clearTimeout(timer); this.onConnect.delete(done); signal.removeEventListener('abort', done); resolve(); };
      const timer = setTimeout(done, ms);
      this.onConnect.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** The connection, or the reason there is none: closed (QueueClosedError) or NATS away (503). */
  ready(): Conn {
    if (this.closed) throw new QueueClosedError();
    if (this.conn === null) throw new QueueUnavailableError(this.lastError);
    if (!this.connected) throw new QueueUnavailableError('not connected to NATS');
    return this.conn;
  }

  /** Run a NATS operation; anything that is not already a QueueError means NATS trouble: 503. */
  async wrap<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof QueueError) throw err;
      if (this.closed) throw new QueueClosedError();
      throw new QueueUnavailableError((err as Error).message, { cause: err });
    }
  }

  /** wrap() with a deadline: fail fast rather than keep a client waiting on a NATS that is away. */
  bounded<T>(ms: number, fn: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    let fail: (err: Error) => void = () => {};
    const deadline = new Promise<never>((_, reject) => {
      fail = reject;
      timer = setTimeout(() => reject(new QueueUnavailableError(`NATS did not answer within ${ms} ms`)), ms);
    });
    this.inFlight.add(fail);
    return Promise.race([this.wrap(fn), deadline]).finally(() => { clearTimeout(timer); this.inFlight.delete(fail); });
  }
}

/** Every waiting next() listens on the signal: no listener limit. */
function unlimited(c: AbortController): AbortController {
  setMaxListeners(0, c.signal);
  return c;
}
