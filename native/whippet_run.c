// whippet_run: one function invocation driven from C. The child is spawned (whippet_spawn.c, own process group),
// its pipes are read and written here through libuv poll handles, and JS hears about it through a handful of
// events instead of three net.Socket streams: in buffered mode a whole serializing request is one spawn, one
// stdin write and one callback with the exit status and the output.
//
// Exports (registered by whippet_addon.c):
//   init(dispatch)  dispatch(type, a, b, c) is called with the run's handle object as `this`:
//     EV_ERROR (1, errno)                     the spawn failed (only when spawned off the loop)
//     EV_DATA  (2, stream 1|2, Buffer)        output of an emitted stream
//     EV_END   (3, 2)                         stderr ended (when it is emitted and not combined)
//     EV_DRAIN (4)                            stdin took everything queued after write() returned 0
//     EV_DONE  (5, code, signal, Buffer|undefined)  exited (code -1 / signal > 0 for a signal) and the awaited
//                                             pipes ended (or lingered past linger_ms); buffered output last
//   prepare(str, count) -> external          a NUL-separated vector (argv or a base environment) kept for reuse
//   run(file, argvBlock, envBlock, extra, extraCount, cwd|null, flags, lingerMs, handle) -> id > 0 | -errno
//   write(id, Buffer) -> 1 (go on) | 0 (wait for EV_DRAIN);  end(id);  pause(id);  resume(id)
//   kill(id) -> pid | 0: SIGKILL to the group (unless already reaped), pipes cut, no further events
// EV_DONE is never dropped: when the buffered output cannot be handed over (out of memory, or larger than a
// Buffer may be), it comes with an errno (a number) in place of the Buffer.
// lingerMs >= 0 also bounds an emitted, uncombined stderr: it is cut (EV_END) lingerMs after the exit.
// The linger clock of an emitted output stops while it is paused and starts over on resume.
// After exit the group gets SIGKILL before the child is reaped (its pid, hence its pgid, cannot be reused yet).

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "whippet_run.h"

enum { EV_ERROR = 1, EV_DATA = 2, EV_END = 3, EV_DRAIN = 4, EV_DONE = 5 };

#define READ_CHUNK 65536
#define STDIN_HIGH_WATER 65536
#define BUFFER_BUDGET (1 << 20)  // bytes read per readable event in buffered mode, so one call cannot hog the loop
#define SLOT_BITS 21
#define MAX_SLOTS (1u << SLOT_BITS)

// A prepared vector (argv or the base environment), shared by many calls; freed when JS drops it and no
// spawn still uses it.
typedef struct block {
  char *buf;
  char **vec;
  uint32_t count;
  int refs;
  int finalized;
} block;

typedef struct call {
  uv_poll_t pid_poll, out_poll, err_poll, in_poll;
  uv_timer_t linger;
  uv_work_t work;
  napi_env env;
  instance *inst;
  uv_loop_t *loop;
  napi_ref handle;  // the JS object events are delivered to
  uint32_t slot;
  int pending;  // open uv handles + queued work; the call is freed when it drops to 0
  // spawn inputs, released once the spawn ran
  char *file, *cwd, *extra_buf;
  char **envp;
  block *argv_block, *env_block;
  int fds[6];
  pid_t pid;
  int pidfd, err;
  int in_fd, out_fd, err_fd;  // parent ends, -1 once closed
  unsigned flags;
  int linger_ms;
  unsigned spawning : 1, started : 1, exited : 1, killed : 1, done : 1, end_requested : 1, want_drain : 1,
      paused : 1, in_poll_init : 1, linger_init : 1;
  int code, sig;
  int out_err;  // errno when the buffered output was lost (EV_DONE then carries it instead of the output)
  char *out;  // buffered output
  size_t out_len, out_cap;
  char *inq;  // stdin bytes not yet written: inq[inq_off, inq_len)
  size_t inq_off, inq_len, inq_cap;
} call;

