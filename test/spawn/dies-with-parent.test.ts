// dieWithParent: a child spawned with it, and what it started in its group, die when the spawning process is
// SIGKILLed (the native clone methods set PR_SET_PDEATHSIG in the child; a watcher, watchdog/spawn/parent-death.ts,
// kills the group), and the watcher of a child that ended on its own goes too.

import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { alive, killIfAlive, withArgument } from '../helpers/processes.js';
import { holdsWithin } from '../helpers/wait.js';
import { baseEnv, expectedSpawnMethod, loadBackends } from '../helpers/spawn-backends.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/die-with-parent.mjs', import.meta.url));
/** The kernel signals at once; the watcher needs its shell to wake up. */
const BOUND_MS = 2000;

/** Starts the fixture; resolves with its process and what it printed. */
async function startParent(t: Test, backend: string, method: string) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_OPTIONS; // a plain node process on dist/, no coverage loader
  const parent = spawn(process.execPath, [FIXTURE, backend, method], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => { parent.kill('SIGKILL'); });
  const [line] = (await once(createInterface({ input: parent.stdout! }), 'line')) as [string];
  const printed = JSON.parse(line) as { pid: number; grandchild: number; method: string | null };
  t.teardown(() => { for (const p of [printed.pid, printed.grandchild]) killIfAlive(p); });
  return { parent, ...printed };
}

const RUNS = [
  { backend: 'native', method: 'auto' },
  { backend: 'native', method: 'clone' },
  { backend: 'native', method: 'posix_spawn' },
  { backend: 'child_process', method: 'auto' },
] as const;

for (const { backend, method } of RUNS) {
  t.test(`${backend}${backend === 'native' ? ` (spawn_method=${method})` : ''}: the child and its group die with its SIGKILLed parent`, async (t) => {
    const { parent, pid, grandchild, method: used } = await startParent(t, backend, method);
    if (backend === 'native') t.equal(used, expectedSpawnMethod(method), `children made with ${used}`);
    t.ok(alive(pid) && alive(grandchild), `the shell (pid ${pid}) and its sleep (pid ${grandchild}) run`);
    parent.kill('SIGKILL');
    await once(parent, 'exit');
    const started = Date.now();
    t.ok(await holdsWithin(() => !alive(pid), BOUND_MS, 10), `the shell is gone within ${BOUND_MS} ms (${Date.now() - started} ms)`);
    t.ok(await holdsWithin(() => !alive(grandchild), BOUND_MS, 10), `its sleep is gone within ${BOUND_MS} ms (${Date.now() - started} ms)`);
  });
}

for (const method of ['auto', 'clone'] as const) {
  t.test(`native (spawn_method=${method}): PR_SET_PDEATHSIG alone ends the child when its watcher is gone`, async (t) => {
    const { parent, pid } = await startParent(t, 'native', method);
    const watchers = withArgument(String(pid)); // the watcher gets the pgid as its $0
    t.equal(watchers.length, 1, 'one watcher');
    for (const w of watchers) process.kill(w, 'SIGKILL');
    t.ok(await holdsWithin(() => withArgument(String(pid)).length === 0, BOUND_MS, 10), 'the watcher is gone');
    t.ok(alive(pid), 'the child still runs');
    parent.kill('SIGKILL');
    await once(parent, 'exit');
    t.ok(await holdsWithin(() => !alive(pid), BOUND_MS, 10), 'the child is gone: the kernel killed it');
  });
}

t.test('the watcher of a child that exits on its own ends with it', async (t) => {
  for (const { label, backend } of await loadBackends()) {
    if (backend === undefined) continue;
    const p = await backend.spawn({ file: 'sh', args: ['-c', 'exit 3'], env: baseEnv, dieWithParent: true });
    p.stdin.end();
    t.same(await p.exited, { code: 3, signal: null }, `${label}: exited`);
    t.ok(await holdsWithin(() => withArgument(String(p.pid)).length === 0, BOUND_MS, 10), `${label}: no watcher left for ${p.pid}`);
  }
});
