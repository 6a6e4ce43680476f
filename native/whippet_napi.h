// Above whippet_spawn: what the N-API layers share -- the per-instance state, the flags JS passes with a spawn,
// and copying JS strings into C. Used by whippet_streams.c and whippet_run.c; whippet_addon.c sits on top.
#ifndef WHIPPET_NAPI_H
#define WHIPPET_NAPI_H

#include <stdint.h>

#include <node_api.h>
#include <uv.h>

#include "whippet_spawn.h"

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

// Flags of spawn() and run(), exported to JS as `flags`.
enum {
  F_OFF_LOOP = 1,         // run(): spawn on a libuv pool thread
  F_EMIT = 2,             // run(): output goes to JS as it comes, not buffered
  F_COMBINE = 4,          // run(): stderr into the stdout pipe, awaited like it
  F_DIE_WITH_PARENT = 8,  // PR_SET_PDEATHSIG(SIGKILL) in the child (clone methods only)
  F_CAP_CLONE = 16,       // use at most clone(2)
  F_CAP_POSIX_SPAWN = 32, // use glibc's posix_spawn
};

static inline spawn_method cap_of(uint32_t flags) {
  return (flags & F_CAP_POSIX_SPAWN) ? METHOD_POSIX_SPAWN : (flags & F_CAP_CLONE) ? METHOD_CLONE : METHOD_CLONE3;
}

#define CHECK(call)                     \
  do {                                  \
    if ((call) != napi_ok) return NULL; \
  } while (0)

/** Copies a JS string into a malloc'ed buffer (*buffer) and splits it on NUL into a NULL-terminated vector of
 * `count` strings; NULL (and nothing allocated) on failure. */
char **split_vector(napi_env env, napi_value str, uint32_t count, char **buffer);

/** A JS string copied into a malloc'ed, NUL-terminated buffer; NULL on failure. */
char *copy_string(napi_env env, napi_value v);

/** The errno as a JS number, after clearing whatever exception a failed napi call left; NULL only if even that
 * fails. */
napi_value errno_value(napi_env env, int err);

#endif
