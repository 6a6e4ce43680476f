// The benchmark finds each Go anchor from its environment variable, and says in one plain line why one is not
// measured; a port an anchor always binds is checked before it is started; comparison rows carry the ratio of
// every round and their median.

import t from 'tap';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANCHORS, busyPorts, findAnchor, launch } from '../../bench/go-anchors.js';
import { orLine, pairRow } from '../../bench/beside-go.js';
import type { LoadResult } from '../../bench/load.js';

const dir = mkdtempSync(join(tmpdir(), 'whippet-go-anchors-test-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('each anchor is named by its own variable', async (t) => {
  t.same(Object.fromEntries(Object.entries(ANCHORS).map(([id, a]) => [id, a.envVar])), {
    'classic-watchdog': 'WHIPPET_BENCH_GO_CLASSIC_WATCHDOG',
    'of-watchdog': 'WHIPPET_BENCH_GO_OF_WATCHDOG',
    gateway: 'WHIPPET_BENCH_GO_GATEWAY',
  });
});

t.test('unset or blank: one line naming the variable to set', async (t) => {
  for (const env of [{}, { WHIPPET_BENCH_GO_GATEWAY: '  ' }]) {
    t.same(findAnchor('gateway', env), {
      absent: 'Go gateway not measured: set WHIPPET_BENCH_GO_GATEWAY to its binary (openfaas/faas gateway 0.27, built from its public sources).',
    });
  }
  const line = (findAnchor('classic-watchdog', {}) as { absent: string }).absent;
  t.match(line, /^Go classic watchdog not measured: set WHIPPET_BENCH_GO_CLASSIC_WATCHDOG to its binary \(openfaas\/classic-watchdog 0\.3\.4/);
  t.notMatch(line, /\n/, 'one line');
});

t.test('a variable that names no runnable file says what is wrong with it', async (t) => {
  const missing = join(dir, 'nope');
  t.match(findAnchor('of-watchdog', { WHIPPET_BENCH_GO_OF_WATCHDOG: missing }), {
    absent: `Go of-watchdog not measured: WHIPPET_BENCH_GO_OF_WATCHDOG=${missing} does not exist`,
  });
  t.match(findAnchor('of-watchdog', { WHIPPET_BENCH_GO_OF_WATCHDOG: dir }), { absent: /=.* is not a file \(/ });
  const plain = join(dir, 'plain');
  writeFileSync(plain, '');
  chmodSync(plain, 0o644);
  // X_OK needs at least one x bit, even for root.
  t.match(findAnchor('of-watchdog', { WHIPPET_BENCH_GO_OF_WATCHDOG: plain }), { absent: /=.*plain is not executable \(/ });
});

t.test('an executable file is used, its path made absolute', async (t) => {
  const bin = join(dir, 'anchor');
  writeFileSync(bin, '#!/bin/sh\n');
  chmodSync(bin, 0o755);
  t.same(findAnchor('gateway', { WHIPPET_BENCH_GO_GATEWAY: ` ${bin} ` }), { bin });
});

t.test('a port an anchor always binds is checked before it is started', async (t) => {
  const held: Server = createServer();
  await new Promise<void>((resolve) => held.listen(0, resolve));
  t.teardown(() => new Promise<void>((resolve) => held.close(() => resolve())));
  const port = (held.address() as { port: number }).port;
  t.same(await busyPorts([port]), [port]);
  await t.rejects(launch({ label: 'gateway', file: '/nonexistent', env: {}, port, fixedPorts: [port], ready: { path: '/' } }),
    { message: `gateway: port ${port} in use (it binds it whatever it is told)` });
});

t.test('a comparison that fails becomes one line, the section goes on', async (t) => {
  t.equal(await orLine('Go gateway', async () => { throw new Error('port 8080 in use\nlog…'); }), 'Go gateway not measured: port 8080 in use\n');
  t.equal(await orLine('Go gateway', async () => '| row |\n'), '| row |\n');
});

t.test('a pair row gives each round\'s ratio and their median', async (t) => {
  const r = (rps: number, p50: number): LoadResult => ({ rps, p50, p99: p50 * 4, p999: p50 * 9, errors: 0, requests: rps, elapsedMs: 1000 });
  const row = pairRow('hop', [r(100, 1), r(300, 2), r(120, 3)], [r(100, 2), r(200, 2), r(100, 2)]);
  t.equal(row, '| hop | 100 / 300 / 120 | 100 / 200 / 100 | 1.00 / 1.50 / 1.20 | **1.20x** | 2.00 / 2.00 | 8.00 / 8.00 | 18.00 / 18.00 | 0 / 0 |');
});
