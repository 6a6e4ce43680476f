// next(): deliveries come from the per-function consumers (jetstream-consumers.ts) into a small
// buffer, and each next() hands out the oldest buffered call of a function the caller can take now.
// Filling the buffer: a batch pull (take what is there, up to BATCH) from the functions in turn, so
// one function's backlog never stands in front of another's; when every function is empty, a waiting
// one-message pull on each (short, so a consumer leader that died does not stall a worker). Functions
// named in `busy` are not pulled from, and their buffered calls wait; held longer than HOLD_MS they go
// back to the stream for any worker (other buffered calls have their ack_wait renewed while they wait). A delivery becomes a lease only when handed out
// (jetstream-delivery.ts).
// Waking: deliveries that arrive wake as many sleeping next() calls as they can serve, each one that may
// take one (rouse()), not every caller: a worker keeps up to 64 next() calls waiting, and waking them all for
// every pull that came back and at every pull round's end made each handed-out call cost ~22 loops through
// next() (a timer, listeners and a race each), counted in a 10,000-call drain; then ~5. A caller for which every
// function it knows is busy pauses without filling, and lookAgain() wakes only the paused callers that may take
// something: ~2.5 loops per call in a drain of one function at its limit (64 callers, 16 of them past its share).

import { CallAbort, asAbortSignal, onAbort, type AnySignal } from '../../../common/call-abort.js';
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