#define CALL_OF(ptr, member) ((call *)((char *)(ptr) - offsetof(call, member)))

static void block_release(block *b) {
  if (b != NULL && --b->refs == 0 && b->finalized) {
    free(b->buf);
    free(b->vec);
    free(b);
  }
}

// Drops JS's reference (taken in prepare); runs still using the block keep it alive until they release it.
static void block_finalize(napi_env env, void *data, void *hint) {
  block *b = data;
  b->finalized = 1;
  block_release(b);
}

static void release_inputs(call *c) {
  free(c->file);
  free(c->cwd);
  free(c->extra_buf);
  free(c->envp);
  c->file = c->cwd = c->extra_buf = NULL;
  c->envp = NULL;
  block_release(c->argv_block);
  block_release(c->env_block);
  c->argv_block = c->env_block = NULL;
}

static void call_free(call *c) {
  instance *inst = c->inst;
  release_inputs(c);
  if (c->handle != NULL) napi_delete_reference(c->env, c->handle);
  if (c->slot < inst->nslots && inst->slots[c->slot] == c) {
    inst->slots[c->slot] = NULL;
    inst->gens[c->slot]++;
    inst->used--;
  }
  free(c->out);
  free(c->inq);
  free(c);
}

static void unref(call *c) {
  if (--c->pending == 0) call_free(c);
}

static void on_poll_closed(uv_handle_t *h) { unref(h->data); }

// ---- events to JS ----------------------------------------------------------------------------------------

static void free_external(napi_env env, void *data, void *hint) { free(data); }

// A failed napi call may leave an exception pending (a Buffer too large throws a RangeError); it must not
// surface in whatever JS runs next.
static void clear_exception(napi_env env) {
  bool pending = false;
  napi_value err;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &err);
}

// Calls dispatch(type, a, b, c) on the call's handle. Buffers: `data` is copied unless `own` (then it is handed
// over as an external buffer). EV_DONE without data carries c->out_err when set. Returns 0 when the event could
// not be built (nothing was delivered). The callback may re-enter (kill, write, pause): callers re-check state.
static int emit(call *c, int type, int a, int b, char *data, size_t len, int own) {
  napi_env env = c->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) {
    if (own) free(data);
    clear_exception(env);
    return 0;
  }
  napi_value fn, recv, argv[4], result;
  size_t argc = 1;
  void *copy;
  int ok = napi_get_reference_value(env, c->inst->dispatch, &fn) == napi_ok && fn != NULL &&
           napi_get_reference_value(env, c->handle, &recv) == napi_ok && recv != NULL &&
           napi_create_int32(env, type, &argv[0]) == napi_ok;
  if (ok && (type == EV_DATA || type == EV_DONE || type == EV_END || type == EV_ERROR)) {
    ok = napi_create_int32(env, a, &argv[argc++]) == napi_ok;
  }
  if (ok && type == EV_DONE) ok = napi_create_int32(env, b, &argv[argc++]) == napi_ok;
  if (ok && (type == EV_DATA || (type == EV_DONE && data != NULL))) {
    if (own && len >= 65536) {
      ok = napi_create_external_buffer(env, len, data, free_external, NULL, &argv[argc++]) == napi_ok;
      if (ok) own = 0;  // V8 frees it now
    } else {
      ok = napi_create_buffer_copy(env, len, data, &copy, &argv[argc++]) == napi_ok;
    }
  } else if (ok && type == EV_DONE && c->out_err != 0) {
    ok = napi_create_int32(env, c->out_err, &argv[argc++]) == napi_ok;
  }
  if (own) free(data);
  if (!ok) {
    clear_exception(env);
  } else if (napi_make_callback(env, c->inst->async_context, recv, fn, argc, argv, &result) == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
  napi_close_handle_scope(env, scope);
  return ok;
}

// ---- pipes -----------------------------------------------------------------------------------------------

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

