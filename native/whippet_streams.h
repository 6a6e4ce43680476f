// The stream path's entry points (whippet_streams.c): spawn() and killGroup(), registered by whippet_addon.c.
#ifndef WHIPPET_STREAMS_H
#define WHIPPET_STREAMS_H

#include "whippet_napi.h"

napi_value js_spawn(napi_env env, napi_callback_info info);
napi_value js_kill_group(napi_env env, napi_callback_info info);

/** Worker teardown or process exit: stop watching the children (they keep running, as with child_process). */
void streams_cleanup(instance *inst);

#endif
