// whippet_spawn: spawn children with posix_spawn (vfork semantics: the Node process is never copied)
// and reap them with a pidfd watched by a libuv poll handle, so libuv's own children are never touched.
//
// Exports:
//   spawn(file, argv, argc, envp, envc, cwd, onExit) -> [pid, stdinFd, stdoutFd, stderrFd] | errno
//   spawn(file, argv, argc, envp, envc, cwd, onExit, onSpawn) -> undefined; onSpawn(result) later, with the
//     same result, after the spawn ran on a libuv pool thread (the event loop is not blocked meanwhile).
//     argv / envp are NUL-separated strings (argv includes argv[0]); cwd is a string or null.
//     onExit(code, signal) is called once, from the event loop, after the child has been reaped:
//     code >= 0 and signal 0 for a normal exit, code -1 and signal > 0 when a signal ended it.
//     Before the child is reaped its whole process group gets SIGKILL (its pid, hence its pgid, cannot be reused
//     yet), so nothing needs to signal the group after onExit.
//     A file that is executable but no binary and has no #! line (ENOEXEC) is run by /bin/sh, as execvp does.
//   killGroup(pgid, signal) -> 0 | errno   (kill(-pgid, signal), without a JS exception for ESRCH)
//   probe() -> 0 | errno   (checks that pidfd_open works here: old kernels and some seccomp filters lack it)
//   method() -> 'clone3' | 'clone' | 'posix_spawn'   (how children are made here: whippet_clone.c)

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "whippet.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

typedef struct child {
  uv_poll_t poll;  // first member: the handle pointer is the child pointer
  napi_env env;
  instance *inst;
  napi_ref on_exit;
  pid_t pid;
  int pidfd;
  struct child *prev, *next;
} child;

static int pidfd_open_(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

static void unlink_child(child *c) {
  if (c->prev) c->prev->next = c->next;
  else c->inst->children = c->next;
  if (c->next) c->next->prev = c->prev;
  c->prev = c->next = NULL;
}

static void on_poll_closed(uv_handle_t *handle) {
  child *c = (child *)handle;
  close(c->pidfd);
  free(c);
}

static void call_on_exit(child *c, int code, int sig) {
  napi_env env = c->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, argv[2], result;
  if (napi_get_reference_value(env, c->on_exit, &cb) == napi_ok && cb != NULL &&
      napi_get_global(env, &recv) == napi_ok && napi_create_int32(env, code, &argv[0]) == napi_ok &&
      napi_create_int32(env, sig, &argv[1]) == napi_ok) {
    // make_callback (not call_function): runs the microtask queue, so the JS promise settles now.
    if (napi_make_callback(env, c->inst->async_context, recv, cb, 2, argv, &result) == napi_pending_exception) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    }
  }
  napi_close_handle_scope(env, scope);
}

static void on_pidfd_readable(uv_poll_t *handle, int status, int events) {
  (void)events;
  child *c = (child *)handle;
  int code, sig;
  if (!reap_child(c->pid, status, &code, &sig)) return;  // not yet waitable; poll again
  // rc != 0 (ECHILD: somebody else reaped it) reports code -1 / signal 0, which JS maps to null / null.
  uv_poll_stop(handle);
  unlink_child(c);
  // Close first: the pidfd then goes in this loop iteration's close phase, whatever the callback does.
  // c stays valid until on_poll_closed runs.
  uv_close((uv_handle_t *)handle, on_poll_closed);
  call_on_exit(c, code, sig);
  napi_delete_reference(c->env, c->on_exit);
}

