// The portable spawn path: node:child_process with `detached: true`, so the child leads its own process
// group and killGroup reaches grandchildren. Costs a fork of the whole Node process per spawn.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { killGroupWhenParentDies } from './parent-death.js';
import type { ExitStatus, SpawnBackend, SpawnedProcess, SpawnOptions } from './types.js';

class ChildProcessSpawned implements SpawnedProcess {
  readonly pid: number;
  readonly stdin;
  readonly stdout;
  readonly stderr;
  readonly exited: Promise<ExitStatus>;

  constructor(child: ChildProcessWithoutNullStreams) {
    this.pid = child.pid!;
    this.stdin = child.stdin;
    this.stdout = child.stdout;
    this.stderr = child.stderr;
    // 'exit', not 'close': 'close' waits for every holder of the pipes, grandchildren included.
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
  }

  killGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
}

function spawnChild(options: SpawnOptions): Promise<SpawnedProcess> {
  const child = spawn(options.file, options.args as string[], {
    env: options.env,
    cwd: options.cwd,
    detached: true,
    stdio: 'pipe',
  });
  if (child.pid !== undefined) {
    // Errors after a successful start (EPIPE on stdin) are the runners' to handle on the streams.
    child.on('error', () => {});
    if (options.dieWithParent) {
      const watcher = killGroupWhenParentDies(child.pid);
      child.once('exit', () => watcher.stop());
    }
    return Promise.resolve(new ChildProcessSpawned(child));
  }
  // libuv reports a failed exec (ENOENT, EACCES) on the next tick through 'error'.
  return new Promise((_, reject) => child.once('error', reject));
}

/** The child_process backend. */
export function createChildProcessBackend(): SpawnBackend {
  return { name: 'child_process', spawn: spawnChild };
}
