import t from 'tap';
import { splitCommand } from '../../watchdog/command.js';

t.test('splits like a shell: quotes and backslashes honoured, nothing expanded', async (t) => {
  t.same(splitCommand('cat'), ['cat']);
  t.same(splitCommand('  node  index.js  '), ['node', 'index.js']);
  t.same(splitCommand(`sh -c 'echo "a b" | wc -c'`), ['sh', '-c', 'echo "a b" | wc -c']);
  t.same(splitCommand(`python3 "my script.py" --x=1`), ['python3', 'my script.py', '--x=1']);
  t.same(splitCommand(`echo "a \\"q\\" \\$HOME \\n"`), ['echo', 'a "q" $HOME \\n']);
  t.same(splitCommand(`echo a\\ b ''`), ['echo', 'a b', '']);
  t.same(splitCommand('echo $HOME *'), ['echo', '$HOME', '*']);
});

t.test('unbalanced quotes, a trailing backslash and an empty command are errors', async (t) => {
  t.throws(() => splitCommand(`sh -c 'echo`), /closing ' quote/);
  t.throws(() => splitCommand(`echo "a`), /closing " quote/);
  t.throws(() => splitCommand('echo \\'), /trailing backslash/);
  t.throws(() => splitCommand('   '), /expected a command/);
});
