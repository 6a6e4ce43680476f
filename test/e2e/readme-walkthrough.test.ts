// The README walkthrough (README.md) run for real: every ```console step is executed
// in order against `whippet up examples/stack.yml` on a free port (a copy of examples/ in a temp dir),
// and its output must match what the README shows. `$ whippet up` steps restart the stack (Ctrl-C first).

import { spawn } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { consoleSteps, matchesOutput } from '../cli/readme-blocks.js';
import { alive, CLI, cleanEnv, startUp, type Up } from '../cli/up-process.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const steps = consoleSteps(readFileSync(join(ROOT, 'README.md'), 'utf8'));

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

t.test('every README console step gives the output the README shows', { timeout: 240_000 }, async (t) => {
  t.ok(steps.length >= 15, `the walkthrough has its steps (${steps.length})`);
  const dir = t.testdir();
  cpSync(join(ROOT, 'examples'), join(dir, 'examples'), { recursive: true, filter: (src) => !src.includes('.whippet') });
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
    if (up === undefined) throw new Error(`step before any whippet up: ${step.command}`);
    const command = step.command.replaceAll('127.0.0.1:8080', `127.0.0.1:${up.port}`);
    const deadline = Date.now() + (isRead(step.command) ? 15_000 : 0);
    let out = await sh(command, dir, vars, up.url);
    while (!matchesOutput(expected, out) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      out = await sh(command, dir, vars, up.url);
    }
    t.ok(matchesOutput(expected, out), `$ ${step.command}`, { found: out, wanted: expected.join('\n') });
  }
  if (up !== undefined) {
    t.same(await up.stop('SIGINT'), { code: 0, signal: null }, 'the last stack stops with exit 0');
    t.same([...everyPid].filter(alive), [], 'no watchdog of any run is left');
  }
});
