// next(): deliveries come from the per-function consumers (jetstream-consumers.ts) into a small
// buffer, and each next() hands out the oldest buffered call of a function the caller can take now.
// Filling the buffer: a batch pull (take what is there, up to BATCH) from the functions in turn, so
// one function's backlog never stands in front of another's; when every function is empty, a waiting
// one-message pull on each (short, so a consumer leader that died does not stall a worker). Functions
// named in `busy` are not pulled from, and their buffered calls wait; held longer than HOLD_MS they go
// back to the stream for any worker (other buffered calls have their ack_wait renewed while they wait). A delivery becomes a lease only when handed out
// (jetstream-delivery.ts).

import { setMaxListeners } from 'node:events';
import type { Source } from './jetstream-consumers.js';
import { toLease } from './jetstream-delivery.js';
import { unescapeToken } from './jetstream-names.js';
import { nakDelivery, pullNow, pullOne, workingDelivery, type Delivery } from './jetstream-puller.js';
import type { Conn } from './jetstream-setup.js';
import type { JetStreamStore } from './jetstream-store.js';
import type { Lease, NextOptions } from '../queue.js';

/** Most messages taken per batch pull. */
const BATCH = 32;
/** Longest wait of one waiting pull (see the header). */
const MAX_PULL_MS = 5_000;
/** Longest time a buffered delivery waits for its function to have room. */
const HOLD_MS = 5_000;

/** What next() may be told beyond NextOptions: functions the caller cannot take now (a live set). */
type NextWith = NextOptions & { readonly busy?: ReadonlySet<string> };
const NONE: ReadonlySet<string> = new Set();

interface Held {
  readonly delivery: Delivery;
  readonly consumer: string;
  readonly functionName: string;
  readonly at: number;
  /** When its ack_wait was last restarted (`working`): held calls of functions not busy are kept, not returned. */
  renewedAt: number;
}

/** Hands out leases until closed. */
export class JetStreamNext {
  private readonly closing = new AbortController();
  private held: Held[] = [];
  /** Consumers with a waiting pull out, and a wake-up for next() calls when one delivers. */
  private readonly waiting = new Set<string>();
  private arrived: Array<() => void> = [];
  /** Per consumer: messages it had left at its last delivery (0 after an empty pull). */
  private readonly pendingHint = new Map<string, number>();
  /** next() calls waiting now, and the one pull round running for them. */
  private callers = 0;
  private filling: Promise<boolean> | null = null;
  private readonly reaper: NodeJS.Timeout;
  /** The busy set of the latest next(): held calls of those functions go back after HOLD_MS. */
  private lastBusy: ReadonlySet<string> = NONE;

  constructor(private readonly store: JetStreamStore) {
    setMaxListeners(0, this.closing.signal); // every waiting next() listens for close
    this.reaper = setInterval(() => this.tendHeld(), Math.min(1_000, store.opts.ackWaitMs / 6)).unref();
  }

  /** Pending and later next() calls resolve null; buffered calls go back to the stream. */
  close(): void {
    this.closing.abort();
    clearInterval(this.reaper);
    for (const h of this.held) nakDelivery(h.delivery, 0);
    this.held = [];
    this.wake();
  }

  async next(options: NextWith = {}): Promise<Lease | null> {
    const { link } = this.store;
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    const signal = options.signal === undefined ? this.closing.signal : AbortSignal.any([options.signal, this.closing.signal]);
    const busy = options.busy ?? NONE; // live: read at every look for work
    this.lastBusy = busy;
    this.callers++;
    try {
      while (!signal.aborted) {
        const held = this.take(busy);
        if (held !== null) {
          const lease = await toLease(this.store, held.delivery).catch(() => {
            nakDelivery(held.delivery, 1_000); // could not read the record (NATS trouble): hand it back
            return null;
          });
          if (lease !== null) return lease;
          continue;
        }
        const remaining = deadline - Date.now();
        if (remaining <= 0) return null;
        const conn = link.conn;
        if (conn === null || !link.connected) { await link.waitConnected(Math.min(remaining, 1_000), signal); continue; }
        if (this.filling === null) {
          // One caller fills for all that wait now: as many calls as there are callers (a call taken
          // ahead of demand would wait in the buffer, and a returned one counts as a redelivery).
          const want = Math.min(BATCH, this.callers);
          this.filling = this.fill(conn, busy, want, Math.min(remaining, MAX_PULL_MS), signal).finally(() => { this.filling = null; });
          if (!(await this.filling)) {
            // Every function this caller may take is busy: wait here, not inside fill(), so the callers
            // that can take work are not held behind this one's pause.
            const woken = new Promise<void>((resolve) => this.arrived.push(resolve));
            await Promise.race([woken, this.pause(Math.min(remaining, 250), signal)]);
          }
        } else {
          const woken = new Promise<void>((resolve) => this.arrived.push(resolve));
          await Promise.race([this.filling, woken, this.pause(remaining, signal)]);
        }
      }
      return null;
    } finally {
      this.callers--;
    }
  }