int reap_child(pid_t pid, int poll_status, int *code, int *sig) {
  siginfo_t info;
  memset(&info, 0, sizeof info);
  // Still a zombie (or running) here, so its pgid cannot have been reused: what it left in its group ends now.
  kill(-pid, SIGKILL);
  // P_PID on our own child's pid: never waits for anything libuv spawned.
  int rc;
  do rc = waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG);
  while (rc < 0 && errno == EINTR);
  if (rc == 0 && info.si_pid == 0) {
    if (poll_status == 0) return 0;
    // The poll failed: we can no longer wait for the exit, so end it (the group got SIGKILL above) and reap.
    kill(pid, SIGKILL);
    do rc = waitid(P_PID, (id_t)pid, &info, WEXITED);
    while (rc < 0 && errno == EINTR);
  }
  *code = -1;
  *sig = 0;
  if (rc == 0 && info.si_pid != 0) {
    if (info.si_code == CLD_EXITED) *code = info.si_status;
    else *sig = info.si_status;
  }
  return 1;
}

// Copies a JS string into a malloc'ed buffer and splits it on NUL into a NULL-terminated vector.
char **split_vector(napi_env env, napi_value str, uint32_t count, char **buffer) {
  size_t len;
  *buffer = NULL;
  if (napi_get_value_string_utf8(env, str, NULL, 0, &len) != napi_ok) return NULL;
  char *buf = malloc(len + 1);
  char **vec = malloc((count + 1) * sizeof(char *));
  if (buf == NULL || vec == NULL) goto fail;
  if (napi_get_value_string_utf8(env, str, buf, len + 1, &len) != napi_ok) goto fail;
  char *p = buf, *end = buf + len;
  for (uint32_t i = 0; i < count; i++) {
    if (p > end) goto fail;
    vec[i] = p;
    p += strlen(p) + 1;
  }
  vec[count] = NULL;
  *buffer = buf;
  return vec;
fail:
  free(buf);
  free(vec);
  return NULL;
}

static const char *find_path(char **envp) {
  for (char **e = envp; *e != NULL; e++)
    if (strncmp(*e, "PATH=", 5) == 0) return *e + 5;
  return "/bin:/usr/bin";  // what execvp uses when PATH is unset (confstr _CS_PATH)
}

// One spawn: the pipes and options, and posix_spawn's attributes, made only when clone_exec cannot be used.
typedef struct spawn_ctx {
  int child[3];  // the pipe ends that become the child's stdin, stdout, stderr
  const char *cwd;
  int *pidfd;  // set by clone_exec; -1 after posix_spawn (the caller opens one)
  int posix_ready;
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
} spawn_ctx;

static int posix_setup(spawn_ctx *s) {
  sigset_t none, all;
  int err;
  if ((err = posix_spawn_file_actions_init(&s->fa)) != 0) return err;
  if ((err = posix_spawnattr_init(&s->attr)) != 0) {
    posix_spawn_file_actions_destroy(&s->fa);
    return err;
  }
  s->posix_ready = 1;
  sigemptyset(&none);
  // Every bit, not sigfillset: glibc's sigfillset leaves out its internal signals 32/33, and its spawn child
  // then sets those to SIG_IGN, which would survive exec (child_process leaves them at SIG_DFL).
  memset(&all, 0xff, sizeof all);
  // Own process group (pgid = pid); empty signal mask; every signal back to SIG_DFL (Node ignores SIGPIPE,
  // and ignored dispositions survive exec).
  if ((err = posix_spawnattr_setflags(&s->attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                    POSIX_SPAWN_SETSIGDEF)) != 0 ||
      (err = posix_spawnattr_setpgroup(&s->attr, 0)) != 0 ||
      (err = posix_spawnattr_setsigmask(&s->attr, &none)) != 0 ||
      (err = posix_spawnattr_setsigdefault(&s->attr, &all)) != 0 ||
      (err = posix_spawn_file_actions_adddup2(&s->fa, s->child[0], 0)) != 0 ||
      (err = posix_spawn_file_actions_adddup2(&s->fa, s->child[1], 1)) != 0 ||
      (err = posix_spawn_file_actions_adddup2(&s->fa, s->child[2], 2)) != 0 ||
      (s->cwd != NULL && (err = posix_spawn_file_actions_addchdir_np(&s->fa, s->cwd)) != 0)) {
    return err;
  }
  return 0;
}

