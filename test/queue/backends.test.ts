// The backend table: the queue URL chooses the backend in exactly one place, each backend parses its
// own URLs.

import t from 'tap';
import { join } from 'node:path';
import { BACKENDS, createQueue, parseQueueUrl } from '../../router/queue/index.js';
import { loadDriver } from '../../router/queue/backend.js';
import { parseSqliteUrl } from '../../router/queue/sqlite/backend.js';

t.test('sqlite URLs', async (t) => {
  t.same(parseSqliteUrl('sqlite:.whippet/queue.db'), { path: '.whippet/queue.db' });
  t.same(parseSqliteUrl('sqlite:///var/lib/q.db'), { path: '/var/lib/q.db' });
  t.same(parseSqliteUrl('sqlite:/tmp/q.db?synchronous=normal'), { path: '/tmp/q.db', synchronous: 'normal' });
  for (const bad of ['sqlite:', 'sqlite::memory:', 'sqlite:/q.db?synchronous=off', 'sqlite:/q.db?x=1']) {
    t.throws(() => parseSqliteUrl(bad), { code: 'QUEUE_ERR_URL' }, bad);
  }
  const dir = t.testdir();
  const q = await createQueue(`sqlite:${join(dir, 'sub', 'queue.db')}`);
  t.teardown(() => q.close());
  t.equal(q.backend, 'sqlite');
  t.match(await q.health(), { ok: true, backend: 'sqlite' });
  await q.close();
  t.match(await q.health(), { ok: false });
});

t.test('nats URLs load the jetstream backend; other schemes are refused, naming the ones there are', async (t) => {
  await t.rejects(createQueue('redis://localhost'), { code: 'QUEUE_ERR_URL', message: /sqlite:, nats:\/\/, tls:\/\// });
  await t.rejects(createQueue('nats://a:4222,http://b'), { code: 'QUEUE_ERR_URL' });
  await t.rejects(createQueue('nats://127.0.0.1:1', { ackWaitMs: 1000 }), { code: 'QUEUE_ERR_UNAVAILABLE' }, 'a good URL, no server');
});

t.test('the table: one backend per scheme, every name distinct', async (t) => {
  const schemes = BACKENDS.flatMap((backend) => backend.schemes);
  t.equal(new Set(schemes).size, schemes.length, 'no scheme is claimed twice');
  t.equal(new Set(BACKENDS.map((backend) => backend.name)).size, BACKENDS.length);
  t.equal(parseQueueUrl('  tls://a:4222 '), 'tls://a:4222', 'trimmed, and tls:// is a NATS URL');
});

t.test('a driver that is not installed is QUEUE_ERR_BACKEND_MISSING; other load errors pass through', async (t) => {
  const missing = new URL('./no-such-driver.js', import.meta.url).href; // not a literal: the module does not exist
  await t.rejects(loadDriver('postgres', () => import(missing)), { code: 'QUEUE_ERR_BACKEND_MISSING', status: 500, message: /postgres/ });
  const broken = new Error('the driver threw while loading');
  await t.rejects(loadDriver('postgres', () => Promise.reject(broken)), broken);
});
