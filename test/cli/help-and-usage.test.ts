// `whippet --help` and each user-path command's --help list their options; a wrong argument prints
// what was wrong and the command's usage, exit code 2.

import t from 'tap';
import { fileURLToPath } from 'node:url';
import { FWATCHDOG, runWhippet } from '../helpers/up-process.js';
import { expectedSpawnMethod } from '../helpers/spawn-backends.js';
import { deadPort, startUpstream } from '../helpers/start-router.js';

t.test('--help lists the commands and each command its options', async (t) => {
  const top = await runWhippet(['--help']);
  t.equal(top.code, 0);
  for (const c of ['watchdog', 'router', 'worker', 'up', 'invoke', 'calls', 'new', 'build']) t.match(top.stdout, new RegExp(`whippet ${c} `));
  const options: Record<string, string[]> = {
    new: ['[name]', '--list', '--lang', '--stack', '--handler', 'bash, node, node-http, python3'],
    build: ['[names..]', '--file', '-f'],
    up: ['[stack]', '--file', '--port', '--log-format', 'default: "8080"'],
    invoke: ['<name>', '--async', '--callback', '--header', '--method', '--query', '--gateway', 'OPENFAAS_URL'],
  };
  for (const [cmd, flags] of Object.entries(options)) {
    const help = await runWhippet([cmd, '--help']);
    t.equal(help.code, 0, `${cmd} --help exits 0`);
    t.match(help.stdout, `whippet ${cmd}`);
    for (const f of flags) t.match(help.stdout, f, `${cmd} --help shows ${f}`);
  }
});

t.test('wrong arguments: what was wrong, the usage, exit code 2', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['up', '--port', 'abc'], /--port: expected a port number from 0 to 65535, got "abc"/],
    [['up', 'a.yml', '-f', 'b.yml'], /give the stack file once/],
    [['up', '--bogus'], /Unknown argument: bogus/],
    [['invoke'], /Not enough non-option arguments|Missing required argument: name/],
    [['invoke', 'echo', '--callback', 'http://127.0.0.1:1/'], /--callback needs --async/],
    [['invoke', 'echo', '-H', 'no-equals'], /--header: expected 'Key: Value' or key=value with a header name, got "no-equals"/],
    [['invoke', 'echo', '--gateway', 'ftp://x'], /--gateway: expected an http\(s\) URL/],
    [['new', 'fn'], /--lang is required: one of bash, node, node-http, python3 \(whippet new --list\)/],
    [['new'], /name the function: whippet new <name> --lang <template> \(or whippet new --list\)/],
    [['build', '--nope'], /Unknown argument: nope/],
  ];
  for (const [args, why] of cases) {
    const res = await runWhippet(args);
    t.equal(res.code, 2, `${args.join(' ')}: exit code 2`, { stderr: res.stderr });
    t.match(res.stderr, why, `${args.join(' ')}: says what was wrong`);
    t.match(res.stderr, new RegExp(`whippet ${args[0]} `), `${args.join(' ')}: shows the usage`);
    t.equal(res.stdout, '', `${args.join(' ')}: nothing on stdout`);
  }
});

t.test('a usage error stops before the command runs', async (t) => {
  // yargs runs a command's handler after its own validation failed unless fail() ends the parse: here an
  // unknown flag would still have sent the call.
  const router = await startUpstream(t, (_req, res) => { res.end('called'); });
  const res = await runWhippet(['invoke', 'echo', '--bogus', '--gateway', router.url], { input: 'x' });
  t.equal(res.code, 2, 'exit code 2', { stderr: res.stderr });
  t.match(res.stderr, /Unknown argument: bogus/);
  t.equal(router.requests.length, 0, 'no call reached the router');
  t.equal(res.stdout, '');
});

t.test('a flag without its value: the command\'s usage and what was missing, never a stack trace', async (t) => {
  for (const args of [['watchdog', '--port'], ['router', '--port'], ['worker', '--queue']]) {
    const res = await runWhippet(args);
    t.equal(res.code, 2, `${args.join(' ')}: exit code 2`, { stderr: res.stderr });
    t.match(res.stderr, new RegExp(`Not enough arguments following: ${args[1]!.slice(2)}\\n$`), `${args.join(' ')}: says what was missing, last`);
    t.match(res.stderr, new RegExp(`^whippet ${args[0]}\\n`), `${args.join(' ')}: the usage is the command's own`);
    t.notMatch(res.stderr, /\bat .*\.js:\d+/, `${args.join(' ')}: no stack trace`);
  }
  const watchdog = await runWhippet(['watchdog', '--port']);
  t.match(watchdog.stderr, '--read-timeout', "the watchdog's options are listed");
  t.match(watchdog.stderr, 'Spawn path here with spawn_backend=auto', 'with the spawn path line');
});