static int exec_path(spawn_ctx *s, pid_t *pid, const char *path, char **argv, char **envp) {
  int err = clone_exec(path, argv, envp, s->cwd, s->child, pid, s->pidfd);
  if (err != -1) return err;
  if (!s->posix_ready && (err = posix_setup(s)) != 0) return err;
  return posix_spawn(pid, path, &s->fa, &s->attr, argv, envp);
}

// Like execvp (and so child_process): a file the kernel refuses as a binary (ENOEXEC: no #! line) is run as a
// shell script, /bin/sh path argv[1]...
static int spawn_one(spawn_ctx *s, pid_t *pid, const char *path, char **argv, char **envp) {
  int err = exec_path(s, pid, path, argv, envp);
  if (err != ENOEXEC) return err;
  size_t argc = 0;
  while (argv[argc] != NULL) argc++;
  char **sh_argv = malloc((argc + 2) * sizeof(char *));
  if (sh_argv == NULL) return ENOMEM;
  sh_argv[0] = "/bin/sh";
  sh_argv[1] = (char *)path;
  for (size_t i = 1; i <= argc; i++) sh_argv[i + 1] = argv[i];  // argv[argc] is the NULL terminator
  if (argc == 0) sh_argv[2] = NULL;
  err = exec_path(s, pid, "/bin/sh", sh_argv, envp);
  free(sh_argv);
  return err;
}

// Searches the CHILD's PATH like execvp (and like child_process), not the parent's as posix_spawnp does.
static int spawn_search(spawn_ctx *s, pid_t *pid, const char *file, char **argv, char **envp) {
  if (*file == '\0') return ENOENT;
  if (strchr(file, '/') != NULL) return spawn_one(s, pid, file, argv, envp);
  const char *path = find_path(envp);
  size_t flen = strlen(file);
  int seen_eacces = 0;
  char candidate[4096];
  for (const char *dir = path;; ) {
    const char *colon = strchrnul(dir, ':');
    size_t dlen = (size_t)(colon - dir);
    if (dlen + flen + 2 <= sizeof candidate) {
      if (dlen == 0) { candidate[0] = '.'; dlen = 1; } else memcpy(candidate, dir, dlen);
      candidate[dlen] = '/';
      memcpy(candidate + dlen + 1, file, flen + 1);
      // access() saves a wasted vfork per missing PATH entry; relative entries depend on cwd, so just try them.
      int relative = candidate[0] != '/' && s->cwd != NULL;
      if (relative || access(candidate, X_OK) == 0) {
        int err = spawn_one(s, pid, candidate, argv, envp);
        if (err == 0) return 0;
        if (err == EACCES) seen_eacces = 1;
        else if (err != ENOENT && err != ENOTDIR) return err;
      } else if (errno == EACCES) {
        seen_eacces = 1;
      }
    }
    if (*colon == '\0') break;
    dir = colon + 1;
  }
  return seen_eacces ? EACCES : ENOENT;
}

// Parent-side ends must not land on 0-2 (dup2(fd, fd) in the child would keep CLOEXEC); move them up.
static int above_stdio(int fd) {
  if (fd > 2) return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  int saved = errno;
  close(fd);
  errno = saved;
  return moved;
}

// stdin, stdout and (unless merged into stdout) stderr.
static int make_pipes(int fds[6], int merge_stderr) {
  for (int i = 0; i < 6; i++) fds[i] = -1;
  for (int i = 0; i < (merge_stderr ? 2 : 3); i++) {
    if (pipe2(&fds[2 * i], O_CLOEXEC) != 0) return errno;
    for (int j = 2 * i; j < 2 * i + 2; j++)
      if ((fds[j] = above_stdio(fds[j])) < 0) return errno;
  }
  return 0;
}

static void close_all(int *fds, int n) {
  for (int i = 0; i < n; i++)
    if (fds[i] >= 0) close(fds[i]);
}

