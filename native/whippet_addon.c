// whippet_addon: the N-API binding on top. Loads once per environment (main thread or worker), keeps the
// instance data, registers the stream path (whippet_streams.c) and the run path (whippet_run.c), and adds:
//   probe() -> 0 | errno        checks that pidfd_open works here: old kernels and some seccomp filters lack it
//   method(flags) -> 'clone3' | 'clone' | 'posix_spawn'   how children are made here under the flags' cap
//   flags                        the flag bits of spawn() and run() (whippet_napi.h)
//
// Layers, each using only those below it:
//   whippet_addon.c    N-API module: registration, instance data, cleanup
//   whippet_run.c      run path: a whole invocation in C, events to JS
//   whippet_streams.c  stream path: spawn + exit watch, pipe fds to JS
//   whippet_napi.c     instance, flags, JS strings into C
//   whippet_spawn.c    one spawn as execvp makes it: PATH, #!-less scripts, pipes, pidfd, reap
//   whippet_clone.c    one child by clone3 / clone (or -1: use posix_spawn)

#include <stdlib.h>

#include "whippet_run.h"
#include "whippet_streams.h"

static napi_value js_probe(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  CHECK(napi_create_int32(env, pidfd_probe(), &result));
  return result;
}

static napi_value js_method(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg, result;
  uint32_t flags = 0;
  CHECK(napi_get_cb_info(env, info, &argc, &arg, NULL, NULL));
  if (argc > 0) CHECK(napi_get_value_uint32(env, arg, &flags));
  CHECK(napi_create_string_utf8(env, method_name(clone_method(cap_of(flags))), NAPI_AUTO_LENGTH, &result));
  return result;
}

static void cleanup(void *arg) {
  instance *inst = arg;
  run_cleanup(inst);
  streams_cleanup(inst);
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

static napi_status export_flags(napi_env env, napi_value exports) {
  static const struct { const char *name; int value; } consts[] = {
      {"OFF_LOOP", F_OFF_LOOP}, {"EMIT", F_EMIT}, {"COMBINE", F_COMBINE}, {"DIE_WITH_PARENT", F_DIE_WITH_PARENT},
      {"CAP_CLONE", F_CAP_CLONE}, {"CAP_POSIX_SPAWN", F_CAP_POSIX_SPAWN},
  };
  napi_status st;
  napi_value flags, v;
  if ((st = napi_create_object(env, &flags)) != napi_ok) return st;
  for (size_t i = 0; i < sizeof consts / sizeof consts[0]; i++) {
    if ((st = napi_create_int32(env, consts[i].value, &v)) != napi_ok) return st;
    if ((st = napi_set_named_property(env, flags, consts[i].name, v)) != napi_ok) return st;
  }
  return napi_set_named_property(env, exports, "flags", flags);
}

NAPI_MODULE_INIT() {
  static const struct { const char *name; napi_callback cb; } fns[] = {
      {"spawn", js_spawn}, {"killGroup", js_kill_group}, {"probe", js_probe}, {"method", js_method},
      {"init", js_init},   {"prepare", js_prepare},      {"run", js_run},     {"write", js_write},
      {"end", js_end},     {"pause", js_pause},          {"resume", js_resume}, {"kill", js_kill},
  };
  instance *inst = calloc(1, sizeof(instance));
  napi_value name, fn;
  if (inst == NULL) return NULL;
  CHECK(napi_create_string_utf8(env, "whippet:spawn", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, NULL, name, &inst->async_context));
  CHECK(napi_set_instance_data(env, inst, finalize_instance, NULL));
  CHECK(napi_add_env_cleanup_hook(env, cleanup, inst));
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    CHECK(napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].cb, inst, &fn));
    CHECK(napi_set_named_property(env, exports, fns[i].name, fn));
  }
  CHECK(export_flags(env, exports));
  return exports;
}
