// A watchdog killed with SIGKILL (or by the OOM killer) runs no code of its own, so a long-running child in its
// own process group (http mode's function process) would outlive it and keep its port. The native clone
// methods set PR_SET_PDEATHSIG in the child, which ends the child itself; where nothing can run in the child
// before exec (child_process, glibc's posix_spawn), and for whatever the child started in its group (a shell
// script's server), this watcher kills the whole group from outside.
//
// The choice: a `/bin/sh` that blocks reading a pipe only this process writes to. The kernel closes our end
// whenever this process ends, however it ends; `read` then sees EOF and the shell SIGKILLs the child's group.
// (`setpriv --pdeathsig` would need util-linux in every function image and still leaves the fork-to-prctl race;
// an 'exit' handler never runs on SIGKILL.) The watcher leads its own group, so signals to the watchdog's group
// (a terminal's Ctrl-C) do not end it first, and stop() ends it once the child has been reaped.

import { spawn } from 'node:child_process';

export interface ParentDeathWatcher {
  /** End the watcher: call once the child has been reaped, before its pgid can be reused. */
  stop(): void;
}

/** Watches for this process's death and then SIGKILLs process group `pgid`. */
export function killGroupWhenParentDies(pgid: number): ParentDeathWatcher {
  // `kill -9 -PGID` is the spelling dash, bash and busybox all accept; $0 is the pgid.
  const watcher = spawn('/bin/sh', ['-c', 'read _; kill -9 -"$0"', String(pgid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
    env: {},
  });
  watcher.on('error', () => {}); // no /bin/sh: the child merely lacks the guarantee, as before
  watcher.stdin.on('error', () => {});
  // Neither the watcher nor its idle pipe may keep the event loop alive.
  watcher.unref();
  (watcher.stdin as unknown as { unref?(): void }).unref?.();
  return {
    stop() {
      if (watcher.exitCode === null && watcher.signalCode === null) watcher.kill('SIGKILL');
      watcher.stdin.destroy();
    },
  };
}
