// Write_debug logs a bounded prefix of the output (4 KiB), with the whole size and a mark
// that it was cut, and never makes a string of the whole output (past 512 MiB that threw ERR_STRING_TOO_LONG).
import t from 'tap';
import { request } from 'undici';
import { startWatchdog } from '../helpers/start-watchdog.js';
import { waitFor } from '../helpers/wait.js';

const SHOWN = 4096;

t.test('write_debug: output over 4 KiB is logged as its first 4 KiB, with its size and the cut marked', async (t) => {
  const wd = await startWatchdog(t, { fprocess: `sh -c 'head -c 20000 /dev/zero | tr "\\0" a; printf end'`, write_debug: 'true' });
  const res = await request(`${wd.url}/`, { method: 'POST', body: 'x' });
  t.equal(res.statusCode, 200);
  t.equal((await res.body.text()).length, 20003, 'the response itself is whole');
  const line = await waitFor(() => wd.records().find((r) => r.msg === 'function response'), 3000, 'the write_debug line');
  t.equal(line.bytes, 20003, 'the whole size');
  t.equal(line.body, 'a'.repeat(SHOWN), 'the first 4 KiB');
  t.equal(line.truncated, true, 'marked as cut');
  t.equal(line.shownBytes, SHOWN);
});

t.test('write_debug: a short output is logged whole and not marked', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'cat', write_debug: 'true' });
  await (await request(`${wd.url}/`, { method: 'POST', body: 'héllo' })).body.dump();
  const line = await waitFor(() => wd.records().find((r) => r.msg === 'function response'), 3000, 'the write_debug line');
  t.equal(line.body, 'héllo');
  t.equal(line.bytes, 6);
  t.notOk('truncated' in line);
});
