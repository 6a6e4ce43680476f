// The one mapping from what a command throws to its exit code.
import t from 'tap';
import { RefusedError, RouterUnreachableError, UsageError, exitCodeFor } from '../../cli/errors.js';
import { ConfigError } from '../../common/options.js';
import { WhippetError } from '../../common/errors.js';

function capture(err: unknown): { code: number; text: string; usageShown: boolean } {
  let text = '';
  let usageShown = false;
  const code = exitCodeFor(err, { prefix: 'whippet test', showUsage: () => { usageShown = true; }, write: (chunk) => { text += chunk; } });
  return { code, text, usageShown };
}

t.test('a usage error shows the usage and what was wrong, exit 2', async (t) => {
  t.same(capture(new UsageError('--port: expected a port')), { code: 2, text: '\n--port: expected a port\n', usageShown: true });
});

t.test('a failure the project knows is one line, exit 1', async (t) => {
  t.same(capture(new RefusedError('unknown template "cobol"')), { code: 1, text: 'whippet test: unknown template "cobol"\n', usageShown: false });
  t.same(capture(new RouterUnreachableError('cannot reach the router')), { code: 1, text: 'whippet test: cannot reach the router\n', usageShown: false });
  t.same(capture(new ConfigError(['queue: bad'])), { code: 1, text: 'whippet test: invalid configuration:\n  - queue: bad\n', usageShown: false });
  t.same(capture(new WhippetError('QUEUE_ERR_X', 'the queue is away', 503)), { code: 1, text: 'whippet test: the queue is away\n', usageShown: false });
});

t.test('a port in use names the port', async (t) => {
  const inUse = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE', syscall: 'listen', port: 8080 });
  t.same(capture(inUse), { code: 1, text: 'whippet test: port 8080 is in use; pick another with --port\n', usageShown: false });
});

t.test('anything else is a bug and is thrown on, stack trace and all', async (t) => {
  const bug = new TypeError('x is undefined');
  t.throws(() => capture(bug), bug);
});

t.test('CLI errors carry CLI_ERR_ codes', async (t) => {
  t.equal(new UsageError('x').code, 'CLI_ERR_USAGE');
  t.equal(new RefusedError('x').code, 'CLI_ERR_REFUSED');
  t.equal(new RouterUnreachableError('x').code, 'CLI_ERR_ROUTER_UNREACHABLE');
  t.ok(new UsageError('x') instanceof WhippetError);
});