// Stops and closes a pipe's poll handle and its fd (stop first: libuv must not poll a closed fd).
static void close_pipe(call *c, uv_poll_t *poll, int *fd, int initialized) {
  if (*fd < 0) return;
  if (initialized) {
    uv_poll_stop(poll);
    uv_close((uv_handle_t *)poll, on_poll_closed);
  }
  close_fd(fd);
}

static void close_stdin(call *c) {
  close_pipe(c, &c->in_poll, &c->in_fd, c->in_poll_init);
  c->inq_off = c->inq_len = 0;
}

static void close_outputs(call *c, int both) {
  close_pipe(c, &c->out_poll, &c->out_fd, 1);
  if (both) close_pipe(c, &c->err_poll, &c->err_fd, 1);
}

static void stop_linger(call *c) {
  if (c->linger_init) {
    c->linger_init = 0;
    uv_close((uv_handle_t *)&c->linger, on_poll_closed);
  }
}

static int awaits_stderr(call *c) { return (c->flags & F_COMBINE) != 0; }

static void maybe_done(call *c) {
  if (!c->done && !c->killed && c->exited && c->out_fd < 0 && !(awaits_stderr(c) && c->err_fd >= 0)) {
    c->done = 1;
    char *out = c->out;
    size_t len = c->out_len;
    c->out = NULL;
    c->out_len = c->out_cap = 0;
    if ((c->flags & F_EMIT) || c->out_err != 0) {
      free(out);
      emit(c, EV_DONE, c->code, c->sig, NULL, 0, 0);
    } else if (!emit(c, EV_DONE, c->code, c->sig, out != NULL ? out : "", len, out != NULL) && !c->killed) {
      c->out_err = ENOMEM;  // the Buffer could not be made (too large): still report the exit, without it
      emit(c, EV_DONE, c->code, c->sig, NULL, 0, 0);
    }
  }
  // The linger timer outlives EV_DONE while an emitted stderr is still open (see on_linger).
  if (c->done && c->err_fd < 0) stop_linger(c);
}

static void on_eof(call *c, int stream) {
  if (stream == 1) {
    close_pipe(c, &c->out_poll, &c->out_fd, 1);
  } else {
    close_pipe(c, &c->err_poll, &c->err_fd, 1);
    if (!awaits_stderr(c)) emit(c, EV_END, 2, 0, NULL, 0, 0);
  }
  maybe_done(c);
}

// Reads what is there: into the output buffer, or one chunk to JS (the poll is level-triggered, so more comes
// on the next turn, after JS had its chance to pause).
static void read_pipe(call *c, int stream) {
  int fd = stream == 1 ? c->out_fd : c->err_fd;
  int buffered = !(c->flags & F_EMIT) && (stream == 1 || awaits_stderr(c));
  if (fd < 0) return;
  if (!buffered) {
    ssize_t n;
    do n = read(fd, c->inst->read_buf, READ_CHUNK);
    while (n < 0 && errno == EINTR);
    if (n > 0) emit(c, EV_DATA, stream, 0, c->inst->read_buf, (size_t)n, 0);
    else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) on_eof(c, stream);
    return;
  }
  size_t budget = BUFFER_BUDGET;
  for (;;) {
    if (c->out_cap - c->out_len < 16384) {
      size_t cap = c->out_cap < 16384 ? 16384 : c->out_cap * 2;
      char *grown = realloc(c->out, cap);
      if (grown == NULL) {  // out of memory: the output is lost; EV_DONE says so
        c->out_err = ENOMEM;
        on_eof(c, stream);
        return;
      }
      c->out = grown;
      c->out_cap = cap;
    }
    ssize_t n = read(fd, c->out + c->out_len, c->out_cap - c->out_len);
    if (n > 0) {
      c->out_len += (size_t)n;
      if ((size_t)n >= budget) return;
      budget -= (size_t)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return;
    } else {
      on_eof(c, stream);
      return;
    }
  }
}

