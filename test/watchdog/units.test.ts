// Small pure pieces: function output lines, static paths, restart backoff, proxy headers, spawn selection.
import { PassThrough } from 'node:stream';
import t from 'tap';
import { formatOutputLine, pipeToLog } from '../../watchdog/function-log.js';
import { createLogger } from '../../common/log.js';
import { endToEndHeaders } from '../../common/hop-by-hop.js';
import { restartDelayMs } from '../../watchdog/runners/http-process.js';
import { staticFilePath } from '../../watchdog/runners/static.js';
import { SpawnBackendError, selectSpawnBackend } from '../../watchdog/spawn/select.js';

const now = () => new Date('2026-01-02T03:04:05.678Z');

t.test('function output lines: text with and without prefix, json', async (t) => {
  t.equal(formatOutputLine({ format: 'text', prefix: true, write() {}, now }, 'stderr', 'oops'), '2026-01-02T03:04:05.678Z stderr: oops\n');
  t.equal(formatOutputLine({ format: 'text', prefix: false, write() {}, now }, 'stdout', 'oops'), 'oops\n');
  t.same(JSON.parse(formatOutputLine({ format: 'json', prefix: true, write() {}, now }, 'stderr', 'x')),
    { time: '2026-01-02T03:04:05.678Z', level: 'info', msg: 'function output', stream: 'stderr', line: 'x' });
});

t.test('pipeToLog splits lines across chunks and flushes the last partial line', async (t) => {
  const lines: string[] = [];
  const src = new PassThrough();
  pipeToLog(src, 'stderr', { format: 'text', prefix: false, write: (l) => lines.push(l) });
  src.write('a\nb');
  src.write('c\n\nd');
  src.end();
  await new Promise((r) => src.once('end', r));
  t.same(lines, ['a\n', 'bc\n', '\n', 'd\n']);
});

t.test('static paths stay below the root', async (t) => {
  t.equal(staticFilePath('/srv', '/a/b.html?x=1'), '/srv/a/b.html');
  t.equal(staticFilePath('/srv', '/a%20b'), '/srv/a b');
  t.equal(staticFilePath('/srv', '/../etc/passwd'), '/srv/etc/passwd', 'normalised at the root');
  for (const bad of ['/%2e%2e/x', '/a/%2e%2e/%2e%2e/x', '/%00', '/..%5cx', '/%E0%A4%A', 'x']) {
    const p = staticFilePath('/srv', bad);
    t.ok(p === undefined || p.startsWith('/srv/'), `${bad} → ${p}`);
  }
  t.equal(staticFilePath('/srv', '/%E0%A4%A'), undefined, 'malformed escapes');
  t.equal(staticFilePath('/srv', '/%00'), undefined, 'NUL');
});

t.test('restart backoff doubles from 100 ms up to 5 s', async (t) => {
  t.same([0, 1, 2, 3, 5, 6, 20].map(restartDelayMs), [100, 200, 400, 800, 3200, 5000, 5000]);
});

t.test('hop-by-hop headers are not forwarded', async (t) => {
  t.same(endToEndHeaders({ connection: 'keep-alive, x-drop', 'keep-alive': 'timeout=5', 'x-drop': '1', 'transfer-encoding': 'chunked', host: 'h', 'x-keep': 'y' }),
    { host: 'h', 'x-keep': 'y' });
  t.same(endToEndHeaders({ host: 'h', expect: '100-continue', 'x-keep': 'y' }, new Set(['host', 'expect'])), { 'x-keep': 'y' }, 'the caller\'s own drops');
  t.same(endToEndHeaders({ trailer: 'x-sum', te: 'trailers', 'x-keep': 'y' }, undefined, true), { trailer: 'x-sum', 'x-keep': 'y' }, 'trailer kept when asked');
  t.same(endToEndHeaders({ connection: 'close', 'x-keep': 'y' }), { 'x-keep': 'y' }, 'close names no header');
});

t.test('spawn backend selection: explicit, auto with fallback, native required', async (t) => {
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l) });
  const failing = async () => { throw new Error('addon not built'); };
  t.equal((await selectSpawnBackend('child_process', log, failing)).name, 'child_process');
  t.equal((await selectSpawnBackend('auto', log, failing)).name, 'child_process');
  t.match(lines.join(''), /native spawn unavailable, using child_process reason="addon not built"/);
  await t.rejects(selectSpawnBackend('native', log, failing), SpawnBackendError);
  await t.rejects(selectSpawnBackend('native', log, failing), { message: /spawn_backend=native is unavailable: addon not built/ });
  const fake = { name: 'native' as const, spawn: async () => { throw new Error('unused'); } };
  t.equal(await selectSpawnBackend('auto', log, async () => fake), fake);
});
