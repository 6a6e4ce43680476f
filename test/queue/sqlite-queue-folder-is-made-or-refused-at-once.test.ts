// The queue file's folder is created when missing, and a folder that cannot exist is refused at once with
// the system's error: a path under /proc made Node 20's recursive mkdir spin forever at 100 % CPU.

import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openDb } from '../../router/queue/sqlite/sqlite-store.js';

t.test('missing folders are created, several levels deep', async (t) => {
  const path = join(t.testdir(), 'a', 'b', 'c', 'queue.db');
  const db = openDb(path);
  t.teardown(() => db.close());
  t.ok(existsSync(path), 'the queue file exists');
});

t.test('a folder under /proc is refused with ENOENT instead of hanging', { skip: existsSync('/proc/self') ? false : 'no /proc here' }, async (t) => {
  t.throws(() => openDb('/proc/whippet-no-such-folder/deeper/queue.db'), { code: 'ENOENT' });
});
