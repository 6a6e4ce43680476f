// createQueue: the queue URL chooses the backend, in exactly one place.

import t from 'tap';
import { join } from 'node:path';
import { createQueue, parseSqliteUrl } from '../../router/queue/index.js';

t.test('sqlite URLs', async (t) => {
  t.same(parseSqliteUrl('sqlite:.whippet/queue.db'), { path: '.whippet/queue.db' });
  t.same(parseSqliteUrl('sqlite:///var/lib/q.db'), { path: '/var/lib/q.db' });
  t.same(parseSqliteUrl('sqlite:/tmp/q.db?synchronous=normal'), { path: '/tmp/q.db', synchronous: 'normal' });
  for (const bad of ['sqlite:', 'sqlite::memory:', 'sqlite:/q.db?synchronous=off', 'sqlite:/q.db?x=1']) {
    t.throws(() => parseSqliteUrl(bad), { code: 'ERR_QUEUE_URL' }, bad);
  }
  const dir = t.testdir();
  const q = await createQueue(`sqlite:${join(dir, 'sub', 'queue.db')}`);
  t.teardown(() => q.close());
  t.equal(q.backend, 'sqlite');
  t.match(await q.health(), { ok: true, backend: 'sqlite' });
  await q.close();
  t.match(await q.health(), { ok: false });
});

t.test('nats URLs load the jetstream backend; other schemes are refused', async (t) => {
  await t.rejects(createQueue('redis://localhost'), { code: 'ERR_QUEUE_URL' });
  await t.rejects(createQueue('nats://a:4222,http://b'), { code: 'ERR_QUEUE_URL' });
  // Until router/queue/jetstream.ts exists this is a clear error; afterwards a refused connection.
  const err = await createQueue('nats://127.0.0.1:1', { ackWaitMs: 1000 }).then(async (q) => { await q.close(); return null; }, (e: unknown) => e);
  t.match((err as { code?: string } | null)?.code, /^ERR_QUEUE_(BACKEND_MISSING|UNAVAILABLE)$/);
});
