// whippet_streams: spawn() for the stream path. The child is spawned (whippet_spawn.c), its pidfd watched by a
// libuv poll handle (so libuv's own children are never touched), and JS gets the parent-side pipe ends to wrap
// in net.Socket streams.
//
// Exports:
//   spawn(file, argv, argc, envp, envc, cwd, flags, onExit) -> [pid, stdinFd, stdoutFd, stderrFd] | errno
//   spawn(file, argv, argc, envp, envc, cwd, flags, onExit, onSpawn) -> undefined; onSpawn(result) later, with
//     the same result, after the spawn ran on a libuv pool thread (the event loop is not blocked meanwhile).
//     argv / envp are NUL-separated strings (argv includes argv[0]); cwd is a string or null; flags: the method
//     cap and F_DIE_WITH_PARENT (whippet_napi.h).
//     onExit(code, signal) is called once, from the event loop, after the child has been reaped:
//     code >= 0 and signal 0 for a normal exit, code -1 and signal > 0 when a signal ended it.
//     Before the child is reaped its whole process group gets SIGKILL (its pid, hence its pgid, cannot be reused
//     yet), so nothing needs to signal the group after onExit.
//     A file that is executable but no binary and has no #! line (ENOEXEC) is run by /bin/sh, as execvp does.
//   killGroup(pgid, signal) -> 0 | errno   (kill(-pgid, signal), without a JS exception for ESRCH)

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "whippet_streams.h"

typedef struct child {
  uv_poll_t poll;  // first member: the handle pointer is the child pointer
  napi_env env;
  instance *inst;
  napi_ref on_exit;
  pid_t pid;
  int pidfd;
  struct child *prev, *next;
} child;

static void close_all(int *fds, int n) {
  for (int i = 0; i < n; i++)
    if (fds[i] >= 0) close(fds[i]);
}

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

// One spawn request: parsed on the main thread, run on the main thread or a libuv pool thread.
typedef struct job {
  instance *inst;
  char *file, *cwd, *argv_buf, *env_buf;
  char **argv, **envp;
  uint32_t flags;
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

// Touches no JS, so it may run on a pool thread. On success the job owns pid, pidfd and the parent-side fds.
static void job_run(job *j) {
  spawn_request req = {.file = j->file, .argv = j->argv, .envp = j->envp, .cwd = j->cwd,
                       .die_with_parent = (j->flags & F_DIE_WITH_PARENT) != 0, .cap = cap_of(j->flags)};
  j->err = spawn_with_pidfd(&req, j->fds, &j->pid, &j->pidfd);
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

napi_value js_spawn(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value args[9];
  instance *inst;
  CHECK(napi_get_cb_info(env, info, &argc, args, NULL, (void **)&inst));
  if (argc < 8) {
    napi_throw_type_error(env, NULL, "spawn(file, argv, argc, envp, envc, cwd, flags, onExit[, onSpawn])");
    return NULL;
  }
  uint32_t nargv, nenv, flags;
  napi_valuetype cwd_type, on_spawn_type = napi_undefined;
  CHECK(napi_get_value_uint32(env, args[2], &nargv));
  CHECK(napi_get_value_uint32(env, args[4], &nenv));
  CHECK(napi_typeof(env, args[5], &cwd_type));
  CHECK(napi_get_value_uint32(env, args[6], &flags));
  if (argc > 8) CHECK(napi_typeof(env, args[8], &on_spawn_type));

  job *j = calloc(1, sizeof(job));
  if (j == NULL) {
    napi_throw_error(env, "ENOMEM", "spawn: out of memory");
    return NULL;
  }
  j->inst = inst;
  j->flags = flags;
  j->pidfd = -1;
  for (int i = 0; i < 6; i++) j->fds[i] = -1;
  j->argv = split_vector(env, args[1], nargv, &j->argv_buf);
  j->envp = split_vector(env, args[3], nenv, &j->env_buf);
  j->file = copy_string(env, args[0]);
  if (cwd_type == napi_string) j->cwd = copy_string(env, args[5]);
  if (j->argv == NULL || j->envp == NULL || j->file == NULL || (cwd_type == napi_string && j->cwd == NULL) ||
      napi_create_reference(env, args[7], 1, &j->on_exit) != napi_ok) {
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
  if (napi_create_reference(env, args[8], 1, &j->on_spawn) != napi_ok ||
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
napi_value js_kill_group(napi_env env, napi_callback_info info) {
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

void streams_cleanup(instance *inst) {
  // Worker teardown or process exit: stop watching; the children keep running, as with child_process.
  while (inst->children != NULL) {
    child *c = inst->children;
    unlink_child(c);
    uv_poll_stop(&c->poll);
    napi_delete_reference(c->env, c->on_exit);
    uv_close((uv_handle_t *)&c->poll, on_poll_closed);
  }
}