static void on_out(uv_poll_t *h, int status, int events) { read_pipe(h->data, 1); }
static void on_err(uv_poll_t *h, int status, int events) { read_pipe(h->data, 2); }

// Writes queued stdin bytes; returns 0, or -1 when stdin is gone (closed: the handler does not read it).
static int flush_stdin(call *c) {
  while (c->inq_off < c->inq_len) {
    ssize_t n = write(c->in_fd, c->inq + c->inq_off, c->inq_len - c->inq_off);
    if (n >= 0) c->inq_off += (size_t)n;
    else if (errno == EINTR) continue;
    else if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    else {  // EPIPE: the handler exited or closed its stdin without reading; what is left is dropped
      close_stdin(c);
      return -1;
    }
  }
  c->inq_off = c->inq_len = 0;
  return 0;
}

static void on_in(uv_poll_t *h, int status, int events);

// After a write or a writable event: poll while bytes wait, close when asked to and empty, report the drain.
static void stdin_progress(call *c) {
  if (c->in_fd >= 0 && c->inq_len > 0) {
    if (!c->in_poll_init) {
      if (uv_poll_init(c->loop, &c->in_poll, c->in_fd) != 0) {
        close_stdin(c);  // cannot wait for it: drop the input, as for a handler that does not read it
      } else {
        c->in_poll.data = c;
        c->in_poll_init = 1;
        c->pending++;
      }
    }
    if (c->in_poll_init && c->in_fd >= 0) uv_poll_start(&c->in_poll, UV_WRITABLE, on_in);
  } else if (c->in_poll_init && c->in_fd >= 0) {
    uv_poll_stop(&c->in_poll);
  }
  if (c->in_fd >= 0 && c->inq_len == 0 && c->end_requested) close_stdin(c);
  if (c->want_drain && c->inq_len == 0 && !c->killed) {
    c->want_drain = 0;
    emit(c, EV_DRAIN, 0, 0, NULL, 0, 0);
  }
}

static void on_in(uv_poll_t *h, int status, int events) {
  call *c = h->data;
  if (status < 0) close_stdin(c);
  else flush_stdin(c);
  stdin_progress(c);
}

// ---- exit --------------------------------------------------------------------------------------------------

static void on_linger(uv_timer_t *t) {
  call *c = t->data;
  // The handler exited but something outside its group (setsid) still holds the pipes: do not wait for it.
  // An emitted stderr is cut too (also after EV_DONE), or its fd, poll handle and the whole call would live as
  // long as the escaped process.
  close_outputs(c, awaits_stderr(c));
  maybe_done(c);
  if (!c->killed && c->err_fd >= 0) {
    close_pipe(c, &c->err_poll, &c->err_fd, 1);
    emit(c, EV_END, 2, 0, NULL, 0, 0);
  }
  stop_linger(c);
}

static void on_exit_(uv_poll_t *h, int status, int events) {
  call *c = h->data;
  if (!reap_child(c->pid, status, &c->code, &c->sig)) return;  // not yet waitable; poll again
  c->exited = 1;
  uv_poll_stop(h);
  uv_close((uv_handle_t *)h, on_poll_closed);
  close_fd(&c->pidfd);
  if (c->killed) return;
  // Nobody is left to read stdin: drop what waits, and let a paused request body flow (into nothing).
  c->end_requested = 1;
  close_stdin(c);
  if (c->want_drain) {
    c->want_drain = 0;
    emit(c, EV_DRAIN, 0, 0, NULL, 0, 0);
    if (c->killed) return;
  }
  maybe_done(c);
  if (!c->killed && (!c->done || c->err_fd >= 0) && c->linger_ms >= 0 && uv_timer_init(c->loop, &c->linger) == 0) {
    c->linger.data = c;
    c->linger_init = 1;
    c->pending++;
    if (!(c->paused && (c->flags & F_EMIT))) uv_timer_start(&c->linger, on_linger, (uint64_t)c->linger_ms, 0);
  }
}

