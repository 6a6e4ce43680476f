import t from 'tap';
import { createChildProcessBackend } from '../../watchdog/spawn/child-process.js';
import { alive } from '../helpers/processes.js';
import { holdsWithin } from '../helpers/wait.js';

const backend = createChildProcessBackend();
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

t.test('runs a program with exactly the given env, stdin to stdout', async (t) => {
  const p = await backend.spawn({ file: 'sh', args: ['-c', 'cat; echo "$ONLY"'], env: { ...env, ONLY: 'me' } });
  let out = '';
  p.stdout.setEncoding('utf8').on('data', (c: string) => { out += c; });
  const ended = new Promise((r) => p.stdout.once('end', r));
  p.stdin.end('in\n');
  t.same(await p.exited, { code: 0, signal: null });
  await ended;
  t.equal(out, 'in\nme\n');
});

t.test('a missing program rejects with ENOENT', async (t) => {
  await t.rejects(backend.spawn({ file: 'definitely-not-a-program', args: [], env }), { code: 'ENOENT' });
});

t.test('the child leads its own group and killGroup reaches grandchildren', async (t) => {
  const p = await backend.spawn({ file: 'sh', args: ['-c', 'sleep 30 & echo $!; wait'], env });
  const grandchild = Number(await new Promise<string>((r) => p.stdout.setEncoding('utf8').once('data', r)));
  p.killGroup('SIGKILL');
  t.same(await p.exited, { code: null, signal: 'SIGKILL' });
  // The grandchild may linger as a zombie until init reaps it: dead is gone or state Z.
  t.ok(await holdsWithin(() => !alive(grandchild), 1_000, 10), `grandchild ${grandchild} killed`);
  t.doesNotThrow(() => p.killGroup('SIGKILL'), 'ESRCH is ignored');
});