// Returns 0 and sets *out_pid (and *pidfd when clone_exec made one; else -1), or an errno. fds: [in_r, in_w,
// out_r, out_w, err_r, err_w]; with merge_stderr the child's stderr is its stdout pipe too (as `2>&1`, and as
// Go's os/exec does when Stdout == Stderr), and err_r/err_w stay -1.
static int do_spawn(const char *file, char **argv, char **envp, const char *cwd, int fds[6], int merge_stderr,
                    pid_t *out_pid, int *pidfd) {
  *pidfd = -1;
  int err = make_pipes(fds, merge_stderr);
  if (err != 0) return err;
  spawn_ctx s = {.child = {fds[0], fds[3], merge_stderr ? fds[3] : fds[5]}, .cwd = cwd, .pidfd = pidfd};
  err = spawn_search(&s, out_pid, file, argv, envp);
  if (s.posix_ready) {
    posix_spawn_file_actions_destroy(&s.fa);
    posix_spawnattr_destroy(&s.attr);
  }
  return err;
}

// One spawn request: parsed on the main thread, run on the main thread or a libuv pool thread.
typedef struct job {
  instance *inst;
  char *file, *cwd, *argv_buf, *env_buf;
  char **argv, **envp;
  int fds[6];  // [in_r, in_w, out_r, out_w, err_r, err_w]
  pid_t pid;
  int pidfd;
  int err;
  napi_ref on_exit, on_spawn;
  napi_async_work work;
} job;

static void job_free(napi_env env, job *j) {
  if (j->on_exit) napi_delete_reference(env, j->on_exit);
  if (j->on_spawn) napi_delete_reference(env, j->on_spawn);
  free(j->file);
  free(j->cwd);
  free(j->argv_buf);
  free(j->argv);
  free(j->env_buf);
  free(j->envp);
  free(j);
}

char *copy_string(napi_env env, napi_value v) {
  size_t len;
  char *s;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok || (s = malloc(len + 1)) == NULL) return NULL;
  if (napi_get_value_string_utf8(env, v, s, len + 1, &len) != napi_ok) {
    free(s);
    return NULL;
  }
  return s;
}

int spawn_with_pidfd(const char *file, char **argv, char **envp, const char *cwd, int fds[6], int merge_stderr,
                     pid_t *pid, int *pidfd) {
  int err = do_spawn(file, argv, envp, cwd, fds, merge_stderr, pid, pidfd);
  close_all((int[]){fds[0], fds[3], fds[5]}, 3);  // child-side ends belong to the child now
  fds[0] = fds[3] = fds[5] = -1;
  if (err == 0 && *pidfd < 0 && (*pidfd = pidfd_open_(*pid)) < 0) {
    // We cannot watch it, so we must not leave it running unreaped.
    err = errno;
    kill(*pid, SIGKILL);
    while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR) {}
  }
  if (err != 0) close_all(fds, 6);
  return err;
}

// Touches no JS, so it may run on a pool thread. On success the job owns pid, pidfd and the parent-side fds.
static void job_run(job *j) { j->err = spawn_with_pidfd(j->file, j->argv, j->envp, j->cwd, j->fds, 0, &j->pid, &j->pidfd); }

// The errno as a JS number, after clearing whatever exception a failed napi call left; NULL only if even that
// fails.
static napi_value errno_value(napi_env env, int err) {
  bool pending = false;
  napi_value result;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &result);
  return napi_create_int32(env, err, &result) == napi_ok ? result : NULL;
}