// ---- spawn -------------------------------------------------------------------------------------------------

// Pool thread or loop thread; touches no JS.
static void spawn_call(call *c) {
  // Combined output: one pipe for stdout and stderr, so the response has them in the order they were written.
  spawn_request req = {.file = c->file, .argv = c->argv_block->vec, .envp = c->envp, .cwd = c->cwd,
                       .merge_stderr = (c->flags & F_COMBINE) != 0,
                       .die_with_parent = (c->flags & F_DIE_WITH_PARENT) != 0, .cap = cap_of(c->flags)};
  c->err = spawn_with_pidfd(&req, c->fds, &c->pid, &c->pidfd);
  if (c->err != 0) return;
  // The loop writes stdin before it polls it, so that end must not block. The output ends need nothing here:
  // uv_poll_init makes its fd non-blocking, and they are only read once polled. A fresh pipe has no other
  // status flags, so F_SETFL needs no F_GETFL first.
  if (fcntl(c->fds[1], F_SETFL, O_NONBLOCK) != 0) c->err = errno;
  if (c->err != 0) {
    kill(-c->pid, SIGKILL);
    while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR) {}
    close(c->pidfd);
    c->pidfd = -1;
    for (int i = 0; i < 6; i++) close_fd(&c->fds[i]);
  }
}

// Loop thread, after the spawn: start watching, or report the failure. Returns the errno (0 when running).
static int start_call(call *c) {
  c->spawning = 0;
  release_inputs(c);
  if (c->err == 0) {
    c->in_fd = c->fds[1];
    c->out_fd = c->fds[2];
    c->err_fd = c->fds[4];
    int bad = uv_poll_init(c->loop, &c->pid_poll, c->pidfd);
    if (bad == 0) {
      c->pid_poll.data = c;
      c->pending++;
      uv_poll_start(&c->pid_poll, UV_READABLE, on_exit_);
    } else {
      // Cannot watch the exit: do not leave it running unreaped.
      kill(-c->pid, SIGKILL);
      while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR) {}
      close_fd(&c->pidfd);
      close_fd(&c->in_fd);
      close_fd(&c->out_fd);
      close_fd(&c->err_fd);
      c->err = -bad;
      return c->err;
    }
    c->started = 1;
    uv_poll_t *polls[2] = {&c->out_poll, &c->err_poll};
    int *fds[2] = {&c->out_fd, &c->err_fd};
    uv_poll_cb cbs[2] = {on_out, on_err};
    for (int i = 0; i < 2; i++) {
      if (*fds[i] < 0) continue;  // stderr merged into stdout
      if (uv_poll_init(c->loop, polls[i], *fds[i]) != 0) {
        close_fd(fds[i]);  // unreadable: as if it had ended
        continue;
      }
      polls[i]->data = c;
      c->pending++;
      if (!c->paused || !(c->flags & F_EMIT)) uv_poll_start(polls[i], UV_READABLE, cbs[i]);
    }
    if (c->killed) {  // killed while it was being spawned
      kill(-c->pid, SIGKILL);
      close_stdin(c);
      close_outputs(c, 1);
      return 0;
    }
    if (flush_stdin(c) == 0) stdin_progress(c);
  }
  return c->err;
}

static void work_run(uv_work_t *w) { spawn_call(CALL_OF(w, work)); }

static void work_done(uv_work_t *w, int status) {
  call *c = CALL_OF(w, work);
  if (status != 0 && c->err == 0) c->err = ECANCELED;  // uv_cancel at teardown: the spawn never ran
  if (start_call(c) != 0 && !c->killed) emit(c, EV_ERROR, c->err, 0, NULL, 0, 0);
  unref(c);
}

// ---- JS entry points ----------------------------------------------------------------------------------------

