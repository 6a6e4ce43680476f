// What `whippet up` kills when it cannot wait (stack/process-tree.ts): the watchdog, and every process group
// among its descendants (the function processes lead groups of their own), never this process's own group
// nor the groups 0 and 1.

import { spawn } from 'node:child_process';
import t from 'tap';
import { killProcessTree, treeGroups, type ProcessRow } from '../../stack/process-tree.js';
import { alive, descendants } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

t.test('the groups of a tree, from a table', async (t) => {
  const table: ProcessRow[] = [
    { pid: 1, ppid: 0, pgid: 1 },
    { pid: 50, ppid: 1, pgid: 50 }, // this process (up), in the terminal's group 50
    { pid: 100, ppid: 50, pgid: 100 }, // the watchdog leads its group
    { pid: 101, ppid: 100, pgid: 101 }, // a handler in a group of its own
    { pid: 102, ppid: 101, pgid: 101 }, // its child (sleep), same group
    { pid: 103, ppid: 102, pgid: 103 }, // a grandchild that made a group of its own
    { pid: 104, ppid: 100, pgid: 50 }, // a child in up's own group: never killed by group
    { pid: 105, ppid: 100, pgid: 0 },
    { pid: 200, ppid: 50, pgid: 200 }, // another watchdog: not in this tree
  ];
  t.same([...treeGroups(100, table, 50)].sort((a, b) => a - b), [100, 101, 103]);
  t.same([...treeGroups(999, table, 50)], [], 'a root that is gone: nothing');
});

t.test('kills the root and every group below it, grandchildren included', async (t) => {
  // A root that starts a child in a new group (detached), which starts a sleep of its own.
  const script = `
    const { spawn } = require('node:child_process');
    const child = spawn('/bin/sh', ['-c', 'sleep 300 & wait'], { detached: true, stdio: 'ignore' });
    console.log('ready');
    setInterval(() => {}, 1000);
  `;
  const root = spawn(process.execPath, ['-e', script], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  t.teardown(() => { for (const p of [root.pid!, ...descendants(root.pid!)]) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } } });
  await new Promise<void>((resolve) => root.stdout!.once('data', () => resolve()));
  await waitFor(() => descendants(root.pid!).length >= 2, 5_000, 'the child and its sleep');
  const tree = [root.pid!, ...descendants(root.pid!)];
  killProcessTree(root.pid!);
  await waitFor(() => tree.every((p) => !alive(p)), 5_000, 'every process of the tree gone');
  t.pass(`${tree.length} processes gone`);
  t.ok(alive(process.pid), 'this process is untouched');
});
