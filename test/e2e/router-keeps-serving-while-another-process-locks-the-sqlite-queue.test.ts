// While another process holds the sqlite queue's write lock (an admin shell inside BEGIN IMMEDIATE, a
// backup), the router with its in-process worker keeps serving: sync /function/ calls answer at once,
// /async-function/ answers 503 QUEUE_ERR_BUSY with Retry-After within its one-second budget, and once
// the lock is released accepts are 202 again and every accepted call runs, none lost.

import t from 'tap';
import { join } from 'node:path';
import { request } from 'undici';
import { postAsync, waitForCall } from '../helpers/async-calls.js';
import { holdWriteLock } from '../helpers/sqlite-lock.js';
import { startRouter, startUpstream } from '../helpers/start-router.js';

// Generous bounds: they tell "answered" from "stalled behind the lock" (5 s and more before), not speed.
const SYNC_BOUND_MS = 1_000;
const BUSY_BOUND_MS = 3_000;
const LOCK_HELD_MS = 3_000;

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - started };
}

t.test('sync calls answer and accepts get 503 Retry-After while the queue file is locked; nothing accepted is lost', async (t) => {
  const invoked = new Set<string>();
  const upstream = await startUpstream(t, (req, res) => {
    const id = req.headers['x-call-id'];
    req.resume().on('end', () => {
      if (typeof id === 'string') invoked.add(id);
      res.end('ok');
    });
  });
  const path = join(t.testdir(), 'queue.db');
  const router = await startRouter(t, { functions: `echo=${upstream.url}`, queue: `sqlite:${path}` });
  const accepted: string[] = [];
  const before = await postAsync(router.url, 'echo', { headers: { 'X-Call-Id': 'before-the-lock' } });
  t.equal(before.status, 202);
  accepted.push(before.callId);

  const lock = await holdWriteLock(t, path);
  const refused: string[] = [];
  const syncMs: number[] = [];
  const syncAnswers = new Set<string>();
  const lockedUntil = Date.now() + LOCK_HELD_MS;
  const syncCalls = (async () => {
    while (Date.now() < lockedUntil) {
      const { value, ms } = await timed(async () => {
        const res = await request(`${router.url}/function/echo`, { method: 'POST', body: 'sync' });
        return `${res.statusCode} ${await res.body.text()}`;
      });
      syncAnswers.add(value);
      syncMs.push(ms);
    }
  })();
  for (let i = 0; i < 3; i++) {
    const id = `during-the-lock-${i}`;
    const { value: posted, ms } = await timed(() => postAsync(router.url, 'echo', { headers: { 'X-Call-Id': id } }));
    t.equal(posted.status, 503, 'an accept while the file is locked is refused');
    t.equal(posted.headers['retry-after'], '1', 'with Retry-After');
    t.equal(posted.headers['x-router-error'], 'QUEUE_ERR_BUSY');
    t.match(posted.body, /the queue is locked by another process/);
    t.ok(ms < BUSY_BOUND_MS, `the 503 came within ${BUSY_BOUND_MS} ms (took ${Math.round(ms)} ms)`);
    refused.push(id);
  }
  // The dashboard's cancel action meets the same lock and says the same: 503 with Retry-After.
  const cancel = await request(`${router.url}/ui/api/calls/before-the-lock/cancel`, { method: 'POST', headers: { 'x-whippet-ui': '1', origin: router.url } });
  t.equal(cancel.statusCode, 503, "the dashboard's cancel while the file is locked is refused");
  t.equal(cancel.headers['retry-after'], '1', 'with Retry-After, as /system/calls says it');
  await cancel.body.dump();
  const health = await timed(() => request(`${router.url}/healthz`).then(async (res) => { await res.body.dump(); return res.statusCode; }));
  t.ok(health.ms < SYNC_BOUND_MS, `/healthz answered within ${SYNC_BOUND_MS} ms (took ${Math.round(health.ms)} ms)`);
  await syncCalls;
  t.ok(syncMs.length > 0, 'sync calls were made while the lock was held');
  t.same([...syncAnswers], ['200 ok'], 'every sync call was served');
  const slowest = Math.max(...syncMs);
  t.ok(slowest < SYNC_BOUND_MS, `every sync call answered within ${SYNC_BOUND_MS} ms (${syncMs.length} calls, slowest ${Math.round(slowest)} ms)`);
  await lock.release();

  for (const id of refused) {
    const retried = await postAsync(router.url, 'echo', { headers: { 'X-Call-Id': id } });
    t.equal(retried.status, 202, `the client's retry of ${id} is accepted once the lock is free`);
    accepted.push(retried.callId);
  }
  const after = await postAsync(router.url, 'echo');
  t.equal(after.status, 202);
  accepted.push(after.callId);
  for (const id of accepted) {
    await waitForCall(router.url, id, (c) => c.status === 'succeeded', 15_000, `call ${id} to succeed`);
  }
  t.same([...accepted].filter((id) => !invoked.has(id)), [], 'every accepted call reached the function');
});
