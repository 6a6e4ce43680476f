// The benchmark's C programs compile and measure what they claim: the ceiling loop really runs `cat` (its
// output is checked inside, each mismatch counted as an error), and the host probe returns positive costs.

import t, { type Test } from 'tap';
import { compileC, hasCompiler, hostCostsLine, runJson, type CatLoopResult as Loop, type HostCosts } from '../../bench/c-programs.js';

/** The compiled program; a skip where no C compiler exists (the benchmark then says what it left out). */
function compiled(t: Test, name: string): string | undefined {
  const r = compileC(name);
  if ('bin' in r) return r.bin;
  if (hasCompiler()) t.fail(r.error);
  else t.pass('skipped', { skip: `no C compiler: ${r.error}` });
  return undefined;
}

t.test('cat-loop: spawns cat, checks what comes back, reports its own and its children\'s CPU', async (t) => {
  const bin = compiled(t, 'cat-loop');
  if (bin === undefined) return;
  const r = runJson<Loop>(bin, ['2', '300'], { PATH: '/usr/local/bin:/usr/bin:/bin' });
  t.ok(r.spawns > 0, `${r.spawns} spawns in ${r.seconds} s`);
  t.equal(r.errors, 0, 'every cat echoed the body and exited 0');
  t.ok(r.seconds >= 0.3, 'ran for the time asked');
  t.ok(r.childCpuMs > 0, 'the children\'s CPU is counted');
  const broken = runJson<Loop>(bin, ['1', '100'], { PATH: '/nonexistent' });
  t.equal(broken.spawns, 0, 'no cat on PATH: nothing counted as a spawn');
  t.ok(broken.errors > 0, 'and every attempt is an error');
});

t.test('cat-loop: refuses bad arguments', async (t) => {
  const bin = compiled(t, 'cat-loop');
  if (bin === undefined) return;
  t.throws(() => runJson<Loop>(bin, ['0', '100']), /usage/);
});

t.test('host-probe: a syscall, a page fault and CPUID each cost something', async (t) => {
  const bin = compiled(t, 'host-probe');
  if (bin === undefined) return;
  const c = runJson<HostCosts>(bin, []);
  t.ok(c.syscallUs > 0 && c.pageFaultUs > 0, JSON.stringify(c));
  t.ok(c.cpuidUs > 0 || (process.arch !== 'x64' && c.cpuidUs === -1), 'CPUID timed on x86, -1 elsewhere');
});

t.test('the machine line of docs/benchmarks.md carries the probe\'s numbers', async (t) => {
  if (!hasCompiler()) return t.pass('skipped', { skip: 'no C compiler' });
  t.match(hostCostsLine(), /^- kernel costs \(bench\/c\/host-probe\.c\): a syscall [\d.]+ µs, a page fault on fresh memory [\d.]+ µs/);
});
