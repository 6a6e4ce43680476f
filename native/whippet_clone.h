// The bottom layer: making one child. Plain C on Linux syscalls; knows nothing of Node, libuv or pipes.
#ifndef WHIPPET_CLONE_H
#define WHIPPET_CLONE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/types.h>

/** How a child is made, best first. A cap (the watchdog's spawn_method) names the best one a spawn may use. */
typedef enum spawn_method { METHOD_CLONE3, METHOD_CLONE, METHOD_POSIX_SPAWN } spawn_method;

/** What the child is given besides its program. */
typedef struct child_setup {
  const char *cwd;  // NULL: ours
  int fds[3];       // become its stdin, stdout, stderr (all above 2)
  // PR_SET_PDEATHSIG(SIGKILL) before exec, so the child dies with the thread that made it (see clone_exec).
  int die_with_parent;
} child_setup;

/** Spawns `path` (no PATH search) as posix_spawn would, by clone with vfork semantics: own process group, empty
 * signal mask, every signal at SIG_DFL, the setup's fds and cwd. Uses the best method up to `cap` that this
 * kernel (and its seccomp filter) allows. Returns 0 with *pid and *pidfd, the errno of a failed setup or exec
 * (the child is reaped), or -1 when only METHOD_POSIX_SPAWN is left: the caller uses glibc's posix_spawn then,
 * which cannot honour die_with_parent. Touches no JS: safe on any thread. */
int clone_exec(const char *path, char **argv, char **envp, const child_setup *setup, spawn_method cap, pid_t *pid,
               int *pidfd);

/** The method a spawn capped at `cap` uses here (settled on first use, by a probe if need be). */
spawn_method clone_method(spawn_method cap);

/** "clone3", "clone" or "posix_spawn". */
const char *method_name(spawn_method method);

#endif
