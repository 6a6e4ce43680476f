// CallAbort (common/call-abort.ts), the per-call signal of the worker's path: it behaves as an AbortSignal
// does where the worker listens, and undici ends a request on it as it does on an AbortSignal.

import t from 'tap';
import { CallAbort, asAbortSignal, onAbort } from '../../common/call-abort.js';
import { invoke } from '../../router/invoker.js';
import { withRequestApi } from '../../router/dispatcher-api.js';
import { createUpstreamDispatcher } from '../../router/upstream.js';
import { postCallback } from '../../router/worker/callback.js';
import { startUpstream } from '../helpers/start-router.js';

t.test('onAbort: once, removable, at once when already aborted; for both kinds of signal', async (t) => {
  for (const make of [() => new CallAbort(), () => new AbortController()]) {
    const source = make();
    const signal = source instanceof CallAbort ? source : source.signal;
    let heard = 0;
    onAbort(signal, () => { heard++; });
    let removedHeard = 0;
    const remove = onAbort(signal, () => { removedHeard++; });
    remove();
    source.abort(new Error('why'));
    source.abort(new Error('again'));
    t.equal(heard, 1, `${signal.constructor.name}: heard once`);
    t.equal(removedHeard, 0, `${signal.constructor.name}: a removed listener hears nothing`);
    t.equal((signal.reason as Error).message, 'why', 'the first reason stays');
    let late = 0;
    onAbort(signal, () => { late++; });
    t.equal(late, 1, 'an aborted signal runs a new listener at once');
  }
  const bare = new CallAbort();
  bare.abort();
  t.equal((bare.reason as DOMException).name, 'AbortError', 'no reason given: an AbortError, as AbortController gives');
  t.doesNotThrow(() => onAbort(undefined, () => {})(), 'no signal: nothing to listen to');
});

t.test('asAbortSignal follows a CallAbort and returns an AbortSignal as it is', async (t) => {
  const plain = new AbortController().signal;
  t.equal(asAbortSignal(plain), plain);
  const call = new CallAbort();
  const follower = asAbortSignal(call);
  t.equal(follower.aborted, false);
  call.abort('stop');
  t.equal(follower.aborted, true);
  t.equal(follower.reason, 'stop');
});

t.test('undici ends a request on a CallAbort: the invocation and the callback', async (t) => {
  const dispatcher = withRequestApi(createUpstreamDispatcher({ upstreamTimeoutMs: 10_000 }));
  t.teardown(() => dispatcher.close());
  let closed = 0;
  const up = await startUpstream(t, (req) => { req.resume(); req.socket.once('close', () => { closed++; }); });
  const request = { method: 'POST', path: '', query: '', headers: {}, body: Buffer.from('x') };

  const stop = new CallAbort();
  setTimeout(() => stop.abort(new Error('worker stopping')), 100);
  const aborted = await invoke({ functionName: 'slow', upstream: new URL(up.url) }, request, { dispatcher, timeoutMs: 10_000, signal: stop });
  t.match(aborted, { ok: false, kind: 'unreachable' }, "the caller's abort ends the call as a connection failure");
  t.ok(aborted.durationMs < 5_000, 'at once, not at the deadline');

  const late = await invoke({ functionName: 'slow', upstream: new URL(up.url) }, request, { dispatcher, timeoutMs: 150, signal: new CallAbort() });
  t.match(late, { ok: false, kind: 'timeout' }, 'the deadline still ends it as a timeout');

  const outer = new CallAbort();
  setTimeout(() => outer.abort(), 100);
  const callback = await postCallback(`${up.url}/hook`, {}, Buffer.from('x'), { dispatcher, timeoutMs: 10_000, signal: outer });
  t.equal(callback.statusCode, null, 'the callback ended without an answer');
  t.notMatch(callback.error, /no answer within/, 'ended by the abort, not reported as the deadline');
  const slow = await postCallback(`${up.url}/hook`, {}, Buffer.from('x'), { dispatcher, timeoutMs: 150 });
  t.equal(slow.error, 'no answer within 150ms');
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(closed, 4, 'each aborted request closed its connection');
});

t.test('an invocation keeps the function\'s end-to-end headers and drops the hop\'s own', async (t) => {
  const dispatcher = withRequestApi(createUpstreamDispatcher({ upstreamTimeoutMs: 10_000 }));
  t.teardown(() => dispatcher.close());
  const up = await startUpstream(t, (req, res) => {
    req.resume();
    res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Custom': 'kept', 'X-Per-Hop': 'listed', Connection: 'keep-alive, x-per-hop', 'Keep-Alive': 'timeout=5' });
    res.write('chunked ');
    res.end('body');
  });
  const request = { method: 'POST', path: '', query: '', headers: {}, body: Buffer.from('x') };
  const res = await invoke({ functionName: 'fn', upstream: new URL(up.url) }, request, { dispatcher, timeoutMs: 10_000 });
  t.ok(res.ok, 'answered');
  if (!res.ok) return;
  t.equal(res.body.toString(), 'chunked body');
  t.equal(res.headers['x-custom'], 'kept');
  t.equal(res.headers['content-type'], 'text/plain');
  for (const name of ['connection', 'keep-alive', 'transfer-encoding', 'x-per-hop']) t.notOk(name in res.headers, `${name} is not stored with the result`);
});
