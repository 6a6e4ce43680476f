// Shared by the jetstream e2e tests (real `whippet router` and `whippet worker` processes on a real
// nats-server): a counting function, a client that posts many async calls over several routers (and,
// like a real client, posts a 503'd call again with the same X-Call-Id), and a worker's own counters.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool, request } from 'undici';

interface Teardown { teardown(fn: () => unknown): void }

/** A function that answers 200 (after `delayMs`) and counts its invocations by X-Call-Id. */
export interface CountingFunction {
  readonly url: string;
  /** Invocations by call id. */
  readonly calls: Map<string, number>;
  /** Call ids of invocations that have begun and not yet answered. */
  readonly open: Set<string>;
  total(): number;
}

/** Start a CountingFunction on 127.0.0.1:0 in this process; closed in teardown. */
export async function startCountingFunction(t: Teardown, delayMs = 0): Promise<CountingFunction> {
  const calls = new Map<string, number>();
  const open = new Set<string>();
  let total = 0;
  const server: Server = createServer((req, res) => {
    const id = String(req.headers['x-call-id']);
    calls.set(id, (calls.get(id) ?? 0) + 1);
    total++;
    open.add(id);
    req.resume().on('end', () => {
      const answer = (): void => { open.delete(id); res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end(`done ${id}`); };
      if (delayMs > 0) setTimeout(answer, delayMs); else answer();
    });
    res.on('close', () => open.delete(id));
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, open, total: () => total };
}

/** What a run of posts ended with. */
export interface PostRun {
  /** Call ids that got a 202. */
  readonly accepted: Set<string>;
  /** Answers other than 202, by status (a call posted again after a 503 counts each time). */
  readonly refused: Map<number, number>;
  /** Call ids never accepted (every try refused). */
  readonly given: string[];
  readonly ms: number;
}

export interface PostOptions {
  readonly routers: readonly string[];
  readonly ids: readonly string[];
  readonly concurrency: number;
  readonly callbackUrl: string;
  /** Tries per call (a 503 or a broken connection is posted again after retryDelayMs). */
  readonly tries?: number;
  readonly retryDelayMs?: number;
  /** Called after every 202 with the number accepted so far. */
  readonly onAccepted?: (count: number) => void;
}

/** Post every id to /async-function/fast, spread round-robin over the routers, `concurrency` at a time. */
export async function postCalls(o: PostOptions): Promise<PostRun> {
  const pools = o.routers.map((url) => new Pool(url, { connections: Math.ceil(o.concurrency / o.routers.length) + 1 }));
  const accepted = new Set<string>();
  const refused = new Map<number, number>();
  const given: string[] = [];
  const started = Date.now();
  let next = 0;
  const one = async (i: number): Promise<void> => {
    const id = o.ids[i]!;
    for (let attempt = 0; attempt < (o.tries ?? 1); attempt++) {
      const pool = pools[(i + attempt) % pools.length]!;
      let status = 0;
      try {
        const res = await pool.request({
          path: '/async-function/fast', method: 'POST', body: `body of ${id}`,
          headers: { 'X-Call-Id': id, 'X-Callback-Url': o.callbackUrl, 'Content-Type': 'text/plain' },
        });
        await res.body.dump();
        status = res.statusCode;
      } catch { /* connection trouble: like a 503, try again */ }
      if (status === 202) { accepted.add(id); o.onAccepted?.(accepted.size); return; }
      refused.set(status, (refused.get(status) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, o.retryDelayMs ?? 250));
    }
    given.push(id);
  };
  try {
    await Promise.all(Array.from({ length: o.concurrency }, async () => {
      while (next < o.ids.length) await one(next++);
    }));
  } finally {
    await Promise.all(pools.map((p) => p.destroy()));
  }
  return { accepted, refused, given, ms: Date.now() - started };
}

/** Sum of a worker's queue_worker_invocations_total (its own count of invocation attempts). */
export async function workerInvocations(workerUrl: string): Promise<number> {
  const res = await request(`${workerUrl}/metrics`);
  const text = await res.body.text();
  let sum = 0;
  for (const m of text.matchAll(/^queue_worker_invocations_total\{[^}]*\} (\d+)/gm)) sum += Number(m[1]);
  return sum;
}

/** `ids.length` call ids with a prefix, zero-padded so they sort. */
export function callIds(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(5, '0')}`);
}

/** Call ids whose count in `calls` is not exactly one. */
export function notOnce(ids: Iterable<string>, count: (id: string) => number): string[] {
  return [...ids].filter((id) => count(id) !== 1);
}

/** Call ids called back so far, kept up to date cheaply (the receiver re-checks on every callback). */
export function calledBack(received: ReadonlyArray<{ headers: Record<string, unknown> }>): () => Set<string> {
  const ids = new Set<string>();
  let seen = 0;
  return () => {
    for (; seen < received.length; seen++) ids.add(String(received[seen]!.headers['x-call-id']));
    return ids;
  };
}
