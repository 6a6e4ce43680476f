// Above whippet_clone: one spawn as execvp and child_process would do it (PATH search, scripts without #!),
// with fresh pipes and a pidfd, and the reap. Plain C; knows nothing of Node or libuv.
#ifndef WHIPPET_SPAWN_H
#define WHIPPET_SPAWN_H

#include "whippet_clone.h"

typedef struct spawn_request {
  const char *file;  // looked up on the child's PATH when it has no slash
  char **argv, **envp;
  const char *cwd;   // NULL: ours
  int merge_stderr;  // the child's stderr is its stdout pipe (as `2>&1`)
  int die_with_parent;  // see child_setup; honoured by the clone methods only
  spawn_method cap;
} spawn_request;

/** Spawns in its own process group with fresh pipes and a pidfd. On success returns 0 and leaves the parent ends
 * in fds[1] (stdin), fds[2] (stdout), fds[4] (stderr; -1 with merge_stderr), the rest -1; on failure returns an
 * errno and closes everything. Safe on a pool thread. */
int spawn_with_pidfd(const spawn_request *req, int fds[6], pid_t *pid, int *pidfd);

/** Called when a child's pidfd poll fires (`poll_status` from libuv): kills what the child left in its process
 * group while the child is still a zombie (so the pgid cannot have been reused), then reaps the child with
 * waitid(P_PID) -- never anything libuv spawned. Returns 0 when the child is not waitable yet (poll again), else 1
 * with *code (exit code, or -1) and *sig (signal number, or 0); a failed poll kills and reaps with a blocking wait. */
int reap_child(pid_t pid, int poll_status, int *code, int *sig);

/** 0 when pidfd_open works here (old kernels and some seccomp filters lack it), else the errno. */
int pidfd_probe(void);

#endif