t.test('refusals that are not usage errors exit 1 with a message', async (t) => {
  const dir = t.testdir({ 'stack.yml': 'functions:\n  a:\n    lang: rust\n    handler: ./a\n' });
  const unknown = await runWhippet(['new', 'x', '--lang', 'cobol'], { cwd: dir });
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, 'whippet new: unknown template "cobol"; installed: bash, node, node-http, python3');
  const bad = await runWhippet(['build'], { cwd: dir });
  t.equal(bad.code, 1);
  t.match(bad.stderr, 'whippet build: stack.yml: functions.a.lang: unknown template "rust"');
  const missing = await runWhippet(['up', 'nope.yml'], { cwd: dir });
  t.equal(missing.code, 1);
  t.match(missing.stderr, 'whippet up: nope.yml: cannot read the stack file (ENOENT)');
  const down = await runWhippet(['invoke', 'echo', '--gateway', 'http://127.0.0.1:1']);
  t.equal(down.code, 1);
  t.match(down.stderr, /cannot reach the router at http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/);
  const closed = await deadPort(); // not port 1: fetch refuses it as a bad port before connecting
  const callsDown = await runWhippet(['calls', 'list', '--gateway', `http://127.0.0.1:${closed}`]);
  t.equal(callsDown.code, 1);
  t.match(callsDown.stderr, `whippet calls: cannot reach the router at http://127.0.0.1:${closed} (ECONNREFUSED); is \`whippet up\` running?`, 'calls says it as invoke does');
});

t.test('watchdog --help says which spawn path spawn_backend=auto takes on this machine', async (t) => {
  const help = await runWhippet(['watchdog', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, `Spawn path here with spawn_backend=auto: native (${expectedSpawnMethod(undefined)}).`);
  const capped = await runWhippet(['watchdog', '--help'], { env: { spawn_method: 'posix_spawn' } });
  t.match(capped.stdout, `Spawn path here with spawn_backend=auto: native (${expectedSpawnMethod('posix_spawn')}).`, 'spawn_method=posix_spawn: glibc posix_spawn');
});

t.test('fwatchdog is the watchdog on its own: its usage reads `fwatchdog [options]`', async (t) => {
  const help = await runWhippet(['--help'], { script: FWATCHDOG });
  t.equal(help.code, 0);
  t.match(help.stdout, /^fwatchdog\n/, 'the usage names the script, not "fwatchdog watchdog"');
  t.notMatch(help.stdout, /fwatchdog watchdog|whippet/, 'and offers no other command');
  t.match(help.stdout, '--read-timeout');
  t.match(help.stdout, 'Spawn path here with spawn_backend=auto');
  const wrong = await runWhippet(['--bogus'], { script: FWATCHDOG });
  t.equal(wrong.code, 2, 'a usage error exits 2', { stderr: wrong.stderr });
  t.match(wrong.stderr, /^fwatchdog\n/);
  t.match(wrong.stderr, /Spawn path here with spawn_backend=auto: .*\n\nUnknown argument: bogus\n$/, 'the spawn path line, then what was wrong');
  t.equal(wrong.stdout, '');
});

t.test('node dist/cli/main.js and dist/cli/fwatchdog.js, the ES module entries, run the same commands', async (t) => {
  const esm = (file: string): string => fileURLToPath(new URL(`../../dist/cli/${file}`, import.meta.url));
  const [viaEsm, viaCjs] = await Promise.all([runWhippet(['--version'], { script: esm('main.js') }), runWhippet(['--version'])]);
  t.equal(viaEsm.code, 0);
  t.equal(viaEsm.stdout, viaCjs.stdout, 'the same version line');
  const wrong = await runWhippet(['router', '--bogus'], { script: esm('main.js') });
  t.equal(wrong.code, 2, 'a usage error exits 2 through it too');
  const help = await runWhippet(['--help'], { script: esm('fwatchdog.js') });
  t.equal(help.code, 0);
  t.match(help.stdout, /^fwatchdog\n/);
});
