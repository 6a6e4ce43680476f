// `whippet up` keeps its functions running and stops cleanly: a killed watchdog is restarted and the
// router follows it to its new port; SIGINT leaves no process behind; async calls accepted before the
// stop (and not yet run: the function takes one call at a time) are delivered by the next `up`.

import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { alive, descendants, killIfAlive } from '../helpers/processes.js';
import { runWhippet, startUp } from '../helpers/up-process.js';
import { waitFor } from '../helpers/wait.js';

const ROOT = new URL('../../', import.meta.url).pathname;

function stackIn(dir: string): void {
  cpSync(join(ROOT, 'examples', 'echo'), join(dir, 'echo'), { recursive: true });
  cpSync(join(ROOT, 'examples', 'slow'), join(dir, 'slow'), { recursive: true });
  cpSync(join(ROOT, 'examples', 'receiver'), join(dir, 'receiver'), { recursive: true });
  writeFileSync(join(dir, 'stack.yml'), [
    'functions:',
    '  echo: {lang: bash, handler: ./echo}',
    '  receiver: {lang: node-http, handler: ./receiver}',
    '  slow:',
    '    lang: bash',
    '    handler: ./slow',
    '    environment: {exec_timeout: 20s, max_inflight: 1}',
    '',
  ].join('\n'));
}

t.test('a killed watchdog is restarted and the next call succeeds', { timeout: 90_000 }, async (t) => {
  const dir = t.testdir();
  stackIn(dir);
  const up = await startUp(t, dir, ['stack.yml']);
  for (const name of ['echo', 'receiver']) {
    const before = up.watchdogs[name]!;
    process.kill(before, 'SIGKILL');
    const restarted = await waitFor(() => {
      const m = [...up.stderr().matchAll(new RegExp(`function ready component=up function=${name} url=\\S+ pid=(\\d+)`, 'g'))].map((x) => Number(x[1]));
      return m.length >= 2 ? m[m.length - 1] : undefined;
    }, 20_000, `${name} restarted`, 50);
    t.not(restarted, before, `${name}: a new watchdog (pid ${restarted})`);
    t.match(up.stderr(), new RegExp(`watchdog exited, restarting component=up function=${name} pid=${before} signal=SIGKILL`));
    const res = await runWhippet(['invoke', name, '--gateway', up.url], { input: 'after the restart' });
    t.equal(res.code, 0, `${name}: the call after the restart succeeds`, { stderr: res.stderr });
    if (name === 'echo') t.equal(res.stdout, 'after the restart');
  }
  const list = await runWhippet(['invoke', 'receiver', '--method', 'GET', '--gateway', up.url]);
  t.equal(list.code, 0);
  t.same(await up.stop('SIGINT'), { code: 0, signal: null });
});

t.test('SIGINT stops every process; queued async calls are delivered by the next up', { timeout: 120_000 }, async (t) => {
  const dir = t.testdir();
  stackIn(dir);
  const callbacks: Array<{ id: string; status: string; body: string }> = [];
  const receiver = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => {
      callbacks.push({ id: String(req.headers['x-call-id']), status: String(req.headers['x-function-status']), body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { receiver.closeAllConnections(); receiver.close(() => r()); }));
  const callback = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`;

  const first = await startUp(t, dir, ['stack.yml']);
  // Accepted together (a node start per `whippet invoke` would be slow on a loaded machine); slow runs
  // one at a time for 2 s each, so at most one can finish before the stop below.
  const ids = await Promise.all([0, 1, 2].map(async (i) => {
    const res = await fetch(`${first.url}/async-function/slow?seconds=2`, { method: 'POST', headers: { 'X-Callback-Url': callback }, body: '' });
    t.equal(res.status, 202, `async call ${i} accepted`);
    return ((await res.json()) as { callId: string }).callId;
  }));
  t.match(ids, [/^[0-9a-f-]{36}$/, /^[0-9a-f-]{36}$/, /^[0-9a-f-]{36}$/]);
  const started = [first.pid, ...descendants(first.pid)];
  t.ok(started.length >= 4, `up, its watchdogs and the receiver's process (${started.length} pids)`);
  t.same(await first.stop('SIGINT'), { code: 0, signal: null }, 'up exits 0 on SIGINT');
  t.same(started.filter(alive), [], 'every process up started is gone');
  const beforeRestart = callbacks.length;
  t.ok(beforeRestart < 3, `slow takes one call at a time: ${beforeRestart} of 3 ran before the stop`);

  const second = await startUp(t, dir, ['stack.yml']);
  await waitFor(() => callbacks.length >= 3, 40_000, 'the 3 callbacks', 50);
  t.same(callbacks.map((c) => c.id).sort(), [...ids].sort(), 'each accepted call was delivered once');
  t.same(callbacks.map((c) => [c.status, c.body]), [['200', 'slept 2s\n'], ['200', 'slept 2s\n'], ['200', 'slept 2s\n']]);
  const record = await runWhippet(['calls', 'show', ids[2]!, '--gateway', second.url]);
  t.match(record.stdout, /"status": "succeeded"/);
  t.same(await second.stop('SIGINT'), { code: 0, signal: null });
});

t.test('a second SIGINT ends everything at once, the functions running a call included', { timeout: 60_000 }, async (t) => {
  const dir = t.testdir();
  stackIn(dir);
  const up = await startUp(t, dir, ['stack.yml']);
  // A sync call that would run for 15 s: slow's handler (bash) runs `sleep 15` in its own process group.
  const pending = fetch(`${up.url}/function/slow?seconds=15`, { method: 'POST', body: '' }).catch(() => undefined);
  await waitFor(() => descendants(up.pid).some((p) => /^sleep\b/.test(commandOf(p))), 10_000, 'the handler sleeping');
  const started = descendants(up.pid);
  t.teardown(() => { for (const p of started) killIfAlive(p); }); // only if the check below failed
  up.child.kill('SIGINT'); // drains: waits for the call
  await new Promise((r) => setTimeout(r, 300));
  up.child.kill('SIGINT'); // stops now
  t.same(await up.exited, { code: 1, signal: null }, 'up exits 1 on the second SIGINT');
  await waitFor(() => started.every((p) => !alive(p)), 5_000, 'every process up started gone, the sleeping handler included');
  t.pass(`${started.length} processes gone`);
  await pending;
});

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}
