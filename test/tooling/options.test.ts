import t from 'tap';
import {
  ConfigError, flagName, loadOptions, parseBoolean, parseBytes, parseNonEmpty, parseNonNegativeInt, parseOneOf,
  parsePort, parsePositiveDurationMs, parsePositiveInt, parseDurationMs, yargsOptions, type OptionSpec,
} from '../../common/options.js';

const TABLE = {
  port: { env: ['port'], describe: 'listen port', default: '8080', parse: parsePort },
  execTimeoutMs: { env: ['exec_timeout'], describe: 'hard limit', default: '30s', parse: parseDurationMs },
  fprocess: { env: ['fprocess', 'function_process'], describe: 'command', parse: parseNonEmpty },
  debug: { env: ['write_debug'], describe: 'log bodies', default: 'false', boolean: true, parse: parseBoolean },
} satisfies Record<string, OptionSpec<unknown>>;

t.test('flag beats env beats default', async (t) => {
  const c = loadOptions(TABLE, { port: '9000' }, { port: '7000', exec_timeout: '5s' });
  t.equal(c.port, 9000);
  t.equal(c.execTimeoutMs, 5000);
  t.equal(c.fprocess, undefined);
  t.equal(c.debug, false);
  t.ok(Object.isFrozen(c));
});

t.test('aliases are read when the canonical name is absent; repeated flags keep the last', async (t) => {
  const c = loadOptions(TABLE, { port: ['1', '2'] }, { function_process: 'cat' });
  t.equal(c.fprocess, 'cat');
  t.equal(c.port, 2);
});

t.test('a bare boolean flag means true', async (t) => {
  t.equal(loadOptions(TABLE, { 'write-debug': '' }, {}).debug, true);
});

t.test('every problem is listed at once with variable, source and value', async (t) => {
  const err = t.throws(() => loadOptions(TABLE, { 'exec-timeout': 'soon' }, { port: '-1' })) as ConfigError;
  t.equal(err.code, 'ERR_CONFIG');
  t.equal(err.problems.length, 2);
  t.match(err.problems[0], /^port \(env port\): .*"-1"/);
  t.match(err.problems[1], /^exec_timeout \(--exec-timeout\): .*"soon"/);
  t.match(err.message, /invalid configuration:\n {2}- port/);
});

t.test('cross-field checks run after parsing', async (t) => {
  t.throws(() => loadOptions(TABLE, {}, {}, (c) => (c.fprocess === undefined ? ['fprocess: required'] : [])),
    { code: 'ERR_CONFIG', message: /fprocess: required/ });
});

t.test('yargs declarations carry env names and defaults', async (t) => {
  const y = yargsOptions(TABLE) as Record<string, { describe: string; alias: string[]; defaultDescription: string }>;
  t.match(y['exec-timeout'], { defaultDescription: '30s', alias: [] });
  t.match(y['fprocess'], { alias: ['function-process'], defaultDescription: 'none' });
  t.match(y['fprocess']!.describe, /env: fprocess, function_process/);
  t.equal(flagName('max_retry_wait'), 'max-retry-wait');
});

t.test('parsers accept what they document and reject the rest', async (t) => {
  t.equal(parsePort('0'), 0);
  t.equal(parsePort('65535'), 65535);
  for (const bad of ['65536', '-1', 'x', '1.5']) t.throws(() => parsePort(bad), bad);
  t.equal(parseNonNegativeInt('0'), 0);
  t.throws(() => parseNonNegativeInt('-3'));
  t.throws(() => parseNonNegativeInt('99999999999999999999'));
  t.equal(parsePositiveInt('010'), 10);
  t.throws(() => parsePositiveInt('0'));
  for (const v of ['true', '1', 'YES', 'on']) t.equal(parseBoolean(v), true, v);
  for (const v of ['false', '0', 'no', 'Off']) t.equal(parseBoolean(v), false, v);
  t.throws(() => parseBoolean('maybe'));
  t.throws(() => parseNonEmpty('  '));
  t.equal(parsePositiveDurationMs('1s'), 1000);
  t.throws(() => parsePositiveDurationMs('0'));
  const mode = parseOneOf(['a', 'b'] as const);
  t.equal(mode('b'), 'b');
  t.throws(() => mode('c'), { message: /one of a, b, got "c"/ });
  t.equal(parseBytes('1048576'), 1048576);
  t.equal(parseBytes('512k'), 512 * 1024);
  t.equal(parseBytes('1MiB'), 1024 * 1024);
  t.equal(parseBytes('2g'), 2 * 1024 ** 3);
  t.throws(() => parseBytes('lots'));
});