static call *lookup(napi_env env, napi_value id_value, instance *inst) {
  int64_t id;
  if (napi_get_value_int64(env, id_value, &id) != napi_ok || id <= 0) return NULL;
  uint32_t slot = (uint32_t)(id & (MAX_SLOTS - 1));
  uint32_t gen = (uint32_t)(id >> SLOT_BITS);
  if (slot >= inst->nslots || inst->gens[slot] != gen) return NULL;
  return inst->slots[slot];
}

static int take_slot(instance *inst, call *c) {
  if (inst->used == inst->nslots) {
    uint32_t n = inst->nslots == 0 ? 64 : inst->nslots * 2;
    if (n > MAX_SLOTS) return -1;
    call **slots = realloc(inst->slots, n * sizeof *slots);
    if (slots == NULL) return -1;
    inst->slots = slots;
    uint32_t *gens = realloc(inst->gens, n * sizeof *gens);
    if (gens == NULL) return -1;
    inst->gens = gens;
    for (uint32_t i = inst->nslots; i < n; i++) {
      slots[i] = NULL;
      gens[i] = 1;
    }
    inst->nslots = n;
  }
  // Slots are taken round-robin from a moving start, so a freed slot is not reused at once.
  for (uint32_t k = 0; k < inst->nslots; k++) {
    uint32_t i = (inst->next_slot + k) % inst->nslots;
    if (inst->slots[i] == NULL) {
      inst->slots[i] = c;
      inst->used++;
      c->slot = i;
      inst->next_slot = i + 1;
      if (inst->gens[i] >= (1u << 31)) inst->gens[i] = 1;  // ids stay below 2^52
      return 0;
    }
  }
  return -1;
}

static napi_value number(napi_env env, double v) {
  napi_value r;
  CHECK(napi_create_double(env, v, &r));
  return r;
}

napi_value js_init(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value fn;
  instance *inst;
  CHECK(napi_get_cb_info(env, info, &argc, &fn, NULL, (void **)&inst));
  if (inst->dispatch != NULL) napi_delete_reference(env, inst->dispatch);
  CHECK(napi_create_reference(env, fn, 1, &inst->dispatch));
  if (inst->read_buf == NULL && (inst->read_buf = malloc(READ_CHUNK)) == NULL) {
    napi_throw_error(env, "ENOMEM", "init: out of memory");
  }
  return NULL;
}

napi_value js_prepare(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2], result;
  uint32_t count;
  CHECK(napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  CHECK(napi_get_value_uint32(env, args[1], &count));
  block *b = calloc(1, sizeof *b);
  if (b == NULL || (b->vec = split_vector(env, args[0], count, &b->buf)) == NULL) {
    free(b);
    napi_throw_error(env, "ENOMEM", "prepare: cannot copy the vector");
    return NULL;
  }
  b->count = count;
  b->refs = 1;  // JS's; dropped by the finalizer
  if (napi_create_external(env, b, block_finalize, NULL, &result) != napi_ok) {
    free(b->buf);
    free(b->vec);
    free(b);
    return NULL;
  }
  return result;
}

