// /healthz must not say ok while the sqlite file is gone or broken: the open connection keeps working on
// a deleted (unlinked) file, so 202s would go into a file nobody can open again and be lost at restart.
// health() touches the tables and compares the open file with the one at the path; accepts refuse with
// 503 QUEUE_ERR_UNAVAILABLE once the file is gone.

import t, { type Test } from 'tap';
import { closeSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createQueue, type NewCall, type Queue } from '../../router/queue/index.js';
import { startCli } from '../helpers/start-router.js';

const call = (id: string): NewCall => ({ id, functionName: 'echo', method: 'POST', path: '', query: '', headers: {}, body: Buffer.from('x'), callbackUrl: null });

async function openQueue(t: Test): Promise<{ queue: Queue; path: string }> {
  const path = join(t.testdir(), 'queue.db');
  const queue = await createQueue(`sqlite:${path}`);
  t.teardown(() => queue.close());
  await queue.enqueue(call('before'));
  t.match(await queue.health(), { ok: true, backend: 'sqlite' }, 'healthy while the file is there');
  return { queue, path };
}

function removeDatabase(path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
}

t.test('a deleted file: unhealthy, and accepts answer 503 instead of going into the unlinked file', async (t) => {
  const { queue, path } = await openQueue(t);
  removeDatabase(path);
  t.match(await queue.health(), { ok: false, backend: 'sqlite', detail: /deleted/ });
  await t.rejects(queue.enqueue(call('after')), { code: 'QUEUE_ERR_UNAVAILABLE', status: 503 });
});

t.test('a file replaced by another (restored backup, new inode): unhealthy', async (t) => {
  const { queue, path } = await openQueue(t);
  const other = `${path}.other`;
  new Database(other).close();
  renameSync(other, path);
  t.match(await queue.health(), { ok: false, detail: /deleted or replaced/ });
  await t.rejects(queue.enqueue(call('after')), { code: 'QUEUE_ERR_UNAVAILABLE' });
});

t.test('a file overwritten with garbage in place: unhealthy', async (t) => {
  const { queue, path } = await openQueue(t);
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, 0);
  closeSync(fd);
  t.match(await queue.health(), { ok: false, detail: /corrupt/ });
});

t.test('the calls table dropped by another process: unhealthy', async (t) => {
  const { queue, path } = await openQueue(t);
  const admin = new Database(path);
  admin.exec('DROP TABLE calls');
  admin.close();
  t.match(await queue.health(), { ok: false, detail: /calls/ });
});

t.test('the router: /healthz is 503 and an async call 503 once its queue file is deleted', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'queue.db');
  writeFileSync(join(dir, 'functions.yaml'), 'echo: http://127.0.0.1:1\n');
  const router = await startCli(t, 'router', { queue: `sqlite:${path}`, functions: join(dir, 'functions.yaml'), async_worker: 'false' });
  t.equal((await fetch(`${router.url}/healthz`)).status, 200, 'healthy at first');
  removeDatabase(path);
  t.equal((await fetch(`${router.url}/healthz`)).status, 503, '/healthz notices the file is gone');
  const accepted = await fetch(`${router.url}/async-function/echo`, { method: 'POST', body: 'x' });
  t.equal(accepted.status, 503, 'no 202 for a call that would be lost at restart');
  t.equal(accepted.headers.get('x-router-error'), 'QUEUE_ERR_UNAVAILABLE');
});
