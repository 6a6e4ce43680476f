// The async bench's bound (bench/memory-drain.ts): the worker loop fed from a backlog in memory invokes the
// function once per call, every call, and the backlog honours busy sets and naks as the queue backends do.

import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { MemoryBacklog, drainFromMemory } from '../../bench/memory-drain.js';
import { CallAbort } from '../../common/call-abort.js';

t.test('every call is invoked once, with the headers given, and the drain ends when the last one is done', async (t) => {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    req.resume().on('end', () => { seen.push(req.headers); res.end('ok'); });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => { server.closeAllConnections(); server.close(); });
  const { port } = server.address() as AddressInfo;
  const result = await drainFromMemory(`http://127.0.0.1:${port}`, 300, 8, { 'x-from-the-record': 'yes' });
  t.equal(result.calls, 300);
  t.equal(seen.length, 300, 'one invocation per call');
  t.equal(new Set(seen.map((h) => h['x-call-id'])).size, 300, 'each with its own call id');
  t.ok(seen.every((h) => h['x-from-the-record'] === 'yes'), 'the stored headers go to the function');
  t.ok(result.seconds > 0 && result.cpuMs > 0);
});

t.test('a next() whose busy set holds the function waits; a nak brings the call back after its delay', async (t) => {
  const backlog = new MemoryBacklog(1, {});
  const busy = new Set(['fast']);
  const abort = new CallAbort();
  const waiting = backlog.next({ busy, signal: abort });
  const lease = await backlog.next();
  t.ok(lease, 'a next() with no busy set gets the call');
  abort.abort();
  t.equal(await waiting, null, 'the busy waiter got nothing and resolves null when aborted');
  const next = backlog.next();
  t.equal(await Promise.race([next, new Promise((r) => setTimeout(() => r('none'), 50))]), 'none', 'one call, already leased: the next next() waits');
  await lease!.nak(20);
  const again = await next;
  t.equal(again?.request.id, lease!.request.id, 'the call naked comes back to the waiting next()');
  await again!.term('the test is over');
  await backlog.done;
});
