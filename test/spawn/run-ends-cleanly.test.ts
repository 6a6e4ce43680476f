// Runs and spawns end cleanly and leave nothing behind: prepared blocks are freed, an uncombined stderr held by
// an escaped process is cut, no event follows a kill, the group dies before the leader is reaped. And an
// executable without #! runs under /bin/sh, as execvp and child_process do.

import t from 'tap';
import { chmodSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { withRun } from '../../watchdog/spawn/run-streams.js';
import type { ExitStatus, RunBackend, RunOptions, SpawnBackend } from '../../watchdog/spawn/types.js';
import { groupMembers, killIfAlive, procStat } from '../helpers/processes.js';
import { holdsWithin } from '../helpers/wait.js';
import { baseEnv, collect, loadBackends, rssBytes } from '../helpers/spawn-backends.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const backends = await loadBackends();
const asRun = (b: SpawnBackend): RunBackend => withRun(b);
const turn = (ms = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

t.test('prepared blocks are freed once JS drops them', async (t) => {
  const addonPath = fileURLToPath(new URL('../../native/build/Release/whippet_spawn.node', import.meta.url));
  const addon = createRequire(import.meta.url)(addonPath) as { prepare(v: string, n: number): unknown };
  const block = 'X=' + 'y'.repeat(100_000);
  const round = async (): Promise<void> => {
    for (let i = 0; i < 500; i++) addon.prepare(block, 1);
    gc();
    await turn(5); // Node 20 runs N-API finalizers in a later turn, not inside the GC
  };
  for (let r = 0; r < 4; r++) await round(); // warm up: malloc arenas, V8 heap
  const before = rssBytes();
  // 40 rounds of 50 MB: 2 GB if blocks leak.
  for (let r = 0; r < 40; r++) await round();
  const grownMb = (rssBytes() - before) / 2 ** 20;
  t.ok(grownMb < 400, `RSS grew ${grownMb.toFixed(0)} MB over 20,000 prepared 100 KB blocks`);
});

for (const { name, backend, error } of backends) {
  t.test(name, async (t) => {
    if (backend === undefined) {
      t.fail(`${name} backend did not load: ${error}`);
      return;
    }
    const runner = asRun(backend);
    const baseRun: RunOptions = {
      file: 'sh', args: [], env: baseEnv, extraEnv: {}, output: 'buffer', combine: false, lingerMs: 300,
    };

    t.test('an executable without #! runs under /bin/sh (spawn and run, by path and on PATH)', async (t) => {
      const dir = t.testdir();
      const script = join(dir, 'noshebang');
      writeFileSync(script, 'echo "from-noshebang $# $1 $2"\n');
      chmodSync(script, 0o755);
      const p = await backend.spawn({ file: script, args: ['a', 'b c'], env: baseEnv });
      p.stdin.end();
      const [out, status] = await Promise.all([collect(p.stdout), p.exited]);
      t.equal(out.toString(), 'from-noshebang 2 a b c\n');
      t.same(status, { code: 0, signal: null });
      const viaPath = await backend.spawn({ file: 'noshebang', args: ['x'], env: { PATH: `${dir}:${baseEnv.PATH}` } });
      viaPath.stdin.end();
      t.equal((await collect(viaPath.stdout)).toString(), 'from-noshebang 1 x \n');
      const done = await new Promise<{ status: ExitStatus; output: string }>((resolve, reject) => {
        const h = runner.run({ ...baseRun, file: script, args: ['r'], combine: true }, {
          onData: () => {}, onEnd: () => {}, onDrain: () => {}, onError: reject,
          onDone: (status, output) => resolve({ status, output: Buffer.concat(output).toString() }),
        });
        h.end();
      });
      t.same(done, { status: { code: 0, signal: null }, output: 'from-noshebang 1 r \n' });
    });

    t.test('an uncombined stderr held by a setsid process ends after the linger', async (t) => {
      // The handler waits until the escape is done (else the group kill at its exit may come first), and the
      // escaped process reports its own pid (setsid(1) forks when it happens to lead a process group).
      const pidFile = join(t.testdir(), 'escaped.pid');
      const ESCAPE = `setsid sh -c 'echo $$ > ${pidFile}.tmp; mv ${pidFile}.tmp ${pidFile}; exec sleep 5' &
        while [ ! -s ${pidFile} ]; do sleep 0.01; done; cat ${pidFile}; echo err >&2`;
      let escaped = 0;
      t.teardown(() => { if (escaped > 0) killIfAlive(escaped); });
      const started = Date.now();
      const events: string[] = [];
      let stdout = '';
      await new Promise<void>((resolve, reject) => {
        const settle = (): void => { if (events.includes('done') && events.includes('end')) resolve(); };
        const h = runner.run({ ...baseRun, args: ['-c', ESCAPE] }, {
          onData: (stream, chunk) => events.push(`data${stream}:${chunk.toString().trim()}`),
          onEnd: () => { events.push('end'); settle(); },
          onDrain: () => {},
          onError: reject,
          onDone: (status, output) => {
            stdout = Buffer.concat(output).toString();
            escaped = Number(stdout.trim());
            events.push(`done:${status.code}`, 'done');
            settle();
          },
        });
        h.end();
      });
      const ms = Date.now() - started;
      const alive = procStat(escaped);
      t.ok(alive !== undefined && alive[0] !== 'Z', 'the escaped process still holds stderr (else this proves nothing)');
      t.ok(escaped > 0, `the handler printed the escaped pid (${stdout.trim()})`);
      t.ok(ms < 3000, `done and stderr ended in ${ms} ms (linger 300 ms; the escaped sleep lives 5 s)`);
      t.ok(events.includes('data2:err'), 'stderr output before the cut was delivered');
      t.ok(events.includes('done:0'));
    });

    t.test('no drain (or any event) after kill', async (t) => {
      const events: string[] = [];
      const h = runner.run({ ...baseRun, args: ['-c', 'sleep 5'] }, {
        onData: () => events.push('data'), onEnd: () => events.push('end'), onDrain: () => events.push('drain'),
        onError: () => events.push('error'), onDone: () => events.push('done'),
      });
      await turn(50); // let it start, so the write fills the pipe
      t.equal(h.write(Buffer.alloc(512 * 1024)), false, 'the write asks to wait for a drain');
      t.ok(h.kill() > 0);
      h.end();
      await turn(300);
      t.same(events, []);
    });

    if (name === 'native') {
      t.test('spawn(): the group is killed before the leader is reaped; killGroup afterwards is a no-op', async (t) => {
        const p = await backend.spawn({ file: 'sh', args: ['-c', 'sleep 30 >/dev/null 2>&1 & echo $!'], env: baseEnv });
        p.stdin.end();
        const [out, status] = await Promise.all([collect(p.stdout), p.exited]);
        t.same(status, { code: 0, signal: null });
        const grandchild = Number(out.toString().trim());
        t.ok(grandchild > 0);
        t.teardown(() => killIfAlive(grandchild));
        t.ok(await holdsWithin(() => groupMembers(p.pid).length === 0, 2000, 10), 'the sleep left in the group is gone');
        t.doesNotThrow(() => p.killGroup('SIGKILL'));
      });
    }
  });
}
