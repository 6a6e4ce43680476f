// NATS stopped: enqueue fails fast with ERR_QUEUE_UNAVAILABLE and health() says so; NATS started again:
// the same Queue instance works again by itself, and a worker picks the call up.

import t from 'tap';
import { spawn } from 'node:child_process';
import { createQueue } from '../../router/queue/index.js';
import { freePort, requireNats, startNats } from '../helpers/nats-server.js';
import { holdsWithin } from '../helpers/wait.js';
import { call } from './jetstream-workers.js';

t.test('NATS away: fail fast with 503; NATS back: the same instance recovers', { timeout: 90_000 }, async (t) => {
  if (!requireNats(t)) return;
  const node = await startNats(t);
  const queue = await createQueue(node.url, { ackWaitMs: 2_000, jetstream: { name: 'restart' } });
  t.teardown(() => queue.close());
  await queue.enqueue(call('before'));
  t.match(await queue.health(), { ok: true, backend: 'jetstream' });

  await node.stop();
  const start = Date.now();
  await t.rejects(queue.enqueue(call('while-away')), { code: 'QUEUE_ERR_UNAVAILABLE', status: 503 });
  const took = Date.now() - start;
  t.ok(took < 2_000, `enqueue failed within ${took} ms`);
  const health = await queue.health();
  t.match(health, { ok: false, backend: 'jetstream' });
  t.comment(`health while away: ${health.detail}`);
  await t.rejects(queue.get('before'), { code: 'QUEUE_ERR_UNAVAILABLE' }, 'reads fail fast too');
  t.equal(await queue.next({ timeoutMs: 300 }), null, 'next() waits instead of throwing');

  await node.restart();
  await holdsWithin(async () => (await queue.health()).ok, 20_000, 100);
  t.match(await queue.health(), { ok: true }, `healthy again ${Date.now() - start} ms after the stop`);
  t.match(await queue.enqueue(call('after')), { duplicate: false }, 'enqueue works again on the same instance');
  const seen: string[] = [];
  for (let i = 0; i < 2; i++) {
    const lease = await queue.next({ timeoutMs: 10_000 });
    if (lease === null) break;
    seen.push(lease.request.id);
    await lease.beginAttempt();
    await lease.finish({ status: 'succeeded', result: null });
    await lease.ack();
  }
  t.same(seen, ['before', 'after'], 'the call accepted before the stop survived it, and the new one runs');
  t.equal(await queue.get('while-away'), null, 'the refused call left nothing behind');
});

t.test('NATS down at start: connectInBackground returns at once, answers 503, then connects', { timeout: 60_000 }, async (t) => {
  if (!requireNats(t)) return;
  const port = await freePort();
  const url = `nats://127.0.0.1:${port}`;
  await t.rejects(createQueue(url, { jetstream: { name: 'late' } }), { code: 'QUEUE_ERR_UNAVAILABLE' }, 'by default a refused first connect is an error');
  const queue = await createQueue(url, { connectInBackground: true, jetstream: { name: 'late' } });
  t.teardown(() => queue.close());
  t.match(await queue.health(), { ok: false });
  await t.rejects(queue.enqueue(call('early')), { code: 'QUEUE_ERR_UNAVAILABLE' });
  const waiting = queue.next({ timeoutMs: 20_000 });
  // The harness picks its own port; this test needs the one the queue already dials.
  const server = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', t.testdir()], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.teardown(() => { server.kill('SIGKILL'); });
  await new Promise<void>((resolve) => server.stderr!.on('data', (d: Buffer) => { if (d.toString().includes('Server is ready')) resolve(); }));
  await holdsWithin(async () => (await queue.health()).ok, 20_000, 100);
  t.match(await queue.health(), { ok: true }, 'connected once NATS came up');
  await queue.enqueue(call('late'));
  const lease = await waiting;
  t.equal(lease?.request.id, 'late', 'a next() that was waiting before NATS came up gets the call');
});