/** A next() call asleep until a delivery it may take arrives (or anything changes: wake()). */
interface Sleeper {
  readonly busy: ReadonlySet<string>;
  readonly wake: () => void;
  /** Waiting while another caller fills (not paused because all it may take is busy): a fill's end may wake it. */
  readonly behindFill: boolean;
  /** Woken by rouse(), for a delivery: it is counted in `rousing` until it looks. */
  roused: boolean;
}

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
  /**
   * Aborted by close(). A CallAbort, not an AbortController: every wait of every next() listens on it, and adding
   * and removing a listener on an AbortSignal (an EventTarget) cost ~2 % of a draining worker's CPU.
   */
  private readonly closing = new CallAbort();
  /** The same as an AbortSignal, made once, for the APIs that take nothing else (each follower is a listener on `closing`). */
  private readonly closed = asAbortSignal(this.closing);
  private held: Held[] = [];
  /** Consumers with a waiting pull out. */
  private readonly waiting = new Set<string>();
  /** next() calls asleep, oldest first; and how many were roused for a delivery and have not looked yet. */
  private sleeping: Sleeper[] = [];
  private rousing = 0;
  /** The fill() waiting for the first delivery from its waiting pulls (one fill runs at a time): ended by any delivery. */
  private fillWaits: (() => void) | null = null;
  /**
   * next() calls paused because every function they may take was busy, with their (live) sets. lookAgain() (or a
   * later next()) comes when the worker's busy sets changed (a function left one), so it wakes those that may now
   * take something to look again; without it they slept out their pause (250 ms) while the function was
   * idle: with max_inflight=16 a worker drained one fast function at 48 calls/s.
   */
  private blocked: Array<{ readonly busy: ReadonlySet<string>; readonly wake: () => void }> = [];
  /** Per consumer: messages it had left at its last delivery (0 after an empty pull). */
  private readonly pendingHint = new Map<string, number>();
  /** next() calls waiting now, and the one pull round running for them. */
  private callers = 0;
  private filling: Promise<boolean> | null = null;
  /** Calls asked for by the pulls out now (the fill's want, pipelined pulls): see pipeline(). */
  private requested = 0;
  private readonly reaper: NodeJS.Timeout;
  /** The busy set of the latest next(): held calls of those functions go back after HOLD_MS. */
  private lastBusy: ReadonlySet<string> = NONE;

  constructor(private readonly store: JetStreamStore) {
    this.closing.setMaxListeners(0); // every waiting next() listens for close
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
    // Both signals are listened to where a wait needs them: AbortSignal.any() per next() was ~4 % of a
    // draining worker's CPU.
    const signals: AnySignal[] = options.signal === undefined ? [this.closing] : [options.signal, this.closing];
    let joined: AbortSignal | null = null;
    const signal = (): AbortSignal => (joined ??= options.signal === undefined ? this.closed : AbortSignal.any([asAbortSignal(options.signal), this.closed]));
    const busy = options.busy ?? NONE; // live: read at every look for work
    this.lastBusy = busy;
    this.callers++;
    this.lookAgain();
    let roused = false;
    try {
      while (!signals.some((s) => s.aborted)) {
        // Heads unknown (a consumer not pulled from yet): nothing is taken before they are (take()).
        const lacking = this.lacks(busy);
        const held = lacking ? null : this.take(busy);
        if (held !== null) {
          this.pipeline(link.conn, busy, 1);
          const lease = await toLease(this.store, held.delivery).catch(() => {
            nakDelivery(held.delivery, 1_000); // could not read the record (NATS trouble): hand it back
            return null;
          });
          if (lease !== null) return lease;
          continue;
        }
        // Roused for a delivery another caller took first, or that this one cannot take: another sleeper
        // may. (With heads unknown this caller pulls them, below; rousing another would only spin.)
        if (roused && !lacking) this.rouse();
        roused = false;
        const remaining = deadline - Date.now();
        if (remaining <= 0) return null;
        const conn = link.conn;
        if (conn === null || !link.connected) { await link.waitConnected(Math.min(remaining, 1_000), signal()); continue; }
        if (this.filling === null) {
          // A caller for which every function known is busy (the list of functions being fresh) does not fill: its
          // fill would end at once, and each fill's end wakes the next caller behind it to do the same (a drain of
          // one function at its limit made ~6 such fills and ~14 loops here per call handed out).
          let open = this.store.consumers.mayServe(busy);
          if (open) {
            // One caller fills for all that wait now: as many calls as there are callers (a call taken
            // ahead of demand would wait in the buffer, and a returned one counts as a redelivery).
            const want = Math.min(BATCH, this.callers);
            this.requested += want;
            this.filling = this.fill(conn, busy, want, Math.min(remaining, MAX_PULL_MS), signals).finally(() => { this.filling = null; this.requested -= want; this.afterFill(); });
            open = await this.filling;
          }
          if (!open) {
            // Every function this caller may take is busy: wait here, not inside fill(), so the callers
            // that can take work are not held behind this one's pause.
            const sleeper = this.sleep(busy, false);
            const pausing = { busy, wake: sleeper.wake };
            this.blocked.push(pausing);
            await this.pause(Math.min(remaining, 250), signals, sleeper.woken);
            const at = this.blocked.indexOf(pausing); // its pause ended some other way: lookAgain() need not look at it
            if (at >= 0) this.blocked.splice(at, 1);
            roused = sleeper.end();
          }
        } else {
          this.pipeline(conn, busy, 0);
          const sleeper = this.sleep(busy, true);
          await this.pause(remaining, signals, sleeper.woken);
          roused = sleeper.end();
        }
      }
      return null;
    } finally {
      this.callers--;
      if (roused) this.rouse(); // roused, then stopped before looking: the delivery needs another caller
    }
  }

  /**
   * The oldest buffered delivery (by stream sequence) of a function not busy, once the head of every
   * such function that may have calls is known (the caller checks lacking() first): calls run in accept
   * order across functions, except that a busy function's calls never stand in front of the others'.
   */
  private take(busy: ReadonlySet<string>): Held | null {
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
    return this.store.consumers.known().filter((s) => this.headUnknown(s, busy));
  }

  /** True when a buffered delivery is of a function not in `busy` (a caller with that set could take it). */
  private holdsFor(busy: ReadonlySet<string>): boolean {
    return this.held.some((h) => !busy.has(h.functionName));
  }

  /** lacking(busy).length > 0, without building the list (next() asks at every look). */
  private lacks(busy: ReadonlySet<string>): boolean {
    return this.store.consumers.known().some((s) => this.headUnknown(s, busy));
  }

  private headUnknown(s: Source, busy: ReadonlySet<string>): boolean {
    return (s.functionName === null || !busy.has(s.functionName))
      && this.pendingHint.get(s.consumer) !== 0 && !this.waiting.has(s.consumer)
      && !this.held.some((h) => h.consumer === s.consumer);
  }

  /** Pull the heads that are unknown; when no consumer has anything, wait for the first delivery. */
  /** False when every consumer is of a function busy for this caller (nothing pulled, nothing waited for). */
  private async fill(conn: Conn, busy: ReadonlySet<string>, want: number, waitMs: number, signals: readonly AnySignal[]): Promise<boolean> {
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
      if (got.some((n) => n > 0) || this.holdsFor(busy)) return true;
    }
    // Nothing anywhere: a waiting pull on each consumer; the first delivery (or wake()) ends this fill, and the
    // callers waiting for it look again.
    const woken = new Promise<void>((resolve) => { this.fillWaits = resolve; });
    for (const source of sources) if (!this.waiting.has(source.consumer)) this.waitOn(conn, source, waitMs);
    await this.pause(waitMs + 100, [...signals, this.store.link.lostSignal], woken);
    this.fillWaits = null;
    return true;
  }

  private waitOn(conn: Conn, source: Source, waitMs: number): void {
    this.waiting.add(source.consumer);
    const signal = AbortSignal.any([this.closed, this.store.link.lostSignal]);
    void pullOne(conn.nc, this.store.names.stream, source.consumer, waitMs, signal).then((got) => {
      this.waiting.delete(source.consumer);
      if (typeof got === 'string') {
        if (got === 'expired') this.pendingHint.delete(source.consumer); // look again with a batch pull next time
        if (got === 'expired' && source.functionName === null) this.store.consumers.retireLegacy(conn.jsm).catch(() => {});
        this.wake();
        return;
      }
      if (this.closing.aborted) { nakDelivery(got, 0); return; }
      this.keep(source, [got]);
    });
  }

  /**
   * Pipelining: callers that arrive while a pull is on its way get their own pull at once instead of
   * waiting for that one to come back (then another round trip). Bounded by demand: only the callers
   * not covered by the buffer and by the pulls out are asked for, so nothing is taken ahead of a caller
   * (a call handed back unleased would count as a delivery). `served`: 1 when the calling next() just
   * took a call (it is no longer waiting).
   */
  private pipeline(conn: Conn | null, busy: ReadonlySet<string>, served: number): void {
    if (conn === null) return;
    const takeable = this.held.reduce((n, h) => n + (busy.has(h.functionName) ? 0 : 1), 0);
    let deficit = Math.min(BATCH, this.callers - served - takeable - this.requested);
    if (deficit <= 0) return;
    const sources = this.store.consumers.known().filter((s) => s.functionName !== null && !busy.has(s.functionName)
      && (this.pendingHint.get(s.consumer) ?? 0) > 0 && !this.waiting.has(s.consumer));
    for (const source of sources) {
      const n = Math.min(deficit, Math.max(1, Math.ceil(deficit / sources.length)), this.pendingHint.get(source.consumer)!);
      if (n <= 0) return;
      deficit -= n;
      this.requested += n;
      this.waiting.add(source.consumer); // one pull out per consumer; fill() and lacking() leave it alone
      void pullNow(conn.nc, this.store.names.stream, source.consumer, n, this.store.setup.timeoutMs).then((got) => {
        this.requested -= n;
        this.waiting.delete(source.consumer);
        if (this.closing.aborted) { for (const d of got) nakDelivery(d, 0); return; }
        this.keep(source, got);
        if (got.length === 0) this.wake();
      });
    }
  }

  private keep(source: Source, got: readonly Delivery[]): void {
    const last = got.at(-1);
    this.pendingHint.set(source.consumer, last?.pending ?? 0);
    const now = Date.now();
    for (const delivery of got) {
      const functionName = source.functionName ?? legacyFunction(delivery);
      this.held.push({ delivery, consumer: source.consumer, functionName, at: now, renewedAt: now });
    }
    if (got.length > 0) { this.endFill(); this.rouse(); }
  }

  private endFill(): void {
    this.fillWaits?.();
    this.fillWaits = null;
  }

  /** The caller's busy sets lost names (Queue.lookAgain, or a new next()): the paused next() calls look again with their sets as they are now. */
  lookAgain(): void {
    // A caller asleep behind a fill whose set lost a name may now take a buffered delivery: rouse() wakes it (the
    // paused ones are woken below either way).
    this.rouse();
    // Only the paused callers that may take something now: the others would look and pause again (each finished call
    // of a function at its limit frees one waiter, and waking every paused one was ~4 loops through next() per call).
    if (this.blocked.length === 0) return;
    const still: typeof this.blocked = [];
    for (const b of this.blocked) {
      if (this.store.consumers.mayServe(b.busy) || this.holdsFor(b.busy)) b.wake();
      else still.push(b);
    }
    this.blocked = still;
  }

  /** Something changed (a pull came back empty or expired, close): every sleeping next() looks again. */
  private wake(): void {
    const sleeping = this.sleeping;
    this.sleeping = [];
    for (const s of sleeping) s.wake();
    this.endFill();
  }

  /**
   * Wake sleeping next() calls, oldest first, each one that may take a buffered delivery, until every
   * delivery not already promised to a roused caller has one.
   */
  private rouse(): void {
    let spare = this.held.length - this.rousing;
    for (let i = 0; spare > 0 && i < this.sleeping.length;) {
      const s = this.sleeping[i]!;
      if (!this.holdsFor(s.busy)) { i++; continue; }
      this.sleeping.splice(i, 1);
      s.roused = true;
      this.rousing++;
      spare--;
      s.wake();
    }
  }

  /**
   * A fill ended: the deliveries it brought have roused their takers. Of the callers still waiting behind
   * it, the oldest of each busy set looks again: it takes, pulls for the callers like it (pipeline()) or
   * fills next; one is enough, as only one fill runs at a time. (Waking them all made every fill's end a
   * round of ~16 loops through next().)
   */
  private afterFill(): void {
    this.rouse();
    const seen = new Set<string>();
    for (let i = 0; i < this.sleeping.length;) {
      const s = this.sleeping[i]!;
      const key = busyKey(s.busy);
      if (!s.behindFill || seen.has(key)) { i++; continue; }
      seen.add(key);
      this.sleeping.splice(i, 1);
      s.wake();
    }
  }

  /** Sleep until a delivery this caller may take arrives (or wake()); end() when the wait is over: whether it was roused. */
  private sleep(busy: ReadonlySet<string>, behindFill: boolean): { readonly woken: Promise<void>; readonly wake: () => void; end(): boolean } {
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => { wake = resolve; });
    const sleeper: Sleeper = { busy, wake, behindFill, roused: false };
    this.sleeping.push(sleeper);
    return {
      woken, wake,
      end: () => {
        if (sleeper.roused) { this.rousing--; return true; }
        const at = this.sleeping.indexOf(sleeper);
        if (at >= 0) this.sleeping.splice(at, 1);
        return false;
      },
    };
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

  /**
   * Wait for the first of `woken`, `ms` or an abort of `signals`; the timer and the abort listeners go when it ends.
   * (A waiting next() loops here once per arrival: a timer or listener left behind per loop piled up
   * thousands of listeners on the close signal, and an endless wait must not become a 1 ms timer.) One
   * promise per wait, not a race of three: this runs several times per call handed out.
   */
  private pause(ms: number, signals: readonly AnySignal[], woken: Promise<void>): Promise<void> {
    if (signals.some((s) => s.aborted)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const listening: Array<() => void> = [];
      let waiting = true;
      const done = (): void => {
        if (!waiting) return;
        waiting = false;
        clearTimeout(timer);
        for (const stop of listening) stop();
        resolve();
      };
      if (Number.isFinite(ms)) timer = setTimeout(done, Math.min(Math.max(0, ms), 2 ** 31 - 1));
      for (const s of signals) listening.push(onAbort(s, done));
      void woken.then(done);
    });
  }
}

/** The same string for two sets with the same names (one name, the common case, builds nothing). */
function busyKey(busy: ReadonlySet<string>): string {
  if (busy.size === 0) return '';
  if (busy.size === 1) for (const name of busy) return name;
  return [...busy].sort().join('\n');
}

/** A message of the earlier layout names its function only in its subject: `<name>.calls.<function>`. */
function legacyFunction(delivery: Delivery): string {
  return unescapeToken(delivery.msg.subject.split('.').at(-1) ?? '');
}
