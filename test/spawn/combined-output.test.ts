// combine_output on the run path: stdout and stderr both reach the output, complete, on both backends. On
// native they share one pipe (as `2>&1`, and as Go's os/exec does for the Go watchdogs), so the output
// keeps the order in which the handler wrote; child_process has two pipes and only keeps each stream's order.

import t from 'tap';
import { withRun } from '../../watchdog/spawn/run-streams.js';
import type { ExitStatus, RunBackend, RunOptions } from '../../watchdog/spawn/types.js';
import { baseEnv, loadBackends } from '../helpers/spawn-backends.js';

const LINES = 300;
// Alternates stdout and stderr, then names what is behind the shell's fd 1 and fd 2 (its own: $$, not $(…)'s).
const SCRIPT = `i=1; while [ $i -le ${LINES} ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done
  echo "fd1 $(readlink /proc/$$/fd/1)"; echo "fd2 $(readlink /proc/$$/fd/2)"`;

function run(runner: RunBackend, output: 'buffer' | 'emit'): Promise<{ status: ExitStatus; text: string }> {
  const o: RunOptions = { file: 'sh', args: ['-c', SCRIPT], env: baseEnv, extraEnv: {}, output, combine: true, lingerMs: 1000 };
  const emitted: Buffer[] = [];
  return new Promise((resolve, reject) => {
    const h = runner.run(o, {
      onData: (_stream, chunk) => emitted.push(chunk),
      onEnd: () => {},
      onDrain: () => {},
      onError: reject,
      onDone: (status, buffered) => resolve({ status, text: Buffer.concat(output === 'emit' ? emitted : [...buffered]).toString() }),
    });
    h.end();
  });
}

const expected: string[] = [];
for (let i = 1; i <= LINES; i++) expected.push(`out ${i}`, `err ${i}`);

for (const { name, backend, error } of await loadBackends()) {
  t.test(name, async (t) => {
    if (backend === undefined) {
      t.fail(`${name} backend did not load: ${error}`);
      return;
    }
    for (const output of ['buffer', 'emit'] as const) {
      const { status, text } = await run(withRun(backend), output);
      t.same(status, { code: 0, signal: null }, `${output}: exit 0`);
      const lines = text.trimEnd().split('\n');
      const fd1 = lines.find((l) => l.startsWith('fd1 '))?.slice(4);
      const fd2 = lines.find((l) => l.startsWith('fd2 '))?.slice(4);
      const body = lines.filter((l) => !l.startsWith('fd'));
      t.same([...body].sort(), [...expected].sort(), `${output}: every line of both streams, once`);
      if (name === 'native') {
        t.match(fd1, /^pipe:\[\d+\]$/, `${output}: stdout is a pipe`);
        t.equal(fd2, fd1, `${output}: stderr is the stdout pipe`);
        t.same(body, expected, `${output}: the lines in the order they were written`);
      } else {
        t.not(fd2, fd1, `${output}: child_process gives stderr its own pipe`);
        t.same(body.filter((l) => l.startsWith('out')), expected.filter((l) => l.startsWith('out')), `${output}: stdout in order`);
        t.same(body.filter((l) => l.startsWith('err')), expected.filter((l) => l.startsWith('err')), `${output}: stderr in order`);
      }
    }
  });
}
