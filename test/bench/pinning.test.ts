// The benchmarks' core pinning (bench/server-process.ts): a server started on given cores runs there with the
// processes it starts, and a process can be pinned and given back the cores it had.

import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { functionCoreSplit, onSeparateCores, pinProcess, startServer, stopServer } from '../../bench/server-process.js';

const tasksetWorks = spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }).status === 0;
const skip = cpus().length < 2 ? 'one core: nothing to pin apart' : tasksetWorks ? false : 'no taskset here (util-linux)';

/** The cores a task may run on, as /proc prints them ("1", "0-1"). */
function allowed(pid: number | string, tid?: number | string): string {
  const file = tid === undefined ? `/proc/${pid}/status` : `/proc/${pid}/task/${tid}/status`;
  return /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(file, 'utf8'))![1]!;
}

const last = String(cpus().length - 1);

t.test('a server started on a core runs there, and so does the process it starts', { skip }, async (t) => {
  // A server that starts a child, says its pid, then announces its port.
  const started = await startServer(['-e', `
    const { spawn } = require('node:child_process');
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    process.on('SIGTERM', () => { child.kill('SIGKILL'); process.exit(0); });
    console.log('child ' + child.pid);
    console.log('listening port=4321');
    setInterval(() => {}, 1000);
  `], { PATH: process.env['PATH'] ?? '' }, 10_000, last);
  t.teardown(() => stopServer(started.proc, 'SIGTERM'));
  t.equal(started.port, 4321);
  t.equal(allowed(started.proc.pid!), last, 'the server (taskset exec\'d node under its own pid)');
  t.match(readFileSync(`/proc/${started.proc.pid}/cmdline`, 'utf8'), /node/, 'the pid is node\'s, not taskset\'s');
  const children = readFileSync(`/proc/${started.proc.pid}/task/${started.proc.pid}/children`, 'utf8').trim().split(/\s+/);
  t.equal(children.length, 1);
  t.equal(allowed(children[0]!), last, 'the child it started');
});

t.test('this process is pinned, every thread, then given back the cores it had', { skip }, async (t) => {
  const before = allowed(process.pid);
  const unpin = pinProcess(process.pid, '0');
  t.ok(unpin !== null, 'taskset pinned it');
  t.teardown(() => unpin?.());
  const tasks = (): string[] => readdirSync(`/proc/${process.pid}/task`);
  t.ok(tasks().length > 1, 'node runs several threads');
  t.same(new Set(tasks().map((tid) => allowed(process.pid, tid))), new Set(['0']), 'every thread on core 0');
  unpin!();
  t.same(new Set(tasks().map((tid) => allowed(process.pid, tid))), new Set([before]), `every thread on ${before} again`);
});

t.test('the function gets the last core, the rest the others', async (t) => {
  const split = functionCoreSplit();
  if (cpus().length < 2) t.equal(split, null, 'one core: no split');
  else t.same(split, { fn: last, rest: cpus().length === 2 ? '0' : `0-${cpus().length - 2}` });
});

t.test('a separate-cores measurement runs this process and the others named on the rest, and gives their cores back', { skip }, async (t) => {
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  t.teardown(() => { other.kill('SIGKILL'); });
  const before = [allowed(process.pid), allowed(other.pid!)];
  const split = functionCoreSplit()!;
  const lines = await onSeparateCores([other.pid!], async (given) => {
    t.same(given, split);
    t.same([allowed(process.pid), allowed(other.pid!)], [split.rest, split.rest], 'both on the rest while it runs');
    return ['measured'];
  });
  t.same(lines, ['measured'], "the measurement's lines");
  t.same([allowed(process.pid), allowed(other.pid!)], before, 'both back on their cores');
  await t.rejects(onSeparateCores([other.pid!], async () => { throw new Error('drain failed'); }), /drain failed/);
  t.same([allowed(process.pid), allowed(other.pid!)], before, 'back on their cores after a failed measurement too');
});
