// The worker's invocation hands the function's answer to a body sink chunk by chunk (router/invoker.ts):
// the whole body arrives in order, a sink that asks to wait pauses the connection, a result over the
// stored limit is spooled to a file (or counted and dropped), and a call that fails part-way through
// its body (the function dies, the deadline passes) leaves no file behind.

import t from 'tap';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import type { Dispatcher } from 'undici';
import { tmpdir } from 'node:os';
import { invoke, type BodySink } from '../../router/invoker.js';
import { createUpstreamDispatcher } from '../../router/upstream.js';
import { ResultCollector, releaseResult, type ResultBody } from '../../router/worker/result-body.js';
import { startUpstream } from '../helpers/start-router.js';

const request = { method: 'POST', path: '', query: '', headers: {}, body: Buffer.from('x') };
const spooled = (): string[] => readdirSync(tmpdir()).filter((f) => f.startsWith('whippet-result-'));

t.test('the body reaches the sink whole and in order', async (t) => {
  const dispatcher = createUpstreamDispatcher({ upstreamTimeoutMs: 10_000 });
  t.teardown(() => dispatcher.close());
  const parts = Array.from({ length: 50 }, (_, i) => `${String(i).padStart(3, '0')}:${'y'.repeat(4000)}\n`);
  const up = await startUpstream(t, (req, res) => {
    req.resume();
    res.writeHead(201, { 'X-Answer': 'yes' });
    let i = 0;
    const next = (): void => { if (i === parts.length) { res.end(); return; } res.write(parts[i++]); setImmediate(next); };
    next();
  });
  const whole = await invoke({ functionName: 'f', upstream: new URL(up.url) }, request, { dispatcher, timeoutMs: 10_000 });
  t.match(whole, { ok: true, status: 201, headers: { 'x-answer': 'yes' } });
  t.equal(whole.ok && whole.body.toString(), parts.join(''), 'the default sink: one Buffer of everything');

  // A sink that makes the connection wait on every fifth chunk still gets everything, in order.
  const got: Buffer[] = [];
  let waits = 0;
  let waiting = false;
  let whileWaiting = 0;
  const slow: BodySink<string> = {
    write: (chunk) => {
      if (waiting) whileWaiting++;
      got.push(chunk);
      if (got.length % 5 !== 0) return undefined;
      waits++;
      waiting = true;
      return new Promise((resolve) => setTimeout(() => { waiting = false; resolve(); }, 10));
    },
    end: () => Promise.resolve(Buffer.concat(got).toString()),
    discard: () => Promise.resolve(),
  };
  const paced = await invoke({ functionName: 'f', upstream: new URL(up.url) }, request, { dispatcher, timeoutMs: 10_000, body: () => slow });
  t.equal(paced.ok && paced.body, parts.join(''), 'a sink that waits gets the whole body, in order');
  t.ok(waits > 0, `the sink asked to wait ${waits} times`);
  t.equal(whileWaiting, 0, 'no chunk came while the sink waited (the connection was paused)');
});

t.test('a result over the stored limit: spooled whole when a callback needs it, else counted and dropped', async (t) => {
  const dispatcher = createUpstreamDispatcher({ upstreamTimeoutMs: 10_000 });
  t.teardown(() => dispatcher.close());
  const big = Buffer.alloc(300_000, 'z');
  const up = await startUpstream(t, (req, res) => { req.resume(); res.end(big); });
  const target = { functionName: 'f', upstream: new URL(up.url) };
  const small = await invoke(target, request, { dispatcher, timeoutMs: 10_000, body: () => new ResultCollector(1_000_000, true) });
  t.match(small, { ok: true, body: { size: big.length, file: null } }, 'within the limit: kept in memory');
  t.ok(small.ok && small.body.kept?.equals(big));

  const spool = await invoke<ResultBody>(target, request, { dispatcher, timeoutMs: 10_000, body: () => new ResultCollector(10_000, true) });
  t.ok(spool.ok && spool.body.file !== null && spool.body.kept === null, 'over the limit with a callback: spooled');
  if (spool.ok && spool.body.file !== null) {
    t.ok(readFileSync(spool.body.file).equals(big), 'the file holds the whole result');
    await releaseResult(spool.body);
    t.notOk(existsSync(spool.body.file), 'released: the file is gone');
  }
  const dropped = await invoke(target, request, { dispatcher, timeoutMs: 10_000, body: () => new ResultCollector(10_000, false) });
  t.match(dropped, { ok: true, body: { size: big.length, kept: null, file: null } }, 'without a callback: only the size is kept');
});

t.test('a call that fails part-way through its body leaves no spooled file', async (t) => {
  const dispatcher = createUpstreamDispatcher({ upstreamTimeoutMs: 10_000 });
  t.teardown(() => dispatcher.close());
  const before = new Set(spooled());
  const dies = await startUpstream(t, (req, res) => {
    req.resume();
    res.writeHead(200, { 'Content-Length': '1000000' });
    res.write(Buffer.alloc(200_000, 'a'), () => setTimeout(() => res.socket?.destroy(), 20));
  });
  const cut = await invoke({ functionName: 'f', upstream: new URL(dies.url) }, request, { dispatcher, timeoutMs: 10_000, body: () => new ResultCollector(10_000, true) });
  t.match(cut, { ok: false, kind: 'unreachable' }, 'the function died mid-body: a connection failure');

  const stalls = await startUpstream(t, (req, res) => {
    req.resume();
    res.writeHead(200);
    res.write(Buffer.alloc(50_000, 'b')); // and never ends
  });
  const late = await invoke({ functionName: 'f', upstream: new URL(stalls.url) }, request, { dispatcher, timeoutMs: 300, body: () => new ResultCollector(10_000, true) });
  t.match(late, { ok: false, kind: 'timeout' }, 'the deadline passed mid-body: a timeout');
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.same(spooled().filter((f) => !before.has(f)), [], 'no spooled file left by either');
});

t.test('a call undici refuses before sending (a closed pool, a method it rejects) is a classified failure, not a throw', async (t) => {
  const up = await startUpstream(t, (req, res) => { req.resume(); res.end('ok'); });
  const closed = createUpstreamDispatcher({ upstreamTimeoutMs: 10_000 });
  await closed.close();
  const started = Date.now();
  t.match(await invoke({ functionName: 'f', upstream: new URL(up.url) }, request, { dispatcher: closed, timeoutMs: 10_000 }), { ok: false, kind: 'unreachable' });
  const open = createUpstreamDispatcher({ upstreamTimeoutMs: 10_000 });
  t.teardown(() => open.close());
  t.match(await invoke({ functionName: 'f', upstream: new URL(up.url) }, { ...request, method: 'NOT A METHOD' }, { dispatcher: open, timeoutMs: 10_000 }), { ok: false, kind: 'unreachable' });
  const throwing = { dispatch: () => { throw new Error('refused at once'); } } as unknown as Dispatcher;
  t.match(await invoke({ functionName: 'f', upstream: new URL(up.url) }, request, { dispatcher: throwing, timeoutMs: 10_000 }),
    { ok: false, kind: 'unreachable' }, 'a dispatcher that throws instead of telling the handler');
  t.ok(Date.now() - started < 5_000, 'at once, not at the deadline');
});
