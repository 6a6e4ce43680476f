// A callback receiver for async tests: a node:http server on 127.0.0.1 that records every POST it gets
// (headers, body, time) and answers with the status the test chooses. It can be started on a fixed port
// later (to play a receiver that is down at first) and is closed in teardown.

import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedCallback {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly at: number;
}

export interface CallbackReceiver {
  readonly url: string;
  readonly port: number;
  readonly received: ReceivedCallback[];
  /** Callbacks for one call id. */
  forCall(callId: string): ReceivedCallback[];
  /** Distinct call ids seen so far. */
  callIds(): Set<string>;
  /** Resolve with the first callback matching `pred` (past or future); reject after timeoutMs. */
  waitFor(pred: (c: ReceivedCallback) => boolean, timeoutMs: number, what: string): Promise<ReceivedCallback>;
  /** Resolve once `check()` is true, re-checked on every callback; reject after timeoutMs. */
  until(check: () => boolean, timeoutMs: number, what: string): Promise<void>;
  close(): Promise<void>;
}

interface Teardown { teardown(fn: () => unknown): void }

/** Start a receiver on `port` (0 = any); `status` picks the answer for each callback (default 200). */
export async function startCallbackReceiver(
  t: Teardown, options: { port?: number; status?: (c: ReceivedCallback) => number } = {},
): Promise<CallbackReceiver> {
  const received: ReceivedCallback[] = [];
  const listeners = new Set<() => void>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
      const c: ReceivedCallback = { path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks), at: Date.now() };
      received.push(c);
      res.writeHead(options.status?.(c) ?? 200, { 'Content-Length': '0' });
      res.end();
      for (const l of [...listeners]) l();
    });
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  let closed = false;
  const close = (): Promise<void> => {
    if (closed) return Promise.resolve();
    closed = true;
    return new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  };
  t.teardown(close);
  const port = (server.address() as AddressInfo).port;
  const until = (check: () => boolean, timeoutMs: number, what: string): Promise<void> => new Promise((resolve, reject) => {
    if (check()) { resolve(); return; }
    const onEvent = (): void => { if (check()) { clearTimeout(timer); listeners.delete(onEvent); resolve(); } };
    const timer = setTimeout(() => { listeners.delete(onEvent); reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${received.length} callbacks so far)`)); }, timeoutMs);
    listeners.add(onEvent);
  });
  return {
    url: `http://127.0.0.1:${port}`, port, received,
    forCall: (id) => received.filter((c) => c.headers['x-call-id'] === id),
    callIds: () => new Set(received.map((c) => String(c.headers['x-call-id']))),
    async waitFor(pred, timeoutMs, what) {
      await until(() => received.some(pred), timeoutMs, what);
      return received.find(pred)!;
    },
    until,
    close,
  };
}
