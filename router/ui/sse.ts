// Server-sent events: one open response per live view. A client that stops reading is cut off rather
// than buffered for (MAX_BUFFERED), so a stuck tab cannot grow the router's memory.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { SECURITY_HEADERS } from './headers.js';

/** Bytes a slow client may have pending before it is disconnected. */
const MAX_BUFFERED = 1024 * 1024;
/** A comment line this often keeps proxies from closing an idle stream. */
const HEARTBEAT_MS = 15_000;

/** One open event stream. */
export interface EventStream {
  /** Send one event (JSON data); false once the stream is closed. */
  send(event: string, data: unknown): boolean;
  /** Called once when the client leaves or the stream is ended. */
  onClose(fn: () => void): void;
  end(): void;
  readonly closed: boolean;
}

/** Answer `req` with an event stream. */
export function openEventStream(req: IncomingMessage, res: ServerResponse): EventStream {
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Accel-Buffering': 'no',
  });
  res.write('retry: 2000\n\n');
  const closers: Array<() => void> = [];
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    for (const fn of closers) fn();
  };
  const heartbeat = setInterval(() => { if (!closed) res.write(': keep-alive\n\n'); }, HEARTBEAT_MS).unref();
  req.socket.setTimeout(0); // a live view is idle by design: write_timeout must not cut it
  res.on('close', close);
  return {
    send(event, data) {
      if (closed) return false;
      if (res.writableLength > MAX_BUFFERED) { res.destroy(); close(); return false; }
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      return true;
    },
    onClose(fn) { if (closed) fn(); else closers.push(fn); },
    end() { res.end(); close(); },
    get closed() { return closed; },
  };
}

/**
 * The open streams of one dashboard, so that the router's close can end them. A stream that opens after the
 * close (its request was still reading the queue when the close came) is ended at once: nothing would end it
 * later, and an open response holds the router's close until write_timeout.
 */
export class LiveStreams {
  private readonly open = new Set<EventStream>();
  private closed = false;

  /** Keep `s` until it closes; ends it at once after endAll(). */
  track(s: EventStream): EventStream {
    if (this.closed) {
      s.end();
      return s;
    }
    this.open.add(s);
    s.onClose(() => this.open.delete(s));
    return s;
  }

  /** End every open stream, and any tracked from now on. */
  endAll(): void {
    this.closed = true;
    for (const s of this.open) s.end();
  }
}
