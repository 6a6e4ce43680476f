// The benchmarks' CPU meter (bench/server-process.ts phaseCpu): a process's CPU and its living children's, per
// call of a phase, the caller's, and the machine's busy cores, from /proc.

import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { phaseCpu } from '../../bench/server-process.js';

const linux = existsSync('/proc/self/stat');

t.test('a busy child of the measured process counts; the caller is whatever it is asked for', { skip: linux ? false : 'no /proc here' }, async (t) => {
  // A parent that idles and a child that spins (5 s at most, whatever happens to this test), both living until the meter is read.
  const parent = spawn(process.execPath, ['-e', `
    const { spawn } = require('node:child_process');
    const child = spawn(process.execPath, ['-e', 'const end = Date.now() + 5000; while (Date.now() < end) {}'], { stdio: 'ignore' });
    process.stdout.write(child.pid + '\\n');
    process.stdin.on('end', () => { child.kill('SIGKILL'); process.exit(0); }).resume();
  `], { stdio: ['pipe', 'pipe', 'inherit'] });
  const childPid = await new Promise<number>((resolve) => parent.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  // The spinning child is killed by pid: killing the parent alone would leave it running.
  t.teardown(() => { try { process.kill(childPid, 'SIGKILL'); } catch { /* gone */ } parent.kill('SIGKILL'); });
  let callerMs = 0;
  const meter = phaseCpu(parent.pid, () => callerMs);
  await new Promise((r) => setTimeout(r, 500));
  callerMs = 40; // the caller spent 40 ms over the phase
  const cpu = meter(4); // four calls
  t.ok(cpu.fnUs > 10_000, `the spinning child's CPU is counted (${Math.round(cpu.fnUs)} µs per call over 4 calls in 500 ms)`);
  t.ok(cpu.fnUs < 1_000_000 * cpus().length / 4 * 0.6, 'no more than the machine had');
  t.equal(cpu.callerUs, 10_000, '40 ms over 4 calls');
  t.ok(cpu.cores > 0 && cpu.cores <= cpus().length + 0.01, `busy cores within the machine's (${cpu.cores.toFixed(2)})`);
});