// run(file, argvBlock, envBlock, extra, extraCount, cwd, flags, lingerMs, handle)
napi_value js_run(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value args[9];
  instance *inst;
  CHECK(napi_get_cb_info(env, info, &argc, args, NULL, (void **)&inst));
  uint32_t extra_count, flags;
  int32_t linger_ms;
  napi_valuetype cwd_type;
  block *argv_block, *env_block;
  if (argc < 9 || inst->dispatch == NULL || inst->read_buf == NULL) {
    napi_throw_type_error(env, NULL, "run(file, argv, env, extra, extraCount, cwd, flags, lingerMs, handle) after init()");
    return NULL;
  }
  CHECK(napi_get_value_external(env, args[1], (void **)&argv_block));
  CHECK(napi_get_value_external(env, args[2], (void **)&env_block));
  CHECK(napi_get_value_uint32(env, args[4], &extra_count));
  CHECK(napi_typeof(env, args[5], &cwd_type));
  CHECK(napi_get_value_uint32(env, args[6], &flags));
  CHECK(napi_get_value_int32(env, args[7], &linger_ms));

  call *c = calloc(1, sizeof *c);
  if (c == NULL) goto nomem;
  c->env = env;
  c->inst = inst;
  c->flags = flags;
  c->linger_ms = linger_ms;
  c->pidfd = c->in_fd = c->out_fd = c->err_fd = -1;
  for (int i = 0; i < 6; i++) c->fds[i] = -1;
  c->slot = UINT32_MAX;
  c->argv_block = argv_block;
  c->env_block = env_block;
  argv_block->refs++;
  env_block->refs++;
  char **extra = split_vector(env, args[3], extra_count, &c->extra_buf);
  c->file = copy_string(env, args[0]);
  if (cwd_type == napi_string) c->cwd = copy_string(env, args[5]);
  c->envp = malloc((env_block->count + extra_count + 1) * sizeof(char *));
  if (extra == NULL || c->file == NULL || (cwd_type == napi_string && c->cwd == NULL) || c->envp == NULL) {
    free(extra);
    goto fail;
  }
  memcpy(c->envp, env_block->vec, env_block->count * sizeof(char *));
  memcpy(c->envp + env_block->count, extra, (extra_count + 1) * sizeof(char *));
  free(extra);
  if (napi_get_uv_event_loop(env, &c->loop) != napi_ok || take_slot(inst, c) != 0 ||
      napi_create_reference(env, args[8], 1, &c->handle) != napi_ok) {
    goto fail;
  }
  double id = (double)inst->gens[c->slot] * MAX_SLOTS + c->slot;
  c->pending = 1;  // the spawn itself
  c->spawning = 1;
  if (flags & F_OFF_LOOP) {
    // On a pool thread: vfork suspends only that thread until the child has exec'd.
    int rc = uv_queue_work(c->loop, &c->work, work_run, work_done);
    if (rc != 0) {
      c->err = -rc;
      c->spawning = 0;
      c->pending = 0;
      call_free(c);
      return number(env, -(double)(-rc));
    }
    return number(env, id);
  }
  spawn_call(c);
  int err = start_call(c);
  if (err != 0) {
    unref(c);
    return number(env, -(double)err);
  }
  unref(c);  // the spawn is over; pending now counts the handles
  return number(env, id);

nomem:
  napi_throw_error(env, "ENOMEM", "run: out of memory");
  return NULL;
fail:
  c->pending = 0;
  call_free(c);
  goto nomem;
}

napi_value js_write(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  instance *inst;
  void *data;
  size_t len;
  CHECK(napi_get_cb_info(env, info, &argc, args, NULL, (void **)&inst));
  call *c = lookup(env, args[0], inst);
  // Gone, killed or stdin closed: the bytes are accepted and dropped (like writes to a dead child's stdin).
  if (c == NULL || c->killed || c->end_requested || (!c->spawning && c->in_fd < 0)) return number(env, 1);
  CHECK(napi_get_buffer_info(env, args[1], &data, &len));
  size_t off = 0;
  if (!c->spawning && c->inq_len == 0) {  // straight into the pipe when nothing waits
    while (off < len) {
      ssize_t n = write(c->in_fd, (char *)data + off, len - off);
      if (n >= 0) off += (size_t)n;
      else if (errno == EINTR) continue;
      else if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      else {
        close_stdin(c);
        return number(env, 1);
      }
    }
  }
  if (off < len) {
    size_t rest = len - off;
    if (c->inq_off > 0) {  // compact before growing
      memmove(c->inq, c->inq + c->inq_off, c->inq_len - c->inq_off);
      c->inq_len -= c->inq_off;
      c->inq_off = 0;
    }
    if (c->inq_cap - c->inq_len < rest) {
      size_t cap = c->inq_len + rest;
      char *grown = realloc(c->inq, cap);
      if (grown == NULL) {
        napi_throw_error(env, "ENOMEM", "write: out of memory");
        return NULL;
      }
      c->inq = grown;
      c->inq_cap = cap;
    }
    memcpy(c->inq + c->inq_len, (char *)data + off, rest);
    c->inq_len += rest;
    if (!c->spawning) stdin_progress(c);
  }
  if (c->inq_len - c->inq_off < STDIN_HIGH_WATER) return number(env, 1);
  c->want_drain = 1;
  return number(env, 0);
}

