// The run path's entry points (whippet_run.c): one invocation driven from C, events to JS. Registered by
// whippet_addon.c.
#ifndef WHIPPET_RUN_H
#define WHIPPET_RUN_H

#include "whippet_napi.h"

napi_value js_init(napi_env env, napi_callback_info info);
napi_value js_prepare(napi_env env, napi_callback_info info);
napi_value js_run(napi_env env, napi_callback_info info);
napi_value js_write(napi_env env, napi_callback_info info);
napi_value js_end(napi_env env, napi_callback_info info);
napi_value js_pause(napi_env env, napi_callback_info info);
napi_value js_resume(napi_env env, napi_callback_info info);
napi_value js_kill(napi_env env, napi_callback_info info);

/** Worker teardown or process exit: stop watching the runs (their children keep running). */
void run_cleanup(instance *inst);

#endif
