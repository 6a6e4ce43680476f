// dieWithParent: a child spawned with it dies when the spawning process is SIGKILLed (the native clone methods
// by PR_SET_PDEATHSIG, child_process and glibc's posix_spawn by a watcher, watchdog/spawn/parent-death.ts), and
// the watcher of a child that ended on its own goes too.

import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { baseEnv, expectedSpawnMethod, loadBackends, procStat, waitUntil } from './backends.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/die-with-parent.mjs', import.meta.url));
/** The kernel signals at once; the watcher needs its shell to wake up. */
const BOUND_MS = 2000;

const running = (pid: number): boolean => {
  const stat = procStat(pid);
  return stat !== undefined && stat[0] !== 'Z' && stat[0] !== 'X';
};

const RUNS = [
  { backend: 'native', method: 'auto' },
  { backend: 'native', method: 'clone' },
  { backend: 'native', method: 'posix_spawn' },
  { backend: 'child_process', method: 'auto' },
] as const;

for (const { backend, method } of RUNS) {
  t.test(`${backend}${backend === 'native' ? ` (spawn_method=${method})` : ''}: the child dies with its SIGKILLed parent`, async (t) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.NODE_OPTIONS; // a plain node process on dist/, no coverage loader
    const parent = spawn(process.execPath, [FIXTURE, backend, method], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    t.teardown(() => { parent.kill('SIGKILL'); });
    const [line] = (await once(createInterface({ input: parent.stdout! }), 'line')) as [string];
    const { pid, method: used } = JSON.parse(line) as { pid: number; method: string | null };
    t.teardown(() => { if (running(pid)) process.kill(pid, 'SIGKILL'); });
    if (backend === 'native') t.equal(used, expectedSpawnMethod(method), `children made with ${used}`);
    t.ok(running(pid), `sleep runs (pid ${pid})`);
    parent.kill('SIGKILL');
    await once(parent, 'exit');
    const started = Date.now();
    t.ok(await waitUntil(() => !running(pid), BOUND_MS), `sleep is gone within ${BOUND_MS} ms (${Date.now() - started} ms)`);
  });
}

t.test('the watcher of a child that exits on its own ends with it', async (t) => {
  const watchers = (pgid: number): number[] => {
    return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(String(pgid)) && running(pid);
      } catch {
        return false;
      }
    });
  };
  for (const { label, backend } of await loadBackends()) {
    if (backend === undefined) continue;
    const p = await backend.spawn({ file: 'sh', args: ['-c', 'exit 3'], env: baseEnv, dieWithParent: true });
    p.stdin.end();
    t.same(await p.exited, { code: 3, signal: null }, `${label}: exited`);
    t.ok(await waitUntil(() => watchers(p.pid).length === 0, BOUND_MS), `${label}: no watcher left for ${p.pid}`);
  }
});
