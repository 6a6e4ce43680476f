// For every template: `whippet new` + `whippet up` + `whippet invoke` returns the handler's output, and
// the watchdog ran with the build folder Dockerfile's ENV plus the stack's environment (the stack wins):
// each handler prints the settings it sees, and the test reads the build folder's Dockerfile itself.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse as parseYaml, stringify } from 'yaml';
import { dockerfileEnv, parseDockerfile } from '../../stack/dockerfile.js';
import { runWhippet, startUp } from '../helpers/up-process.js';

const KEYS = ['fprocess', 'mode', 'read_timeout', 'write_timeout', 'exec_timeout', 'upstream_url', 'greeting'];
const STACK_ENV = { exec_timeout: '7s', greeting: 'hi from the stack' };

// A handler per template that prints KEYS=value lines from its environment.
const HANDLERS: Record<string, { file: string; code: string }> = {
  bash: { file: 'handler.sh', code: `#!/usr/bin/env bash\nfor k in ${KEYS.join(' ')}; do printf '%s=%s\\n' "$k" "\${!k-<unset>}"; done\n` },
  node: { file: 'handler.js', code: `module.exports = async () => ${JSON.stringify(KEYS)}.map((k) => k + '=' + (process.env[k] ?? '<unset>') + '\\n').join('');\n` },
  python3: { file: 'handler.py', code: `import os\n\ndef handle(req):\n    return "".join("%s=%s\\n" % (k, os.environ.get(k, "<unset>")) for k in ${JSON.stringify(KEYS)})\n` },
  'node-http': { file: 'handler.js', code: `module.exports = async () => ({ statusCode: 200, body: ${JSON.stringify(KEYS)}.map((k) => k + '=' + (process.env[k] ?? '<unset>') + '\\n').join('') });\n` },
};

t.test('new + up + invoke for every template, with the Dockerfile ENV and the stack environment', { timeout: 180_000 }, async (t) => {
  const dir = t.testdir();
  for (const [lang, h] of Object.entries(HANDLERS)) {
    const made = await runWhippet(['new', `fn-${lang}`, '--lang', lang], { cwd: dir });
    t.equal(made.code, 0, `whippet new fn-${lang} --lang ${lang}`, { stderr: made.stderr });
    t.match(made.stdout, `Created fn-${lang}/ from the ${lang} template`);
    writeFileSync(join(dir, `fn-${lang}`, h.file), h.code);
  }
  const again = await runWhippet(['new', 'fn-bash', '--lang', 'bash'], { cwd: dir });
  t.equal(again.code, 1, 'an existing name is refused');
  t.match(again.stderr, /fn-bash/);
  // The stack's environment goes on top of each function's Dockerfile ENV.
  const stackFile = join(dir, 'stack.yml');
  const stack = parseYaml(readFileSync(stackFile, 'utf8')) as { functions: Record<string, Record<string, unknown>> };
  t.same(Object.keys(stack.functions), Object.keys(HANDLERS).map((l) => `fn-${l}`));
  for (const fn of Object.values(stack.functions)) fn['environment'] = STACK_ENV;
  writeFileSync(stackFile, stringify(stack));

  const up = await startUp(t, dir, ['stack.yml']);
  for (const lang of Object.keys(HANDLERS)) {
    const name = `fn-${lang}`;
    const folder = join(dir, '.whippet', 'up', name);
    const docker = dockerfileEnv(parseDockerfile(readFileSync(join(folder, 'Dockerfile'), 'utf8')));
    t.equal(readFileSync(join(folder, 'function', HANDLERS[lang]!.file), 'utf8'), HANDLERS[lang]!.code, `${name}: the handler is in the build folder`);
    const res = await runWhippet(['invoke', name, '--gateway', up.url], { input: 'ignored' });
    t.equal(res.code, 0, `whippet invoke ${name}`, { stderr: res.stderr });
    const seen = Object.fromEntries(res.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    const want: Record<string, unknown> = Object.fromEntries(KEYS.map((k) => [k, { ...docker, ...STACK_ENV }[k] ?? '<unset>']));
    t.equal(docker['exec_timeout'], '30s', `${name}: the Dockerfile says exec_timeout=30s`);
    if (lang === 'node-http') {
      // up gives http-mode functions a free upstream port instead of the template's 3000.
      t.match(seen['upstream_url'], /^http:\/\/127\.0\.0\.1:\d+$/);
      t.not(seen['upstream_url'], docker['upstream_url']);
      want['upstream_url'] = seen['upstream_url'];
    }
    t.same(seen, want, `${name}: the handler saw the Dockerfile ENV with the stack's environment on top`);
    // The watchdog's own start-up line shows the same settings.
    const starting = up.stderr().split('\n').find((l) => l.startsWith(`[${name}] `) && / starting /.test(l));
    t.match(starting, `mode=${docker['mode']}`, `${name}: watchdog mode from the Dockerfile`);
    t.match(starting, 'execTimeout=7s', `${name}: exec_timeout from the stack`);
    t.match(starting, `readTimeout=${docker['read_timeout']}`, `${name}: read_timeout from the Dockerfile`);
  }
  t.same(await up.stop('SIGINT'), { code: 0, signal: null });
});
