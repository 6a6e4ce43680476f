// A reader who changed examples/ in their checkout (as the quick start once told them to: the timeout
// raised to 5s, a `shout` function added) still gets a passing walkthrough: it runs on examples/ as
// committed, not on the working copy. The checkout is a temp git repository with this README.

import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { runWhippet } from '../helpers/up-process.js';
import { committedExamples, runWalkthrough } from '../helpers/walkthrough.js';

const ROOT = new URL('../../', import.meta.url).pathname;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=whippet test', '-c', 'user.email=test@whippet.invalid', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

t.test('the walkthrough passes on a checkout whose examples/ was changed', { timeout: 300_000 }, async (t) => {
  const repo = join(t.testdir(), 'checkout');
  mkdirSync(repo);
  t.equal(committedExamples(ROOT, repo).source, 'HEAD', 'this checkout is a git repository');
  copyFileSync(join(ROOT, 'README.md'), join(repo, 'README.md'));
  git(repo, 'init', '-q');
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'examples as shipped');

  const stack = join(repo, 'examples', 'stack.yml');
  writeFileSync(stack, readFileSync(stack, 'utf8').replace('exec_timeout: 2s', 'exec_timeout: 5s'));
  const created = await runWhippet(['new', 'shout', '--lang', 'python3', '--stack', 'examples/stack.yml', '--handler', 'examples/shout'], { cwd: repo });
  t.equal(created.code, 0, 'whippet new shout changed the checkout', { stderr: created.stderr });
  t.match(readFileSync(stack, 'utf8'), /exec_timeout: 5s[\s\S]*shout:/, 'the working copy of stack.yml has the reader\'s changes');
  t.ok(existsSync(join(repo, 'examples', 'shout', 'handler.py')));
  t.not(git(repo, 'status', '--porcelain', '--', 'examples'), '', 'git sees examples/ changed');

  await t.test('walkthrough', { timeout: 240_000 }, (t) => runWalkthrough(t, repo));
});