// Main thread: start watching the child; returns [pid, stdinFd, stdoutFd, stderrFd] or the errno as a number.
static napi_value job_finish(napi_env env, job *j) {
  napi_value result, v;
  uv_loop_t *loop;
  child *c = NULL;
  if (j->err == 0) {
    if ((c = calloc(1, sizeof(child))) == NULL || napi_get_uv_event_loop(env, &loop) != napi_ok ||
        uv_poll_init(loop, &c->poll, j->pidfd) != 0) {
      free(c);
      close(j->pidfd);
      kill(j->pid, SIGKILL);
      while (waitpid(j->pid, NULL, 0) < 0 && errno == EINTR) {}
      close_all(j->fds, 6);
      j->err = ENOMEM;
    }
  }
  if (j->err != 0) return errno_value(env, j->err);
  c->env = env;
  c->inst = j->inst;
  c->pid = j->pid;
  c->pidfd = j->pidfd;
  c->on_exit = j->on_exit;  // the child owns the reference now
  j->on_exit = NULL;
  uv_poll_start(&c->poll, UV_READABLE, on_pidfd_readable);
  c->next = j->inst->children;
  if (c->next) c->next->prev = c;
  j->inst->children = c;

  int out[4] = {j->pid, j->fds[1], j->fds[2], j->fds[4]};
  int ok = napi_create_array_with_length(env, 4, &result) == napi_ok;
  for (uint32_t i = 0; ok && i < 4; i++) {
    ok = napi_create_int32(env, out[i], &v) == napi_ok && napi_set_element(env, result, i, v) == napi_ok;
  }
  if (ok) return result;
  // JS will never learn the fds or the pid: end the child (the poll handle reaps it and calls onExit) and
  // close our ends; the caller gets an errno instead.
  kill(-j->pid, SIGKILL);
  close_all(j->fds, 6);
  for (int i = 0; i < 6; i++) j->fds[i] = -1;
  return errno_value(env, ENOMEM);
}

static void work_execute(napi_env env, void *data) {
  (void)env;
  job_run(data);
}

