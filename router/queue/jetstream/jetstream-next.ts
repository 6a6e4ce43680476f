// next(): one pull request at a time per waiting caller, short enough to survive a consumer leader that
// died, and the turn of a delivery into a lease, or its quiet settling when its call has nothing left
// to do (cancelled, stale rounds, duplicates).

import { setMaxListeners } from 'node:events';
import { JetStreamLease } from './jetstream-lease.js';
import { ackConfirmed, nakDelivery, pullOne, type Delivery } from './jetstream-puller.js';
import { readEnvelope } from './jetstream-records.js';
import type { Conn } from './jetstream-setup.js';
import type { JetStreamStore } from './jetstream-store.js';
import type { Lease, NextOptions } from '../queue.js';
import { isFinal, type NewCall } from '../record.js';
import * as step from '../transitions.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/**
 * Longest wait of one pull request. A waiting pull is held by the consumer's leader; when that node
 * dies (a cluster fails over) the request is gone without a word, and the worker would sit idle until
 * the expiry. Short pulls bound that stall, for one idle request every few seconds per waiting worker.
 */
const MAX_PULL_MS = 5_000;
/** How long a message whose record is missing is kept for a client retry: the Nats-Msg-Id window (2 min). */
const ORPHAN_WAIT_MS = 120_000;

/** Hands out leases until closed. */
export class JetStreamNext {
  private readonly closing = new AbortController();

  constructor(private readonly store: JetStreamStore) {
    setMaxListeners(0, this.closing.signal); // every waiting next() listens for close
  }

  /** Pending and later next() calls resolve null. */
  close(): void {
    this.closing.abort();
  }

  async next(options: NextOptions = {}): Promise<Lease | null> {
    const { link, names } = this.store;
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    const signal = options.signal === undefined ? this.closing.signal : AbortSignal.any([options.signal, this.closing.signal]);
    while (!signal.aborted) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return null;
      const conn = link.conn;
      if (conn === null || !link.connected) { await link.waitConnected(Math.min(remaining, 1_000), signal); continue; }
      const started = Date.now();
      const pull = AbortSignal.any([signal, link.lostSignal]);
      const got = await pullOne(conn.nc, names.stream, names.consumer, Math.min(remaining, MAX_PULL_MS), pull);
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
      await ackConfirmed(conn.nc, d, this.store.setup.timeoutMs);
      return null;
    }
    const request: NewCall = {
      id: record.id, functionName: record.functionName, method: record.method, path: record.path,
      query: record.query, headers: record.headers, body: d.msg.data, callbackUrl: record.callbackUrl,
    };
    const expired = step.isExpired(record, this.store.now(), this.store.maxEventAgeMs);
    return new JetStreamLease(this.store, key, d, round, request, stored!, expired);
  }
}
