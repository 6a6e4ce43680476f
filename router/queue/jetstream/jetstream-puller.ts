// The consumer side of the wire protocol, done by hand: a batch pull that takes what is there now
// (no_wait) and a one-message pull that waits (`expires`), each on its own inbox. The library's
// consume() prefetches without bound (leases lapse in a buffer, delivery counts inflate) and fetch()
// ends with "heartbeats missed" when a handler is slow; pulls the caller owns have neither problem,
// and an abandoned pull is dropped by the server once its inbox is unsubscribed.

import { createInbox, nanos, type Msg, type NatsConnection } from '@nats-io/transport-node';

/** One delivery of one stream message. */
export interface Delivery {
  readonly msg: Msg;
  readonly streamSeq: number;
  /** 1 on the first delivery, +1 per redelivery (lapse or nak). */
  readonly deliveryCount: number;
  /** When the message was stored in the stream (ms since the epoch; 0 when the server did not say). */
  readonly publishedAt?: number;
  /** Messages the consumer had left to deliver after this one (the server's count at delivery). */
  readonly pending?: number;
  /** When this process received it (Date.now()): the server's ack_wait started a little before. */
  readonly receivedAt?: number;
}

/** Why a pull ended without a message. */
export type PullEnd = 'expired' | 'aborted' | 'refused';

/** Ask the consumer for one message; resolves with it, or with why none came. */
export function pullOne(
  nc: NatsConnection, stream: string, consumer: string, expiresMs: number, signal?: AbortSignal,
): Promise<Delivery | PullEnd> {
  return new Promise((resolve) => {
    const inbox = createInbox();
    let done = false;
    const finish = (result: Delivery | PullEnd): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      sub.unsubscribe();
      resolve(result);
    };
    const onAbort = (): void => finish('aborted');
    const sub = nc.subscribe(inbox, {
      callback: (err, m) => {
        if (err !== null) { finish('refused'); return; }
        const delivery = parseDelivery(m);
        if (delivery !== null) { finish(delivery); return; }
        const code = m.headers?.code ?? 0;
        if (code === 100) return; // idle heartbeat (not requested, but harmless)
        finish(code === 408 || code === 404 ? 'expired' : 'refused'); // 409: consumer deleted, max waiting...
      },
    });
    // The server answers 408 at `expires`; the local timer only covers a request lost with a server.
    const timer = setTimeout(() => finish('expired'), expiresMs + 2_000);
    signal?.addEventListener('abort', onAbort, { once: true });
    const request = JSON.stringify({ batch: 1, expires: nanos(Math.max(10, expiresMs)) });
    try {
      nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, request, { reply: inbox });
    } catch {
      finish('refused'); // connection closed
    }
  });
}

/** Take up to `batch` messages that are there now; [] when there are none (or the request failed). */
export function pullNow(nc: NatsConnection, stream: string, consumer: string, batch: number, timeoutMs: number): Promise<Delivery[]> {
  return new Promise((resolve) => {
    const inbox = createInbox();
    const got: Delivery[] = [];
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sub.unsubscribe();
      resolve(got);
    };
    const sub = nc.subscribe(inbox, {
      callback: (err, m) => {
        if (err !== null) { finish(); return; }
        const delivery = parseDelivery(m);
        if (delivery === null) { if ((m.headers?.code ?? 0) !== 100) finish(); return; } // 404/408: that was all
        got.push(delivery);
        if (got.length >= batch) finish();
      },
    });
    // Messages still on their way when this fires are redelivered after ack_wait, never lost.
    const timer = setTimeout(finish, timeoutMs);
    try {
      nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, JSON.stringify({ batch, no_wait: true }), { reply: inbox });
    } catch {
      finish(); // connection closed
    }
  });
}

/** The delivery a JetStream message stands for, from its ack subject; null for status messages. */
export function parseDelivery(m: Msg): Delivery | null {
  if (m.reply === undefined || !m.reply.startsWith('$JS.ACK.')) return null;
  const t = m.reply.split('.');
  // $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>, or with domain and
  // account hash: $JS.ACK.<domain>.<hash>.<stream>.<consumer>.<delivered>.<sseq>...
  const at = t.length >= 11 ? 6 : 4;
  const nanos = Number(t[at + 3]);
  const pending = Number(t[at + 4]);
  return {
    msg: m, deliveryCount: Number(t[at]), streamSeq: Number(t[at + 1]),
    publishedAt: Number.isFinite(nanos) ? Math.floor(nanos / 1e6) : 0, pending: Number.isFinite(pending) ? pending : 0,
    receivedAt: Date.now(),
  };
}

/** Acknowledge and wait for the server to confirm: the message left the stream. */
export async function ackConfirmed(nc: NatsConnection, d: Delivery, timeoutMs: number): Promise<void> {
  await nc.request(d.msg.reply!, '+ACK', { timeout: timeoutMs });
}

/** Acknowledge without waiting for the server's confirmation. */
export function ackDelivery(d: Delivery): void {
  d.msg.respond('+ACK');
}

/** Hand the message back, visible again after delayMs. */
export function nakDelivery(d: Delivery, delayMs: number): void {
  d.msg.respond(delayMs > 0 ? `-NAK ${JSON.stringify({ delay: nanos(delayMs) })}` : '-NAK');
}

/** Reset the server's ack_wait timer for this delivery. */
export function workingDelivery(d: Delivery): void {
  d.msg.respond('+WPI');
}