static void work_complete(napi_env env, napi_status status, void *data) {
  job *j = data;
  napi_value cb, recv, result;
  if (status != napi_ok) j->err = ECANCELED;  // cannot happen: nothing cancels the work
  result = job_finish(env, j);
  if (result == NULL) result = errno_value(env, ENOMEM);  // the JS promise must settle, whatever failed
  if (result != NULL && napi_get_reference_value(env, j->on_spawn, &cb) == napi_ok &&
      napi_get_global(env, &recv) == napi_ok &&
      napi_call_function(env, recv, cb, 1, &result, NULL) == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
  napi_delete_async_work(env, j->work);
  job_free(env, j);
}

static napi_value js_spawn(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value args[8];
  instance *inst;
  CHECK(napi_get_cb_info(env, info, &argc, args, NULL, (void **)&inst));
  if (argc < 7) {
    napi_throw_type_error(env, NULL, "spawn(file, argv, argc, envp, envc, cwd, onExit[, onSpawn])");
    return NULL;
  }
  uint32_t nargv, nenv;
  napi_valuetype cwd_type, on_spawn_type = napi_undefined;
  CHECK(napi_get_value_uint32(env, args[2], &nargv));
  CHECK(napi_get_value_uint32(env, args[4], &nenv));
  CHECK(napi_typeof(env, args[5], &cwd_type));
  if (argc > 7) CHECK(napi_typeof(env, args[7], &on_spawn_type));

  job *j = calloc(1, sizeof(job));
  if (j == NULL) {
    napi_throw_error(env, "ENOMEM", "spawn: out of memory");
    return NULL;
  }
  j->inst = inst;
  j->pidfd = -1;
  for (int i = 0; i < 6; i++) j->fds[i] = -1;
  j->argv = split_vector(env, args[1], nargv, &j->argv_buf);
  j->envp = split_vector(env, args[3], nenv, &j->env_buf);
  j->file = copy_string(env, args[0]);
  if (cwd_type == napi_string) j->cwd = copy_string(env, args[5]);
  if (j->argv == NULL || j->envp == NULL || j->file == NULL || (cwd_type == napi_string && j->cwd == NULL) ||
      napi_create_reference(env, args[6], 1, &j->on_exit) != napi_ok) {
    job_free(env, j);
    napi_throw_error(env, "ENOMEM", "spawn: cannot copy arguments");
    return NULL;
  }

  if (on_spawn_type != napi_function) {  // synchronous: the event loop waits for the child's exec
    job_run(j);
    napi_value result = job_finish(env, j);
    job_free(env, j);
    return result;
  }
  // On a pool thread: vfork suspends only that thread until the child has exec'd.
  napi_value name;
  if (napi_create_reference(env, args[7], 1, &j->on_spawn) != napi_ok ||
      napi_create_string_utf8(env, "whippet:spawn", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, work_execute, work_complete, j, &j->work) != napi_ok ||
      napi_queue_async_work(env, j->work) != napi_ok) {
    job_free(env, j);
    napi_throw_error(env, "ENOMEM", "spawn: cannot queue the spawn");
    return NULL;
  }
  return NULL;
}

// kill(-pgid, sig) returning the errno instead of throwing: the runners signal a group after every exit,
// and a throw-and-catch of ESRCH per request (process.kill) costs an Error with a stack trace.
static napi_value js_kill_group(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2], result;
  int32_t pgid, sig;
  CHECK(napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  CHECK(napi_get_value_int32(env, args[0], &pgid));
  CHECK(napi_get_value_int32(env, args[1], &sig));
  int err = pgid > 0 && kill(-pgid, sig) != 0 ? errno : (pgid > 0 ? 0 : EINVAL);
  CHECK(napi_create_int32(env, err, &result));
  return result;
}

static napi_value js_probe(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  int fd = pidfd_open_(getpid());
  int err = fd < 0 ? errno : 0;
  if (fd >= 0) close(fd);
  CHECK(napi_create_int32(env, err, &result));
  return result;
}

static napi_value js_method(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  CHECK(napi_create_string_utf8(env, clone_method(), NAPI_AUTO_LENGTH, &result));
  return result;
}

static void cleanup(void *arg) {
  instance *inst = arg;
  run_cleanup(inst);
  // Worker teardown or process exit: stop watching; the children keep running, as with child_process.
  while (inst->children != NULL) {
    child *c = inst->children;
    unlink_child(c);
    uv_poll_stop(&c->poll);
    napi_delete_reference(c->env, c->on_exit);
    uv_close((uv_handle_t *)&c->poll, on_poll_closed);
  }
}

// Not safe while runs or spawns are live in a worker being torn down: cleanup() closes their handles, but the
// close callbacks, queued pool work (work_done) and calls still referencing `inst` may run after this frees it.
// The watchdog loads the addon only on the main thread, where teardown is process exit.
static void finalize_instance(napi_env env, void *data, void *hint) {
  (void)hint;
  instance *inst = data;
  napi_async_destroy(env, inst->async_context);
  free(inst->slots);
  free(inst->gens);
  free(inst->read_buf);
  free(inst);
}

NAPI_MODULE_INIT() {
  instance *inst = calloc(1, sizeof(instance));
  napi_value name, fn;
  if (inst == NULL) return NULL;
  CHECK(napi_create_string_utf8(env, "whippet:spawn", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, NULL, name, &inst->async_context));
  CHECK(napi_set_instance_data(env, inst, finalize_instance, NULL));
  CHECK(napi_add_env_cleanup_hook(env, cleanup, inst));
  CHECK(napi_create_function(env, "spawn", NAPI_AUTO_LENGTH, js_spawn, inst, &fn));
  CHECK(napi_set_named_property(env, exports, "spawn", fn));
  CHECK(napi_create_function(env, "killGroup", NAPI_AUTO_LENGTH, js_kill_group, inst, &fn));
  CHECK(napi_set_named_property(env, exports, "killGroup", fn));
  CHECK(napi_create_function(env, "probe", NAPI_AUTO_LENGTH, js_probe, inst, &fn));
  CHECK(napi_set_named_property(env, exports, "probe", fn));
  CHECK(napi_create_function(env, "method", NAPI_AUTO_LENGTH, js_method, inst, &fn));
  CHECK(napi_set_named_property(env, exports, "method", fn));
  CHECK(run_init(env, exports, inst));
  return exports;
}
