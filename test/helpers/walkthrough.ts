// The README walkthrough (README.md) run for real: every ```console step is executed in order in a
// temp folder holding examples/ as committed (what a reader changed in their checkout does not count),
// with `whippet up` on a free port, and its output must match what the README shows. `$ whippet up`
// steps restart the stack (Ctrl-C first); steps before the first one run without a stack.

import { execFileSync, spawn } from 'node:child_process';
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Test } from 'tap';
import { consoleSteps, matchesOutput } from './readme-blocks.js';
import { alive } from './processes.js';
import { CLI, cleanEnv, startUp, type Up } from './up-process.js';
import { holdsWithin } from './wait.js';

// Reads may need a moment (a callback lands after the 202); they are retried until they match.
const isRead = (cmd: string): boolean => (/^curl -s /.test(cmd) && !/ (-d|--data\S*|-X) /.test(cmd)) || /^whippet calls show /.test(cmd);

function sh(command: string, cwd: string, vars: string, gateway: string): Promise<string> {
  const assigned = [...command.matchAll(/(?:^|;\s*)([A-Za-z_]\w*)=/g)].map((m) => m[1]!);
  const script = [
    `whippet() { ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"; }`,
    `[ -f ${vars} ] && . ${vars}`,
    `{ ${command}\n} 2>&1`,
    ...assigned.map((v) => `declare -p ${v} >> ${vars}`),
  ].join('\n');
  const child = spawn('bash', ['-c', script], { cwd, env: cleanEnv({ OPENFAAS_URL: gateway }), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => { out += c; });
  child.stderr.setEncoding('utf8').on('data', (c: string) => { out += c; });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) => child.once('close', () => { clearTimeout(timer); resolve(out); }));
}

/**
 * Put `examples/` as committed at `root`'s HEAD into `dest`/examples, so the walkthrough never sees what a
 * reader changed in their checkout (following an older quick start, or their own experiments). Outside a
 * git checkout the working tree is copied instead. `changed` lists what differs from HEAD in `root`.
 */
export function committedExamples(root: string, dest: string): { source: 'HEAD' | 'working tree'; changed: string[] } {
  let archive: Buffer;
  try {
    archive = execFileSync('git', ['-C', root, 'archive', '--format=tar', 'HEAD', 'examples'], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch {
    cpSync(join(root, 'examples'), join(dest, 'examples'), { recursive: true, filter: (src) => !src.includes('.whippet') });
    return { source: 'working tree', changed: [] };
  }
  execFileSync('tar', ['-x', '-C', dest], { input: archive });
  const status = execFileSync('git', ['-C', root, 'status', '--porcelain', '--', 'examples'], { encoding: 'utf8' });
  return { source: 'HEAD', changed: status.split('\n').filter((l) => l !== '' && !l.includes('.whippet')) };
}

/** Every file below `dir` (build and queue state in .whippet/ aside) with its content. */
function filesBelow(dir: string, top = dir): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== '.whippet') for (const [name, content] of filesBelow(path, top)) files.set(name, content);
    } else {
      files.set(relative(top, path), readFileSync(path, 'latin1'));
    }
  }
  return files;
}

/** Files added, removed or changed between two `filesBelow` readings. */
function changedFiles(before: Map<string, string>, after: Map<string, string>): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((name) => before.get(name) !== after.get(name)).sort();
}

/** Run every console step of `root`'s README.md in a temp folder holding `root`'s committed examples/. */
export async function runWalkthrough(t: Test, root: string): Promise<void> {
  const steps = consoleSteps(readFileSync(join(root, 'README.md'), 'utf8'));
  t.ok(steps.length >= 15, `the walkthrough has its steps (${steps.length})`);
  const dir = t.testdir();
  const examples = committedExamples(root, dir);
  if (examples.changed.length > 0) t.comment(`examples/ differs from HEAD; the walkthrough uses HEAD's (commit to test yours): ${examples.changed.join(', ')}`);
  if (examples.source !== 'HEAD') t.comment('not a git checkout: the walkthrough uses examples/ as it is');
  const examplesBefore = filesBelow(join(dir, 'examples'));
  const vars = join(dir, 'readme-vars.sh');
  let up: Up | undefined;
  const everyPid = new Set<number>();
  for (const step of steps) {
    const port = up?.port ?? 8080;
    const expected = step.expected.map((l) => l.replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`));
    const upArgs = /^whippet up (.*)$/.exec(step.command);
    if (upArgs !== null) {
      if (up !== undefined) t.same(await up.stop('SIGINT'), { code: 0, signal: null }, 'the running stack stops with exit 0 on SIGINT');
      up = await startUp(t, dir, upArgs[1]!.split(' '));
      for (const p of Object.values(up.watchdogs)) everyPid.add(p);
      const shown = step.expected.map((l) => l.replaceAll('127.0.0.1:8080', `127.0.0.1:${up!.port}`));
      t.ok(matchesOutput(shown, up.stdout()), `$ ${step.command}`, { found: up.stdout(), wanted: shown.join('\n') });
      continue;
    }
    // Before the first `whippet up` only local steps make sense; a call there would find nothing listening.
    const gateway = up?.url ?? 'http://127.0.0.1:8080';
    const command = step.command.replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`);
    let out = '';
    await holdsWithin(async () => matchesOutput(expected, out = await sh(command, dir, vars, gateway)),
      up !== undefined && isRead(step.command) ? 15_000 : 0, 200);
    t.ok(matchesOutput(expected, out), `$ ${step.command}`, { found: out, wanted: expected.join('\n') });
  }
  if (up !== undefined) {
    t.same(await up.stop('SIGINT'), { code: 0, signal: null }, 'the last stack stops with exit 0');
    t.same([...everyPid].filter(alive), [], 'no watchdog of any run is left');
  }
  // A reader who follows the walkthrough in their checkout must not end up with changed tracked files.
  t.same(changedFiles(examplesBefore, filesBelow(join(dir, 'examples'))), [], 'the walkthrough leaves examples/ as it was (it works on a copy)');
}