  /**
   * The oldest buffered delivery (by stream sequence) of a function not busy, once the head of every
   * such function that may have calls is known: calls run in accept order across functions, except
   * that a busy function's calls never stand in front of the others'.
   */
  private take(busy: ReadonlySet<string>): Held | null {
    if (this.lacking(busy).length > 0) return null;
    let best = -1;
    for (let i = 0; i < this.held.length; i++) {
      const h = this.held[i]!;
      if (busy.has(h.functionName)) continue;
      if (best < 0 || h.delivery.streamSeq < this.held[best]!.delivery.streamSeq) best = i;
    }
    return best < 0 ? null : this.held.splice(best, 1)[0]!;
  }

  /** Consumers of functions not busy that may have calls and have none buffered: their heads are unknown. */
  private lacking(busy: ReadonlySet<string>): Source[] {
    return this.store.consumers.known().filter((s) => (s.functionName === null || !busy.has(s.functionName))
      && this.pendingHint.get(s.consumer) !== 0 && !this.waiting.has(s.consumer)
      && !this.held.some((h) => h.consumer === s.consumer));
  }

  /** Pull the heads that are unknown; when no consumer has anything, wait for the first delivery. */
  /** False when every consumer is of a function busy for this caller (nothing pulled, nothing waited for). */
  private async fill(conn: Conn, busy: ReadonlySet<string>, want: number, waitMs: number, signal: AbortSignal): Promise<boolean> {
    const sources = (await this.store.consumers.sources(conn.jsm).catch(() => [] as Source[]))
      .filter((s) => s.functionName === null || !busy.has(s.functionName));
    if (sources.length === 0) return false;
    const lacking = this.lacking(busy);
    if (lacking.length > 0) {
      const batch = Math.max(1, Math.ceil(want / lacking.length));
      const got = await Promise.all(lacking.map(async (source) => {
        const deliveries = await pullNow(conn.nc, this.store.names.stream, source.consumer, batch, this.store.setup.timeoutMs);
        this.keep(source, deliveries);
        return deliveries.length;
      }));
      if (got.some((n) => n > 0) || this.held.some((h) => !busy.has(h.functionName))) return true;
    }
    // Nothing anywhere: a waiting pull on each consumer; the first delivery wakes this caller.
    const woken = new Promise<void>((resolve) => this.arrived.push(resolve));
    for (const source of sources) if (!this.waiting.has(source.consumer)) this.waitOn(conn, source, waitMs);
    const stop = AbortSignal.any([signal, this.store.link.lostSignal]);
    await Promise.race([woken, this.pause(waitMs + 100, stop)]);
    return true;
  }

  private waitOn(conn: Conn, source: Source, waitMs: number): void {
    this.waiting.add(source.consumer);
    const signal = AbortSignal.any([this.closing.signal, this.store.link.lostSignal]);
    void pullOne(conn.nc, this.store.names.stream, source.consumer, waitMs, signal).then((got) => {
      this.waiting.delete(source.consumer);
      if (typeof got === 'string') {
        if (got === 'expired') this.pendingHint.delete(source.consumer); // look again with a batch pull next time
        if (got === 'expired' && source.functionName === null) this.store.consumers.retireLegacy(conn.jsm).catch(() => {});
        this.wake();
        return;
      }
      if (this.closing.signal.aborted) { nakDelivery(got, 0); return; }
      this.keep(source, [got]);
    });
  }

  private keep(source: Source, got: readonly Delivery[]): void {
    const last = got.at(-1);
    this.pendingHint.set(source.consumer, last?.pending ?? 0);
    const now = Date.now();
    for (const delivery of got) {
      const functionName = source.functionName ?? legacyFunction(delivery);
      this.held.push({ delivery, consumer: source.consumer, functionName, at: now, renewedAt: now });
    }
    if (got.length > 0) this.wake();
  }

  private wake(): void {
    const waiters = this.arrived;
    this.arrived = [];
    for (const wake of waiters) wake();
  }

  /**
   * Held calls of a busy function go back to the stream for any worker after HOLD_MS; the others wait
   * for this worker's next caller (the oldest call across functions goes first) with their ack_wait
   * renewed, so that they are not delivered again meanwhile.
   */
  private tendHeld(): void {
    const now = Date.now();
    const renewEvery = this.store.opts.ackWaitMs / 3;
    const keep: Held[] = [];
    for (const h of this.held) {
      if (this.lastBusy.has(h.functionName) && now - h.at > HOLD_MS) { nakDelivery(h.delivery, 0); continue; }
      if (now - h.renewedAt > renewEvery) { workingDelivery(h.delivery); h.renewedAt = now; }
      keep.push(h);
    }
    this.held = keep;
  }

  private pause(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => { clearTimeout(timer); signal.removeEventListener('abort', done); resolve(); };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

/** A message of the earlier layout names its function only in its subject: `<name>.calls.<function>`. */
function legacyFunction(delivery: Delivery): string {
  return unescapeToken(delivery.msg.subject.split('.').at(-1) ?? '');
}