napi_value js_end(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value id;
  instance *inst;
  CHECK(napi_get_cb_info(env, info, &argc, &id, NULL, (void **)&inst));
  call *c = lookup(env, id, inst);
  if (c != NULL && !c->killed && !c->end_requested) {
    c->end_requested = 1;
    if (!c->spawning) stdin_progress(c);
  }
  return NULL;
}

static void set_paused(call *c, int paused) {
  if (c->paused == (unsigned)paused) return;
  c->paused = paused;
  if (c->spawning || !(c->flags & F_EMIT)) return;
  if (c->out_fd >= 0) paused ? uv_poll_stop(&c->out_poll) : uv_poll_start(&c->out_poll, UV_READABLE, on_out);
  if (c->err_fd >= 0) paused ? uv_poll_stop(&c->err_poll) : uv_poll_start(&c->err_poll, UV_READABLE, on_err);
  // The linger bounds an escaped holder of the pipes, not a slow client: its clock stops while the output is
  // held back (what is left in the pipe would be cut unread) and starts over once it flows again.
  if (c->linger_init) paused ? uv_timer_stop(&c->linger) : uv_timer_start(&c->linger, on_linger, (uint64_t)c->linger_ms, 0);
}

static napi_value pause_or_resume(napi_env env, napi_callback_info info, int paused) {
  size_t argc = 1;
  napi_value id;
  instance *inst;
  CHECK(napi_get_cb_info(env, info, &argc, &id, NULL, (void **)&inst));
  call *c = lookup(env, id, inst);
  if (c != NULL && !c->killed) set_paused(c, paused);
  return NULL;
}

napi_value js_pause(napi_env env, napi_callback_info info) { return pause_or_resume(env, info, 1); }
napi_value js_resume(napi_env env, napi_callback_info info) { return pause_or_resume(env, info, 0); }

napi_value js_kill(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value id;
  instance *inst;
  CHECK(napi_get_cb_info(env, info, &argc, &id, NULL, (void **)&inst));
  call *c = lookup(env, id, inst);
  if (c == NULL || c->killed) return number(env, 0);
  c->killed = 1;
  c->want_drain = 0;  // no events after kill, EV_DRAIN included
  if (c->spawning) return number(env, 0);  // start_call kills it once the spawn is over
  // Once reaped, the pid may belong to someone else: signal only a child not yet waited for.
  if (c->started && !c->exited) kill(-c->pid, SIGKILL);
  close_stdin(c);
  close_outputs(c, 1);
  stop_linger(c);
  return number(env, c->pid);
}

void run_cleanup(instance *inst) {
  // Worker teardown or process exit: stop watching; the children keep running, as with child_process.
  for (uint32_t i = 0; i < inst->nslots; i++) {
    call *c = inst->slots[i];
    if (c == NULL || c->spawning) continue;
    c->killed = 1;
    close_stdin(c);
    close_outputs(c, 1);
    stop_linger(c);
    if (c->started && !c->exited) {
      uv_poll_stop(&c->pid_poll);
      uv_close((uv_handle_t *)&c->pid_poll, on_poll_closed);
      c->exited = 1;
      close_fd(&c->pidfd);
    }
  }
  if (inst->dispatch != NULL) {
    // The env is going away with its references; nothing may call into it any more.
    inst->dispatch = NULL;
  }
}
