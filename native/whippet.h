// Shared between whippet_spawn.c (spawn + reap, the stream path) and whippet_run.c (the buffered/evented
// run path that does the pipe I/O in C).
#ifndef WHIPPET_H
#define WHIPPET_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <sys/types.h>

#include <node_api.h>
#include <uv.h>

struct child;
struct call;

// One per loaded instance of the addon (main thread or a worker).
typedef struct instance {
  napi_async_context async_context;
  struct child *children;  // live children of spawn(), so the env cleanup hook can close their poll handles
  // run(): live calls by slot; an id is gen << 21 | slot, so a stale id never reaches a reused slot.
  struct call **slots;
  uint32_t *gens;
  uint32_t nslots, used, next_slot;
  napi_ref dispatch;  // JS function(type, a, b, c) called with the call's handle object as `this`
  char *read_buf;     // READ_CHUNK bytes, for emitted output (loop thread only)
} instance;

#define CHECK(call)                     \
  do {                                  \
    if ((call) != napi_ok) return NULL; \
  } while (0)

/** Spawns `file` in its own process group with fresh pipes and opens a pidfd for it. On success returns 0 and
 * leaves the parent ends in fds[1] (stdin), fds[2] (stdout), fds[4] (stderr; -1 with merge_stderr, where the
 * child's stderr is its stdout pipe), the rest -1; on failure returns an errno and closes everything. Touches
 * no JS: safe on a pool thread. */
int spawn_with_pidfd(const char *file, char **argv, char **envp, const char *cwd, int fds[6], int merge_stderr,
                     pid_t *pid, int *pidfd);

/** Spawns `path` (no PATH search) as posix_spawn would, by clone with vfork semantics: own process group, empty
 * signal mask, every signal at SIG_DFL, fds[0..2] as its stdin/stdout/stderr (all above 2), cwd (NULL: ours).
 * Returns 0 with *pid and *pidfd, the errno of a failed setup or exec (the child is reaped), or -1 when this
 * kernel or a seccomp filter refuses the clone: use posix_spawn then (whippet_clone.c). */
int clone_exec(const char *path, char **argv, char **envp, const char *cwd, const int fds[3], pid_t *pid, int *pidfd);

/** How spawns are made here: "clone3", "clone" or "posix_spawn" (settled on first use, by a probe if need be). */
const char *clone_method(void);

/** Copies a JS string into a malloc'ed buffer (*buffer) and splits it on NUL into a NULL-terminated vector of
 * `count` strings; NULL (and nothing allocated) on failure. */
char **split_vector(napi_env env, napi_value str, uint32_t count, char **buffer);

/** Called when a child's pidfd poll fires (`poll_status` from libuv): kills what the child left in its process
 * group while the child is still a zombie (so the pgid cannot have been reused), then reaps the child with
 * waitid(P_PID) -- never anything libuv spawned. Returns 0 when the child is not waitable yet (poll again), else 1
 * with *code (exit code, or -1) and *sig (signal number, or 0); a failed poll kills and reaps with a blocking wait. */
int reap_child(pid_t pid, int poll_status, int *code, int *sig);

/** A JS string copied into a malloc'ed, NUL-terminated buffer; NULL on failure. */
char *copy_string(napi_env env, napi_value v);

napi_status run_init(napi_env env, napi_value exports, instance *inst);
void run_cleanup(instance *inst);

#endif
